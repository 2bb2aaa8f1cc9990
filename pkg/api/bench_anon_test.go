package api_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/api"
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
//
// The penalty=on sub-benchmarks send the same flood from 127.0.0.2 to a
// CA penalising as ca serve does by default: after its first 100 calls
// the flood's connections are closed at accept, and a call costs what
// that costs (the flood reconnects at its next call).
//
// The net/http sub-benchmarks are the yardstick: the same flood against a
// bare net/http server on the same listener whose handler only answers
// 401 with a short body, what any Go HTTP server costs per call.
func BenchmarkAnonymousCall(b *testing.B) {
	ca := func(b *testing.B, penalties bool) string {
		st, err := sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "lockbox.db"), sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		var edit func(*api.Config)
		if penalties {
			table := servePenalties(b)
			edit = func(c *api.Config) { c.Penalties = table }
		}
		return newServerOn(b, st, edit).url
	}
	b.Run("keepalive", func(b *testing.B) { benchAnonymous(b, ca(b, false), true, "-") })
	b.Run("new-connections", func(b *testing.B) { benchAnonymous(b, ca(b, false), false, "-") })
	b.Run("keepalive-penalty=on", func(b *testing.B) { benchAnonymous(b, ca(b, true), true, floodSource) })
	b.Run("new-connections-penalty=on", func(b *testing.B) { benchAnonymous(b, ca(b, true), false, floodSource) })
	b.Run("net-http-keepalive", func(b *testing.B) { benchAnonymous(b, bareServer(b), true, "-") })
	b.Run("net-http-new-connections", func(b *testing.B) { benchAnonymous(b, bareServer(b), false, "-") })
}

// bareServer serves a handler that answers every call 401 with a short
// JSON body, on the CA's listener, and returns its URL.
func bareServer(b *testing.B) string {
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthenticated"}}` + "\n")) //nolint:errcheck // the client went away
	}))
	hs.Listener.Close()
	var err error
	if hs.Listener, err = api.Listen(ctx, "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	hs.Start()
	b.Cleanup(hs.Close)
	return hs.URL
}

// benchAnonymous floods url from the address from ("-": any); from
// floodSource, the calls may be refused at accept as well as answered
// 401.
func benchAnonymous(b *testing.B, url string, reuse bool, from string) {
	calls := max(b.N/8, 1) * 8 // 8 clients, as many calls each
	spread := time.Duration(calls) * time.Millisecond
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), floodEnv+"="+strings.Join([]string{url + "/v1/whoami",
		strconv.Itoa(calls), "8", spread.String(), strconv.FormatBool(reuse), from}, " "))
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
	r, err := parseFloodResult(out.String())
	if err != nil || r.Attempts == 0 || r.Other != 0 || (from == "-" && r.Refused != r.Attempts) {
		b.Fatalf("flood process said %q (%v); want every call answered 401 (or, from %s, closed at accept)", out.String(), err, floodSource)
	}
	n := r.Attempts
	flood := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(float64(ca.Microseconds())/float64(n), "ca-cpu-us/call")
	b.ReportMetric(float64(flood.Microseconds())/float64(n), "flood-cpu-us/call")
	b.ReportMetric(float64(n), "anon-calls")
	b.ReportMetric(float64(r.Closed), "anon-closed")
}
