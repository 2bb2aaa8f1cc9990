package bastion

import (
	"strconv"
	"strings"
	"unicode/utf8"

	gl "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Nothing passes the bastion that is not a recorded session: port, socket,
// agent and X11 forwarding and subsystems (sftp) are refused. Each refusal
// is logged and audited (channel.refused) with the person, the grant and
// the session, so that an attempt leaves a trace.

// maxReportedPerConn bounds the refusals one connection gets audited one
// by one; past it they are logged once and counted no more.
const maxReportedPerConn = 20

// forwardReason says, for a refused channel or request type, what was
// refused; reportable is false for requests that refuse nothing anyone
// asked for on purpose (env, keepalives).
func forwardReason(kind string) (reason string, reportable bool) {
	switch kind {
	case "direct-tcpip":
		return "port forwarding (-L, -D, -W) is not allowed", true
	case "direct-streamlocal@openssh.com":
		return "socket forwarding (-L with a socket, -W) is not allowed", true
	case "tcpip-forward":
		return "remote port forwarding (-R) is not allowed", true
	case "streamlocal-forward@openssh.com":
		return "remote socket forwarding (-R with a socket) is not allowed", true
	case "x11-req":
		return "X11 forwarding (-X, -Y) is not allowed", true
	case "auth-agent-req@openssh.com":
		return "agent forwarding (-A) is not allowed", true
	case "subsystem":
		return "subsystems (sftp, scp, ssh -s) are not allowed", true
	}
	return "", false
}

// forwardTarget reads what a refused request or channel was for, from its
// payload (RFC 4254 7.1, 7.2, 6.5; OpenSSH's PROTOCOL for streamlocal), in
// a form fit for the audit log.
func forwardTarget(kind string, payload []byte) string {
	switch kind {
	case "direct-tcpip", "tcpip-forward":
		var p struct {
			Host string
			Port uint32
			Rest []byte `ssh:"rest"`
		}
		if ssh.Unmarshal(payload, &p) == nil {
			return printable(p.Host) + ":" + strconv.FormatUint(uint64(p.Port), 10)
		}
	case "direct-streamlocal@openssh.com", "streamlocal-forward@openssh.com", "subsystem":
		var p struct {
			Name string
			Rest []byte `ssh:"rest"`
		}
		if ssh.Unmarshal(payload, &p) == nil {
			return printable(p.Name)
		}
	}
	return ""
}

// printable keeps at most 200 bytes of s, with anything but printable
// ASCII shown as '?': what a client sends is stored and shown later.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 200 {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// refuseForwarding logs and reports a refused channel or request of a
// logged-in person. session is the Lockbox session it belongs to, if one
// is open.
func (s *Server) refuseForwarding(g *connGuard, id identity, client, session, kind string, payload []byte) {
	reason, ok := forwardReason(kind)
	if !ok {
		if kind == "" || strings.ContainsFunc(kind, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			kind = "?"
		}
		reason = "channel type " + printable(kind) + " is not allowed"
	}
	target := forwardTarget(kind, payload)
	if !g.countReported() {
		return
	}
	s.log.Info("refused", "type", kind, "target", target, "user", id.User, "request", id.RequestID, "session", session, "client", client, "reason", reason)
	s.rep.person(wire.BastionRefusal{Kind: wire.RefusedChannel, Time: s.cfg.Clock(), User: id.User, RequestID: id.RequestID, SessionID: session,
		Login: id.Role + "@" + id.Resource, ClientAddr: client, Type: kind, Target: target, Reason: reason})
}

// refusedChannel handles every channel type but "session": it refuses the
// channel and reports it.
func (s *Server) refusedChannel(_ *gl.Server, conn *ssh.ServerConn, nc ssh.NewChannel, ctx gl.Context) {
	reason, ok := forwardReason(nc.ChannelType())
	if !ok {
		reason = "only sessions are allowed"
	}
	nc.Reject(ssh.Prohibited, "lockbox: "+reason) //nolint:errcheck // the client went away
	id, ok := identityOf(conn.Permissions)
	if !ok {
		return
	}
	g, _ := ctx.Value(guardKey).(*connGuard)
	s.refuseForwarding(g, id, hostOf(conn.RemoteAddr()), g.openSession(), nc.ChannelType(), nc.ExtraData())
}

// refusedRequest answers every global request no: forwarding requests are
// reported, the rest (keepalives, no-more-sessions) just answered.
func (s *Server) refusedRequest(ctx gl.Context, _ *gl.Server, req *ssh.Request) (bool, []byte) {
	if _, ok := forwardReason(req.Type); !ok {
		return false, nil
	}
	conn, _ := ctx.Value(gl.ContextKeyConn).(*ssh.ServerConn)
	if conn == nil {
		return false, nil
	}
	if id, ok := identityOf(conn.Permissions); ok {
		g, _ := ctx.Value(guardKey).(*connGuard)
		s.refuseForwarding(g, id, hostOf(conn.RemoteAddr()), g.openSession(), req.Type, req.Payload)
	}
	return false, nil
}
