// Package loadtest drives a complete in-process twofold server over real HTTP with a harness-controlled clock and reports throughput and latency per scenario.
package loadtest
