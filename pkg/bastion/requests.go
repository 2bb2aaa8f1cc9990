package bastion

import "golang.org/x/crypto/ssh"

// Payloads of the channel requests the bastion reads (RFC 4254, 6.2-6.10).

type ptyRequest struct {
	Term          string
	Cols, Rows    uint32
	Width, Height uint32
	Modes         string
}

type windowChange struct {
	Cols, Rows    uint32
	Width, Height uint32
}

type execRequest struct {
	Command string
}

type exitStatus struct {
	Status uint32
}

func parsePty(payload []byte) (*ptyRequest, bool) {
	var p ptyRequest
	if ssh.Unmarshal(payload, &p) != nil || p.Cols > 10000 || p.Rows > 10000 || len(p.Term) > 64 {
		return nil, false
	}
	return &p, true
}

func parseWindowChange(payload []byte) (*windowChange, bool) {
	var w windowChange
	if ssh.Unmarshal(payload, &w) != nil || w.Cols > 10000 || w.Rows > 10000 {
		return nil, false
	}
	return &w, true
}

// maxCommand bounds an exec request's command line.
const maxCommand = 16 << 10

func parseExec(payload []byte) (string, bool) {
	var e execRequest
	if ssh.Unmarshal(payload, &e) != nil || len(e.Command) > maxCommand {
		return "", false
	}
	return e.Command, true
}
