package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/suites"
)

const loadSuite = `name: l
provider: {type: opencx, base_url: "sim"}
conversations:
  - name: two turns
    turns:
      - user: hello
        expect: {contains: hello}
      - user: how long does shipping take?
        expect: {contains: business days}
`

type loadRecord struct {
	Summary struct {
		Conversations, Passed, Turns, TurnErrors int
		Dropped                                  int
	}
	Load struct {
		Model            string
		Started, Dropped int
		Turns            []struct{ Index, Count int }
		Overall          struct {
			Count     int
			Histogram string
		}
		Thresholds []struct {
			Expr   string
			Passed bool
		}
		Shards []string
	}
}

func readLoad(t *testing.T, path string) loadRecord {
	t.Helper()
	var r loadRecord
	if err := json.Unmarshal([]byte(read(t, path)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLoadMergeReport runs two short shards of a load test against the
// in-process simulator, merges them and reports the merge again, through the
// real command. Counts are asserted; timings are not.
func TestLoadMergeReport(t *testing.T) {
	p := writeSuite(t, loadSuite)
	dir := t.TempDir()
	// The shards of one test run side by side: merge refuses shards that
	// did not overlap in time.
	shard := func(k string, done chan<- result) string {
		js := filepath.Join(dir, "shard"+k+".json")
		go func() {
			done <- evalrun(t, nil, "load", "--rate", "10", "--duration", "2s", "--grace", "5s", "--shard", k+"/2",
				"--threshold", "error_rate<0.01", "--threshold", "dropped==0", "--json", js, p)
		}()
		return js
	}
	done0, done1 := make(chan result, 1), make(chan result, 1)
	s0, s1 := shard("0", done0), shard("1", done1)
	for k, done := range []chan result{done0, done1} {
		if r := <-done; r.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s%s", k, r.code, r.stdout, r.stderr)
		}
	}
	a, b := readLoad(t, s0), readLoad(t, s1)
	for _, rec := range []loadRecord{a, b} {
		if rec.Load.Model != "open" || rec.Load.Started < 8 || rec.Load.Started > 12 || rec.Load.Dropped != 0 {
			t.Errorf("a shard of 10/s for 2s starts about 10: %+v", rec.Load)
		}
		if rec.Summary.Turns != 2*rec.Load.Started || rec.Summary.TurnErrors != 0 || rec.Summary.Passed != rec.Load.Started {
			t.Errorf("summary %+v for %d started", rec.Summary, rec.Load.Started)
		}
		if len(rec.Load.Turns) != 2 || rec.Load.Overall.Histogram == "" || len(rec.Load.Thresholds) != 2 {
			t.Errorf("record lacks per-turn stats, histograms or thresholds: %+v", rec.Load)
		}
	}

	merged := filepath.Join(dir, "merged.json")
	junit := filepath.Join(dir, "merged.xml")
	r := evalrun(t, nil, "merge", "--json", merged, "--junit", junit, s0, s1)
	if r.code != 0 || !strings.Contains(r.stdout, "merged from 2 runs") {
		t.Fatalf("merge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	m := readLoad(t, merged)
	if m.Load.Started != a.Load.Started+b.Load.Started || m.Load.Overall.Count != a.Load.Overall.Count+b.Load.Overall.Count ||
		len(m.Load.Shards) != 2 || len(m.Load.Thresholds) != 2 {
		t.Errorf("merged %+v from %+v and %+v", m.Load, a.Load, b.Load)
	}
	validateJUnit(t, junit)

	// A threshold crossed at merge time fails the merge.
	r = evalrun(t, nil, "merge", "--json", filepath.Join(dir, "m2.json"), "--threshold", "turn_latency.max<1us", s0, s1)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL") {
		t.Errorf("merge with a crossed threshold: exit %d\n%s", r.code, r.stdout)
	}

	// report prints the same record again, with the same verdict.
	r = evalrun(t, nil, "report", merged)
	if r.code != 0 || !strings.Contains(r.stdout, "all turns") || !strings.Contains(r.stdout, "dropped==0") {
		t.Errorf("report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestLoadUsageErrors(t *testing.T) {
	p := writeSuite(t, loadSuite)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"load", p}, "say how much load"},
		{[]string{"load", "--rate", "5", p}, "say how long"},
		{[]string{"load", "--rate", "5", "--vus", "2", "--duration", "1s", p}, "exclude each other"},
		{[]string{"load", "--rate", "5", "--duration", "1s", "--threshold", "turn_latency.p95=>2s", p}, `unknown operator "=>"`},
		{[]string{"load", "--rate", "5", "--duration", "1s", "--threshold", "turn_latency.p95<2", p}, "add a unit"},
		{[]string{"load", "--stage", "30s", "--duration", "1s", p}, "DURATION:TARGET"},
		{[]string{"load", "--rate", "5", "--duration", "1s", "--shard", "2/2", p}, "0 <= K < N"},
		{[]string{"load", "--rate", "5", "--duration", "1s", "--shard", "0/4000000000", p}, "want N at most 10000"},
		{[]string{"merge", "--json", "x.json"}, "at least one record"},
		{[]string{"report", "README.md"}, "not an evalrun JSON record"},
	} {
		r := evalrun(t, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestLoadThresholdCrossedExits1(t *testing.T) {
	p := writeSuite(t, loadSuite+"thresholds: [\"turn_latency.max < 1us\"]\n")
	r := evalrun(t, nil, "load", "--vus", "2", "--duration", "300ms", p)
	if r.code != 1 || !strings.Contains(r.stdout, "turn_latency.max < 1us") || !strings.Contains(r.stdout, "FAIL") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestLoadFlagsWinOverTheSuite(t *testing.T) {
	p := writeSuite(t, loadSuite+"load: {rate: 5, stages: [\"1s:50\"], duration: 1s, grace: 5s}\n")
	js := filepath.Join(t.TempDir(), "r.json")
	r := evalrun(t, nil, "load", "--rate", "8", "--json", js, p)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rec struct {
		Load struct {
			Rate       float64 `json:"rate"`
			Stages     []any   `json:"stages"`
			TargetRate float64 `json:"target_rate"`
			GraceMS    float64 `json:"grace_ms"`
		} `json:"load"`
	}
	if err := json.Unmarshal([]byte(read(t, js)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Load.Rate != 8 || len(rec.Load.Stages) != 0 || rec.Load.TargetRate != 8 || rec.Load.GraceMS != 5000 {
		t.Errorf("--rate 8 must replace the suite's rate and stages and keep its grace: %+v", rec.Load)
	}
}

// Settings that cannot be played are usage errors (exit 2), found before
// anything is sent.
func TestLoadUnplayableSettingsAreUsageErrors(t *testing.T) {
	skipped := strings.Replace(loadSuite, "  - name: two turns\n", "  - name: two turns\n    skip: not today\n", 1)
	tests := []struct {
		name, suite string
		args        []string
		want        string
	}{
		{"think time in the open model", loadSuite, []string{"--rate", "10", "--duration", "1s", "--think-time", "1s"}, "--think-time paces the closed model"},
		{"every conversation skipped", skipped, []string{"--rate", "10", "--duration", "1s"}, "no conversation to play"},
		{"a cap smaller than the shards", loadSuite, []string{"--rate", "10", "--duration", "1s", "--max-in-flight", "2", "--shard", "3/4"}, "2 conversations in flight (--max-in-flight) cannot be split into 4 shards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evalrun(t, nil, append(append([]string{"load", "--no-progress"}, tt.args...), writeSuite(t, tt.suite))...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want 2 with %q\n%s%s", r.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

// TestLoadFlagsReachTheWorkload: every workload flag given on the command
// line reaches load.Flags, and one not given stays unset, so that the
// suites' value holds (the rules are load's: see load/workload_test.go).
func TestLoadFlagsReachTheWorkload(t *testing.T) {
	parse := func(args ...string) load.Flags {
		t.Helper()
		o := loadFlags{set: map[string]bool{}}
		fs := loadFlagSet(&o)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
		return o.flags()
	}
	if got := parse("--json", "x.json"); !reflect.DeepEqual(got, load.Flags{}) {
		t.Errorf("no workload flag given: %+v", got)
	}
	got := parse("--rate", "8", "--vus", "2", "--duration", "3s", "--stage", "1s:5", "--stage", "2s:0",
		"--think-time", "1s", "--max-in-flight", "4", "--grace", "0s")
	want := load.Flags{Rate: new(8.0), VUs: new(2), Duration: new(3 * time.Second), Stages: []string{"1s:5", "2s:0"},
		ThinkTime: new(time.Second), MaxInFlight: new(4), Grace: new(time.Duration(0))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", describeFlags(got), describeFlags(want))
	}
}

func describeFlags(f load.Flags) string {
	deref := func(p any) any {
		if v := reflect.ValueOf(p); !v.IsNil() {
			return v.Elem().Interface()
		}
		return nil
	}
	return fmt.Sprintf("rate %v vus %v duration %v stages %q think %v cap %v grace %v", deref(f.Rate), deref(f.VUs),
		deref(f.Duration), f.Stages, deref(f.ThinkTime), deref(f.MaxInFlight), deref(f.Grace))
}

// TestLoadOptionsWholeAndPart: options returns the whole test, the same on
// every shard, and this process's part of it.
func TestLoadOptionsWholeAndPart(t *testing.T) {
	ss, err := suites.Load(writeSuite(t, loadSuite+"load: {rate: 20, max_in_flight: 5, duration: 1s}\n"), suites.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := &loadFlags{set: map[string]bool{"grace": true}, grace: 2 * time.Second, shard: "3/4"}
	whole, part, err := o.options(ss)
	if err != nil {
		t.Fatal(err)
	}
	if w := (load.Options{Rate: 20, MaxInFlight: 5, Duration: time.Second, Grace: 2 * time.Second}); !reflect.DeepEqual(whole, w) {
		t.Errorf("whole %+v, want %+v", whole, w)
	}
	if p := (load.Options{Rate: 5, MaxInFlight: 1, Duration: time.Second, Grace: 2 * time.Second, Slice: &load.Slice{K: 3, N: 4, Rate: 20}}); !reflect.DeepEqual(part, p) {
		t.Errorf("part %+v, want %+v", part, p)
	}
	o.shard = ""
	if whole, part, err := o.options(ss); err != nil || !reflect.DeepEqual(whole, part) {
		t.Errorf("without --shard: whole %+v, part %+v, %v", whole, part, err)
	}
}

// Conversations the grace period cuts short did not pass: without
// thresholds the run fails, and the pass rate counts them.
func TestLoadUnfinishedConversationsDidNotPass(t *testing.T) {
	p := writeSuite(t, strings.Replace(loadSuite, `base_url: "sim"`, `base_url: "sim?latency=400ms"`, 1))
	js := filepath.Join(t.TempDir(), "r.json")
	r := evalrun(t, nil, "load", "--no-progress", "--rate", "10", "--duration", "300ms", "--grace", "200ms", "--json", js, p)
	var rec struct {
		Summary struct {
			Passed, Unfinished int
			PassRate           float64 `json:"pass_rate"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(read(t, js)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Summary.Unfinished == 0 || rec.Summary.PassRate != 0 || r.code != 1 {
		t.Errorf("exit %d, summary %+v: want unfinished conversations, pass rate 0 and exit 1\n%s%s",
			r.code, rec.Summary, r.stdout, r.stderr)
	}
}

// A rate_limit below the load asked for holds requests back: in the open
// model that shows in the latency, not in the service time.
func TestLoadRateLimitWaitsShowInLatency(t *testing.T) {
	suite := strings.Replace(loadSuite, `provider: {type: opencx, base_url: "sim"}`,
		`provider: {type: opencx, base_url: "sim", rate_limit: 20/s}`, 1)
	js := filepath.Join(t.TempDir(), "r.json")
	// 10 conversations of 3 requests in 1 s is 30/s against a limit of 20/s.
	r := evalrun(t, nil, "load", "--no-progress", "--rate", "10", "--duration", "1s", "--grace", "10s", "--json", js, writeSuite(t, suite))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rec struct {
		Summary struct {
			Passed  int
			Latency struct {
				Max float64 `json:"max"`
			} `json:"latency_ms"`
			Service struct {
				Max float64 `json:"max"`
			} `json:"service_latency_ms"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(read(t, js)), &rec); err != nil {
		t.Fatal(err)
	}
	// The limiter lets 20 requests through per second with no burst to
	// spare, so the last of 30 wait about half a second.
	if s := rec.Summary; s.Passed != 10 || s.Latency.Max < 200 || s.Service.Max > s.Latency.Max/2 {
		t.Errorf("passed %d, latency max %v ms, service max %v ms: want every conversation passed, waits in latency only", s.Passed, s.Latency.Max, s.Service.Max)
	}
}

// A load record cannot be regraded, so evalrun load keeps no replies for
// one: its sampled failures say what came back (reply), but have no
// observed fields and no final state, which a play would otherwise hold for
// as long as its conversation is in flight.
func TestLoadSamplesKeepNoObservedReplies(t *testing.T) {
	p := writeSuite(t, strings.Replace(loadSuite, "{contains: business days}", "{contains: never said}", 1)+
		"    final: {status: closed_resolved}\n")
	js := filepath.Join(t.TempDir(), "r.json")
	r := evalrun(t, nil, "load", "--no-progress", "--vus", "1", "--duration", "200ms", "--json", js, p)
	var rec struct {
		Conversations []struct {
			Status string
			State  json.RawMessage
			Turns  []struct {
				Reply    string
				Observed json.RawMessage
			}
		}
	}
	if err := json.Unmarshal([]byte(read(t, js)), &rec); err != nil {
		t.Fatal(err)
	}
	if r.code != 1 || len(rec.Conversations) == 0 {
		t.Fatalf("exit %d, %d sampled: want failures sampled\n%s%s", r.code, len(rec.Conversations), r.stdout, r.stderr)
	}
	for _, c := range rec.Conversations {
		if c.Status != "failed" || len(c.Turns) != 2 {
			t.Fatalf("sampled %s with %d turns, want failed with 2", c.Status, len(c.Turns))
		}
		if c.State != nil {
			t.Errorf("sampled state %s, want none", c.State)
		}
		for i, tu := range c.Turns {
			if tu.Reply == "" || tu.Observed != nil {
				t.Errorf("turn %d: reply %q, observed %s: want the reply's text and no observed", i+1, tu.Reply, tu.Observed)
			}
		}
	}
}
