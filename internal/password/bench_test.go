package password

import (
	"context"
	"testing"
	"time"
)

// BenchmarkVerifyDefault measures one sign-in's password check at the default parameters.
func BenchmarkVerifyDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1, time.Minute)
	ctx := context.Background()
	stored, err := h.Hash(ctx, "correct horse battery staple 9")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple 9", stored); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
