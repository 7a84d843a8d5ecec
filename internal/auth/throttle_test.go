package auth_test

import (
	"time"

	"github.com/twofold-id/twofold/internal/throttle"
)

func throttlePolicy(free int, first time.Duration) throttle.Policy {
	return throttle.Policy{FreeAttempts: free, FirstDelay: first, MaxDelay: 8 * first, MaxFailures: 100}
}
