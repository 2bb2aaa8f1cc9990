package bastion

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	gl "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// session is one session channel through the bastion.
type session struct {
	srv      *Server
	id       identity
	ch       ssh.Channel
	reqs     <-chan *ssh.Request
	addr     net.Addr
	connDone <-chan struct{} // closed when the client's connection ends

	pty   *ptyRequest  // the terminal the client asked for and was given
	start *ssh.Request // the shell or exec request, answered once the CA decided
	sid   string       // the session's ID, once the CA opened it
	end   *ending      // records its end, once
	guard *connGuard

	held []*ssh.Request // refused requests to report once sid is known

	// What the functions that open the session leave to do once it ends,
	// in the order it is to be done (the last added first), as their
	// defers would: a session that gets to its relay is relayed on a
	// goroutine of its own, which does them (see handleSession).
	undo    []func()
	undoBuf [12]func() // undo's first array: as many steps as a relayed session leaves
	out     outcome    // how the session ended, for the steps in undo
}

// later has f done once the session ends, before the steps added earlier.
func (x *session) later(f func()) {
	if x.undo == nil {
		x.undo = x.undoBuf[:0]
	}
	x.undo = append(x.undo, f)
}

// unwind does what later was given, the last first.
func (x *session) unwind() {
	for i := len(x.undo) - 1; i >= 0; i-- {
		x.undo[i]()
	}
	x.undo, x.undoBuf = nil, [len(x.undoBuf)]func(){}
}

// refused reports a refused request of this session if it is forwarding
// or a subsystem; before the CA opened the session it waits for the
// session's ID (flushRefused).
func (x *session) refused(r *ssh.Request) {
	if _, ok := forwardReason(r.Type); !ok {
		return
	}
	if x.sid == "" && len(x.held) < maxReportedPerConn {
		x.held = append(x.held, r)
		return
	}
	x.srv.refuseForwarding(x.guard, x.id, hostOf(x.addr), x.sid, r.Type, r.Payload)
}

// flushRefused reports the refusals held until the session had an ID (or
// until it was clear it would get none).
func (x *session) flushRefused() {
	for _, r := range x.held {
		x.srv.refuseForwarding(x.guard, x.id, hostOf(x.addr), x.sid, r.Type, r.Payload)
	}
	x.held = nil
}

// outcome is how a session ended: the reason recorded, and the exit status
// the client is given (none when the client went away, or when the target
// ended the session, whose own status or signal was passed on).
type outcome struct {
	reason string
	status *int
	send   bool // the bastion sends status itself
}

func ended(reason string) outcome { return outcome{reason: reason} }

// endedWith is an outcome whose status the bastion sends.
func endedWith(reason string, status int) outcome {
	return outcome{reason: reason, status: &status, send: true}
}

// setupTimeout bounds how long a client may take between opening the
// session channel and asking for a shell or a command.
const setupTimeout = 30 * time.Second

func (s *Server) handleSession(_ *gl.Server, conn *ssh.ServerConn, nc ssh.NewChannel, ctx gl.Context) {
	id, ok := identityOf(conn.Permissions)
	if !ok {
		nc.Reject(ssh.Prohibited, "not authenticated") //nolint:errcheck // nothing to do
		return
	}
	s.handlers.Add(1)
	g, _ := ctx.Value(guardKey).(*connGuard)
	g.sessionOpened()
	ch, reqs, err := nc.Accept()
	if err != nil {
		g.sessionClosed()
		s.handlers.Done()
		return
	}
	sess := &session{srv: s, id: id, ch: ch, reqs: reqs, addr: conn.RemoteAddr(), connDone: ctx.Done(), guard: g}
	sess.later(s.handlers.Done)
	sess.later(g.sessionClosed)
	sess.later(func() { ch.Close() })
	sess.later(sess.flushRefused)
	relay := sess.setup()
	if relay == nil {
		sess.unwind()
		return
	}
	// The relay goes on on a goroutine of its own and this one ends. Go
	// keeps a goroutine's stack at the size it needed, halving it only
	// while less than a quarter of it is in use: opening a session leaves
	// about 3 KiB of frames under the relay on this goroutine, which then
	// keeps an 8 KiB stack for the session's life; the relay alone keeps
	// 4 KiB (see docs/benchmarks.md).
	go sess.relayed(relay)
}

