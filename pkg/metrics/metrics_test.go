package metrics

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestInstrumentAPICountsRouteAndCodeAndTimesTheCall(t *testing.T) {
	h := InstrumentAPI(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok") // an implicit 200
	}), func(r *http.Request) string {
		if r.URL.Path == "/missing" {
			return ""
		}
		return "GET /v1/x/{id}"
	})
	before := testutil.ToFloat64(APIRequests.WithLabelValues("GET /v1/x/{id}", "200"))
	missing := testutil.ToFloat64(APIRequests.WithLabelValues("unmatched", "404"))
	for _, p := range []string{"/v1/x/1", "/v1/x/2", "/missing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	if got := testutil.ToFloat64(APIRequests.WithLabelValues("GET /v1/x/{id}", "200")) - before; got != 2 {
		t.Errorf("route counted %v times, want 2", got)
	}
	if got := testutil.ToFloat64(APIRequests.WithLabelValues("unmatched", "404")) - missing; got != 1 {
		t.Errorf("an unmatched call counted %v times under \"unmatched\", want 1", got)
	}
	if n := testutil.CollectAndCount(APIDuration); n == 0 {
		t.Error("no latency observed")
	}
}

func TestStatusWriterKeepsTheFirstCodeAndUnwraps(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &statusWriter{ResponseWriter: rec, status: http.StatusOK}
	w.WriteHeader(http.StatusCreated)
	w.WriteHeader(http.StatusTeapot) // ignored, as net/http does
	if w.status != http.StatusCreated || w.Unwrap() != rec {
		t.Fatalf("status %d, unwrap %v", w.status, w.Unwrap())
	}
}

func TestListenServesTheRegistryOnlyAtGETMetrics(t *testing.T) {
	s, err := Listen("127.0.0.1:0", Bastion, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	SessionsLive.Set(0)
	url := "http://" + s.Addr().String()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "lockbox_bastion_sessions_live 0") || strings.Contains(string(body), "lockbox_api_requests_total") {
		t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	for _, c := range []struct{ method, path string }{{"POST", "/metrics"}, {"GET", "/"}, {"GET", "/debug/pprof/"}} {
		req, _ := http.NewRequest(c.method, url+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s %s: %d, want a refusal", c.method, c.path, resp.StatusCode)
		}
	}
}

func TestCheckpointAgeIsExportedOnlyOnceThereIsOne(t *testing.T) {
	var at time.Time
	c := checkpointCollector{newest: func() (time.Time, bool) { return at, !at.IsZero() }, now: func() time.Time { return time.Unix(1000, 0) }}
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Fatalf("%d samples before any checkpoint", n)
	}
	at = time.Unix(940, 0)
	if got := testutil.ToFloat64(c); got != 60 {
		t.Fatalf("age %v, want 60", got)
	}
}

func TestOutboxCountsAreExportedWhenTheStoreAnswers(t *testing.T) {
	queued, dead, ok := 3, 1, true
	c := outboxCollector{func() (int, int, bool) { return queued, dead, ok }}
	want := `
# HELP lockbox_notifications_dead Notifications in the outbox given up as dead (kept for operators: lockbox notifications --dead).
# TYPE lockbox_notifications_dead gauge
lockbox_notifications_dead 1
# HELP lockbox_notifications_queued Notifications in the outbox waiting for delivery (every replica's: the outbox is shared).
# TYPE lockbox_notifications_queued gauge
lockbox_notifications_queued 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	ok = false
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Fatalf("%d samples while the store does not answer", n)
	}
}

// BenchmarkInstrumentation is what the metrics add to one issuance: the
// API wrapper (route, status, latency), two store transactions, the
// issuance count. Compare with the issuance itself, about 400µs of CPU
// (docs/benchmarks.md).
func BenchmarkInstrumentation(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	route := func(*http.Request) string { return "POST /v1/requests/{id}/certificate" }
	r := httptest.NewRequest("POST", "/v1/requests/req-x/certificate", nil)
	w := httptest.NewRecorder()
	b.Run("bare", func(b *testing.B) {
		for b.Loop() {
			noop.ServeHTTP(w, r)
		}
	})
	h := InstrumentAPI(noop, route)
	write, read := StoreTx.WithLabelValues("write"), StoreTx.WithLabelValues("read")
	b.Run("instrumented", func(b *testing.B) {
		for b.Loop() {
			h.ServeHTTP(w, r)
			write.Observe(0.001)
			read.Observe(0.0005)
			StoreBatch.Observe(8)
			Issued.WithLabelValues("user").Inc()
		}
	})
}
