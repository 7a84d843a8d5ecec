package prom

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reports the database connection pool of this instance: where requests
// queue for the database before it is busy itself.
type poolCollector struct {
	stats                    func() sql.DBStats
	conns, max, waits, waitS *prometheus.Desc
}

func newPoolCollector(stats func() sql.DBStats) *poolCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "database", n) }
	return &poolCollector{
		stats: stats,
		conns: prometheus.NewDesc(name("connections"), "Open database connections of this instance, by state (in_use, idle).", []string{"state"}, nil),
		max:   prometheus.NewDesc(name("connections_max"), "The most database connections this instance opens (0: no limit).", nil, nil),
		waits: prometheus.NewDesc(name("connection_waits_total"), "Times a query waited for a free database connection.", nil, nil),
		waitS: prometheus.NewDesc(name("connection_wait_seconds_total"), "Time queries waited for a free database connection.", nil, nil),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conns
	ch <- c.max
	ch <- c.waits
	ch <- c.waitS
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.waitS, prometheus.CounterValue, s.WaitDuration.Seconds())
}