// relayed relays the session and does what was left for its end.
func (x *session) relayed(relay func() outcome) {
	x.out = relay()
	x.unwind()
}

func reply(req *ssh.Request, ok bool) {
	if req.WantReply {
		req.Reply(ok, nil) //nolint:errcheck // the client went away
	}
}

// setup reads requests until the client asks for a shell or a command.
// A terminal is granted at once when the certificate permits one (the
// role is interactive), so clients that wait for that answer go on. It
// returns the relay of the session once it is open (nil: the session
// ended, or was never opened).
func (x *session) setup() func() outcome {
	timer := time.NewTimer(setupTimeout)
	defer timer.Stop()
	for {
		var req *ssh.Request
		var ok bool
		select {
		case req, ok = <-x.reqs:
		case <-timer.C:
			fmt.Fprintf(x.ch.Stderr(), "lockbox: no shell or command requested in time\r\n")
			return nil
		}
		if !ok {
			return nil
		}
		switch req.Type {
		case "pty-req":
			p, good := parsePty(req.Payload)
			granted := good && x.pty == nil && x.id.PTY
			if granted {
				x.pty = p
			}
			reply(req, granted)
		case "window-change":
			w, good := parseWindowChange(req.Payload)
			if good && x.pty != nil {
				x.pty.Cols, x.pty.Rows, x.pty.Width, x.pty.Height = w.Cols, w.Rows, w.Width, w.Height
			}
			reply(req, good && x.pty != nil)
		case "shell":
			x.start = req
			return x.begin("")
		case "exec":
			cmd, good := parseExec(req.Payload)
			if !good {
				reply(req, false)
				continue
			}
			x.start = req
			return x.begin(cmd)
		default:
			// env, subsystem (sftp), auth-agent-req, x11-req, signals
			// before a session: none of them is relayed, so none is
			// accepted; a subsystem would be an unrecorded channel.
			// Forwarding and subsystems are reported.
			reply(req, false)
			x.refused(req)
		}
	}
}

// fail tells the user why the session cannot be opened, before the CA
// opened it, and ends the channel with exit status 1. The shell or exec
// request is answered yes (nothing runs), so that the client shows the
// message instead of a bare "request failed".
func (x *session) fail(msg string) {
	x.notOpened(msg)
	x.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{exitNotOpened})) //nolint:errcheck
}

// notOpened tells the user why the session the CA opened cannot go on;
// the caller records the end, then gives the exit status.
func (x *session) notOpened(msg string) outcome {
	reply(x.start, true)
	fmt.Fprintf(x.ch.Stderr(), "lockbox: %s\r\n", msg)
	return outcome{reason: msg, status: intp(exitNotOpened), send: true}
}

func intp(v int) *int { return &v }

// cut is the outcome of a session ended (revoked, shut down, the client
// gone) while it was still being opened: the user is told why, as in the
// relay, unless they left.
func (x *session) cut(ctx context.Context) outcome {
	cause := context.Cause(ctx)
	code, ok := statusOf(cause)
	if !ok {
		return ended(cause.Error())
	}
	reply(x.start, true)
	fmt.Fprintf(x.ch.Stderr(), "lockbox: session ended: %s\r\n", cause)
	return endedWith(cause.Error(), code)
}

