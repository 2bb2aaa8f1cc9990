package api_test

import (
	"database/sql"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/proccpu"

	"golang.org/x/crypto/ssh"

	dto "github.com/prometheus/client_model/go"

	"github.com/lockbox-ssh/lockbox/internal/gcpace"
	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/penalty"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// BenchmarkIssueCertificate measures certificate issuance through the API
// (HTTP, signature check, nonce, policy, store, audit, signing) from 16
// concurrent clients, with every issuance durably committed before its
// answer: SQLite in WAL mode with synchronous=FULL, and MySQL with its
// defaults (innodb_flush_log_at_trx_commit=1).
func BenchmarkIssueCertificate(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		st, err := sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "lockbox.db"), sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchIssue(b, st, nil)
	})
	b.Run("mysql", func(b *testing.B) {
		dsn := storetest.MySQLDSN(b)
		st, err := sqlstore.OpenMySQL(dsn, sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchIssue(b, st, mysqlServerCPU(b, dsn))
	})
}

// benchIssue is benchIssueOn on a server over st. serverCPU, if not nil,
// reads the database server's CPU time, so that cpu-us/cert counts it too.
func benchIssue(b *testing.B, st store.Store, serverCPU func() time.Duration) {
	// The collector paced as ca serve paces it (GOGC set replaces it,
	// there as here). The clients share this process, so its pacing.
	if os.Getenv("GOGC") == "" {
		defer gcpace.Start(gcpace.CAFraction, gcpace.CAFloor).Stop()
	}
	c0, d0 := processCPU(b), time.Duration(0)
	if serverCPU != nil {
		d0 = serverCPU()
	}
	n0, t0 := storeBatches(b)
	io0, ioOK := processIO()
	benchIssueOn(b, newServerOn(b, st))
	c1 := processCPU(b)
	if io1, ok := processIO(); ioOK && ok {
		// Read and write system calls (files and sockets: the store's
		// pages and fsyncs, and the HTTP calls) and bytes written.
		for i, k := range []string{"syscr", "syscw", "wbytes"} {
			b.ReportMetric(float64(io1[i]-io0[i])/float64(b.N), k+"/cert")
		}
	}
	if n1, t1 := storeBatches(b); t1 > t0 {
		// Changes per write transaction: group commit's batch, which sets
		// how many commits (and fsyncs) a certificate shares.
		b.ReportMetric((n1-n0)/float64(t1-t0), "changes/commit")
	}
	// The metrics include the setup (one request, 64 keys), a few
	// milliseconds: negligible beside thousands of certificates.
	b.ReportMetric(float64((c1-c0).Microseconds())/float64(b.N), "cpu-us/cert")
	if serverCPU != nil {
		db := serverCPU() - d0
		b.ReportMetric(float64(db.Microseconds())/float64(b.N), "db-cpu-us/cert")
		b.ReportMetric(float64((c1-c0+db).Microseconds())/float64(b.N), "all-cpu-us/cert")
	}
}

// storeBatches reads the store's batch-size histogram (metrics
// StoreBatch): the changes written and the write transactions.
func storeBatches(b *testing.B) (changes float64, commits uint64) {
	var m dto.Metric
	if err := metrics.StoreBatch.Write(&m); err != nil {
		b.Fatal(err)
	}
	return m.GetHistogram().GetSampleSum(), m.GetHistogram().GetSampleCount()
}

