package prom

import "github.com/prometheus/client_golang/prometheus"

// sessionCacheCollector reads the session cache's counts at scrape time. A database
// without the cache (SQLite where the WAL index cannot be mapped) has no such series.
type sessionCacheCollector struct {
	stats   func() (hits, misses uint64, on bool)
	lookups *prometheus.Desc
}

func newSessionCacheCollector(stats func() (hits, misses uint64, on bool)) *sessionCacheCollector {
	return &sessionCacheCollector{stats: stats, lookups: prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "session_cache", "lookups_total"),
		"Session lookups of signed-in requests, by result: hit (answered from memory, nobody committed a change since it was read) or miss (read from the database).",
		[]string{"result"}, nil)}
}

func (c *sessionCacheCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.lookups }

func (c *sessionCacheCollector) Collect(ch chan<- prometheus.Metric) {
	hits, misses, on := c.stats()
	if !on {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(misses), "miss")
}