// begin asks the CA for the session, then connects and relays it. From the
// moment the CA opened it, the client going away at any stage (the target
// still being dialled, the relay running) ends it at once and frees the
// user's lease; the end is recorded before the client learns it, so that
// its next login is never refused as a second session.
func (x *session) begin(command string) func() outcome {
	s := x.srv
	var left sync.Once // the client went while the session was being opened
	watch := watchClient(x.reqs, x.connDone, func() { left.Do(func() { s.leaving.add(x.id.User) }) })
	// Once the end is recorded (or nothing was opened), the user's next
	// login need not wait.
	settled := sync.OnceFunc(func() {
		left.Do(func() { s.leaving.add(x.id.User) })
		s.leaving.done(x.id.User)
	})
	x.later(settled)
	if s.draining.Load() {
		watch.stop()
		metrics.SessionsEnded.WithLabelValues("refused").Inc()
		x.fail(reasonDraining)
		return nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	var grant *wire.SessionGrant
	var err error
	if x.id.glass != nil {
		grant, err = s.openBreakGlass(x.id, x.addr.String(), command)
	} else {
		onFreshStack(func() {
			grant, err = s.cfg.CA.StartSession(ctx, wire.SessionStart{RequestID: x.id.RequestID, Resource: x.id.Resource,
				User: x.id.User, ClientAddr: x.addr.String(), Command: command})
		})
	}
	cancel()
	if err != nil {
		watch.stop()
		s.log.Info("session refused", "user", x.id.User, "request", x.id.RequestID, "resource", x.id.Resource, "err", err)
		metrics.SessionsEnded.WithLabelValues("refused").Inc()
		if x.id.glass != nil {
			x.fail("the break-glass session cannot be recorded (" + recordingTrouble(err) + "), so it is not opened")
		} else {
			x.fail(userMessage(err))
		}
		return nil
	}
	x.sid, x.end = grant.SessionID, s.newEnding(grant.SessionID)
	x.flushRefused()
	x.guard.setSession(x.sid)
	x.later(func() { x.guard.setSession("") })
	life, end := context.WithCancelCause(s.ctx)
	tell := func(msg string) { fmt.Fprintf(x.ch.Stderr(), "\r\nlockbox: %s\r\n", msg) }
	s.reg.add(grant.SessionID, end, tell)
	s.glassOpening.remove(grant.SessionID)             // registered: UploadPending sees it open
	if notice := s.drainNotice.Load(); notice != nil { // opened as the drain began
		go tell(*notice)
	}
	x.later(func() { s.reg.remove(grant.SessionID) })
	watch.whenGone(func() {
		end(errors.New(reasonClientGone))
		x.end.record(reasonClientGone, nil)
	})
	s.log.Info("session started", "session", grant.SessionID, "request", x.id.RequestID, "user", x.id.User, "resource", x.id.Resource,
		"role", x.id.Role, "client", x.addr.String())
	x.later(func() { x.finish(grant, end, settled) })
	out, relay := x.run(life, end, grant, command, watch)
	if relay != nil {
		return relay
	}
	x.out = out
	return nil
}

// finish records how the session ended (x.out), tells the client, and
// uploads the recording, once everything run opened is closed.
func (x *session) finish(grant *wire.SessionGrant, end context.CancelCauseFunc, settled func()) {
	s, out := x.srv, x.out
	end(errors.New(out.reason))
	x.end.record(out.reason, out.status)
	s.log.Info("session ended", "session", grant.SessionID, "request", x.id.RequestID, "user", x.id.User, "reason", out.reason)
	metrics.SessionsEnded.WithLabelValues(endClass(out)).Inc()
	settled()
	if out.send && out.status != nil {
		x.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{uint32(*out.status)})) //nolint:errcheck // the client went away
	}
	x.ch.Close()
	if x.id.glass == nil {
		s.uploadNow(grant.SessionID)
	} else {
		s.reportBreakGlassNow(grant.SessionID)
	}
}

