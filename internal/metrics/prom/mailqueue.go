package prom

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/twofold-id/twofold/internal/metrics"
)

// mailQueueCollector reads the mail queue once per scrape, with one query, for three
// gauges. The queue is in the database: every instance reports the same numbers.
type mailQueueCollector struct {
	read                     func(context.Context) (metrics.MailQueue, error)
	log                      *slog.Logger
	pending, failed, overdue *prometheus.Desc
}

func newMailQueueCollector(read func(context.Context) (metrics.MailQueue, error), log *slog.Logger) *mailQueueCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "mail_queue", n) }
	return &mailQueueCollector{
		read:    read,
		log:     log,
		pending: prometheus.NewDesc(name("pending"), "Mails waiting for delivery or for a retry (the whole queue, shared by every instance).", nil, nil),
		failed:  prometheus.NewDesc(name("failed"), "Mails given up on, until an operator retries them (twofold mail retry).", nil, nil),
		overdue: prometheus.NewDesc(name("overdue_seconds"), "How long the earliest due pending mail has been due without being sent; 0 when none is due. It grows when no sender delivers.", nil, nil),
	}
}

func (c *mailQueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.failed
	ch <- c.overdue
}

// Collect reports nothing when the queue cannot be read (the scrape goes on; the database
// error is counted where it happened).
func (c *mailQueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q, err := c.read(ctx)
	if err != nil {
		c.log.Warn("metrics: read the mail queue", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(q.Pending))
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, float64(q.Failed))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, q.Overdue.Seconds())
}
