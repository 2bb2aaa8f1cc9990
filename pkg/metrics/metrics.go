// Package metrics defines every Prometheus metric the CA and the bastion
// export, and the listener that serves them (docs/operations.md lists
// them with alert rules).
//
// Each binary has its own registry (CA, Bastion), so that a scrape shows
// only what that binary does. Other packages record with one call at the
// place where the thing happens; nothing here knows the workflow, the
// store or the bastion. Labels are of bounded cardinality: routes, status
// codes, error codes and fixed classes of reasons, never a user name, a
// request or session ID, or a justification.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// CA and Bastion are the registries of the two binaries, each with Go's
// runtime and the process's metrics.
var (
	CA      = newRegistry()
	Bastion = newRegistry()
)

func newRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// latency buckets from 0.5ms to 10s: an issuance takes about a
// millisecond, a stalled database the store deadline (5s by default).
var latency = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func ca[T prometheus.Collector](c T) T      { CA.MustRegister(c); return c }
func bastion[T prometheus.Collector](c T) T { Bastion.MustRegister(c); return c }
func counter(name, help string) prometheus.CounterOpts {
	return prometheus.CounterOpts{Name: name, Help: help}
}

// The CA's metrics.
var (
	// APIRequests counts API calls by route pattern (as registered, e.g.
	// "POST /v1/requests/{id}/approve") and HTTP status code.
	APIRequests = ca(prometheus.NewCounterVec(counter("lockbox_api_requests_total",
		"API calls answered, by route pattern and HTTP status code."), []string{"route", "code"}))
	// APIDuration is how long API calls took, by route pattern.
	APIDuration = ca(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lockbox_api_request_duration_seconds",
		Help: "How long API calls took to answer, by route pattern.", Buckets: latency}, []string{"route"}))
	// StoreTx is how long store transactions took: "write" (one batch of
	// changes, committed) or "read".
	StoreTx = ca(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lockbox_store_transaction_duration_seconds",
		Help: "How long store transactions took, by kind (write: one batch up to its commit; read).", Buckets: latency}, []string{"kind"}))
	// StoreBatch is how many changes each write transaction carried.
	StoreBatch = ca(prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lockbox_store_batch_size",
		Help: "Changes carried by each write transaction.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}}))
	// Issued counts certificates signed, by kind ("user", "hop").
	Issued = ca(prometheus.NewCounterVec(counter("lockbox_certificates_issued_total",
		"Certificates signed, by kind (user: an engineer's grant certificate; hop: a bastion's per-session certificate)."), []string{"kind"}))
	// Refusals counts API calls refused, by error code (the codes of
	// docs/api.md: out_of_scope, self_approval, unavailable, ...).
	Refusals = ca(prometheus.NewCounterVec(counter("lockbox_refusals_total",
		"API calls refused, by error code (docs/api.md)."), []string{"reason"}))
	// LeaseConflicts counts sessions refused because the user holds a
	// session already (on any bastion).
	LeaseConflicts = ca(prometheus.NewCounter(counter("lockbox_session_lease_conflicts_total",
		"Sessions refused because the user's one-session lease was held (a session open elsewhere).")))
	// RecordingBytesStored counts the bytes of recordings the CA stored.
	RecordingBytesStored = ca(prometheus.NewCounter(counter("lockbox_recording_bytes_stored_total",
		"Bytes of session recordings uploaded by bastions and stored.")))
	// PenaltiesStarted counts sources penalised for too many anonymous
	// refusals (pkg/penalty), once per penalty; "deny-all" counts a full
	// table that refused every source not exempt.
	PenaltiesStarted = ca(prometheus.NewCounterVec(counter("lockbox_api_penalties_total",
		"Penalties started: a source over its budget of anonymous refusals (source), or a full table refusing everyone not exempt (deny-all)."), []string{"kind"}))
	// PenaltyRefusedConnections counts connections closed at accept
	// because their source was penalised.
	PenaltyRefusedConnections = ca(prometheus.NewCounter(counter("lockbox_api_penalty_refused_connections_total",
		"New API connections closed at accept, unanswered, because their source was penalised.")))
	// PenaltyTableFull counts anonymous refusals that found the penalty
	// table full (with overflow permissive, their source was not counted).
	PenaltyTableFull = ca(prometheus.NewCounter(counter("lockbox_api_penalty_table_full_total",
		"Anonymous refusals whose source the full penalty table could not count.")))
	// CheckpointsSigned counts audit checkpoints signed by this CA.
	CheckpointsSigned = ca(prometheus.NewCounter(counter("lockbox_audit_checkpoints_signed_total",
		"Signed audit checkpoints made by this CA.")))
)

// The bastion's metrics.
var (
	// SessionsLive is the number of sessions open through this bastion.
	SessionsLive = bastion(prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockbox_bastion_sessions_live",
		Help: "Sessions open through this bastion."}))
	// SessionsEnded counts sessions ended, by a fixed class of reason
	// (see EndClasses).
	SessionsEnded = bastion(prometheus.NewCounterVec(counter("lockbox_bastion_sessions_ended_total",
		"Sessions ended, by class of reason (logout, client_gone, idle, cap, grant_ended, revoked, ended_by_ca, shutdown, recording_failed, not_opened, refused)."), []string{"reason"}))
	// BastionRefusals counts logins and channels the bastion refused, by
	// cause (the causes it reports to the CA).
	BastionRefusals = bastion(prometheus.NewCounterVec(counter("lockbox_bastion_refusals_total",
		"Connections, logins and requests the bastion refused, by cause (the anonymous causes, login, channel, and ca:CODE for a login the CA refused)."), []string{"reason"}))
	// RecordedBytes counts the bytes of session input and output recorded.
	RecordedBytes = bastion(prometheus.NewCounter(counter("lockbox_bastion_recording_bytes_total",
		"Bytes of session input and output written to recordings.")))
	// Uploads counts recording uploads to the CA, by result ("ok",
	// "failed"); a failed one stays in the spool and is tried again.
	Uploads = bastion(prometheus.NewCounterVec(counter("lockbox_bastion_recording_uploads_total",
		"Recording uploads to the CA, by result (ok, failed: kept in the spool and tried again)."), []string{"result"}))
	// CAUp is 1 when the bastion's last check of the CA's /healthz was
	// answered 200, else 0.
	CAUp = bastion(prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockbox_bastion_ca_up",
		Help: "1 when the CA's /healthz answered 200 at the bastion's last check, else 0."}))
	// Draining is 1 while the bastion drains before it stops.
	Draining = bastion(prometheus.NewGauge(prometheus.GaugeOpts{Name: "lockbox_bastion_draining",
		Help: "1 while the bastion drains (stopped accepting, waiting for sessions to end)."}))
)

// EndClasses are the values of SessionsEnded's reason label.
var EndClasses = []string{"logout", "client_gone", "idle", "cap", "grant_ended", "revoked", "ended_by_ca",
	"shutdown", "recording_failed", "not_opened", "refused"}

func init() {
	for _, c := range EndClasses {
		SessionsEnded.WithLabelValues(c)
	}
	for _, r := range []string{"ok", "failed"} {
		Uploads.WithLabelValues(r)
	}
	for _, k := range []string{"user", "hop"} {
		Issued.WithLabelValues(k)
	}
}
