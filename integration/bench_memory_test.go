package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/proccpu"
)

// idleSessions is how many sessions BenchmarkBastionIdleSessionMemory holds
// open, each for a different user (one session per user).
const idleSessions = 1000

// BenchmarkBastionIdleSessionMemory measures the bastion's resident memory
// per idle interactive session: 1,000 users each hold a shell with a pty
// open through the bastion (recording on) to an in-process target and
// send nothing. VmRSS of the `bastion serve` process is read once the
// bastion has served a few sessions and has none open, at 500 sessions,
// and at 1,000, each time after it stopped falling; then the bastion's CPU
// time per second over 20 s with every session open (idle-cpu-ms/s: the
// heartbeats, live reports and collections of 1,000 idle sessions). It
// runs once whatever b.N is.
//
// With LOCKBOX_BENCH_PROFILES=DIR set, the bastion serves its profiles and
// the benchmark saves its heap and goroutine profiles with every session
// open into DIR (heap.pb.gz, goroutine.txt, and heap.txt, which ends with
// runtime.MemStats), for `go tool pprof`, and the heap profiles again at
// the end of the idle CPU window (heap-idle.pb.gz, heap-idle.txt; `go tool
// pprof -sample_index alloc_space -base heap.pb.gz heap-idle.pb.gz` shows
// what idle sessions allocate).
func BenchmarkBastionIdleSessionMemory(b *testing.B) {
	const warmup = 10
	c := initBenchCA(b)
	host := signer(b)
	hostCert, err := ssh.NewCertSigner(c.hostCert(host.PublicKey(), "mem-1", "127.0.0.1"), host)
	if err != nil {
		b.Fatal(err)
	}
	target := startGoTarget(b, c.publicKey("hop_ca"), hostCert)
	bst := initBenchBastion(b, c)
	profiles := os.Getenv("LOCKBOX_BENCH_PROFILES")
	var pprofAddr string
	var flags []string
	if profiles != "" {
		pprofAddr = freeLoopbackAddr(b)
		flags = append(flags, "--pprof", pprofAddr)
	}
	c.writePolicy(benchPolicy{users: idleSessions + warmup, resources: map[string]string{"mem-1": target.addr}, login: "bench",
		bastionKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(bst.identity.PublicKey())))})
	c.start()
	bst.start(b, c, flags...)
	prepareUsers(b, c.users, "mem-1", 8)
	hostCA := c.publicKey("host_ca")

	open := func(users []*benchUser) []*ssh.Client {
		clients, err := openIdleSessions(bst.addr, hostCA, users, 16)
		if err != nil {
			b.Fatalf("%v\nbastion log:\n%s", err, bst.log.String())
		}
		return clients
	}
	warm := open(c.users[:warmup])
	for _, cl := range warm {
		cl.Close()
	}
	waitUntil(b, time.Minute, "the warm-up sessions to end", func() bool {
		return target.shells.Load() == 0 && spoolEmpty(b, bst.dir)
	})
	base := settledRSS(b, bst.pid)

	users := c.users[warmup:]
	half := open(users[:idleSessions/2])
	waitUntil(b, time.Minute, "half the shells", func() bool { return target.shells.Load() == idleSessions/2 })
	mid := settledRSS(b, bst.pid)
	rest := open(users[idleSessions/2:])
	waitUntil(b, time.Minute, "every shell", func() bool { return target.shells.Load() == idleSessions })
	full := settledRSS(b, bst.pid)
	if profiles != "" {
		for query, file := range map[string]string{"heap": "heap.pb.gz", "goroutine?debug=1": "goroutine.txt", "heap?debug=1": "heap.txt"} {
			if err := saveProfile(pprofAddr, query, filepath.Join(profiles, file)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if profiles != "" {
		reportProfileFigures(b, profiles, idleSessions)
	}
	idleCPU := cpuRate(b, bst.pid, idleCPUWindow)
	if profiles != "" {
		// again at the end of the idle window: the difference in
		// runtime.MemStats is what 1,000 idle sessions allocate and
		// how often they are collected
		for query, file := range map[string]string{"heap": "heap-idle.pb.gz", "heap?debug=1": "heap-idle.txt"} {
			if err := saveProfile(pprofAddr, query, filepath.Join(profiles, file)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(base)/1024, "base-MiB")
	b.ReportMetric(float64(full)/1024, "rss-full-MiB")
	b.ReportMetric(float64(full-base)/idleSessions, "KiB/session")
	b.ReportMetric(float64(full-mid)/(idleSessions-idleSessions/2), "marginal-KiB/session")
	b.ReportMetric(idleCPU, "idle-cpu-ms/s")

	for _, cl := range append(half, rest...) {
		cl.Close()
	}
}

// reportProfileFigures reports, from the profiles saved in dir, the parts
// of an idle session's memory that do not move from run to run: its
// goroutines and their stacks (runtime.MemStats' StackInuse, all
// goroutines over sessions). It fails if a session is still relayed
// under the frames that opened it (which keep its stack at 8 KiB).
func reportProfileFigures(b *testing.B, dir string, sessions int) {
	b.Helper()
	goroutines, err := os.ReadFile(filepath.Join(dir, "goroutine.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var total int
	if _, err := fmt.Sscanf(string(goroutines), "goroutine profile: total %d", &total); err != nil {
		b.Fatalf("goroutine.txt: %v", err)
	}
	if strings.Contains(string(goroutines), "bastion.(*session).begin") {
		b.Errorf("an idle session is relayed under the frames that opened it:\n%s", goroutines)
	}
	heap, err := os.ReadFile(filepath.Join(dir, "heap.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var stack int64
	for line := range strings.Lines(string(heap)) {
		if v, ok := strings.CutPrefix(line, "# Stack = "); ok {
			if _, err := fmt.Sscanf(v, "%d", &stack); err != nil {
				b.Fatalf("heap.txt: %q: %v", line, err)
			}
		}
	}
	b.ReportMetric(float64(total)/float64(sessions), "goroutines/session")
	b.ReportMetric(float64(stack)/1024/float64(sessions), "stack-KiB/session")
}

// idleCPUWindow is how long the idle bastion's CPU time is measured with
// every session open (heartbeats, live reports, garbage collection).
const idleCPUWindow = 20 * time.Second

// cpuRate is the CPU time pid spends per second of wall time over window,
// in milliseconds.
func cpuRate(tb testing.TB, pid int, window time.Duration) float64 {
	tb.Helper()
	before, _, err := proccpu.Read(pid)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	time.Sleep(window) // the measurement's window, not synchronisation
	after, _, err := proccpu.Read(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return float64((after - before).Milliseconds()) / time.Since(start).Seconds()
}

// freeLoopbackAddr returns a loopback address with a port that was free
// a moment ago.
func freeLoopbackAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// saveProfile saves the bastion's profile named by query (served with
// --pprof at addr) into path.
func saveProfile(addr, query, path string) error {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + query)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", query, resp.Status)
	}
	return os.WriteFile(path, data, 0o644)
}

// openIdleSessions logs each user in to the bastion at addr (certificate,
// then TOTP), opens a shell with a pty and waits for the target's
// prompt, workers at a time. The sessions stay open, idle, until the
// returned clients are closed.
func openIdleSessions(addr string, hostCA ssh.PublicKey, users []*benchUser, workers int) ([]*ssh.Client, error) {
	checker := &ssh.CertChecker{IsHostAuthority: func(auth ssh.PublicKey, _ string) bool {
		return bytes.Equal(auth.Marshal(), hostCA.Marshal())
	}}
	var mu sync.Mutex
	var clients []*ssh.Client
	var errs []error
	jobs := make(chan *benchUser)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				cl, err := openIdleSession(addr, checker, u)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					clients = append(clients, cl)
				}
				mu.Unlock()
			}
		}()
	}
	for _, u := range users {
		jobs <- u
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, cl := range clients {
			cl.Close()
		}
		return nil, err
	}
	return clients, nil
}

func openIdleSession(addr string, checker *ssh.CertChecker, u *benchUser) (*ssh.Client, error) {
	code := u.code()
	cfg := &ssh.ClientConfig{
		Config: ssh.Config{Ciphers: []string{benchCipher}, KeyExchanges: []string{benchKex}},
		User:   "mem-1",
		Auth: []ssh.AuthMethod{ssh.PublicKeys(u.grant), ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = code
			}
			return answers, nil
		})},
		HostKeyCallback: checker.CheckHostKey,
		Timeout:         30 * time.Second,
	}
	cl, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: logging in: %w", u.name, err)
	}
	fail := func(what string, err error) (*ssh.Client, error) {
		cl.Close()
		return nil, fmt.Errorf("%s: %s: %w", u.name, what, err)
	}
	// The pty request goes without asking for a reply: the bastion holds
	// that reply until the shell request, so a client that waits for it
	// first (as ssh.Session.RequestPty does) waits for the bastion's 30 s
	// setup timeout. OpenSSH does not wait.
	ch, reqs, err := cl.OpenChannel("session", nil)
	if err != nil {
		return fail("opening a session", err)
	}
	go ssh.DiscardRequests(reqs)
	if _, err := ch.SendRequest("pty-req", false, ssh.Marshal(ptyRequest{Term: "xterm", Columns: 80, Rows: 24})); err != nil {
		return fail("pty", err)
	}
	if ok, err := ch.SendRequest("shell", true, nil); err != nil || !ok {
		return fail("shell", fmt.Errorf("accepted %v, %v", ok, err))
	}
	prompt := make([]byte, len("bench$ "))
	if _, err := io.ReadFull(ch, prompt); err != nil || string(prompt) != "bench$ " {
		stderr, _ := io.ReadAll(io.LimitReader(ch.Stderr(), 1<<10))
		return fail("reading the prompt", fmt.Errorf("%q, %v; stderr %q", prompt, err, stderr))
	}
	out := ch
	go io.Copy(io.Discard, out) //nolint:errcheck // until the session ends
	return cl, nil
}

// ptyRequest is the payload of "pty-req" (RFC 4254, section 6.2).
type ptyRequest struct {
	Term                         string
	Columns, Rows, Width, Height uint32
	Modes                        string
}

// spoolEmpty reports whether the bastion has uploaded every recording.
func spoolEmpty(tb testing.TB, bastionDir string) bool {
	entries, err := os.ReadDir(bastionDir + "/spool")
	if err != nil {
		tb.Fatal(err)
	}
	return len(entries) == 0
}

// settledRSS returns the VmRSS of pid in KiB once it has not fallen for
// five seconds (garbage collection and the scavenger returning pages),
// or after a minute.
func settledRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	low, lowAt := vmRSS(tb, pid), time.Now()
	for time.Since(lowAt) < 5*time.Second && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond) // sampling interval, not synchronisation
		if r := vmRSS(tb, pid); r < low {
			low, lowAt = r, time.Now()
		}
	}
	return low
}

// vmRSS reads VmRSS (KiB) from /proc/PID/status.
func vmRSS(tb testing.TB, pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// waitUntil polls cond until it holds, failing after within.
func waitUntil(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
