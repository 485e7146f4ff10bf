package load

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// latencies returns n latencies around median, with a long tail.
func latencies(rng *rand.Rand, n int, median time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(float64(median) * math.Exp(rng.NormFloat64()*0.8))
	}
	return out
}

func TestHistogramsEncodeDecodeMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := newMetric()
	parts := []*metric{newMetric(), newMetric(), newMetric()}
	for i, d := range latencies(rng, 30000, 200*time.Millisecond) {
		lateness := time.Duration(rng.IntN(int(50 * time.Millisecond)))
		all.add(d, lateness)
		parts[i%len(parts)].add(d, lateness)
	}
	want, err := Stats(0, all.count, all.errors, all.co, all.service)
	if err != nil {
		t.Fatal(err)
	}

	var encoded []results.TurnStats
	for _, m := range parts {
		ts, err := Stats(0, m.count, m.errors, m.co, m.service)
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, ts)
	}
	got, err := mergeStats(0, encoded)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != want.Count || got.LatencyMS != want.LatencyMS || got.ServiceMS != want.ServiceMS {
		t.Errorf("merged parts:\n got %d %+v %+v\nwant %d %+v %+v", got.Count, got.LatencyMS, got.ServiceMS, want.Count, want.LatencyMS, want.ServiceMS)
	}
	if got.Histogram != want.Histogram || got.Service != want.Service {
		t.Error("the merged histograms encode differently from the one histogram of all values")
	}
	co, service, err := Histograms(got)
	if err != nil {
		t.Fatal(err)
	}
	if !co.Equals(all.co) || !service.Equals(all.service) {
		t.Error("decoded merged histograms differ from the one histogram of all values")
	}
	if want.LatencyMS.P999 < want.LatencyMS.P99 || want.LatencyMS.P99 <= want.ServiceMS.P50 {
		t.Errorf("implausible percentiles %+v", want.LatencyMS)
	}
	if _, _, err := Histograms(results.TurnStats{Histogram: "bm90IGEgaGlzdG9ncmFt"}); err == nil {
		t.Error("decoding garbage: no error")
	}
	if co, service, err := Histograms(results.TurnStats{}); err != nil || co.TotalCount() != 0 || service.TotalCount() != 0 {
		t.Errorf("decoding no histogram: %v, want two empty ones", err)
	}
}

func TestHistogramPercentilesAreExactTo3Digits(t *testing.T) {
	ds := latencies(rand.New(rand.NewPCG(3, 4)), 10000, 150*time.Millisecond)
	m := newMetric()
	for _, d := range ds {
		m.add(d, 0)
	}
	got := latency.Percentiles(m.service)
	slices.Sort(ds)
	// The value at the standard rank for q: ceil(q/100·n), at least the first.
	at := func(q float64) float64 {
		rank := min(max(int(math.Ceil(q*float64(len(ds))/100)), 1), len(ds))
		return ms(ds[rank-1])
	}
	want := results.Percentiles{P50: at(50), P90: at(90), P99: at(99), P999: at(99.9), Max: at(100)}
	for _, c := range [][2]float64{{got.P50, want.P50}, {got.P90, want.P90}, {got.P99, want.P99}, {got.P999, want.P999}, {got.Max, want.Max}} {
		if math.Abs(c[0]-c[1]) > c[1]*0.001+0.001 {
			t.Errorf("histogram says %gms, exact %gms: more than 0.1%% apart", c[0], c[1])
		}
	}
}

// fixture is a suite of one conversation for records built by hand.
var fixture = &suites.Suite{
	Name: "fixture", File: "fixture.yaml", Provider: suites.Provider{Type: suites.OpenCX},
	Conversations: []*suites.Conversation{{Name: "three turns", Pos: suites.Pos{Line: 7}}},
}

