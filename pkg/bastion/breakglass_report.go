package bastion

import (
	"context"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// A break-glass session is opened while the CA is down, so the CA hears
// of it afterwards: at its start the bastion keeps, beside the recording
// in the spool, what the CA needs (the certificate, the client, the
// command, the start); once the session has ended and the CA answers, the
// bastion reports it (the CA checks the certificate itself and audits
// breakglass.session), then uploads the recording as for any session and
// empties the spool of it. A report the CA refuses is audited there; the
// files stay in the spool and the bastion tries again only at its next
// start.

// openBreakGlass makes the session grant of a break-glass session and
// keeps its note in the spool; a note that cannot be kept refuses the
// session (the CA would never hear of it). The caller must register the
// session (s.reg) and then call s.glassOpening.remove.
func (s *Server) openBreakGlass(id identity, clientAddr, command string) (*wire.SessionGrant, error) {
	grant, err := breakGlassGrant(id, command)
	if err != nil {
		return nil, err
	}
	s.glassOpening.add(grant.SessionID)
	note := recording.BreakGlass{Certificate: id.glassCert, ClientAddr: clientAddr, Command: command, Start: s.cfg.Clock().UTC()}
	if err := s.cfg.Spool.WriteBreakGlass(grant.SessionID, note); err != nil {
		s.glassOpening.remove(grant.SessionID)
		s.log.Error("cannot keep the break-glass session's note; refusing the session", "user", id.User, "err", err)
		return nil, err
	}
	return grant, nil
}

// reportBreakGlassNow reports a break-glass session that just ended, in
// case the CA answers already.
func (s *Server) reportBreakGlassNow(id string) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
	defer cancel()
	s.reportBreakGlass(ctx, id)
}

// reportBreakGlass reports an ended break-glass session with the note and
// end kept in the spool, then uploads its recording.
func (s *Server) reportBreakGlass(ctx context.Context, id string) {
	if s.glassHeld.has(id) {
		return
	}
	note, ok, err := s.cfg.Spool.ReadBreakGlass(id)
	if err != nil || !ok {
		s.glassHeld.add(id)
		s.log.Error("a break-glass session in the spool has no readable note; it stays there, review it by hand", "session", id, "err", err)
		return
	}
	end, ok, err := s.cfg.Spool.ReadEnd(id)
	if err != nil {
		s.log.Warn("reading a session's end from the spool", "session", id, "err", err)
	}
	if !ok {
		end = recording.End{Reason: reasonCrash} // no end time: the CA takes the time of the report
	}
	err = s.cfg.CA.ReportBreakGlassSession(ctx, wire.BreakGlassSession{SessionID: id, Certificate: note.Certificate,
		ClientAddr: note.ClientAddr, Command: note.Command, StartedAt: note.Start, EndedAt: end.Time, EndReason: end.Reason,
		ExitStatus: end.ExitStatus})
	if client.IsCode(err, "break_glass_refused") {
		s.glassHeld.add(id)
		s.log.Error("the CA refused the report of a break-glass session (audited there); it stays in the spool", "session", id, "err", err)
		return
	}
	if err != nil {
		s.log.Warn("could not report a break-glass session; it stays in the spool and is reported when the CA answers", "session", id, "err", err)
		return
	}
	s.log.Warn("BREAK-GLASS session reported to the CA", "session", id)
	s.upload(ctx, id)
}
