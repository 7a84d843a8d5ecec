package app

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/metrics/prom"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// newMetrics builds the Prometheus metrics when server.metrics_addr is set, and the
// recorder the services emit their events to (one of nothing otherwise, so metrics that
// are off cost nothing). The database counts its errors, the hasher its waits; the queue
// of hashes and the mail queue are read at scrape time.
func newMetrics(cfg *config.Config, o Options, db *sqlstore.DB, hasher *password.Hasher) (*prom.Metrics, metrics.Recorder) {
	if cfg.Server.MetricsAddr == "" {
		return nil, metrics.Nop{}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	pm := prom.New(prom.Options{
		Log:             o.Log,
		HashQueue:       hasher.Queue,
		DBPool:          db.PoolStats,
		SessionCache:    db.SessionCacheStats,
		SessionBarriers: db.SessionBarriers,
		MailQueue: func(ctx context.Context) (metrics.MailQueue, error) {
			st, err := db.MailQueueStats(ctx)
			if err != nil {
				return metrics.MailQueue{}, err
			}
			q := metrics.MailQueue{Pending: st.Pending, Failed: st.Failed}
			if !st.NextDue.IsZero() {
				q.Overdue = max(now().Sub(st.NextDue), 0)
			}
			return q, nil
		},
	})
	db.SetMetrics(pm)
	hasher.ObserveWait(pm.HashWaited)
	return pm, pm
}
