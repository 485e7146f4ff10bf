package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
)

// ninetyNineRecord is a load record of 99 one-turn conversations, 98 of at
// most 680ms and one of 1.705s, whose recorded percentiles are those
// evalrun wrote when it rounded the rank (p99 = the 98th sample, 680ms),
// and which passed turn_latency.p99<1s on them.
func ninetyNineRecord(t *testing.T) *results.Run {
	t.Helper()
	co := latency.New()
	for i := range 98 {
		_ = co.RecordValue(latency.Micros(min(time.Duration(10+i*7), 680) * time.Millisecond))
	}
	_ = co.RecordValue(latency.Micros(1705 * time.Millisecond))
	ts, err := load.Stats(0, 99, 0, co, co)
	if err != nil {
		t.Fatal(err)
	}
	rounded := results.Percentiles{P50: 350, P90: 630, P95: 665, P99: float64(co.ValueAtQuantile(99)) / 1000, P999: 1705, Max: 1705}
	ts.LatencyMS, ts.ServiceMS = rounded, rounded
	turn := ts
	turn.Index = 1
	conv, err := load.Stats(0, 99, 0, co, co)
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := load.Stats(0, 0, 0, latency.New(), latency.New())
	zero, rate := 0, 0.0
	return &results.Run{
		Schema: results.Schema, RunID: "old", StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), DurationMS: 10_000,
		Summary: results.Summary{
			Conversations: 99, Passed: 99, Turns: 99, LatencyMS: rounded, ServiceLatencyMS: &rounded,
			Dropped: &zero, ErrorRate: &rate, PassRate: &rate,
		},
		Suites:        []results.Suite{{Name: "s", File: "s.yaml", Provider: "toolzz"}},
		Conversations: []*results.Conversation{},
		Load: &results.Load{
			Model: "open", Rate: 10, DurationMS: 10_000, GraceMS: 1000, Started: 99, AchievedRate: 9.9, Throughput: 9.9,
			Turns: []results.TurnStats{turn}, Overall: ts, Conversation: conv, Session: empty,
			Thresholds: []results.Threshold{{Expr: "turn_latency.p99<1s", Measured: rounded.P99, Unit: "ms", Passed: true}},
			IntervalMS: 10_000,
			Timeline:   []results.Interval{{Started: 99, Turns: 99, LatencyMS: rounded, Histogram: ts.Histogram}},
		},
	}
}

