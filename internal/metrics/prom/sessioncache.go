package prom

import "github.com/prometheus/client_golang/prometheus"

// sessionCacheCollector reads the session cache's counts at scrape time. A database
// without the cache (SQLite where the WAL index cannot be mapped) has no such series, and
// one whose cache sends no barriers (SQLite) no barrier count.
type sessionCacheCollector struct {
	stats    func() (hits, misses uint64, on bool)
	barriers func() (n uint64, ok bool) // nil: none
	lookups  *prometheus.Desc
	sent     *prometheus.Desc
}

func newSessionCacheCollector(stats func() (hits, misses uint64, on bool), barriers func() (uint64, bool)) *sessionCacheCollector {
	return &sessionCacheCollector{stats: stats, barriers: barriers,
		lookups: prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "session_cache", "lookups_total"),
			"Session lookups of signed-in requests, by result: hit (answered from memory, nobody committed a change since it was read) or miss (read from the database).",
			[]string{"result"}, nil),
		sent: prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "session_cache", "barriers_total"),
			"Barriers the session cache sent to PostgreSQL before answering from memory: one transaction ID each, shared by the lookups waiting at the time.",
			nil, nil)}
}

func (c *sessionCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lookups
	ch <- c.sent
}

func (c *sessionCacheCollector) Collect(ch chan<- prometheus.Metric) {
	hits, misses, on := c.stats()
	if !on {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(misses), "miss")
	if c.barriers == nil {
		return
	}
	if n, ok := c.barriers(); ok {
		ch <- prometheus.MustNewConstMetric(c.sent, prometheus.CounterValue, float64(n))
	}
}
