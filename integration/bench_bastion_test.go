package integration

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The bastion against OpenSSH ProxyJump through a stock sshd: bulk
// throughput and connect latency, in the same run, alternating, with the
// same cipher and key exchange on every hop. Run them with
// scripts/bench-bastion.sh, which prints the ratios; see
// docs/benchmarks.md.

// Every hop of both paths uses these. The bastion offers only AES-GCM and
// asks targets for aes128-gcm first and curve25519-sha256 first (see
// pkg/bastion/algorithms.go); the clients are told the same.
const (
	benchCipher = "aes128-gcm@openssh.com"
	benchKex    = "curve25519-sha256"
)

// benchPayload is a remote command writing size bytes to stdout.
type benchPayload struct {
	command string
	size    int64
}

var (
	// ASCII text: recorded nearly one for one.
	textPayload = benchPayload{"yes 'lockbox bench: the quick brown fox jumps over the lazy dog 0123456789' | head -c 268435456", 256 << 20}
	// Zero bytes, the worst case for the recording: each becomes \u0000
	// (six bytes) in the asciicast file. 128 MiB makes a 768 MiB
	// recording, under the CA's 1 GiB limit.
	zerosPayload = benchPayload{"head -c 134217728 /dev/zero", 128 << 20}
)

// randomPayload prints 64 MiB of random bytes from a file (read from the
// page cache on both paths): output that does not compress, as an exec
// session copying an archive or encrypted data makes.
func randomPayload(b *testing.B) benchPayload {
	const size = 64 << 20
	data := make([]byte, size)
	var seed [32]byte
	rand.Read(seed[:])
	mrand.NewChaCha8(seed).Read(data) //nolint:errcheck // never fails
	path := filepath.Join(b.TempDir(), "random")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return benchPayload{"cat " + path, size}
}

// skipBashrc keeps bash, as the login shell of a command over SSH, from
// reading ~/.bashrc (Debian's bash does when it sees SSH_CLIENT and
// SHLVL < 2): on the test machine root's ~/.bashrc runs `pyenv init`,
// 150 ms per command, which would swamp the connect times of both paths.
var skipBashrc = []string{"SetEnv SHLVL=1"}

// pathsFixture is one target sshd reached two ways: through the bastion,
// and with ProxyJump through a second, stock sshd (the jump host). The
// target trusts both the hop CA and a test CA for the ProxyJump user.
type pathsFixture struct {
	ca      *benchCA
	bastion *benchBastion
	target  *sshdtest.Server
	jump    *sshdtest.Server
	login   string

	bastionConfig string // ssh_config for the bastion path
	jumpConfig    string // ssh_config for the ProxyJump path (both hops)
	askpass       string // prints the code in $LOCKBOX_BENCH_CODE

	regular   *benchUser     // logs in again and again (TOTP remembered)
	fresh     []*benchUser   // each logs in once, with a TOTP code
	caCalls   *benchUser     // for timing the CA calls the bastion makes
	asBastion *client.Client // signs as bastion-1

	// With LOCKBOX_BENCH_PROFILES=DIR, the bastion serves its profiles
	// at pprofAddr and each throughput run through it saves a CPU profile
	// of its first second into DIR (cpu-text.pb.gz, ...).
	profiles, pprofAddr string
}

// freshUsers bounds how many TOTP logins one run can make.
const freshUsers = 96

