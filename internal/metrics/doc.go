// Package metrics is what the services tell an operator's monitoring: the events they emit
// (Recorder), with no dependency on a monitoring system; prom turns them into Prometheus
// metrics.
package metrics
