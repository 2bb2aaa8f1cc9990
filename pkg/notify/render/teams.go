package render

import (
	"encoding/json"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// Teams: the body a Workflows webhook ("Send webhook alerts to a
// channel", or a flow started by "When a Teams webhook request is
// received" that posts attachments[0].content) accepts: a message with
// one Adaptive Card attachment. Version 1.4 is what Teams renders on
// every client.
const (
	teamsCardType    = "application/vnd.microsoft.card.adaptive"
	teamsCardSchema  = "http://adaptivecards.io/schemas/adaptive-card.json"
	teamsCardVersion = "1.4"
	teamsTextMax     = 4000 // per TextRun; a card should stay well under 28 KB
)

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema       string         `json:"$schema"`
	Type         string         `json:"type"`
	Version      string         `json:"version"`
	FallbackText string         `json:"fallbackText"`
	Body         []teamsElement `json:"body"`
	Actions      []teamsAction  `json:"actions,omitempty"`
	MSTeams      map[string]any `json:"msteams"`
}

// teamsElement is a RichTextBlock. TextBlock would render Markdown
// (links, emphasis) from text it shows, TextRun renders none.
type teamsElement struct {
	Type      string     `json:"type"`
	Inlines   []teamsRun `json:"inlines"`
	Separator bool       `json:"separator,omitempty"`
	Spacing   string     `json:"spacing,omitempty"`
}

type teamsRun struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Color  string `json:"color,omitempty"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

func run(text string) teamsRun { return teamsRun{Type: "TextRun", Text: truncate(text, teamsTextMax)} }

func richText(runs ...teamsRun) teamsElement {
	return teamsElement{Type: "RichTextBlock", Inlines: runs}
}

// Teams renders m as a Microsoft Teams Workflows message: an Adaptive
// Card with the headline, the summary, the marks in the attention colour,
// one line per fact and a button to the request's page. Every text is a
// TextRun, which Teams shows without Markdown, so a justification cannot
// make a link or format the card.
func Teams(m *notify.Message) ([]byte, error) {
	v, err := build(m)
	if err != nil {
		return nil, err
	}
	headline := run(v.Headline)
	headline.Weight, headline.Size = "Bolder", "Medium"
	body := []teamsElement{richText(headline), richText(run(v.Summary))}
	if len(v.Marks) > 0 {
		marks := run(strings.Join(v.Marks, "   "))
		marks.Weight, marks.Color = "Bolder", "Attention"
		body = append(body, richText(marks))
	}
	for i, f := range v.Facts {
		label := run(f.Label + ": ")
		label.Weight = "Bolder"
		e := richText(label, run(f.Value()))
		if i == 0 {
			e.Separator, e.Spacing = true, "Medium"
		} else {
			e.Spacing = "None"
		}
		body = append(body, e)
	}
	ref := run("Reference: " + v.Key)
	ref.Size, ref.Color = "Small", "Default"
	body = append(body, teamsElement{Type: "RichTextBlock", Inlines: []teamsRun{ref}, Separator: true})
	card := teamsCard{
		Schema: teamsCardSchema, Type: "AdaptiveCard", Version: teamsCardVersion,
		FallbackText: truncate(v.Headline+": "+v.Summary, teamsTextMax),
		Body:         body,
		MSTeams:      map[string]any{"width": "Full"},
	}
	if v.Link != "" {
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Open in Lockbox", URL: v.Link}}
	}
	return json.Marshal(teamsMessage{
		Type:        "message",
		Attachments: []teamsAttachment{{ContentType: teamsCardType, Content: card}},
	})
}