// mysqlServerCPU returns a function reading the CPU time (user and system)
// of the MySQL server behind dsn from /proc, or nil (the figure is left
// out) when the server's process cannot be read: another machine, or
// another user's.
func mysqlServerCPU(b *testing.B, dsn string) func() time.Duration {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var pidFile string
	if err := db.QueryRow("SELECT @@pid_file").Scan(&pidFile); err != nil {
		b.Logf("database server's CPU left out: %v", err)
		return nil
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		b.Logf("database server's CPU left out: %v", err)
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		b.Logf("database server's CPU left out: %s: %v", pidFile, err)
		return nil
	}
	read := func() (time.Duration, error) {
		self, _, err := proccpu.Read(pid)
		return self, err
	}
	if _, err := read(); err != nil {
		b.Logf("database server's CPU left out: %v", err)
		return nil
	}
	return func() time.Duration {
		d, err := read()
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
}

// benchIssueOn is benchIssue on the server s.
func benchIssueOn(b *testing.B, s *server) {
	req, err := s.client(b, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = string(ssh.MarshalAuthorizedKey(newSigner(b).PublicKey()))
	}
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(8) // 8 x GOMAXPROCS(2) = 16 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		cl := s.client(b, "user:alice")
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			t0 := time.Now()
			if _, err := cl.Certificate(ctx, req.ID, keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "certs/s")
}

// BenchmarkOpenSSHKeygenSign is the yardstick: OpenSSH's ssh-keygen -s
// signing the same number of keys with an Ed25519 CA, 500 keys per
// invocation, two invocations at a time (one per core).
func BenchmarkOpenSSHKeygenSign(b *testing.B) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		storetest.MissingPeer(b, "ssh-keygen (Debian package openssh-client)")
	}
	dir := b.TempDir()
	ca := filepath.Join(dir, "ca")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", ca).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	var chunks [][]string
	for i := 0; i < b.N; i++ {
		if i%500 == 0 {
			chunks = append(chunks, nil)
		}
		p := filepath.Join(dir, fmt.Sprintf("k%d.pub", i))
		if err := os.WriteFile(p, ssh.MarshalAuthorizedKey(newSigner(b).PublicKey()), 0o644); err != nil {
			b.Fatal(err)
		}
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], p)
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	work := make(chan []string)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for files := range work {
				args := append([]string{"-q", "-s", ca, "-I", "alice/req", "-n", "health@db-1", "-V", "+1h"}, files...)
				if out, err := exec.Command(keygen, args...).CombinedOutput(); err != nil {
					b.Errorf("%v: %s", err, out)
				}
			}
		}()
	}
	for _, c := range chunks {
		work <- c
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}

// BenchmarkIssueBesideAnonymousFlood measures certificate issuance (as
// BenchmarkIssueCertificate, SQLite, 16 clients) quiet and with 10,000
// anonymous calls beside it (unsigned GET /v1/whoami, as curl sends them,
// from 8 clients, spread evenly over the phase at the pace the quiet phase
// before it ran), b.N certificates a phase, three rounds of quiet then
// flood in the same run. The flood comes from another process
// (floodProcess) and another source, 127.0.0.2, than the issuance
// clients, which call from 127.0.0.1 as a bastion would: exempt from
// penalties, as ca serve exempts loopback and the policy's bastions by
// default. Its clients reuse their connections (keepalive) or open one
// per call, as curl does (new-connections); the CA penalises the flood's
// source as ca serve does by default (penalty=on: pkg/penalty's defaults,
// a budget of 100 refusals a minute, then its new connections closed at
// accept for 30s) or not at all (penalty=off), for comparison in the same
// run.
//
// It reports both rates and their ratio; the flood's attempts, those
// answered 401 (anon-401) and those whose connection was closed before an
// answer (anon-closed: refused at accept), which must add up to the
// attempts, with nothing else answered; the audit rows the flood added
// once flushed (one per source per flush, at most one a round); and, as a
// figure other work on the machine does not move, the CPU time the flood
// cost per attempt (the flood process's and the CA's extra, and each
// alone: flooder-cpu-us/call, ca-cpu-us/call) and the ratio that leaves
// issuance if it is bound by CPU (cpu-ratio; ca-cpu-ratio counting only
// the CA's extra, as if the flood ran on the attacker's machines, as it
// would). Run it with -benchtime=10000x.
//
// With penalties on, it runs each flood twice: with every process free to
// use both CPUs, and with the flood process on a CPU of its own
// (flood-cpu=own: the CA and the issuance clients on CPU 0, the flood on
// CPU 1, in both phases), as an attacker's clients would be on machines of
// their own. Loopback's kernel work is charged to the CPU that sends, so
// in that variant the kernel's work on the flood's packets to the CA
// (their receipt, the handshakes the listener completes) runs on the
// flood's CPU, where on a real network it would be the CA's.
func BenchmarkIssueBesideAnonymousFlood(b *testing.B) {
	for _, conns := range []struct {
		name  string
		reuse bool
	}{{"keepalive", true}, {"new-connections", false}} {
		for _, penalties := range []bool{false, true} {
			name := conns.name + "/penalty=off"
			if penalties {
				name = conns.name + "/penalty=on"
			}
			b.Run(name, func(b *testing.B) { benchFlood(b, conns.reuse, penalties, false) })
			if penalties {
				b.Run(name+"/flood-cpu=own", func(b *testing.B) { benchFlood(b, conns.reuse, penalties, true) })
			}
		}
	}
}

