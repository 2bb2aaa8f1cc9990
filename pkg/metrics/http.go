package metrics

import (
	"net/http"
	"strconv"
	"time"
)

// InstrumentAPI counts and times every call through next, labelled with
// route(r) (a registered pattern; "" becomes "unmatched") and the status
// code written.
func InstrumentAPI(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		name := route(r)
		if name == "" {
			name = "unmatched"
		}
		APIRequests.WithLabelValues(name, strconv.Itoa(sw.status)).Inc()
		APIDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

// statusWriter keeps the status code; Unwrap lets http.ResponseController
// reach the connection's Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		w.wrote = true
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
