package loadtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// serverSeq numbers the server processes of the harness, for their application_name.
var serverSeq atomic.Int64

// pgBackends finds the PostgreSQL backend processes serving one server process's
// connections: the server connects with an application_name of its own, and
// pg_stat_activity names the backends' process ids. When PostgreSQL runs on this host,
// their CPU time is in /proc as the server's is: PostgreSQL's own CPU per operation. The
// shared processes (WAL writer, checkpointer, autovacuum) are not counted: other clients
// of the same PostgreSQL use them too.
type pgBackends struct {
	db      *sql.DB
	appName string
}

// localDatabase reports whether the PostgreSQL URL names a server on this host.
func localDatabase(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "" || strings.HasPrefix(host, "/") || host == "localhost" {
		return true // a Unix socket, or the default
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withAppName is the database URL with application_name set to name.
func withAppName(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// newPGBackends names a new server process's connections when b is a PostgreSQL on this
// host: it returns the URL the server connects with, and nil (and the URL unchanged) when
// the backends' CPU cannot be read.
func newPGBackends(b *backend) (*pgBackends, string, error) {
	raw := b.cfg.Database.URL
	if !b.cfg.Database.Postgres() || !localDatabase(raw) {
		return nil, raw, nil
	}
	name := fmt.Sprintf("twofold-load-%d-%d", os.Getpid(), serverSeq.Add(1))
	u, err := withAppName(raw, name)
	if err != nil {
		return nil, raw, err
	}
	return &pgBackends{db: b.raw, appName: name}, u, nil
}

// cpu returns the CPU time each backend process of the server has used so far, by pid.
func (p *pgBackends) cpu(ctx context.Context) (map[int]time.Duration, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, p.appName)
	if err != nil {
		return nil, fmt.Errorf("list the server's PostgreSQL backends: %w", err)
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		// Only a process that is PostgreSQL: the pid could be another's if the server
		// were elsewhere after all.
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		if u, err := procUsage(pid); err == nil {
			out[pid] = u.CPU()
		}
	}
	return out, nil
}

// since is the CPU time the backends used after before: a backend that was not there
// then counts from its start. One that ended in between is lost; the server's pool keeps
// its connections (max_idle_conns is max_open_conns, the lifetime 30 minutes).
func since(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, c := range after {
		d += c - before[pid]
	}
	return d
}
