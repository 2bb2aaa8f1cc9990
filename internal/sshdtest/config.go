package sshdtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// Files Start writes under Server.Dir.
const (
	hostKeyFile    = "host_key" // never written: sshd then reads host_key.pub
	hostCertFile   = "host_key-cert.pub"
	trustedCAFile  = "trusted_user_ca_keys.pub"
	principalsDir  = "principals"
	knownHostsFile = "known_hosts"
	sshdConfigFile = "sshd_config"
	krlFile        = "revoked.krl"
)

// writeFiles writes the host key, CA keys, principals and KRL for o.
func (s *Server) writeFiles(o Options) error {
	// Only the public host key: sshd delegates signing to HostKeyAgent. It
	// tries HostKey as a private key first, then HostKey.pub as a public one.
	if err := os.WriteFile(s.path(hostKeyFile+".pub"), sshcert.AuthorizedKey(s.HostKey, ""), 0o644); err != nil {
		return err
	}
	if o.HostCertificate != nil {
		if err := os.WriteFile(s.path(hostCertFile), sshcert.AuthorizedKey(o.HostCertificate, ""), 0o644); err != nil {
			return err
		}
	}
	var cas []byte
	for _, k := range o.TrustedUserCAKeys {
		cas = append(cas, sshcert.AuthorizedKey(k, "")...)
	}
	if err := os.WriteFile(s.path(trustedCAFile), cas, 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(s.path(principalsDir), 0o755); err != nil {
		return err
	}
	for login, principals := range o.Principals {
		if login == "" || strings.ContainsAny(login, "/\x00") {
			return fmt.Errorf("invalid login %q in Principals", login)
		}
		data := strings.Join(principals, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(s.path(principalsDir), login), []byte(data), 0o644); err != nil {
			return err
		}
	}
	if s.krlPath != "" {
		if err := os.WriteFile(s.krlPath, o.KRL, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// config returns the sshd_config for o on port: Extra first, so it wins,
// then a target's settings: certificate logins only, no passwords, nothing
// read from the user's home directory.
func (s *Server) config(o Options, port int, agentSocket string) string {
	lines := append([]string{}, o.Extra...)
	lines = append(lines,
		fmt.Sprintf("ListenAddress 127.0.0.1:%d", port),
		"HostKey "+s.path(hostKeyFile),
		"HostKeyAgent "+agentSocket,
	)
	if o.HostCertificate != nil {
		lines = append(lines, "HostCertificate "+s.path(hostCertFile))
	}
	if len(o.TrustedUserCAKeys) > 0 {
		lines = append(lines, "TrustedUserCAKeys "+s.path(trustedCAFile))
	}
	lines = append(lines, "AuthorizedPrincipalsFile "+s.path(principalsDir)+"/%u")
	if s.krlPath != "" {
		lines = append(lines, "RevokedKeys "+s.krlPath)
	}
	if o.ForceCommand != "" {
		lines = append(lines, "ForceCommand "+o.ForceCommand)
	}
	lines = append(lines,
		"AuthorizedKeysFile none",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"UsePAM no",
		"StrictModes no",
		"PidFile none",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"LogLevel VERBOSE",
	)
	return strings.Join(lines, "\n") + "\n"
}

// path names a file in the server's directory.
func (s *Server) path(name string) string { return filepath.Join(s.Dir, name) }

// writeFileAtomic replaces path with data: a reader sees the old file or
// the new one, never a partial one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
