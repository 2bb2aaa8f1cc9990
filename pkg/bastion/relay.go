package bastion

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// relay copies the session both ways, recording it, until the target ends
// it, the client goes away, or ctx is cancelled with the reason (a limit,
// a revocation, a recording failure). It returns how the session ended.
// queued are the client's requests that arrived while the session was
// being opened.
//
// Goroutines pump the data, one per stream; this one serves requests both
// ways and watches for the end. An idle session should cost as little as
// possible, so there is no stderr pump when the target runs the session on
// a terminal: sshd then sends everything as the terminal's output, and
// never extended data.
func (x *session) relay(ctx context.Context, end context.CancelCauseFunc, rec *recording.Writer, target *targetConn,
	tch ssh.Channel, treqs <-chan *ssh.Request, grant *wire.SessionGrant, targetPty bool, queued []*ssh.Request) outcome {
	s := x.srv
	var lastInput atomic.Int64
	lastInput.Store(s.cfg.Clock().UnixNano())
	recorder := newRecorder(rec, func(err error) {
		s.log.Error("the recording failed; ending the session", "session", grant.SessionID, "err", err)
		end(endWith(exitRecording, "the recording failed, so the session ends (%s)", recordingTrouble(err)))
	})
	recorder.live = s.newLiveFeed(grant.SessionID, x.ch.Stderr(), end, &lastInput)

	var wg sync.WaitGroup
	// target stdout and stderr to the client
	wg.Add(1)
	go func() { defer wg.Done(); pump(x.ch, tch, recorder, 'o', nil) }() //nolint:errcheck // ends with the channel
	if !targetPty {
		wg.Add(1)
		go func() { defer wg.Done(); pump(x.ch.Stderr(), tch.Stderr(), recorder, 'o', nil) }() //nolint:errcheck
	}
	// client input to the target: the only thing that counts as activity
	go func() {
		pump(tch, x.ch, recorder, 'i', func() { lastInput.Store(s.cfg.Clock().UnixNano()) }) //nolint:errcheck
		tch.CloseWrite()                                                                     //nolint:errcheck // the target may have gone
	}()
	// Everything the target sent is recorded before the recording
	// closes: its pumps end once its whole connection is closed (sshd
	// keeps a session channel open while its command runs), then the
	// recorder drains.
	defer func() {
		target.Close()
		wg.Wait()
		recorder.close()
		s.finishLive(recorder.live)
	}()

	stopLimits := x.limits(ctx, end, &lastInput, grant)
	defer stopLimits()

	for _, r := range queued {
		reply(r, x.clientRequest(r, tch, recorder))
	}
	creqs := x.reqs
	var targetDone chan struct{} // closed once the target's channel ended and its output is relayed
	var exit string              // the exit-status or exit-signal the target sent, as text
	var status *int              // the exit status the target sent, if it did
	var exitReq *ssh.Request     // that request, recorded once the target's output is
	recordExit := func() {
		if exitReq != nil {
			recorder.exit(exitReq)
			exitReq = nil
		}
	}
	for {
		select {
		case r, ok := <-treqs:
			if !ok {
				treqs = nil
				targetDone = make(chan struct{})
				go func() { wg.Wait(); close(targetDone) }()
				continue
			}
			switch r.Type {
			case "exit-status", "exit-signal":
				x.ch.SendRequest(r.Type, false, r.Payload) //nolint:errcheck // the client went away
				exit, status = describeExit(r)
				exitReq = r
			}
			reply(r, false)
		case r, ok := <-creqs:
			if !ok {
				// Free the lease before tearing down: the client may
				// already be logging in again (and waits for this).
				s.leaving.add(x.id.User)
				x.end.record(reasonClientGone, nil)
				s.leaving.done(x.id.User)
				return ended(reasonClientGone)
			}
			reply(r, x.clientRequest(r, tch, recorder))
		case nc, ok := <-target.chans:
			target.refuseChannel(nc, ok)
		case r, ok := <-target.reqs:
			target.refuseRequest(r, ok)
		case <-targetDone:
			recordExit()
			go refuseAll(creqs)
			if exit != "" {
				return outcome{reason: exit, status: status}
			}
			return ended("the target closed the session")
		case <-ctx.Done():
			recordExit()
			go refuseAll(creqs)
			cause := context.Cause(ctx)
			reason := cause.Error()
			// Without a terminal, sshd leaves a command running when its
			// connection goes; ask it to stop the command first. (sshd
			// honours this for logins other than root, whose sessions run in
			// its privileged monitor; see docs/bastion.md.)
			tch.SendRequest("signal", false, ssh.Marshal(struct{ Signal string }{"TERM"})) //nolint:errcheck // best effort
			fmt.Fprintf(x.ch.Stderr(), "\r\nlockbox: session ended: %s\r\n", reason)
			if code, ok := statusOf(cause); ok && exit == "" {
				return endedWith(reason, code)
			}
			return outcome{reason: reason, status: status}
		}
	}
}

