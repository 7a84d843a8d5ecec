package deploy

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

const (
	rulesFile     = "prometheus/twofold-rules.yml"
	rulesTestFile = "prometheus/twofold-rules.test.yml"
	dashboardFile = "grafana/twofold.json"
)

// TestPrometheusRules runs promtool (Debian's prometheus package) on the alert rules:
// check rules (they parse, their PromQL is valid) and test rules (the alerts fire, with
// their messages, on the series of a spray of wrong passwords, busy answers, a stuck mail
// queue, a reused refresh token and an unreachable database, and stay quiet on ordinary
// traffic).
func TestPrometheusRules(t *testing.T) {
	promtool := testutil.RequireTool(t, "promtool")
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricName finds the metric names in a PromQL expression: twofold's own, the Go runtime's
// and the process's, and up.
var metricName = regexp.MustCompile(`\b(?:twofold|go|process)_[a-z0-9_]+\b|\bup\b`)

// synthetic are the series Prometheus makes itself, not the scrape.
var synthetic = []string{"up"}

// ruleExprs returns the expression of every rule in the rules file, by rule name.
func ruleExprs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert, Record, Expr string
			}
		}
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	out := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out[r.Alert+r.Record] = r.Expr
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no rules", rulesFile)
	}
	return out
}

// dashboardExprs returns every query of the dashboard (panel targets and the template
// variables' queries), by where it is.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s is not JSON: %v", dashboardFile, err)
	}
	if d.UID == "" {
		t.Errorf("%s has no uid", dashboardFile)
	}
	out := map[string]string{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("%s: panel id %d twice", dashboardFile, p.ID)
		}
		ids[p.ID] = true
		for i, tg := range p.Targets {
			out[p.Title+" #"+string(rune('A'+i))] = tg.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Definition != "" {
			out["variable "+v.Name] = v.Definition
		}
	}
	return out
}

// family is the metric family a series name belongs to in scrape: the name itself, or a
// histogram's or summary's without its _bucket, _sum or _count.
func family(scrape testserver.Scrape, name string) (string, bool) {
	if scrape[name] != nil {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if f := scrape[base]; ok && f != nil && (f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY && suffix != "_bucket") {
			return base, true
		}
	}
	return "", false
}

// TestRulesAndDashboardNameScrapedMetrics: every metric the alert rules and the dashboard
// name is in a real scrape of a running server after a few sign-ins (a misspelt name
// would never fire or draw), and the dashboard and docs/operations.md cover every
// metric of twofold's own.
func TestRulesAndDashboardNameScrapedMetrics(t *testing.T) {
	s := testserver.New(t, testserver.Options{Metrics: true})
	s.CreateUser(t, "ada", "ada@example.com", "user")
	s.Enroll(t, s.Client(t), "ada")
	r := s.Client(t).PostJSON("/api/v1/login", map[string]string{"username": "ada", "password": "wrong password, surely"})
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	scrape := s.Scrape(t)

	named := map[string]bool{}
	for source, exprs := range map[string]map[string]string{rulesFile: ruleExprs(t), dashboardFile: dashboardExprs(t)} {
		for where, expr := range exprs {
			names := metricName.FindAllString(expr, -1)
			if len(names) == 0 {
				t.Errorf("%s, %s: no metric in %q", source, where, expr)
			}
			for _, n := range names {
				if slices.Contains(synthetic, n) {
					continue
				}
				f, ok := family(scrape, n)
				if !ok {
					t.Errorf("%s, %s: %s is not in the scrape", source, where, n)
					continue
				}
				if source == dashboardFile {
					named[f] = true
				}
			}
		}
	}
	docs, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range scrape {
		if !strings.HasPrefix(name, "twofold_") {
			continue
		}
		if !named[name] {
			t.Errorf("%s is on no panel of %s", name, dashboardFile)
		}
		if !strings.Contains(string(docs), "`"+name+"`") {
			t.Errorf("%s is not in docs/operations.md", name)
		}
	}
}
