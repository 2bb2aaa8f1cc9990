package web

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

type auditFilter struct {
	Actor, Action, Subject, Since string
	since                         time.Time
}

// match: actor and subject exactly or as a substring, action as a prefix
// ("request." selects every request event).
func (f auditFilter) match(r audit.Record) bool {
	return (f.Actor == "" || strings.Contains(r.Actor, f.Actor)) &&
		(f.Action == "" || strings.HasPrefix(r.Action, f.Action)) &&
		(f.Subject == "" || strings.Contains(r.Subject, f.Subject)) &&
		(f.since.IsZero() || !r.Time.Before(f.since))
}

func auditFilterOf(r *http.Request) (auditFilter, error) {
	q := r.URL.Query()
	f := auditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Subject: q.Get("subject"), Since: q.Get("since")}
	for _, x := range []string{f.Actor, f.Action, f.Subject} {
		if len(x) > 200 {
			return f, fmt.Errorf("%w: a filter is too long", workflow.ErrBadInput)
		}
	}
	var err error
	f.since, err = parseFormTime(f.Since, "since")
	return f, err
}

// walkAudit calls fn for every record that f selects, oldest first.
func (s *Server) walkAudit(r *http.Request, v *viewer, f auditFilter, fn func(audit.Record) error) error {
	const pageSize = 2000
	var after int64
	for {
		rows, err := s.wf.AuditLog(r.Context(), v.Actor, after, pageSize)
		if err != nil {
			return err
		}
		for _, rec := range rows {
			after = rec.Seq
			if f.match(rec) {
				if err := fn(rec); err != nil {
					return err
				}
			}
		}
		if len(rows) < pageSize {
			return nil
		}
	}
}

type auditRow struct {
	audit.Record
	DetailText string
}

type auditData struct {
	Filter   auditFilter
	Verified *workflow.Verification
	HeadHash string
	Rows     []auditRow
	Matched  int
	Shown    int
}

const auditShown = 200

// auditPage shows the chain's verification and the latest matching
// records; auditors only (the workflow refuses others).
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := auditFilterOf(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	ver, err := s.wf.VerifyAudit(r.Context(), v.Actor)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := auditData{Filter: f, Verified: ver, HeadHash: hex.EncodeToString(ver.HeadHash)}
	var last []audit.Record
	err = s.walkAudit(r, v, f, func(rec audit.Record) error {
		d.Matched++
		last = append(last, rec)
		if len(last) > 2*auditShown {
			last = append(last[:0], last[len(last)-auditShown:]...)
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if len(last) > auditShown {
		last = last[len(last)-auditShown:]
	}
	for i := len(last) - 1; i >= 0; i-- { // newest first
		d.Rows = append(d.Rows, auditRow{Record: last[i], DetailText: string(last[i].Detail)})
	}
	d.Shown = len(d.Rows)
	s.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", Nav: "audit", Viewer: v, Data: d})
}

// exportRecord is one line of the export: the stored record, hashes in
// hex, detail as stored (so the chain can be checked from the file).
type exportRecord struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Detail   json.RawMessage `json:"detail"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// auditExport downloads the matching records as JSON lines. It is a GET:
// it changes nothing (reading the log is itself not audited, as with the
// API).
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := auditFilterOf(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if !v.Auditor {
		s.fail(w, r, v, fmt.Errorf("%w: reading the audit log is for auditors", workflow.ErrForbidden))
		return
	}
	started := false
	var enc *json.Encoder
	err = s.walkAudit(r, v, f, func(rec audit.Record) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="lockbox-audit-`+time.Now().UTC().Format("20060102T150405Z")+`.jsonl"`)
			enc = json.NewEncoder(w)
		}
		return enc.Encode(exportRecord{Seq: rec.Seq, Time: rec.Time, Actor: rec.Actor, Action: rec.Action, Subject: rec.Subject,
			Detail: rec.Detail, PrevHash: hex.EncodeToString(rec.PrevHash), Hash: hex.EncodeToString(rec.Hash)})
	})
	if err != nil && !started {
		s.fail(w, r, v, err)
		return
	}
	if err != nil {
		s.log.Error("audit export cut short", "err", err)
		return
	}
	if !started {
		w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="lockbox-audit-empty.jsonl"`)
	}
}
