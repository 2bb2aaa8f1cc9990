package mariadbtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// A Proxy relays connections to a Server and can break one at the worst
// moment: when the client sends COMMIT. It reads the client's side of the
// protocol only as far as packet boundaries (no TLS, no compression: the
// go-sql-driver/mysql defaults), and relays everything else untouched.
type Proxy struct {
	Addr string // 127.0.0.1:PORT

	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu    sync.Mutex
	fault *Fault // for the next COMMIT, then nil
	conns map[net.Conn]struct{}
}

// CommitFault says where the connection breaks.
type CommitFault int

const (
	// LoseCommit drops the connection instead of passing COMMIT on: the
	// server never commits, the client never hears.
	LoseCommit CommitFault = iota + 1
	// LoseAnswer passes COMMIT on, waits for the server's answer (so the
	// commit is durable), and drops the connection instead of passing the
	// answer back.
	LoseAnswer
)

// Fault is what to do to the next COMMIT.
type Fault struct {
	Commit CommitFault
	// When, if set, picks the COMMIT of a transaction that sent these
	// bytes (in a statement or a prepared statement's parameters), e.g.
	// a value only the change under test writes; other commits pass.
	When []byte
	// Then, if set, runs when the connection breaks, before the client
	// sees it: Server.Kill there kills the server "at the commit".
	Then func()
}

// NewProxy relays to target (host:port) from a random loopback port.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: proxy: %w", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// StartProxy is NewProxy to s for a test, closed when it ends.
func (s *Server) StartProxy(t testing.TB) *Proxy {
	t.Helper()
	p, err := NewProxy(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// DSN is a go-sql-driver/mysql DSN for database through the proxy, as root.
func (p *Proxy) DSN(database string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", p.Addr, database
	return cfg.FormatDSN()
}

// BreakNextCommit arms f for the next COMMIT any connection sends.
func (p *Proxy) BreakNextCommit(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = &f
}

// Armed reports whether a fault is still waiting for its COMMIT.
func (p *Proxy) Armed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault != nil
}

// Close stops accepting, drops every connection and waits for the relays.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.relay(c)
	}
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

// takeFault returns the armed fault, once, if it picks a commit whose
// transaction did (wrote) or did not send its When.
func (p *Proxy) takeFault(wrote bool) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	if f == nil || (f.When != nil && !wrote) {
		return nil
	}
	p.fault = nil
	return f
}

// sent reports whether pkt holds the armed fault's When.
func (p *Proxy) sent(pkt []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault != nil && p.fault.When != nil && bytes.Contains(pkt, p.fault.When)
}

var (
	commitPacket   = append([]byte{0x03}, "COMMIT"...)   // COM_QUERY "COMMIT"
	rollbackPacket = append([]byte{0x03}, "ROLLBACK"...) // COM_QUERY "ROLLBACK"
)

// relay copies one connection both ways, watching the client's packets
// for COMMIT.
func (p *Proxy) relay(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		return
	}
	defer p.untrack(client, server)
	answers := make(chan *Fault, 1) // a LoseAnswer fault for the server's next bytes
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer client.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				select {
				case f := <-answers:
					breakNow(f, client, server)
					return
				default:
				}
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	wrote := false // this transaction sent the fault's When
	for {
		pkt, err := readPacket(client)
		if err != nil {
			return
		}
		switch {
		case bytes.EqualFold(pkt[4:], commitPacket):
			f := p.takeFault(wrote)
			wrote = false
			if f != nil {
				if f.Commit == LoseCommit {
					breakNow(f, client, server)
					return
				}
				answers <- f
			}
		case bytes.EqualFold(pkt[4:], rollbackPacket):
			wrote = false
		case p.sent(pkt):
			wrote = true
		}
		if _, err := server.Write(pkt); err != nil {
			return
		}
	}
}

// breakNow runs f.Then and drops both sides.
func breakNow(f *Fault, client, server net.Conn) {
	if f.Then != nil {
		f.Then()
	}
	client.Close()
	server.Close()
}

// readPacket reads one MySQL packet: a 3-byte little-endian length, a
// sequence number, the payload.
func readPacket(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := int(head[0]) | int(head[1])<<8 | int(head[2])<<16
	pkt := make([]byte, 4+n)
	copy(pkt, head[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, errors.Join(err, io.ErrUnexpectedEOF)
	}
	return pkt, nil
}