func newPathsFixture(b *testing.B) *pathsFixture {
	if _, err := exec.LookPath("ssh"); err != nil {
		storetest.MissingPeer(b, "ssh (Debian package openssh-client)")
	}
	f := &pathsFixture{ca: initBenchCA(b), login: currentLogin(b)}
	testCA := signer(b)

	hostKey := signer(b)
	f.target = sshdtest.Start(b, sshdtest.Options{
		Extra:             skipBashrc,
		TrustedUserCAKeys: []ssh.PublicKey{f.ca.publicKey("hop_ca"), testCA.PublicKey()},
		Principals:        map[string][]string{f.login: {benchRole + "@db-1", "proxyjump"}},
		HostKey:           hostKey,
		HostCertificate:   f.ca.hostCert(hostKey.PublicKey(), "db-1", "127.0.0.1"),
	})
	f.jump = sshdtest.Start(b, sshdtest.Options{
		Extra:             skipBashrc,
		TrustedUserCAKeys: []ssh.PublicKey{testCA.PublicKey()},
		Principals:        map[string][]string{f.login: {"proxyjump"}},
	})

	f.bastion = initBenchBastion(b, f.ca)
	f.ca.writePolicy(benchPolicy{users: freshUsers + 2, resources: map[string]string{"db-1": f.target.Addr}, login: f.login,
		bastionKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.bastion.identity.PublicKey()))), auditors: liveWatchers})
	f.ca.start()
	flags := []string{"--mfa_remember", "1h"}
	if f.profiles = os.Getenv("LOCKBOX_BENCH_PROFILES"); f.profiles != "" {
		f.pprofAddr = freeLoopbackAddr(b)
		flags = append(flags, "--pprof", f.pprofAddr)
	}
	f.bastion.start(b, f.ca, flags...)

	f.regular, f.caCalls, f.fresh = f.ca.users[0], f.ca.users[1], f.ca.users[2:]
	prepareUsers(b, []*benchUser{f.regular, f.caCalls}, "db-1", 2)
	f.regular.writeFiles(b)
	var err error
	f.asBastion, err = client.New(f.ca.url, &apiauth.Signer{Principal: "bastion:bastion-1", Key: f.bastion.identity}, nil)
	if err != nil {
		b.Fatal(err)
	}

	f.writeClientFiles(b, testCA)
	// The first login of the regular user answers TOTP; later ones are
	// remembered for an hour.
	if _, err := timeSSH(f.bastionCmd(f.regular, f.regular.code(), "true"), 0); err != nil {
		b.Fatalf("first login through the bastion: %v\nbastion log:\n%s", err, f.bastion.log.String())
	}
	f.checkAlgorithms(b)
	return f
}

// writeClientFiles writes the ProxyJump identity (a certificate from
// testCA that permits forwarding on the jump host), the known_hosts files
// and the two ssh_config files.
func (f *pathsFixture) writeClientFiles(b *testing.B, testCA ssh.Signer) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(priv.Public())
	cert := &ssh.Certificate{Key: pub, Serial: 1, CertType: ssh.UserCert, KeyId: "proxyjump", ValidPrincipals: []string{"proxyjump"},
		ValidAfter: uint64(time.Now().Add(-time.Minute).Unix()), ValidBefore: uint64(time.Now().Add(24 * time.Hour).Unix()),
		Permissions: ssh.Permissions{Extensions: map[string]string{"permit-pty": "", "permit-port-forwarding": ""}}}
	if err := cert.SignCert(rand.Reader, testCA); err != nil {
		b.Fatal(err)
	}
	id := sshdtest.WriteIdentity(b, priv, cert)

	dir := b.TempDir()
	var known []byte
	for _, s := range []*sshdtest.Server{f.target, f.jump} {
		data, err := os.ReadFile(s.KnownHostsFile)
		if err != nil {
			b.Fatal(err)
		}
		known = append(append(known, bytes.TrimSpace(data)...), '\n')
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownHosts, known, 0o644); err != nil {
		b.Fatal(err)
	}
	common := []string{"Host *",
		"  Ciphers " + benchCipher,
		"  KexAlgorithms " + benchKex,
		"  IdentitiesOnly yes",
		"  IdentityAgent none",
		"  GlobalKnownHostsFile /dev/null",
		"  StrictHostKeyChecking yes",
		"  UpdateHostKeys no",
		"  ControlMaster no",
		"  ControlPath none",
		"  RequestTTY no",
		"  ConnectTimeout 10",
		"  LogLevel ERROR",
	}
	f.jumpConfig = filepath.Join(dir, "proxyjump_config")
	jump := append(slices.Clone(common), "  User "+f.login, "  IdentityFile "+id.KeyFile, "  CertificateFile "+id.CertFile,
		"  UserKnownHostsFile "+knownHosts, "  BatchMode yes")
	f.bastionConfig = filepath.Join(dir, "bastion_config")
	bastion := append(slices.Clone(common), "  UserKnownHostsFile "+f.bastion.knownHosts, "  NumberOfPasswordPrompts 1",
		"  PreferredAuthentications publickey,keyboard-interactive")
	for path, lines := range map[string][]string{f.jumpConfig: jump, f.bastionConfig: bastion} {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	f.askpass = filepath.Join(dir, "askpass")
	if err := os.WriteFile(f.askpass, []byte("#!/bin/sh\nprintf '%s\\n' \"$LOCKBOX_BENCH_CODE\"\n"), 0o700); err != nil {
		b.Fatal(err)
	}
}