func writeRecord(t *testing.T, raw []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "record.json")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReportRecomputesPercentiles: a record written when evalrun rounded
// the percentile rank is reported at the standard rank, and the gate it
// passed then fails now.
func TestReportRecomputesPercentiles(t *testing.T) {
	run := ninetyNineRecord(t)
	raw, _ := json.Marshal(run)
	p := writeRecord(t, raw)
	out := filepath.Join(t.TempDir(), "again.json")
	code, stdout, stderr := inProcess(t, "report", "--json", out, p)
	if code != exitFailed || !strings.Contains(stdout, "FAIL") {
		t.Errorf("exit %d, want 1 (p99 is 1.705s, the gate is 1s)\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "1.7s") {
		t.Errorf("the table does not show p99 1.7s:\n%s", stdout)
	}
	again, err := readRecord(out)
	if err != nil {
		t.Fatal(err)
	}
	if p99 := again.Load.Overall.LatencyMS.P99; p99 < 1705 {
		t.Errorf("rewritten record keeps p99 %gms", p99)
	}
	if p99 := again.Summary.LatencyMS.P99; p99 < 1705 {
		t.Errorf("rewritten summary keeps p99 %gms", p99)
	}
	if p99 := again.Load.Timeline[0].LatencyMS.P99; p99 < 1705 {
		t.Errorf("rewritten timeline keeps p99 %gms", p99)
	}
	if th := again.Load.Thresholds[0]; th.Passed || th.Measured < 1705 {
		t.Errorf("threshold as rewritten: %+v", th)
	}
}

// corruptions are records no evalrun writes, each with what the error must
// say. An empty want means the record is reported, sensibly, as it is.
func corruptions(t *testing.T) []struct {
	name, want, wantMerge string
	raw                   []byte
} {
	good, err := json.Marshal(ninetyNineRecord(t))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ld := func(m map[string]any) map[string]any { return m["load"].(map[string]any) }
	overall := func(m map[string]any) map[string]any { return ld(m)["overall"].(map[string]any) }
	return []struct {
		name, want, wantMerge string
		raw                   []byte
	}{
		{"null turn", "conversations[0].turns[0] is null", "", edit(func(m map[string]any) {
			m["conversations"] = []any{map[string]any{"name": "x", "status": "failed", "turns": []any{nil}}}
		})},
		{"null conversation", "conversations[1] is null", "", edit(func(m map[string]any) {
			m["conversations"] = []any{map[string]any{"name": "x", "status": "failed"}, nil}
		})},
		{"null load", "", "no summary.latency_histogram", edit(func(m map[string]any) { m["load"] = nil })},
		{"null load with null turns", "turns[0] is null", "", edit(func(m map[string]any) {
			m["load"] = nil
			m["conversations"] = []any{map[string]any{"turns": []any{nil}}}
		})},
		{"histogram not base64", "load.overall: decode histogram", "", edit(func(m map[string]any) { overall(m)["histogram"] = "%%% not base64" })},
		{"histogram not hdr", "load.overall: decode histogram", "", edit(func(m map[string]any) { overall(m)["histogram"] = "aGVsbG8gd29ybGQsIG5vdCBhIGhpc3RvZ3JhbQ==" })},
		{"service histogram truncated", "load.overall: service decode histogram", "", edit(func(m map[string]any) {
			s := overall(m)["service_histogram"].(string)
			overall(m)["service_histogram"] = s[:len(s)/2]
		})},
		{"histogram of a string", "not an evalrun JSON record", "", edit(func(m map[string]any) { overall(m)["histogram"] = 42 })},
		{"negative count", "must not be negative", "", edit(func(m map[string]any) { overall(m)["count"] = -5 })},
		{"errors over count", "more than the count", "", edit(func(m map[string]any) { overall(m)["errors"] = 1000 })},
		{"histogram emptied", `load.overall: the histogram is absent ("")`, "", edit(func(m map[string]any) { overall(m)["histogram"] = "" })},
		{"histogram disagrees with count", "holds 99 latencies, but count - errors is 7", "", edit(func(m map[string]any) { overall(m)["count"] = 7 })},
		{"turn index far away", "has index 1000000000000, want 1", "", edit(func(m map[string]any) {
			ld(m)["turns"].([]any)[0].(map[string]any)["index"] = 1e12
		})},
		{"null turn stats", "load.overall: count 99 and errors 0, but the turns add up to 0 and 0", "", edit(func(m map[string]any) { ld(m)["turns"] = []any{nil} })},
		{"timeline histogram corrupt", "load.timeline[0]: decode histogram", "", edit(func(m map[string]any) {
			ld(m)["timeline"] = []any{map[string]any{"start_ms": 0, "turns": 1, "histogram": "bm90IGEgaGlzdG9ncmFt"}}
		})},
		{"timeline negative", "load.timeline[0]: counts must not be negative", "", edit(func(m map[string]any) {
			ld(m)["timeline"] = []any{map[string]any{"start_ms": 0, "turns": -1}}
		})},
		{"negative summary", "summary.passed is -1", "", edit(func(m map[string]any) { m["summary"].(map[string]any)["passed"] = -1 })},
		{"negative dropped", "load.dropped is -3", "", edit(func(m map[string]any) { ld(m)["dropped"] = -3 })},
		{"huge numbers", "not an evalrun JSON record", "", []byte(strings.Replace(string(good), `"duration_ms":10000`, `"duration_ms":1e999`, 1))},
		{"wrong schema", `schema "evalrun/v0"`, "", []byte(strings.Replace(string(good), results.Schema, "evalrun/v0", 1))},
		{"not json", "not an evalrun JSON record", "", []byte("{")},
	}
}

// TestCorruptRecordsAreRefusedNotPanics feeds records no evalrun writes
// through report and merge, in this process: each is refused with an error
// that names the part that is wrong, or reported sensibly; none panics.
func TestCorruptRecordsAreRefusedNotPanics(t *testing.T) {
	for _, c := range corruptions(t) {
		t.Run(c.name, func(t *testing.T) {
			p := writeRecord(t, c.raw)
			code, stdout, stderr := inProcess(t, "report", p)
			switch {
			case c.want == "" && code == exitUsage:
				t.Errorf("report: exit 2, want a report\n%s", stderr)
			case c.want != "" && (code != exitUsage || !strings.Contains(stderr, c.want)):
				t.Errorf("report: exit %d, stderr %q; want 2 and %q\n%s", code, stderr, c.want, stdout)
			}
			wantMerge := c.want
			if c.wantMerge != "" {
				wantMerge = c.wantMerge
			}
			out := filepath.Join(t.TempDir(), "merged.json")
			code, _, stderr = inProcess(t, "merge", "--json", out, p)
			switch {
			case wantMerge == "" && code == exitUsage:
				t.Errorf("merge: exit 2, want a merge\n%s", stderr)
			case wantMerge != "" && (code != exitUsage || !strings.Contains(stderr, wantMerge)):
				t.Errorf("merge: exit %d, stderr %q; want 2 and %q", code, stderr, wantMerge)
			}
		})
	}
}

// FuzzRecord: whatever a record file holds, reading it and every report and
// merge of what was read return; none panics.
func FuzzRecord(f *testing.F) {
	t := &testing.T{}
	for _, c := range corruptions(t) {
		f.Add(c.raw)
	}
	good, _ := json.Marshal(ninetyNineRecord(t))
	f.Add(good)
	f.Fuzz(func(t *testing.T, raw []byte) {
		run, err := report.ReadRecord(bytes.NewReader(raw), "fuzz")
		if err != nil {
			return
		}
		rejudge(run)
		_ = report.Table(io.Discard, run, report.TableOptions{})
		_ = report.JUnit(io.Discard, run)
		_ = report.JSON(io.Discard, run)
		if run.Load != nil {
			_ = report.LoadTable(io.Discard, run, report.TableOptions{})
			if m, err := load.Merge(run); err == nil {
				_ = report.LoadTable(io.Discard, m, report.TableOptions{})
			}
		}
	})
}

// FuzzRecordFields varies the fields of a valid load record that reports
// and merge compute with, where FuzzRecord mostly finds JSON syntax errors;
// each record goes through merge unchecked, then is read as a file would be.
func FuzzRecordFields(f *testing.F) {
	t := &testing.T{}
	good := ninetyNineRecord(t)
	f.Add(int64(99), int64(0), 1, good.Load.Overall.Histogram, good.Load.Overall.Service, 99, true)
	f.Add(int64(-1), int64(5), 1<<40, "AAAA", "", -3, false)
	f.Add(int64(1)<<62, int64(1)<<62, 0, good.Load.Overall.Histogram, good.Load.Overall.Histogram, 0, true)
	f.Fuzz(fuzzFields)
}

func fuzzFields(t *testing.T, count, errs int64, index int, hist, service string, started int, nullTurn bool) {
	run := ninetyNineRecord(t)
	run.Load.Overall.Count, run.Load.Overall.Errors = count, errs
	run.Load.Overall.Histogram, run.Load.Overall.Service = hist, service
	run.Load.Turns[0].Index = index
	run.Load.Started, run.Summary.Passed = started, started
	c := &results.Conversation{Name: "c", Status: results.Failed, Turns: []*results.Turn{{Index: 1}}}
	if nullTurn {
		c.Turns = append(c.Turns, nil)
	}
	run.Conversations = []*results.Conversation{c, nil}
	other := ninetyNineRecord(t)
	other.RunID = "other"
	if m, err := load.Merge(run, other); err == nil {
		_ = report.LoadTable(io.Discard, m, report.TableOptions{})
	}
	_ = report.LoadTable(io.Discard, run, report.TableOptions{})
	raw, err := json.Marshal(run)
	if err != nil {
		return
	}
	read, err := report.ReadRecord(bytes.NewReader(raw), "fuzz")
	if err != nil {
		return
	}
	rejudge(read)
	_ = report.Table(io.Discard, read, report.TableOptions{})
	_ = report.JUnit(io.Discard, read)
	_ = report.LoadTable(io.Discard, read, report.TableOptions{})
}

// TestRecordedThresholds: merge's gates and report's verdicts come from the
// same reading of a record's thresholds, which passes over one it cannot
// parse and leaves that one's verdict as recorded.
func TestRecordedThresholds(t *testing.T) {
	run := ninetyNineRecord(t)
	unreadable := results.Threshold{Expr: "turn_latency.p42 <= soon", Passed: true}
	run.Load.Thresholds = []results.Threshold{run.Load.Thresholds[0], unreadable, {Expr: "error_rate < 0.5"}}
	var exprs []string
	for _, th := range recordedThresholds(run) {
		exprs = append(exprs, th.String())
	}
	if got, want := strings.Join(exprs, "; "), "turn_latency.p99 < 1s; error_rate < 0.5"; got != want {
		t.Errorf("merge gates: %s, want %s", got, want)
	}
	raw, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	if run, err = report.ReadRecord(bytes.NewReader(raw), "r.json"); err != nil {
		t.Fatal(err)
	}
	rejudge(run)
	th := run.Load.Thresholds
	// Read back, p99 of the 99 samples is the 1.705s one: the recorded pass
	// is undone.
	if th[0].Passed || th[1] != unreadable || !th[2].Passed {
		t.Errorf("rejudged: %+v", th)
	}
	rejudge(&results.Run{}) // a record of evalrun run has no thresholds to read
}
