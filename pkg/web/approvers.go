package web

import (
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/when"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// loop is what a page shows of a request's approval loop: who can satisfy
// each outstanding requirement, what the grant allows, and its window.
type loop struct {
	Needs  []needLine
	Allows *allowsView
	Window *windowView
}

// needLine reads "1 of carol (you), dave: managers of storage".
type needLine struct {
	Count  int
	Label  string
	People []person
}

type person struct {
	Name string
	You  bool // the viewer, who may approve now
}

type allowsView struct {
	Marks        []markView
	RoleMissing  bool
	Description  string
	Login        string
	Interactive  bool
	Commands     []string // empty: any command
	MaxDuration  time.Duration
	ForceCommand string
	Resources    []resourceView
}

type markView struct{ Code, Text string }

type resourceView struct {
	Name, Description, Tags string
	OwnRule, Missing        bool
}

type windowView struct {
	From, To      time.Time
	FromIn, ToIn  string // "now", "in 2h", "10m ago"
	IfApprovedNow bool
}

// loopOf prepares v's approval loop for viewer.
func loopOf(v *workflow.RequestView, viewer string) loop {
	var l loop
	for _, n := range v.Needs {
		line := needLine{Count: n.Count, Label: n.Label}
		for _, name := range n.Of {
			line.People = append(line.People, person{Name: name, You: n.You && name == viewer})
		}
		l.Needs = append(l.Needs, line)
	}
	if a := v.Allows; a != nil {
		l.Allows = allowsOf(a)
	}
	if w := v.Window; w != nil {
		l.Window = &windowView{From: w.NotBefore, To: w.NotAfter, FromIn: when.Relative(w.NotBefore, v.At),
			ToIn: when.Relative(w.NotAfter, v.At), IfApprovedNow: w.IfApprovedNow}
	}
	return l
}

func allowsOf(a *policy.Allowance) *allowsView {
	out := &allowsView{RoleMissing: a.Role == nil}
	for _, m := range a.Marks {
		text := "⚠ " + m.Describe()
		if m == policy.MarkCustomerData {
			text += " (" + strings.Join(a.CustomerData(), ", ") + ")"
		}
		out.Marks = append(out.Marks, markView{Code: string(m), Text: text})
	}
	if r := a.Role; r != nil {
		out.Description, out.Login, out.Interactive, out.Commands = r.Description, r.Login, r.Interactive, r.AllowedCommands
		out.MaxDuration, out.ForceCommand = r.MaxDuration, r.ForceCommand
	}
	for _, r := range a.Resources {
		out.Resources = append(out.Resources, resourceView{Name: r.Name, Description: r.Description,
			Tags: strings.Join(r.Tags, ", "), OwnRule: r.OwnApproval()})
	}
	for _, name := range a.Missing {
		out.Resources = append(out.Resources, resourceView{Name: name, Missing: true})
	}
	return out
}
