package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the prepared statements of one DB. The store's queries are constants
// but for a few built from filters and lists; past the bound a query runs unprepared.
const maxStmts = 512

// stmtCache holds one prepared statement per query text. database/sql prepares each on a
// connection the first time it runs there and keeps it with the connection, so a query
// is parsed once per connection instead of on every call.
type stmtCache struct {
	mu sync.RWMutex
	m  map[string]*sql.Stmt
	// aside are the queries being prepared aside for a transaction (one goroutine each).
	aside map[string]bool
	// asideCtx ends the preparations aside when the cache closes; close waits for them
	// (asideWG), so no goroutine holds a connection once Close has returned.
	asideCtx  context.Context
	asideStop context.CancelFunc
	asideWG   sync.WaitGroup
	// testHookPrepared, when set, runs in prepare between preparing and keeping.
	testHookPrepared func()
}

func newStmtCache() *stmtCache {
	ctx, stop := context.WithCancel(context.Background())
	return &stmtCache{m: map[string]*sql.Stmt{}, aside: map[string]bool{}, asideCtx: ctx, asideStop: stop}
}

// stmt returns the prepared statement of query for d (inside a transaction, bound to
// it), or nil when the query is to run unprepared: d's dialect does not prepare, or the
// statement is not prepared (yet), or could not be (the caller then sees the error).
func (d *DB) stmt(ctx context.Context, query string) *sql.Stmt {
	c := d.stmts
	if c == nil {
		return nil
	}
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	tx, inTx := d.q.(*sql.Tx)
	switch {
	case ok && inTx:
		// Reuses the statement where this connection prepared it already; closed with tx.
		return tx.StmtContext(ctx, st)
	case ok:
		return st
	case inTx:
		// Preparing takes a connection of the pool while tx holds one: with every
		// connection in a transaction that would wait forever. Prepared aside (once, however
		// many transactions ask), it serves the next call.
		c.mu.Lock()
		start := c.m != nil && !c.aside[query] // c.m is nil once closed
		if start {
			c.aside[query] = true
			c.asideWG.Add(1) // under c.mu: close cannot be waiting yet
		}
		c.mu.Unlock()
		if start {
			go func() {
				defer c.asideWG.Done()
				c.prepare(c.asideCtx, d.db, query)
				c.mu.Lock()
				delete(c.aside, query)
				c.mu.Unlock()
			}()
		}
		return nil
	}
	return c.prepare(ctx, d.db, query)
}

// prepare prepares query and keeps it, unless the cache is full or closed or preparing
// failed (then it returns nil). It holds no lock while it waits for a connection, nor
// while it closes a statement it does not keep (see closeAll).
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.RLock()
	full := c.m == nil || len(c.m) >= maxStmts
	c.mu.RUnlock()
	if full {
		return nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if c.testHookPrepared != nil {
		c.testHookPrepared()
	}
	c.mu.Lock()
	prev, ok := c.m[query] // prepared meanwhile by another caller
	keep := !ok && c.m != nil && len(c.m) < maxStmts
	if keep {
		c.m[query] = st
	}
	c.mu.Unlock()
	if !keep {
		closeAll(st)
		return prev
	}
	return st
}

// close closes every statement; later calls run unprepared.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	sts := make([]*sql.Stmt, 0, len(c.m))
	for _, st := range c.m {
		sts = append(sts, st)
	}
	c.m = nil // no preparation aside starts from now on
	c.mu.Unlock()
	closeAll(sts...)
	c.asideStop()
	c.asideWG.Wait()
}

// closeAll closes statements. Never call it holding c.mu: closing a statement waits for
// every connection it was prepared on to end the call it is in (database/sql's
// removeOpenStmt), and such a call can be a write waiting, under the busy timeout, for
// SQLite's write lock. Were c.mu held, the transaction holding that lock would wait for
// c.mu at its next query and never commit: every writer stalled for the busy timeout and
// failed (TestDuplicateStatementClosedOutsideLock).
func closeAll(sts ...*sql.Stmt) {
	for _, st := range sts {
		st.Close()
	}
}