// outcomes returns n plays with every kind of result in them.
func outcomes(rng *rand.Rand, n int) []runner.Outcome {
	out := make([]runner.Outcome, n)
	for i := range out {
		o := runner.Outcome{Status: results.Passed, Session: time.Duration(rng.IntN(int(30 * time.Millisecond)))}
		for _, d := range latencies(rng, 3, 100*time.Millisecond) {
			o.Turns = append(o.Turns, runner.TurnOutcome{Latency: d})
			o.Duration += d
		}
		switch i % 10 {
		case 3:
			o.Status = results.Failed
			o.Turns[1].Failed = true
		case 5:
			o.Status, o.Reason = results.Errored, "turn 2: opencx: send: HTTP 503"
			o.Turns = o.Turns[:2]
			o.Turns[1].Errored = true
		case 7:
			o.Status, o.Reason = results.Errored, "opening the session: opencx: create session: HTTP 502"
			o.Turns = nil
		case 9:
			o.Status, o.Reason = results.Unfinished, "stopped during turn 3: load: grace period over"
			o.Turns[2].Errored = true
		}
		out[i] = o
	}
	return out
}

// recordOf builds the record of an open run that played os.
func recordOf(t *testing.T, runID string, os []runner.Outcome, lateness []time.Duration) *results.Run {
	t.Helper()
	pl, err := Options{Rate: 100, Duration: 10 * time.Second, MaxInFlight: 50}.plan()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	e := &engine{plan: pl, rec: newRecorder(pl.SampleLimit, pl.open, now)}
	c := fixture.Conversations[0]
	for i := range os {
		e.rec.record(fixture, c, &os[i], lateness[i], now, now.Add(os[i].Duration))
		e.started.Add(1)
		if lateness[i] > LateAfter {
			e.late.Add(1)
		}
	}
	e.dropped.Store(int64(len(os) / 7))
	run, err := e.record([]*suites.Suite{fixture}, runID, now, 11*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// roundTrip passes a record through its JSON form, as merge does with files.
func roundTrip(t *testing.T, r *results.Run) *results.Run {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out results.Run
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestRecordCounts(t *testing.T) {
	os := outcomes(rand.New(rand.NewPCG(5, 6)), 100)
	run := recordOf(t, "r1", os, make([]time.Duration, len(os)))
	s, l := run.Summary, run.Load
	// Per 10: 7 passed, 1 failed, 2 errored (at turn 2, at the session),
	// 1 unfinished in turn 3 (two turns count).
	if s.Conversations != 100 || s.Passed != 60 || s.Failed != 10 || s.Errored != 20 || s.Unfinished != 10 {
		t.Errorf("summary %+v", s)
	}
	if s.Turns != 70*3+10*2+10*2 || s.TurnErrors != 10 || *s.Dropped != 14 || l.Dropped != 14 {
		t.Errorf("turns %d, errors %d, dropped %d/%d", s.Turns, s.TurnErrors, *s.Dropped, l.Dropped)
	}
	// 10 errored turns and 10 failed session creations, of 250 turns and
	// 100 session requests.
	// Unfinished conversations did not pass: 60 of 100.
	if *s.ErrorRate != 20.0/350 || *s.PassRate != 60.0/100 {
		t.Errorf("error rate %g, pass rate %g", *s.ErrorRate, *s.PassRate)
	}
	if len(l.Turns) != 3 || l.Turns[0].Count != 90 || l.Turns[1].Count != 90 || l.Turns[1].Errors != 10 || l.Turns[2].Count != 70 {
		t.Errorf("per turn: %+v", l.Turns)
	}
	if l.Session.Count != 100 || l.Session.Errors != 10 || l.Conversation.Count != 90 || l.Conversation.Errors != 20 {
		t.Errorf("session %d/%d, conversation %d/%d", l.Session.Count, l.Session.Errors, l.Conversation.Count, l.Conversation.Errors)
	}
	if len(run.Conversations) != DefaultSampleLimit {
		t.Errorf("%d sampled conversations, want %d", len(run.Conversations), DefaultSampleLimit)
	}
	for _, c := range run.Conversations {
		if c.Status == results.Passed || c.Reason == "" || c.Name != "three turns" || c.Line != 7 {
			t.Errorf("sample %+v", c)
		}
		if c.Status == results.Failed && c.Reason != "a check of turn 2 did not hold" {
			t.Errorf("failed sample's reason %q", c.Reason)
		}
	}
	if s.LatencyMS != *s.ServiceLatencyMS {
		t.Errorf("nothing was late, yet latency %+v differs from service latency %+v", s.LatencyMS, *s.ServiceLatencyMS)
	}
}

func TestMergeEqualsOneRecordOfBoth(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	os := outcomes(rng, 400)
	late := make([]time.Duration, len(os))
	for i := range late {
		if i%3 == 0 {
			late[i] = time.Duration(rng.IntN(int(2 * time.Second)))
		}
	}
	a := recordOf(t, "shard-a", os[:150], late[:150])
	b := recordOf(t, "shard-b", os[150:], late[150:])
	both := recordOf(t, "both", os, late)

	got, err := Merge(roundTrip(t, a), roundTrip(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.LatencyMS == *got.Summary.ServiceLatencyMS {
		t.Error("late starts, yet the latency equals the service latency")
	}

	// The whole summary matches, rates included, but for dropped: each
	// shard's fixture drops a seventh of its own.
	gs, ws := got.Summary, both.Summary
	if *gs.Dropped != a.Load.Dropped+b.Load.Dropped {
		t.Errorf("dropped %d, want %d", *gs.Dropped, a.Load.Dropped+b.Load.Dropped)
	}
	gs.Dropped, ws.Dropped = nil, nil
	if !reflect.DeepEqual(gs, ws) {
		t.Errorf("merged summary\n%s\nwant\n%s", js(gs), js(ws))
	}
	gl, wl := *got.Load, *both.Load
	if !reflect.DeepEqual(gl.Turns, wl.Turns) || !reflect.DeepEqual(gl.Overall, wl.Overall) ||
		!reflect.DeepEqual(gl.Conversation, wl.Conversation) || !reflect.DeepEqual(gl.Session, wl.Session) {
		t.Errorf("merged metrics\n%s\nwant\n%s", js(gl.Overall), js(wl.Overall))
	}
	if gl.Started != wl.Started || gl.Late != wl.Late {
		t.Errorf("started %d late %d, want %d %d", gl.Started, gl.Late, wl.Started, wl.Late)
	}
	if math.Abs(gl.AchievedRate-wl.AchievedRate) > 1e-9 || math.Abs(gl.Throughput-wl.Throughput) > 1e-9 {
		t.Errorf("achieved rate %g, throughput %g; want %g, %g", gl.AchievedRate, gl.Throughput, wl.AchievedRate, wl.Throughput)
	}
	// Two shards of 100/s with a cap of 50 each are 200/s with a cap of 100.
	if gl.Rate != 200 || gl.TargetRate != 200 || gl.MaxInFlight != 100 || gl.DurationMS != 10000 || gl.Model != "open" {
		t.Errorf("merged workload %+v", gl)
	}
	if !reflect.DeepEqual(gl.Shards, []string{"shard-a", "shard-b"}) || !strings.HasPrefix(got.RunID, "merged-") {
		t.Errorf("shards %v, run id %q", gl.Shards, got.RunID)
	}
	if len(got.Suites) != 1 || len(got.Conversations) != 2*DefaultSampleLimit || len(gl.Thresholds) != 0 {
		t.Errorf("%d suites, %d sampled conversations, %d thresholds", len(got.Suites), len(got.Conversations), len(gl.Thresholds))
	}

	// Merging is associative: a merged record merges again.
	c := recordOf(t, "shard-c", os[:10], late[:10])
	abc, err := Merge(got, c)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(abc.Load.Shards, []string{"shard-a", "shard-b", "shard-c"}) || abc.Load.Started != 410 {
		t.Errorf("shards %v, started %d", abc.Load.Shards, abc.Load.Started)
	}
}

func TestMergeRefuses(t *testing.T) {
	open := recordOf(t, "a", outcomes(rand.New(rand.NewPCG(1, 1)), 5), make([]time.Duration, 5))
	closed := roundTrip(t, open)
	closed.Load.Model = "closed"
	notLoad := roundTrip(t, open)
	notLoad.Load = nil
	badHist := roundTrip(t, open)
	badHist.RunID = "b"
	badHist.Load.Overall.Histogram = "!!"
	merged, err := Merge(open, roundTrip(t, recordOf(t, "c", outcomes(rand.New(rand.NewPCG(2, 2)), 5), make([]time.Duration, 5))))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		runs []*results.Run
		want string
	}{
		{"nothing", nil, "no records"},
		{"not a load run", []*results.Run{open, notLoad}, "record 2 (run a) is not a load run"},
		{"models differ", []*results.Run{open, closed}, "closed-model run"},
		{"bad histogram", []*results.Run{open, badHist}, "decode histogram"},
		{"the same record twice", []*results.Run{open, roundTrip(t, open)}, "records 1 and 2 both hold run a"},
		{"a shard and a merge that holds it", []*results.Run{merged, open}, "records 1 and 2 both hold run a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Merge(c.runs...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one that says %q", err, c.want)
			}
		})
	}
}

func js(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// BenchmarkLoadRecord measures recording one played conversation of three
// turns: what every conversation of a load run costs the recorder.
func BenchmarkLoadRecord(b *testing.B) {
	os := outcomes(rand.New(rand.NewPCG(9, 9)), 1000)
	for i := range os {
		os[i].Status, os[i].Turns = results.Passed, os[i].Turns[:min(len(os[i].Turns), 3)]
		for j := range os[i].Turns {
			os[i].Turns[j].Errored = false
		}
	}
	c := fixture.Conversations[0]
	now := time.Now()
	b.Run("serial", func(b *testing.B) {
		r := newRecorder(DefaultSampleLimit, true, now)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			o := &os[i%len(os)]
			r.record(fixture, c, o, time.Duration(i%1000)*time.Microsecond, now, now)
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		r := newRecorder(DefaultSampleLimit, true, now)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				o := &os[i%len(os)]
				r.record(fixture, c, o, time.Duration(i%1000)*time.Microsecond, now, now)
				i++
			}
		})
	})
}