// floodSource is the address the flood comes from: on Linux all of
// 127/8 reaches the server's 127.0.0.1, from a source loopback's
// exemption does not cover.
const floodSource = "127.0.0.2"

// servePenalties is the penalty table ca serve keeps by default: the
// package's defaults, loopback exempt.
func servePenalties(b *testing.B) *penalty.Table {
	t, err := penalty.New(penalty.Config{Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}})
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// floodOwnCPU is the CPU the flood process runs on when it has one of its
// own; the CA then runs on CPU 0.
const floodOwnCPU = 1

func benchFlood(b *testing.B, reuse, penalties, ownCPU bool) {
	const floodCalls, floodClients, rounds = 10000, 8, 3
	st, err := sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var edit func(*api.Config)
	if penalties {
		table := servePenalties(b)
		edit = func(c *api.Config) { c.Penalties = table }
	}
	s := newServerOn(b, st, edit)
	req, err := s.client(b, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = string(ssh.MarshalAuthorizedKey(newSigner(b).PublicKey()))
	}
	issue := func(n int) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := s.client(b, "user:alice")
				for i := next.Add(1); i <= int64(n); i = next.Add(1) {
					if _, err := cl.Certificate(ctx, req.ID, keys[i%int64(len(keys))]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(t0)
	}
	// flood attempts floodCalls anonymous calls spread over about d from
	// another process (as an attacker's would be: its allocations and
	// garbage collection are not the CA's) and source, until stop closes.
	var total floodResult
	var floodCPU atomic.Int64 // the flood processes' CPU time, ns
	flood := func(d time.Duration, stop chan struct{}) *sync.WaitGroup {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), floodEnv+"="+strings.Join([]string{s.url + "/v1/whoami",
			strconv.Itoa(floodCalls), strconv.Itoa(floodClients), d.String(), strconv.FormatBool(reuse), floodSource}, " "))
		if ownCPU {
			cmd.Env = append(cmd.Env, floodCPUEnv+"="+strconv.Itoa(floodOwnCPU))
		}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-stop
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				b.Errorf("flood process: %v", err)
			}
			r, err := parseFloodResult(out.String())
			if err != nil {
				b.Error(err)
			}
			if r.Refused+r.Closed != r.Attempts || r.Other != 0 {
				b.Errorf("of %d anonymous calls, %d were answered 401 and %d closed before an answer, %d otherwise; want each answered 401 or closed",
					r.Attempts, r.Refused, r.Closed, r.Other)
			}
			if !penalties && r.Closed != 0 {
				b.Errorf("without penalties, %d of %d anonymous calls were closed before an answer", r.Closed, r.Attempts)
			}
			total.Attempts += r.Attempts
			total.Refused += r.Refused
			total.Closed += r.Closed
			floodCPU.Add(int64(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()))
		}()
		return &wg
	}

	if ownCPU {
		restore, err := pinProcess(0)
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			if err := restore(); err != nil {
				b.Error(err)
			}
		}()
	}
	b.ResetTimer()
	var quiet, flooded, quietCPU, floodedCPU time.Duration
	rows := 0
	for range rounds {
		c0 := processCPU(b)
		d := issue(b.N)
		c1 := processCPU(b)
		quiet += d
		quietCPU += c1 - c0
		head := s.auditHead(b)
		stop := make(chan struct{})
		wg := flood(d, stop)
		c2 := processCPU(b)
		flooded += issue(b.N)
		floodedCPU += processCPU(b) - c2
		close(stop)
		wg.Wait()
		if _, err := s.wf.FlushAnonymousRefusals(ctx, nil); err != nil {
			b.Fatal(err)
		}
		for _, r := range s.auditSince(b, head) {
			if r.Action != "usercert.issued" {
				rows++
			}
		}
	}
	b.StopTimer()
	// One source, one flush a round: at most one anonymous.refused row a
	// round, whatever the number of calls or penalties.
	if rows > rounds {
		b.Errorf("the flood added %d audit rows in %d rounds; want at most one a round", rows, rounds)
	}
	// Past its budget (and the calls its clients had in flight), the
	// flood's source is penalised and its new connections closed.
	if penalties && total.Refused > penalty.DefaultBudget+floodClients && total.Closed == 0 {
		b.Errorf("with penalties on, %d of the flood's calls were answered 401 and none closed at accept", total.Refused)
	}
	q, f := float64(rounds*b.N)/quiet.Seconds(), float64(rounds*b.N)/flooded.Seconds()
	b.ReportMetric(q, "quiet-certs/s")
	b.ReportMetric(f, "flood-certs/s")
	b.ReportMetric(f/q, "ratio")
	b.ReportMetric(float64(total.Attempts), "anon-attempts")
	b.ReportMetric(float64(total.Refused), "anon-401")
	b.ReportMetric(float64(total.Closed), "anon-closed")
	b.ReportMetric(float64(rows), "flood-audit-rows")
	// What the flood cost in CPU time, whatever else the machine ran: the
	// CA's (and issuance clients') extra CPU in the flooded phases plus the
	// flood processes', per anonymous call attempted; and the ratio
	// issuance would get if it were bound by CPU alone.
	extra := floodedCPU - quietCPU + time.Duration(floodCPU.Load())
	if n := total.Attempts; n > 0 {
		b.ReportMetric(float64(extra.Microseconds())/float64(n), "flood-cpu-us/call")
		// The same, split: the CA's side (with the issuance clients'
		// extra, and the kernel's work on this process's behalf) and the
		// flood process's.
		b.ReportMetric(float64((floodedCPU-quietCPU).Microseconds())/float64(n), "ca-cpu-us/call")
		b.ReportMetric(float64(time.Duration(floodCPU.Load()).Microseconds())/float64(n), "flooder-cpu-us/call")
	}
	b.ReportMetric(float64(quietCPU)/float64(quietCPU+extra), "cpu-ratio")
	// And the ratio if the flood's clients ran on the attacker's machines,
	// as they would: only the CA's extra CPU counted.
	b.ReportMetric(float64(quietCPU)/float64(floodedCPU), "ca-cpu-ratio")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processIO reads this process's read and write system calls and bytes
// written (syscr, syscw and wchar of /proc/self/io); ok is false where
// there is no such file.
func processIO() (v [3]int64, ok bool) {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return v, false
	}
	want := map[string]int{"syscr:": 0, "syscw:": 1, "wchar:": 2}
	found := 0
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		i, named := want[f[0]]
		n, err := strconv.ParseInt(f[1], 10, 64)
		if !named || err != nil {
			continue
		}
		v[i] = n
		found++
	}
	return v, found == len(want)
}
