package api

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toWireRequest(r *store.Request) wire.Request {
	return wire.Request{
		ID: r.ID, User: r.User, Role: r.Role, Resources: r.Resources, Duration: r.Duration.String(),
		Reason: r.Reason, Ticket: r.Ticket, State: string(r.State), CreatedAt: r.CreatedAt,
		PendingUntil: optTime(r.PendingUntil), DecidedAt: optTime(r.DecidedAt), DecidedBy: r.DecidedBy,
		Decision: r.Decision, NotBefore: optTime(r.NotBefore), NotAfter: optTime(r.NotAfter),
		Start: optTime(r.Start), EscalatedAt: optTime(r.EscalatedAt),
	}
}

// optDuration is d as a Go duration, or "" for zero.
func optDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func toWireView(v *workflow.RequestView) wire.Request {
	w := toWireRequest(v.Request)
	for _, a := range v.Approvals {
		w.Approvals = append(w.Approvals, wire.Approval{Approver: a.Approver, Reason: a.Reason, At: a.At, Duration: optDuration(a.Duration)})
	}
	w.Outstanding, w.NoLongerFits, w.CanApprove, w.StepUpMFA = v.Outstanding, v.NoLongerFits, v.CanApprove, v.StepUpMFA
	if v.GrantDuration != 0 && v.GrantDuration != v.Duration {
		w.GrantDuration = v.GrantDuration.String()
	}
	for _, n := range v.Needs {
		w.Needs = append(w.Needs, wire.Need{Count: n.Count, Label: n.Label, Of: nonNil(n.Of), You: n.You,
			Group: n.Group, Managers: n.Managers})
	}
	if v.Allows != nil {
		w.Allows = toWireAllows(v.Allows)
	}
	if v.Window != nil {
		w.Window = &wire.Window{NotBefore: v.Window.NotBefore, NotAfter: v.Window.NotAfter, IfApprovedNow: v.Window.IfApprovedNow}
	}
	return w
}

func toWireAllows(a *policy.Allowance) *wire.Allows {
	out := &wire.Allows{Resources: []wire.Resource{}, Marks: []string{}}
	if r := a.Role; r != nil {
		out.Role = wire.Role{Name: r.Name, Description: r.Description, Login: r.Login, Interactive: r.Interactive,
			AllowedCommands: nonNil(r.AllowedCommands), MaxDuration: r.MaxDuration.String(), ForceCommand: r.ForceCommand}
	}
	for _, res := range a.Resources {
		out.Resources = append(out.Resources, wire.Resource{Name: res.Name, Description: res.Description, Tags: res.Tags,
			OwnApproval: res.OwnApproval()})
	}
	for _, name := range a.Missing {
		out.Resources = append(out.Resources, wire.Resource{Name: name, Missing: true})
	}
	for _, m := range a.Marks {
		out.Marks = append(out.Marks, string(m))
	}
	return out
}

// nonNil makes an empty list [] in JSON, never null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func toWireCert(c *ssh.Certificate) wire.Certificate {
	return toWireCertText(c, ssh.MarshalAuthorizedKey(c))
}

// toWireCertText is toWireCert with the certificate's text (in
// authorized_keys form) made already.
func toWireCertText(c *ssh.Certificate, text []byte) wire.Certificate {
	return wire.Certificate{
		Certificate: string(text), Serial: strconv.FormatUint(c.Serial, 10),
		KeyID: c.KeyId, Principals: c.ValidPrincipals,
		ValidAfter: time.Unix(int64(c.ValidAfter), 0).UTC(), ValidBefore: time.Unix(int64(c.ValidBefore), 0).UTC(),
	}
}

func toWireGrant(g *workflow.SessionGrant) wire.SessionGrant {
	out := wire.SessionGrant{SessionID: g.Session.ID, NotAfter: g.NotAfter, LeaseTTLSeconds: int(g.LeaseTTL / time.Second),
		Target:      wire.Target{Address: g.Target.Address, Login: g.Target.Login},
		Interactive: g.Interactive, AllowedCommands: g.AllowedCommands, ExecCommand: g.ExecCommand}
	if g.Target.HostKey != nil {
		out.Target.HostKey = string(ssh.MarshalAuthorizedKey(g.Target.HostKey))
	}
	return out
}

func toWireHeartbeat(st map[string]workflow.SessionStatus) wire.HeartbeatResult {
	out := wire.HeartbeatResult{Sessions: make(map[string]wire.SessionStatus, len(st))}
	for id, v := range st {
		out.Sessions[id] = wire.SessionStatus{Live: v.Live, Reason: v.Reason, Ended: v.Ended, NotAfter: optTime(v.NotAfter)}
	}
	return out
}

func toWireAudit(r audit.Record) wire.AuditRecord {
	var detail map[string]any
	json.Unmarshal(r.Detail, &detail) //nolint:errcheck // stored by us as an object; verify catches changes
	return wire.AuditRecord{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Subject: r.Subject,
		Detail: detail, PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash)}
}

func authorizedKey(k ssh.PublicKey) string {
	if k == nil {
		return ""
	}
	return string(ssh.MarshalAuthorizedKey(k))
}