// forced are the command-line options both paths get: -c and
// KexAlgorithms apply to the destination, the config files to every hop.
var forced = []string{"-c", benchCipher, "-o", "KexAlgorithms=" + benchKex}

// bastionCmd is stock ssh through the bastion as u, answering a TOTP
// prompt with code.
func (f *pathsFixture) bastionCmd(u *benchUser, code, command string, opts ...string) *exec.Cmd {
	args := append([]string{"-F", f.bastionConfig}, forced...)
	args = append(args, "-i", u.keyFile, "-o", "CertificateFile="+u.certFile, "-p", f.bastion.port)
	args = append(append(args, opts...), "-l", "db-1", "127.0.0.1", "--", command)
	cmd := exec.Command("ssh", args...)
	cmd.Env = append(os.Environ(), "SSH_ASKPASS="+f.askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0", "SSH_AUTH_SOCK=",
		"LOCKBOX_BENCH_CODE="+code)
	return cmd
}

// proxyJumpCmd is stock ssh to the target with ProxyJump through the
// jump host.
func (f *pathsFixture) proxyJumpCmd(command string, opts ...string) *exec.Cmd {
	args := append([]string{"-F", f.jumpConfig}, forced...)
	args = append(args, "-J", fmt.Sprintf("%s@127.0.0.1:%d", f.login, f.jump.Port), "-p", fmt.Sprint(f.target.Port))
	args = append(append(args, opts...), "127.0.0.1", "--", command)
	cmd := exec.Command("ssh", args...)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	return cmd
}

// directCmd is stock ssh straight to the target: one hop, for scale.
func (f *pathsFixture) directCmd(command string) *exec.Cmd {
	args := append([]string{"-F", f.jumpConfig}, forced...)
	args = append(args, "-p", fmt.Sprint(f.target.Port), "127.0.0.1", "--", command)
	cmd := exec.Command("ssh", args...)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	return cmd
}

// checkAlgorithms runs each path once with -v and fails unless every hop
// the client negotiates used benchKex and benchCipher both ways. (The
// bastion's own hop to the target takes the first of its defaults that
// sshd supports: the same two.)
func (f *pathsFixture) checkAlgorithms(b *testing.B) {
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
		hops int
	}{
		{"bastion", f.bastionCmd(f.regular, "", "true", "-v"), 1},
		{"ProxyJump", f.proxyJumpCmd("true", "-v"), 2},
	} {
		var stderr bytes.Buffer
		tc.cmd.Stderr = &stderr
		if err := tc.cmd.Run(); err != nil {
			b.Fatalf("%s: %v\n%s", tc.name, err, stderr.String())
		}
		log := stderr.String()
		for _, want := range []string{"kex: algorithm: " + benchKex, "kex: server->client cipher: " + benchCipher,
			"kex: client->server cipher: " + benchCipher} {
			if n := strings.Count(log, want); n != tc.hops {
				b.Fatalf("%s: %q appears %d times, want %d (once per hop)\n%s", tc.name, want, n, tc.hops, log)
			}
		}
	}
}

// sshTiming is what timeSSH measured, from just before starting ssh.
type sshTiming struct {
	firstByte time.Duration // the first byte of the command's output
	allBytes  time.Duration // want bytes received
	exit      time.Duration // ssh exited
	n         int64         // bytes received
	rest      int64         // bytes received after the first read
}

