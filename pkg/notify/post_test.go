package notify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPostClassifiesEveryAnswer(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		wantClass  Class
		wantReason error
		wantWait   time.Duration
	}{
		{200, "", 0, nil, 0},
		{202, "", 0, nil, 0},
		{204, "", 0, nil, 0},
		{301, "", Permanent, ErrRedirected, 0},
		{307, "", Permanent, ErrRedirected, 0},
		{400, "", Permanent, ErrRefused, 0},
		{401, "", Permanent, ErrRefused, 0},
		{403, "", Permanent, ErrRefused, 0},
		{404, "", Permanent, ErrRefused, 0},
		{410, "", Permanent, ErrRefused, 0},
		{408, "", Retryable, ErrUnavailable, 0},
		{429, "", Retryable, ErrRateLimited, 0},
		{429, "120", Retryable, ErrRateLimited, 2 * time.Minute},
		{429, now.Add(30 * time.Second).Format(http.TimeFormat), Retryable, ErrRateLimited, 30 * time.Second},
		{429, "999999", Retryable, ErrRateLimited, DefaultMaxRetryAfter}, // capped
		{429, "-5", Retryable, ErrRateLimited, 0},                        // ignored
		{429, "soon", Retryable, ErrRateLimited, 0},                      // ignored
		{429, now.Add(-time.Hour).Format(http.TimeFormat), Retryable, ErrRateLimited, 0},
		{500, "", Retryable, ErrUnavailable, 0},
		{502, "", Retryable, ErrUnavailable, 0},
		{503, "7", Retryable, ErrUnavailable, 7 * time.Second},
		{504, "", Retryable, ErrUnavailable, 0},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status)+" "+tc.retryAfter, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				if tc.status >= 300 && tc.status < 400 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
				}
				w.WriteHeader(tc.status)
				w.Write([]byte("answer body"))
			}))
			defer srv.Close()
			p := NewPoster(HTTPConfig{Timeout: 5 * time.Second, Now: func() time.Time { return now }})
			err := p.Post(context.Background(), srv.URL, []byte("{}"), nil)
			if tc.wantReason == nil {
				if err != nil {
					t.Fatalf("Post = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.wantReason) || Classify(err) != tc.wantClass {
				t.Fatalf("Post = %v (%v), want %v (%v)", err, Classify(err), tc.wantReason, tc.wantClass)
			}
			if wait, _ := RetryAfter(err); wait != tc.wantWait {
				t.Fatalf("RetryAfter = %v, want %v", wait, tc.wantWait)
			}
		})
	}
}

func TestPostSendsTheBodyAndHeadersAndDoesNotFollowRedirects(t *testing.T) {
	followed := make(chan struct{}, 1)
	var got *http.Request
	var gotBody string
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		got, gotBody = r, string(b)
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed <- struct{}{} })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(IdempotencyHeader, "key-1")
	err := NewPoster(HTTPConfig{}).Post(context.Background(), srv.URL+"/hook", []byte(`{"a":1}`), h)
	if !errors.Is(err, ErrRedirected) || Classify(err) != Permanent {
		t.Fatalf("Post = %v, want a permanent ErrRedirected", err)
	}
	select {
	case <-followed:
		t.Fatal("the redirect was followed")
	default:
	}
	if got.Method != http.MethodPost || gotBody != `{"a":1}` || got.Header.Get(IdempotencyHeader) != "key-1" ||
		got.Header.Get("Content-Type") != "application/json" || got.Header.Get("User-Agent") != UserAgent {
		t.Fatalf("receiver got %s %q with headers %v", got.Method, gotBody, got.Header)
	}
}

func TestPostNetworkFailuresAreRetryableAndKeepTheURLOutOfTheError(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/services/T000/B000/SECRET-TOKEN"
	ln.Close()

	// A receiver that never answers.
	stall := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stall }))
	defer slow.Close()
	defer close(stall)

	p := NewPoster(HTTPConfig{Timeout: 300 * time.Millisecond})
	for name, endpoint := range map[string]string{"refused": closed, "timeout": slow.URL + "/SECRET-TOKEN"} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := p.Post(context.Background(), endpoint, []byte("{}"), nil)
			if !errors.Is(err, ErrNetwork) || Classify(err) != Retryable {
				t.Fatalf("Post = %v, want a retryable ErrNetwork", err)
			}
			if strings.Contains(err.Error(), "SECRET-TOKEN") {
				t.Fatalf("the error shows the URL: %v", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("Post took %v with a 300ms timeout", took)
			}
		})
	}
}

func TestPostToAnUntrustedCertificateIsPermanent(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	err := NewPoster(HTTPConfig{}).Post(context.Background(), srv.URL, []byte("{}"), nil)
	if !errors.Is(err, ErrCertificate) || Classify(err) != Permanent {
		t.Fatalf("Post = %v, want a permanent ErrCertificate", err)
	}
	// Trusting the server's CA, the same endpoint works.
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	if err := NewPoster(HTTPConfig{RootCAs: pool}).Post(context.Background(), srv.URL, []byte("{}"), nil); err != nil {
		t.Fatalf("Post with the CA trusted = %v", err)
	}
}

func TestPostStopsWhenTheContextEnds(t *testing.T) {
	stall := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stall }))
	defer srv.Close()
	defer close(stall)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewPoster(HTTPConfig{Timeout: time.Minute}).Post(ctx, srv.URL, []byte("{}"), nil) }()
	cancel()
	select {
	case err := <-done:
		if Classify(err) != Retryable {
			t.Fatalf("Post = %v, want retryable (the message was not delivered)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Post did not return after its context was cancelled")
	}
}

func TestCheckEndpointURL(t *testing.T) {
	tests := []struct {
		url       string
		plainHTTP bool
		ok        bool
	}{
		{"https://hooks.example.com/x", false, true},
		{"http://127.0.0.1:8080/x", true, true},
		{"http://hooks.example.com/x", false, false},
		{"https://user:pw@hooks.example.com/x", false, false},
		{"/relative", false, false},
		{"ftp://hooks.example.com/", true, false},
		{"https:///nohost", false, false},
		{"::not a url", false, false},
	}
	for _, tc := range tests {
		if err := CheckEndpointURL(tc.url, tc.plainHTTP); (err == nil) != tc.ok {
			t.Errorf("CheckEndpointURL(%q, %v) = %v, want ok=%v", tc.url, tc.plainHTTP, err, tc.ok)
		}
	}
}
