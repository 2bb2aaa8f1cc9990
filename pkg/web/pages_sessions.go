package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// formTime is how the filter forms' datetime-local fields read and write
// times; they are UTC.
const formTime = "2006-01-02T15:04"

type sessionFilterForm struct {
	User, Resource, Since, Until, Ended string
	Open                                bool
}

type sessionsData struct {
	Form     sessionFilterForm
	Sessions []*store.Session
	Limit    int
	Live     []liveRow // running sessions the viewer may watch
}

const sessionsLimit = 200

func parseFormTime(s, what string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(formTime, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: use YYYY-MM-DDTHH:MM (UTC)", workflow.ErrBadInput, what)
	}
	return t, nil
}

// sessionsPage lists sessions with filters: user (auditors see everyone's;
// others their own), resource, start time, how they ended, open only.
func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	form := sessionFilterForm{User: q.Get("user"), Resource: q.Get("resource"), Since: q.Get("since"),
		Until: q.Get("until"), Ended: q.Get("ended"), Open: q.Get("open") == "1"}
	f := store.SessionFilter{User: form.User, Resource: form.Resource, EndReason: form.Ended, Open: form.Open, Limit: sessionsLimit}
	var err error
	if f.Since, err = parseFormTime(form.Since, "since"); err == nil {
		f.Until, err = parseFormTime(form.Until, "until")
	}
	for _, x := range []string{form.User, form.Resource, form.Ended} {
		if len(x) > 200 {
			err = fmt.Errorf("%w: a filter is too long", workflow.ErrBadInput)
		}
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	list, err := s.wf.Sessions(r.Context(), v.Actor, f)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	live, err := s.liveRows(r, v)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, http.StatusOK, "sessions", page{Title: "Sessions", Nav: "sessions", Viewer: v,
		Data: sessionsData{Form: form, Sessions: list, Limit: sessionsLimit, Live: live}})
}

func validSessionID(id string) bool {
	return strings.HasPrefix(id, "sess-") && workflow.ValidRequestID("req-"+id[len("sess-"):]) || workflow.ValidBreakGlassSessionID(id)
}

// sessionPage shows one session and its replay, or, while it runs, its
// live terminal to those who may watch it.
func (s *Server) sessionPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	if !validSessionID(id) {
		s.errorPage(w, r, v, http.StatusNotFound, "There is no such session.")
		return
	}
	sess, err := s.sessionFor(r, v, id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	policy, nonce := replayCSP()
	w.Header().Set("Content-Security-Policy", policy)
	s.render(w, r, http.StatusOK, "session", page{Title: "Session " + id, Nav: "sessions", Viewer: v, Data: sess,
		StyleNonce: nonce})
}

// maxBrowserRecording bounds what the player is sent; larger recordings
// replay with `lockbox replay`.
const maxBrowserRecording = 64 << 20

// cast sends a recording to the browser player as asciicast v2: the
// header, then output and resize events. Output passes through the
// recording sanitiser (one for the whole stream, so sequences split
// across events are handled), so the browser never sees sequences that
// would make a terminal answer, set the clipboard or change its title.
// Input events are left out: they may hold what was typed at a password
// prompt that did not echo.
func (s *Server) cast(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	if !validSessionID(id) {
		s.errorPage(w, r, v, http.StatusNotFound, "There is no such session.")
		return
	}
	rc, _, err := s.wf.Recording(r.Context(), v.Actor, id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	defer rc.Close()
	rec, err := recording.Read(rc, maxBrowserRecording)
	if errors.Is(err, recording.ErrTooLarge) {
		s.errorPage(w, r, v, http.StatusRequestEntityTooLarge, "This recording is too large to replay in the browser; use lockbox replay "+id+".")
		return
	}
	if err != nil {
		s.fail(w, r, v, fmt.Errorf("reading the recording of %s: %w", id, err))
		return
	}
	out, err := encodeCast(rec)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-asciicast")
	w.Write(out) //nolint:errcheck // the client went away
}

func encodeCast(rec *recording.Recording) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	header := map[string]any{"version": 2, "width": rec.Header.Width, "height": rec.Header.Height,
		"timestamp": rec.Header.Timestamp.Unix(), "truncated": rec.Truncated,
		// Without a terminal the output holds bare line feeds; the player
		// shows them as a terminal would, each line from column 0.
		"terminal": rec.Header.Terminal}
	if err := enc.Encode(header); err != nil {
		return nil, err
	}
	var clean bytes.Buffer
	san := recording.NewSanitizer(&clean)
	for _, ev := range rec.Events {
		secs := json.Number(strconv.FormatFloat(ev.Time.Seconds(), 'f', 6, 64))
		switch ev.Kind {
		case 'o':
			clean.Reset()
			if _, err := san.Write(ev.Data); err != nil {
				return nil, err
			}
			if clean.Len() == 0 {
				continue
			}
			if err := enc.Encode([]any{secs, "o", strings.ToValidUTF8(clean.String(), "\uFFFD")}); err != nil {
				return nil, err
			}
		case 'r':
			if err := enc.Encode([]any{secs, "r", string(ev.Data)}); err != nil {
				return nil, err
			}
		}
	}
	return buf.Bytes(), nil
}