// refuseAll answers the client's requests once its session has ended,
// until the client closes the channel, which the caller does once the
// lease is freed.
func refuseAll(reqs <-chan *ssh.Request) {
	for r := range reqs {
		reply(r, false)
	}
}

// clientRequest relays a request the client makes during the session.
func (x *session) clientRequest(r *ssh.Request, tch ssh.Channel, recorder *recorder) bool {
	switch r.Type {
	case "window-change":
		w, good := parseWindowChange(r.Payload)
		if !good {
			return false
		}
		tch.SendRequest(r.Type, false, r.Payload) //nolint:errcheck
		recorder.resize(int(w.Cols), int(w.Rows))
		return true
	case "signal":
		tch.SendRequest(r.Type, false, r.Payload) //nolint:errcheck
		var sig struct{ Signal string }
		if ssh.Unmarshal(r.Payload, &sig) == nil {
			recorder.signal(sig.Signal)
		}
		return true
	}
	x.refused(r)
	return false
}

// describeExit reads the target's exit-status or exit-signal: the end
// reason, and the status if there is one.
func describeExit(r *ssh.Request) (string, *int) {
	if r.Type == "exit-status" {
		var st exitStatus
		if ssh.Unmarshal(r.Payload, &st) == nil {
			code := int(st.Status)
			if st.Status == 0 {
				return "logged out", &code
			}
			return fmt.Sprintf("exited with status %d", st.Status), &code
		}
	}
	var sig struct {
		Signal     string
		CoreDumped bool
		Msg, Lang  string
	}
	if ssh.Unmarshal(r.Payload, &sig) == nil {
		return "killed by signal " + sig.Signal, nil
	}
	return "exited", nil
}

// limits ends the session when the client has sent nothing for the idle
// timeout, at the session cap, and when the grant ends. (Revocation comes
// from the heartbeat loop.) It returns a function that stops the timers.
func (x *session) limits(ctx context.Context, end context.CancelCauseFunc, lastInput *atomic.Int64, grant *wire.SessionGrant) func() {
	s := x.srv
	start := s.cfg.Clock()
	capTimer := time.AfterFunc(s.cfg.SessionCap, func() { end(endCapped(s.cfg.SessionCap)) })
	grantTimer := time.AfterFunc(grant.NotAfter.Sub(start), func() { end(endGrantEnded(grant.NotAfter)) })
	// Idleness is checked by a timer, not a goroutine: an idle session
	// should cost as little as possible.
	var idleTimer *time.Timer
	var mu sync.Mutex
	stopped := false
	var checkIdle func()
	checkIdle = func() {
		idle := s.cfg.Clock().Sub(time.Unix(0, lastInput.Load()))
		if idle >= s.cfg.IdleTimeout {
			end(endIdle(s.cfg.IdleTimeout))
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			idleTimer = time.AfterFunc(s.cfg.IdleTimeout-idle, checkIdle)
		}
	}
	mu.Lock()
	idleTimer = time.AfterFunc(s.cfg.IdleTimeout, checkIdle)
	mu.Unlock()
	return func() {
		capTimer.Stop()
		grantTimer.Stop()
		mu.Lock()
		stopped = true
		idleTimer.Stop()
		mu.Unlock()
	}
}
