package sshdtest

import (
	"bytes"
	"errors"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// errReadOnly answers every agent request that would change the keys.
var errReadOnly = errors.New("sshdtest: host key agent is read-only")

// hostKeyAgent serves one ssh.Signer over the ssh-agent protocol, so sshd
// can use a host key that only exists as a signer in the test process
// (sshd_config HostKeyAgent, with HostKey naming the public key file).
type hostKeyAgent struct {
	signer ssh.Signer
}

var _ agent.ExtendedAgent = hostKeyAgent{}

func (a hostKeyAgent) List() ([]*agent.Key, error) {
	pub := a.signer.PublicKey()
	return []*agent.Key{{Format: pub.Type(), Blob: pub.Marshal(), Comment: "sshdtest host key"}}, nil
}

func (a hostKeyAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	return a.SignWithFlags(key, data, 0)
}

// SignWithFlags signs for the host key, or for a certificate of it (sshd
// may name either), honouring the rsa-sha2 flags.
func (a hostKeyAgent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	if cert, ok := key.(*ssh.Certificate); ok {
		key = cert.Key
	}
	if !bytes.Equal(key.Marshal(), a.signer.PublicKey().Marshal()) {
		return nil, errors.New("sshdtest: host key agent holds no such key")
	}
	algo := ""
	switch {
	case flags&agent.SignatureFlagRsaSha512 != 0:
		algo = ssh.KeyAlgoRSASHA512
	case flags&agent.SignatureFlagRsaSha256 != 0:
		algo = ssh.KeyAlgoRSASHA256
	}
	if algo == "" {
		return a.signer.Sign(nil, data)
	}
	as, ok := a.signer.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("sshdtest: host key signer cannot choose an RSA algorithm")
	}
	return as.SignWithAlgorithm(nil, data, algo)
}

func (a hostKeyAgent) Signers() ([]ssh.Signer, error) { return []ssh.Signer{a.signer}, nil }
func (hostKeyAgent) Add(agent.AddedKey) error         { return errReadOnly }
func (hostKeyAgent) Remove(ssh.PublicKey) error       { return errReadOnly }
func (hostKeyAgent) RemoveAll() error                 { return errReadOnly }
func (hostKeyAgent) Lock([]byte) error                { return errReadOnly }
func (hostKeyAgent) Unlock([]byte) error              { return errReadOnly }
func (hostKeyAgent) Extension(string, []byte) ([]byte, error) {
	return nil, agent.ErrExtensionUnsupported
}

// agentServer accepts agent connections on a Unix socket until closed.
type agentServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// serveAgent starts serving a on a new Unix socket at path.
func serveAgent(path string, a agent.Agent) (*agentServer, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	s := &agentServer{ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.acceptLoop(a)
	return s, nil
}

func (s *agentServer) acceptLoop(a agent.Agent) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.conns == nil { // closing
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			agent.ServeAgent(a, c) //nolint:errcheck // ends when sshd hangs up
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// Close stops accepting, hangs up on every client and waits for the
// goroutines serving them.
func (s *agentServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
}
