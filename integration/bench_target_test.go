package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
)

// goTarget is a minimal in-process SSH server standing in for a target
// where stock sshd would not do: 500 idle sshd sessions fork about a
// thousand processes on a 2-core machine. It accepts the bastion's hop
// certificates (signed by the hop CA), presents a host certificate from
// the host CA, grants pty and shell requests, writes a prompt, and then
// only reads what the client sends.
type goTarget struct {
	addr   string
	ln     net.Listener
	shells atomic.Int64 // shells started and not yet ended
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

func startGoTarget(tb testing.TB, hopCA ssh.PublicKey, host ssh.Signer) *goTarget {
	tb.Helper()
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			cert, ok := key.(*ssh.Certificate)
			if !ok || cert.CertType != ssh.UserCert || !bytes.Equal(cert.SignatureKey.Marshal(), hopCA.Marshal()) {
				return nil, errors.New("not a hop certificate")
			}
			checker := &ssh.CertChecker{SupportedCriticalOptions: []string{"source-address", "force-command"}}
			if len(cert.ValidPrincipals) == 0 {
				return nil, errors.New("no principal")
			}
			return nil, checker.CheckCert(cert.ValidPrincipals[0], cert)
		},
	}
	cfg.AddHostKey(host)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	t := &goTarget{addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.mu.Lock()
			t.conns[c] = true
			t.mu.Unlock()
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				t.serve(c, cfg)
				t.mu.Lock()
				delete(t.conns, c)
				t.mu.Unlock()
			}()
		}
	}()
	tb.Cleanup(t.close)
	return t
}

// close stops accepting, ends every connection and waits for their
// goroutines.
func (t *goTarget) close() {
	t.ln.Close()
	t.mu.Lock()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

func (t *goTarget) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only") //nolint:errcheck
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.session(ch, creqs)
		}()
	}
}

// session grants a pty and a shell, prints a prompt, and then swallows
// input until the channel closes.
func (t *goTarget) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	started := false
	for r := range reqs {
		ok := false
		switch r.Type {
		case "pty-req", "window-change", "env":
			ok = true
		case "shell":
			ok = !started
		}
		if r.WantReply {
			r.Reply(ok, nil) //nolint:errcheck
		}
		if r.Type == "shell" && ok {
			started = true
			t.shells.Add(1)
			fmt.Fprint(ch, "bench$ ")
			go func() {
				io.Copy(io.Discard, ch) //nolint:errcheck // ends when the channel does
				ch.Close()
			}()
		}
	}
	if started {
		t.shells.Add(-1)
	}
}
