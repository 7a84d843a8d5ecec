package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// TestSessionLookupEndsWithItsRequest: a session lookup whose request has ended (the client
// went away) gives up at once, also while every pooled connection is taken, instead of
// waiting for a connection with no end and then reading for nobody. Found by review: the
// lookup had run under context.WithoutCancel, which saves database/sql's and the driver's
// watching goroutines but also made the wait for a connection unending.
func TestSessionLookupEndsWithItsRequest(t *testing.T) {
	db, _ := openTemp(t)
	sqlstore.TakeConns(t, db, 8)
	if n := db.PoolStats().InUse; n != 8 {
		t.Fatalf("%d connections in use, want all 8", n)
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
	case <-time.After(5 * time.Second):
		t.Fatalf("GetSessionUser with an ended request still waits for a connection")
	}
}
