package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	spoolRecordings = prometheus.NewDesc("lockbox_bastion_spool_recordings",
		"Recordings in the bastion's spool not yet uploaded (finished, failed uploads, left by a crash, or open).", nil, nil)
	spoolBytes = prometheus.NewDesc("lockbox_bastion_spool_bytes",
		"Bytes in the bastion's spool.", nil, nil)
	outboxQueued = prometheus.NewDesc("lockbox_notifications_queued",
		"Notifications in the outbox waiting for delivery (every replica's: the outbox is shared).", nil, nil)
	outboxDead = prometheus.NewDesc("lockbox_notifications_dead",
		"Notifications in the outbox given up as dead (kept for operators: lockbox notifications --dead).", nil, nil)
	checkpointAge = prometheus.NewDesc("lockbox_audit_checkpoint_age_seconds",
		"Seconds since the newest signed audit checkpoint (any replica's), as this CA last learnt it.", nil, nil)
)

// spoolCollector asks for the spool's backlog at each scrape.
type spoolCollector struct{ backlog func() (int, int64) }

func (c spoolCollector) Describe(ch chan<- *prometheus.Desc) { ch <- spoolRecordings; ch <- spoolBytes }

func (c spoolCollector) Collect(ch chan<- prometheus.Metric) {
	n, b := c.backlog()
	ch <- prometheus.MustNewConstMetric(spoolRecordings, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(spoolBytes, prometheus.GaugeValue, float64(b))
}

var watchSpool, watchCheckpoint, watchOutbox sync.Once

// WatchOutbox exports the notification outbox's queue depth and dead
// messages, asked for at each scrape; counts returns false when the store
// could not say (then neither is exported, and the scrape still answers).
// Only the first call in a process counts.
func WatchOutbox(counts func() (queued, dead int, ok bool)) {
	watchOutbox.Do(func() { CA.MustRegister(outboxCollector{counts}) })
}

type outboxCollector struct{ counts func() (int, int, bool) }

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxQueued; ch <- outboxDead }

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	if q, d, ok := c.counts(); ok {
		ch <- prometheus.MustNewConstMetric(outboxQueued, prometheus.GaugeValue, float64(q))
		ch <- prometheus.MustNewConstMetric(outboxDead, prometheus.GaugeValue, float64(d))
	}
}

// WatchSpool exports the bastion's spool backlog, asked for at each
// scrape. Only the first call in a process counts.
func WatchSpool(backlog func() (recordings int, bytes int64)) {
	watchSpool.Do(func() { Bastion.MustRegister(spoolCollector{backlog}) })
}

// WatchCheckpoint exports the age of the newest signed audit checkpoint;
// newest returns its time, or false when there is none yet (then no age
// is exported). Only the first call in a process counts.
func WatchCheckpoint(newest func() (time.Time, bool), now func() time.Time) {
	watchCheckpoint.Do(func() { CA.MustRegister(checkpointCollector{newest, now}) })
}

type checkpointCollector struct {
	newest func() (time.Time, bool)
	now    func() time.Time
}

func (c checkpointCollector) Describe(ch chan<- *prometheus.Desc) { ch <- checkpointAge }

func (c checkpointCollector) Collect(ch chan<- prometheus.Metric) {
	if at, ok := c.newest(); ok {
		ch <- prometheus.MustNewConstMetric(checkpointAge, prometheus.GaugeValue, c.now().Sub(at).Seconds())
	}
}