// timeSSH runs cmd, reading its stdout, and times it. want > 0 is the
// number of bytes the command must print.
func timeSSH(cmd *exec.Cmd, want int64) (sshTiming, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return sshTiming{}, err
	}
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	var t sshTiming
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return t, err
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := out.Read(buf)
		if n > 0 {
			if t.n == 0 {
				t.firstByte = time.Since(start)
			} else {
				t.rest += int64(n)
			}
			t.n += int64(n)
			if want > 0 && t.n >= want && t.allBytes == 0 {
				t.allBytes = time.Since(start)
			}
		}
		if err != nil {
			break
		}
	}
	err = cmd.Wait()
	t.exit = time.Since(start)
	if err != nil {
		return t, fmt.Errorf("%v: %w\n%s", cmd.Args, err, stderr.String())
	}
	if want > 0 && t.n != want {
		return t, fmt.Errorf("%v: got %d bytes, want %d\n%s", cmd.Args, t.n, want, stderr.String())
	}
	return t, nil
}

// mibps is the rate from the first byte to the last.
func (t sshTiming) mibps() float64 {
	return float64(t.rest) / (1 << 20) / (t.allBytes - t.firstByte).Seconds()
}

// BenchmarkBastionVsProxyJump measures, per iteration, one run of each
// path in alternating order (the order flips every iteration).
func BenchmarkBastionVsProxyJump(b *testing.B) {
	f := newPathsFixture(b)
	b.Run("throughput=text", func(b *testing.B) { f.throughput(b, "text", textPayload) })
	b.Run("throughput=zeros", func(b *testing.B) { f.throughput(b, "zeros", zerosPayload) })
	random := randomPayload(b)
	b.Run("throughput=random", func(b *testing.B) { f.throughput(b, "random", random) })
	b.Run("connect", f.connect)
}

