package web_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
)

// BenchmarkAuditExport streams the whole audit log of 100 000 and of 1 000 000 events as
// CSV and as JSON Lines from a running server (SQLite) and reports the peak of the
// process's heap in use and resident memory while it does, above what they were before:
// flat memory means the same peak for ten times the rows. Run it alone:
//
//	go test ./internal/web -run '^$' -bench AuditExport -benchtime 1x
func BenchmarkAuditExport(b *testing.B) {
	for _, rows := range []int{100_000, 1_000_000} {
		// A server per size, stopped before the next: each measures from the same start.
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			var dataDir string
			srv := testserver.New(b, testserver.Options{Config: func(c *config.Config) { dataDir = c.DataDir }})
			fillAudit(b, filepath.Join(dataDir, "twofold.db"), rows)
			root := mfaClient(b, srv, "root", "admin")
			for _, format := range []string{"csv", "ndjson"} {
				b.Run(format, func(b *testing.B) {
					for range b.N {
						exportOnce(b, srv, root, format, rows)
					}
				})
			}
		})
	}
}

// fillAudit appends rows events to the database at path in one statement.
func fillAudit(b *testing.B, path string, rows int) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail, count)
		SELECT 1700000000000 + i * 1000, 'bench.export', 'user-' || (i % 1000), 'user-' || (i % 977), '192.0.2.' || (i % 250),
			'Mozilla/5.0 (X11; Linux x86_64) bench/' || (i % 7), '=row ' || i || ', "quoted"', 1 FROM n`, rows)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("appended %d audit events in %s", rows, time.Since(start).Round(time.Millisecond))
}

// exportOnce downloads the export and reports its memory peaks and speed.
func exportOnce(b *testing.B, srv *testserver.Server, c *testserver.Client, format string, rows int) {
	b.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	baseRSS := rssBytes()
	var (
		mu               sync.Mutex
		peakHeap, peakRS uint64
		peakLive         uint64
	)
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			rss := rssBytes()
			metrics.Read(live)
			mu.Lock()
			peakHeap, peakRS = max(peakHeap, m.HeapInuse), max(peakRS, rss)
			peakLive = max(peakLive, live[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/admin/audit?event=bench.export&format="+format, nil)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	lines, n := 0, int64(0)
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	buf := make([]byte, 64<<10)
	for {
		k, err := br.Read(buf)
		n += int64(k)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	resp.Body.Close()
	elapsed := time.Since(start)
	close(stop)
	<-done
	want := rows
	if format == "csv" {
		want++ // the header
	}
	if resp.StatusCode != http.StatusOK || lines < want {
		b.Fatalf("export: %d, %d lines, want %d", resp.StatusCode, lines, want)
	}
	mib := func(v uint64) float64 { return float64(v) / (1 << 20) }
	b.ReportMetric(mib(peakHeap-min(peakHeap, before.HeapInuse)), "peak-heap-growth-MiB")
	b.ReportMetric(mib(peakHeap), "peak-heap-MiB")
	b.ReportMetric(mib(peakLive), "peak-live-heap-MiB")
	b.ReportMetric(mib(peakRS-min(peakRS, baseRSS)), "peak-rss-growth-MiB")
	b.ReportMetric(mib(peakRS), "peak-rss-MiB")
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(n)/(1<<20), "MiB-sent")
}

// rssBytes is the process's resident memory (VmRSS), 0 where /proc is missing.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
