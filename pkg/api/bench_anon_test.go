package api_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// BenchmarkAnonymousCall is what one anonymous call costs in CPU time,
// without issuance beside it: b.N unsigned GET /v1/whoami from a flood
// process (floodProcess, 8 clients; b.N rounded down to a multiple of 8) at 1,000 calls a second, the pace of
// BenchmarkIssueBesideAnonymousFlood's flood, on reused connections
// (keepalive) or one per call (new-connections). It reports the CA
// process's CPU per call (ca-cpu-us/call: the server's and the kernel's
// work on its side) and the flood process's (flood-cpu-us/call); neither
// moves much with other work on the machine. A -cpuprofile of it is a
// profile of the CA answering the flood and nothing else.
func BenchmarkAnonymousCall(b *testing.B) {
	b.Run("keepalive", func(b *testing.B) { benchAnonymous(b, true) })
	b.Run("new-connections", func(b *testing.B) { benchAnonymous(b, false) })
}

func benchAnonymous(b *testing.B, reuse bool) {
	st, err := sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := newServerOn(b, st)
	calls := max(b.N/8, 1) * 8 // 8 clients, as many calls each
	spread := time.Duration(calls) * time.Millisecond
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), floodEnv+"="+strings.Join([]string{s.url + "/v1/whoami",
		strconv.Itoa(calls), "8", spread.String(), strconv.FormatBool(reuse)}, " "))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	// The flood process stops when its standard input ends: keep it open
	// until the process is done.
	if _, err := cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := processCPU(b)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("flood process: %v", err)
	}
	ca := processCPU(b) - c0
	b.StopTimer()
	var n, refused int64
	if _, err := fmt.Sscan(out.String(), &n, &refused); err != nil || n == 0 || refused != n {
		b.Fatalf("flood process said %q; want every call answered 401", out.String())
	}
	flood := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(float64(ca.Microseconds())/float64(n), "ca-cpu-us/call")
	b.ReportMetric(float64(flood.Microseconds())/float64(n), "flood-cpu-us/call")
	b.ReportMetric(float64(n), "anon-calls")
}