// throughput runs p through each path once per iteration, alternating,
// and reports the median rate of each and their ratio, and the CPU time
// each path spent per MiB (see pathCPU) and the ratio of those, ProxyJump
// over bastion: above 1 the bastion's path costs less.
func (f *pathsFixture) throughput(b *testing.B, name string, p benchPayload) {
	var viaBastion, viaJump []float64
	var bastionCPU, jumpCPU pathCPU
	mib := float64(p.size) / (1 << 20)
	target := f.target.PID()
	runs := []func() error{
		func() error {
			profiled := make(chan error, 1)
			if f.profiles != "" {
				go func() {
					profiled <- saveProfile(f.pprofAddr, "profile?seconds=1", filepath.Join(f.profiles, "cpu-"+name+".pb.gz"))
				}()
			} else {
				profiled <- nil
			}
			cmd := f.bastionCmd(f.regular, "", p.command)
			err := bastionCPU.measure(cmd, f.bastion.pid, false, target, mib, func() error {
				t, err := timeSSH(cmd, p.size)
				viaBastion = append(viaBastion, t.mibps())
				return err
			})
			if perr := <-profiled; err == nil {
				err = perr
			}
			return err
		},
		func() error {
			cmd := f.proxyJumpCmd(p.command)
			return jumpCPU.measure(cmd, f.jump.PID(), true, target, mib, func() error {
				t, err := timeSSH(cmd, p.size)
				viaJump = append(viaJump, t.mibps())
				return err
			})
		},
	}
	for i := 0; b.Loop(); i++ {
		for j := range runs {
			if err := runs[(i+j)%len(runs)](); err != nil {
				b.Fatalf("%v\nbastion log:\n%s", err, f.bastion.log.String())
			}
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(viaBastion), "bastion-MiB/s")
	b.ReportMetric(median(viaJump), "proxyjump-MiB/s")
	b.ReportMetric(median(viaBastion)/median(viaJump), "ratio")
	b.ReportMetric(bastionCPU.msPerMiB(bastionCPU.total()), "bastion-cpu-ms/MiB")
	b.ReportMetric(jumpCPU.msPerMiB(jumpCPU.total()), "proxyjump-cpu-ms/MiB")
	b.ReportMetric(float64(jumpCPU.total())/float64(bastionCPU.total()), "cpu-ratio")
	b.ReportMetric(bastionCPU.msPerMiB(bastionCPU.middle), "bastion-process-ms/MiB")
	b.ReportMetric(jumpCPU.msPerMiB(jumpCPU.middle), "jump-sshd-ms/MiB")
	b.ReportMetric(bastionCPU.msPerMiB(bastionCPU.client), "bastion-client-ms/MiB")
	b.ReportMetric(jumpCPU.msPerMiB(jumpCPU.client), "proxyjump-client-ms/MiB")
	b.ReportMetric(bastionCPU.msPerMiB(bastionCPU.target), "bastion-target-ms/MiB")
	b.ReportMetric(jumpCPU.msPerMiB(jumpCPU.target), "proxyjump-target-ms/MiB")
}

// connect times `echo ok` four ways: through the bastion with the second
// factor remembered (--mfa_remember) and with a TOTP code, with ProxyJump,
// and straight to the target. It also times the CA calls a bastion
// session makes, from this process, signed as the bastion.
func (f *pathsFixture) connect(b *testing.B) {
	const command, want = "echo ok", 3
	type series struct{ firstByte, exit []float64 }
	var remembered, withCode, jump, direct series
	var caStart, caHop, caEnd []float64
	add := func(s *series, t sshTiming) {
		s.firstByte = append(s.firstByte, ms(t.firstByte))
		s.exit = append(s.exit, ms(t.exit))
	}
	next := 0
	runs := []func() error{
		func() error {
			t, err := timeSSH(f.bastionCmd(f.regular, "", command), want)
			add(&remembered, t)
			return err
		},
		func() error {
			if next == len(f.fresh) {
				return fmt.Errorf("only %d users for TOTP logins; run fewer iterations", len(f.fresh))
			}
			u := f.fresh[next]
			next++
			prepareUsers(b, []*benchUser{u}, "db-1", 1)
			u.writeFiles(b)
			t, err := timeSSH(f.bastionCmd(u, u.code(), command), want)
			add(&withCode, t)
			return err
		},
		func() error {
			t, err := timeSSH(f.proxyJumpCmd(command), want)
			add(&jump, t)
			return err
		},
		func() error {
			t, err := timeSSH(f.directCmd(command), want)
			add(&direct, t)
			return err
		},
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		for j := range runs {
			if err := runs[(i+j)%len(runs)](); err != nil {
				b.Fatalf("%v\nbastion log:\n%s", err, f.bastion.log.String())
			}
		}
		start := time.Now()
		g, err := f.asBastion.StartSession(ctx, wire.SessionStart{RequestID: f.caCalls.request, Resource: "db-1",
			User: f.caCalls.name, ClientAddr: "127.0.0.1:1"})
		if err != nil {
			b.Fatal(err)
		}
		hop := time.Now()
		if _, err := f.asBastion.HopCertificate(ctx, f.caCalls.request, "db-1", string(ssh.MarshalAuthorizedKey(signer(b).PublicKey()))); err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		if err := f.asBastion.EndSession(ctx, g.SessionID, wire.SessionEnd{Reason: "benchmark"}); err != nil {
			b.Fatal(err)
		}
		caStart, caHop, caEnd = append(caStart, ms(hop.Sub(start))), append(caHop, ms(end.Sub(hop))), append(caEnd, ms(time.Since(end)))
	}
	b.ReportMetric(0, "ns/op")
	for _, m := range []struct {
		name string
		s    series
	}{{"bastion", remembered}, {"bastion-totp", withCode}, {"proxyjump", jump}, {"direct", direct}} {
		b.ReportMetric(median(m.s.firstByte), m.name+"-ms")
		b.ReportMetric(percentile(m.s.firstByte, 90), m.name+"-p90-ms")
		b.ReportMetric(median(m.s.exit), m.name+"-exit-ms")
	}
	b.ReportMetric(median(remembered.firstByte)/median(jump.firstByte), "ratio")
	b.ReportMetric(median(withCode.firstByte)/median(jump.firstByte), "totp-ratio")
	b.ReportMetric(median(remembered.exit)/median(jump.exit), "exit-ratio")
	b.ReportMetric(median(caStart), "ca-start-ms")
	b.ReportMetric(median(caHop), "ca-hop-ms")
	b.ReportMetric(median(caEnd), "ca-end-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 { return percentile(v, 50) }

// percentile is the nearest-rank percentile p of v.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