// A wait for provider.rate_limit holds a request past when it was due: in
// the open model it counts in the corrected latency of that request and of
// every later one of the conversation, never in service time.
func TestRecordPacedWaitsCountFromTheDueTime(t *testing.T) {
	ms := time.Millisecond
	o := runner.Outcome{
		Status: results.Passed, Session: 5 * ms, SessionPaced: 100 * ms, Duration: time.Second,
		Turns: []runner.TurnOutcome{{Latency: 10 * ms}, {Latency: 20 * ms, Paced: 300 * ms}, {Latency: 30 * ms}},
	}
	p99 := func(h *hdrhistogram.Histogram) time.Duration {
		return time.Duration(latency.At(h, 99)) * time.Microsecond
	}
	for _, open := range []bool{true, false} {
		r := newRecorder(DefaultSampleLimit, open, time.Now())
		r.record(fixture, fixture.Conversations[0], &o, 7*ms, time.Now(), time.Now())
		wantCO := []time.Duration{10*ms + 107*ms, 20*ms + 407*ms, 30*ms + 407*ms}
		wantSession := 5*ms + 107*ms
		if !open {
			wantCO = []time.Duration{17 * ms, 27 * ms, 37 * ms}
			wantSession = 12 * ms
		}
		for i, m := range r.turns {
			if got := p99(m.co); !near(got, wantCO[i]) {
				t.Errorf("open %v, turn %d: corrected %v, want %v", open, i+1, got, wantCO[i])
			}
			if got, want := p99(m.service), o.Turns[i].Latency; !near(got, want) {
				t.Errorf("open %v, turn %d: service %v, want %v", open, i+1, got, want)
			}
		}
		if got := p99(r.session.co); !near(got, wantSession) {
			t.Errorf("open %v, session: corrected %v, want %v", open, got, wantSession)
		}
	}
}

// near allows for the histograms' 3 significant digits.
func near(got, want time.Duration) bool {
	d := got - want
	return d >= -want/500 && d <= want/500
}
