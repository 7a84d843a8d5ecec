package testserver

import (
	"io"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is one read of the metrics listener's /metrics, parsed from the text exposition
// format, by metric family name.
type Scrape map[string]*dto.MetricFamily

// Scrape reads the server's /metrics as Prometheus does (Options.Metrics must be set).
func (s *Server) Scrape(t testing.TB) Scrape {
	t.Helper()
	if s.MetricsURL == "" {
		t.Fatal("scrape: the metrics are off (testserver.Options.Metrics)")
	}
	resp, err := http.Get(s.MetricsURL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: the exposition does not parse: %v", err)
	}
	return fams
}

// Value sums the samples of the family name whose labels include every name, value pair
// of labels: a counter's or gauge's value, a histogram's count. It is 0 when none match.
func (sc Scrape) Value(name string, labels ...string) float64 {
	var sum float64
	for _, m := range sc.Series(name, labels...) {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

// Series returns the series of the family name whose labels include every name, value
// pair of labels.
func (sc Scrape) Series(name string, labels ...string) []*dto.Metric {
	f := sc[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range f.Metric {
		if hasLabels(m, labels) {
			out = append(out, m)
		}
	}
	return out
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
