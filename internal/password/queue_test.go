package password

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestQueueAndWaits: Queue reports the hashes running and those waiting for a slot, and
// ObserveWait hears of every hash's wait, a free slot's as 0.
func TestQueueAndWaits(t *testing.T) {
	h := NewHasher(fast, 1, time.Minute)
	var mu sync.Mutex
	var waits []time.Duration
	h.ObserveWait(func(d time.Duration) { mu.Lock(); waits = append(waits, d); mu.Unlock() })
	if w, r := h.Queue(); w != 0 || r != 0 {
		t.Fatalf("idle Queue() = %d waiting, %d running", w, r)
	}
	entered, release := hold(h)
	first := make(chan error, 1)
	go func() { _, err := h.Hash(context.Background(), "pw"); first <- err }()
	<-entered
	second := make(chan error, 1)
	go func() { _, err := h.Hash(context.Background(), "pw"); second <- err }()
	for w, _ := h.Queue(); w != 1; w, _ = h.Queue() {
		time.Sleep(time.Millisecond) // until the second hash waits
	}
	if w, r := h.Queue(); w != 1 || r != 1 {
		t.Errorf("Queue() with one hash running and one waiting = %d waiting, %d running", w, r)
	}
	release()
	<-entered // the second hash holds the slot now
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if w, r := h.Queue(); w != 0 || r != 0 {
		t.Errorf("Queue() after both = %d waiting, %d running", w, r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 2 || waits[0] != 0 || waits[1] <= 0 {
		t.Errorf("waits observed = %v, want 0 and then the second hash's wait", waits)
	}
}