// run opens the recording, the target and its session, and returns the
// relay of the session once it runs there, or how the session ended if it
// never did. What it opened is closed once the session ends (later). It
// stops the client watch once the relay can take over.
func (x *session) run(ctx context.Context, end context.CancelCauseFunc, grant *wire.SessionGrant, command string, watch *clientWatch) (outcome, func() outcome) {
	s := x.srv
	stopWatch := sync.OnceValues(watch.stop)
	x.later(func() { stopWatch() })
	usePty := x.pty != nil && grant.Interactive
	rec, err := s.cfg.Spool.Create(grant.SessionID, x.header(grant, command, usePty), recording.WriterOptions{FlushEvery: s.cfg.FlushEvery})
	if err != nil {
		s.log.Error("cannot record; refusing the session", "session", grant.SessionID, "err", err)
		return x.notOpened("the session cannot be recorded (" + recordingTrouble(err) + "), so it is not opened"), nil
	}
	x.later(func() { rec.Close() })
	if x.id.glass != nil {
		fmt.Fprint(x.ch.Stderr(), breakGlassBanner(x.id))
		rec.Marker("BREAK-GLASS session: " + x.id.User + ", reason: " + x.id.glass.Reason) //nolint:errcheck // the header has the session too
	}
	var target *targetConn
	onFreshStack(func() { target, err = s.dialTarget(ctx, grant, x.id) })
	if err != nil {
		if ctx.Err() != nil {
			return x.cut(ctx), nil
		}
		s.log.Warn("cannot reach target", "session", grant.SessionID, "resource", x.id.Resource, "err", err)
		return x.notOpened(fmt.Sprintf("cannot reach %s", x.id.Resource)), nil
	}
	x.later(func() { target.Close() })
	stopRefusing := target.refuseUntil()
	tch, treqs, err := target.OpenChannel("session", nil)
	if err != nil {
		if ctx.Err() != nil {
			return x.cut(ctx), nil
		}
		s.log.Warn("the target refused the session channel", "session", grant.SessionID, "err", err)
		return x.notOpened(fmt.Sprintf("%s refused the session", x.id.Resource)), nil
	}
	x.later(func() { tch.Close() })
	targetPty := false
	if usePty {
		// The client was given a terminal; a target that refuses one
		// still runs the session, without.
		targetPty, _ = tch.SendRequest("pty-req", true, ssh.Marshal(x.pty))
	}
	startType, payload := "shell", []byte(nil)
	if command != "" {
		exec, err := execCommand(grant, command)
		if err != nil {
			s.log.Error("the CA's command for the target is unusable; refusing the session", "session", grant.SessionID, "err", err)
			return x.notOpened("the command cannot be sent safely, so it is not run"), nil
		}
		startType, payload = "exec", ssh.Marshal(execRequest{Command: exec})
		// The command is recorded as an event of its own when it starts,
		// as well as in the header; a recording that cannot take it
		// runs nothing (fail closed).
		if err := rec.Exec(command); err != nil {
			s.log.Error("the recording failed; not running the command", "session", grant.SessionID, "err", err)
			return x.notOpened("the recording failed, so the command is not run"), nil
		}
	}
	if ok, err := tch.SendRequest(startType, true, payload); err != nil || !ok {
		if ctx.Err() != nil {
			return x.cut(ctx), nil
		}
		return x.notOpened(fmt.Sprintf("%s refused the %s", x.id.Resource, startType)), nil
	}
	queued, gone := stopWatch()
	if gone {
		return ended(reasonClientGone), nil
	}
	if ctx.Err() != nil {
		return x.cut(ctx), nil
	}
	reply(x.start, true)
	stopRefusing() // the relay's request loop answers the target now
	return outcome{}, func() outcome {
		out := x.relay(ctx, end, rec, target, tch, treqs, grant, targetPty, queued)
		rec.Marker("session ended: " + out.reason) //nolint:errcheck // best effort: the session has ended anyway
		return out
	}
}

func (x *session) header(grant *wire.SessionGrant, command string, usePty bool) recording.Header {
	h := recording.Header{Width: 80, Height: 24, Timestamp: x.srv.cfg.Clock(), Command: command,
		Session: grant.SessionID, User: x.id.User, Resource: x.id.Resource, Role: x.id.Role, Request: x.id.RequestID}
	if usePty {
		h.Terminal = true
		h.Term = x.pty.Term
		if x.pty.Cols > 0 && x.pty.Rows > 0 {
			h.Width, h.Height = int(x.pty.Cols), int(x.pty.Rows)
		}
	}
	return h
}

// uploadNow uploads a finished session's recording.
func (s *Server) uploadNow(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s.upload(ctx, id)
}
