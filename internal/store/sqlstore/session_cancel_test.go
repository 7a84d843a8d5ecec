package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// TestSessionLookupEndsWithItsRequest: a session lookup whose request has ended (the client
// went away) gives up at once, also while every pooled connection is taken, instead of
// waiting for a connection with no end and then reading for nobody. One transaction holds
// SQLite's write lock and seven more wait for it in BEGIN IMMEDIATE (for up to the 10 s busy
// timeout), each holding one of the pool's eight connections. Found by review: the lookup
// had run under context.WithoutCancel, which saves database/sql's and the driver's watching
// goroutines but also made the wait for a connection unending.
func TestSessionLookupEndsWithItsRequest(t *testing.T) {
	db, _ := openTemp(t)
	release := make(chan struct{})
	var held, wg sync.WaitGroup
	held.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = db.WithTx(context.Background(), func(store.Store) error {
			held.Done()
			<-release
			return nil
		})
	}()
	held.Wait()
	for range 7 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = db.WithTx(context.Background(), func(store.Store) error { return nil })
		}()
	}
	// Wait until all eight connections are taken (the pool's stats say so), not a guess.
	for db.PoolStats().InUse < 8 {
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := db.GetSessionUser(ctx, make([]byte, 32))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("GetSessionUser with an ended request: %v, want context.Canceled", err)
		}
		close(release)
	case <-time.After(5 * time.Second): // the waiting writers' busy timeout is 10 s
		t.Errorf("GetSessionUser with an ended request still waits for a connection")
		close(release)
		<-done
	}
	wg.Wait()
}
