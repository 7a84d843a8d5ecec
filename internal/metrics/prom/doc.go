// Package prom records twofold's events (metrics.Recorder) as Prometheus metrics in a
// registry of its own, served on the metrics listener with the Go runtime and process
// metrics, and net/http/pprof when asked.
package prom
