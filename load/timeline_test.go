package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// The coarse buckets are HdrHistogram's at two digits: every value lies in
// the bucket whose top stands for it, under 1% above it.
func TestCoarseBuckets(t *testing.T) {
	last := -1
	for v := int64(1); v < latency.Highest; v += 1 + v/300 {
		i := coarseIndex(v)
		if i < last {
			t.Fatalf("coarseIndex(%d) = %d, below coarseIndex of a smaller value (%d)", v, i, last)
		}
		last = i
		top := coarseTop(i)
		if top < v || float64(top-v) > float64(v)/128 {
			t.Fatalf("value %d: top of its bucket %d is %d", v, i, top)
		}
		if coarseIndex(top) != i {
			t.Fatalf("the top %d of bucket %d is in bucket %d", top, i, coarseIndex(top))
		}
	}
	if top := coarseTop(coarseIndex(latency.Highest)); top != latency.Highest {
		t.Errorf("the top of the highest bucket is %d, want the histograms' highest %d", top, latency.Highest)
	}
}

// synthetic is a conversation for the recorder: when it began, and
// its turns' latencies (a negative one errored).
type synthetic struct {
	began time.Duration
	turns []time.Duration
	// sessionFailed: the provider could not open the session, after session.
	sessionFailed bool
	session       time.Duration
	lateness      time.Duration
}

func (p synthetic) outcome() runner.Outcome {
	o := runner.Outcome{Status: results.Passed, Session: p.session}
	if p.sessionFailed {
		o.Status = results.Errored
		return o
	}
	for _, l := range p.turns {
		t := runner.TurnOutcome{Latency: l}
		if l < 0 {
			t.Latency, t.Errored = -l, true
			o.Status = results.Errored
		}
		o.Turns = append(o.Turns, t)
		o.Duration += t.Latency
	}
	return o
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// recordPlays builds the record of an open run that began at start and
// played ps for wall, through the engine's assembly, as Run does; tune,
// when set, changes the timeline's settings first.
func recordPlays(t testing.TB, runID string, start time.Time, wall time.Duration, ps []synthetic, tune func(*timeline)) *results.Run {
	t.Helper()
	pl, err := Options{Rate: 100, Duration: wall}.plan()
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{plan: pl, rec: newRecorder(pl.SampleLimit, pl.open, start)}
	if tune != nil {
		tune(&e.rec.timeline)
	}
	s := opencxFixture()
	for _, p := range ps {
		o := p.outcome()
		began := start.Add(p.began)
		e.rec.record(s, s.Conversations[0], &o, p.lateness, began, began.Add(o.Session+o.Duration))
		e.started.Add(1)
	}
	run, err := e.record([]*suites.Suite{s}, runID, start, wall, 0)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// opencxFixture is the test suite with a provider that opens sessions, so
// that failed session creations count as errors.
func opencxFixture() *suites.Suite {
	s := *fixture
	s.Provider.Type = suites.OpenCX
	return &s
}

// A service that freezes for 2 s: every conversation that begins in the
// freeze, or just before it, has its reply only when it ends. The timeline
// shows two intervals in which nothing finished, then the backlog at once,
// slow, while conversations kept beginning.
func TestTimelineShowsAFreeze(t *testing.T) {
	var ps []synthetic
	freezeFrom, freezeTo := 4*time.Second, 6*time.Second
	for at := time.Duration(0); at < 10*time.Second; at += 10 * time.Millisecond {
		reply := 50 * time.Millisecond
		if end := at + reply; end >= freezeFrom && end < freezeTo {
			reply = freezeTo + 20*time.Millisecond - at
		}
		ps = append(ps, synthetic{began: at, turns: []time.Duration{reply}})
	}
	// The last replies come after the 10 s of starts, in the grace period.
	run := recordPlays(t, "freeze", t0, 10500*time.Millisecond, ps, nil)
	l := run.Load
	if l.IntervalMS != 1000 || len(l.Timeline) != 11 {
		t.Fatalf("timeline of %d intervals of %gms, want 11 of 1000ms", len(l.Timeline), l.IntervalMS)
	}
	for i, iv := range l.Timeline {
		if want := int64(100) * int64(min(10-i, 1)); iv.StartMS != float64(i)*1000 || iv.Started != want {
			t.Errorf("interval %d: starts at %gms with %d begun, want %dms and %d", i, iv.StartMS, iv.Started, i*1000, want)
		}
		switch i {
		case 4, 5:
			if iv.Turns != 0 || iv.Histogram != "" || iv.LatencyMS != (results.Percentiles{}) {
				t.Errorf("interval %d, in the freeze: %d turns, p99 %gms, want none", i, iv.Turns, iv.LatencyMS.P99)
			}
		case 6:
			if iv.Turns < 200 || iv.LatencyMS.P99 < 1900 || iv.LatencyMS.Max < 2000 {
				t.Errorf("interval 6, after the freeze: %d turns, p99 %gms, max %gms; want the backlog (> 200) and a spike (p99 ≥ 1.9s)", iv.Turns, iv.LatencyMS.P99, iv.LatencyMS.Max)
			}
		default:
			if iv.Turns == 0 || iv.LatencyMS.P99 < 50 || iv.LatencyMS.P99 > 50*1.01 {
				t.Errorf("interval %d: %d turns, p99 %gms, want some at 50ms", i, iv.Turns, iv.LatencyMS.P99)
			}
		}
	}
	checkTotals(t, run)

	// And the report's plot shades it.
	var page bytes.Buffer
	if err := report.HTML(&page, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "no turn finished for 2s") {
		t.Error("the HTML report does not shade the 2s freeze")
	}
}

// checkTotals checks that the timeline adds up to the run's totals.
func checkTotals(t *testing.T, run *results.Run) {
	t.Helper()
	l := run.Load
	var started, turns, errs, latencies int64
	for i, iv := range l.Timeline {
		started += iv.Started
		turns += iv.Turns
		errs += iv.Errors
		h, err := latency.Decode(iv.Histogram)
		if err != nil {
			t.Fatalf("interval %d: %v", i, err)
		}
		latencies += h.TotalCount()
	}
	if started != int64(l.Started) {
		t.Errorf("the timeline has %d conversations begun, the run %d", started, l.Started)
	}
	if turns != l.Overall.Count {
		t.Errorf("the timeline has %d turns, the run %d", turns, l.Overall.Count)
	}
	if want := l.Overall.Errors + l.Session.Errors; errs != want {
		t.Errorf("the timeline has %d errors, the run %d", errs, want)
	}
	co, _, err := Histograms(l.Overall)
	if err != nil {
		t.Fatal(err)
	}
	if latencies != co.TotalCount() {
		t.Errorf("the timeline's histograms hold %d latencies, the run's %d", latencies, co.TotalCount())
	}
}

// longRun is ps over span: a conversation every step of three turns, some
// of which error, and some whose session fails, with latencies over a few
// octaves.
func longRun(span, step time.Duration) []synthetic {
	var ps []synthetic
	for i, at := 0, time.Duration(0); at < span; i, at = i+1, at+step {
		p := synthetic{began: at, session: time.Duration(i%7) * time.Millisecond, lateness: time.Duration(i%5) * time.Millisecond}
		switch {
		case i%97 == 0:
			p.sessionFailed = true
		default:
			for j := range 3 {
				l := time.Duration(20+(i*7919+j*104729)%4000) * time.Millisecond
				if (i+j)%41 == 0 {
					l = -l
				}
				p.turns = append(p.turns, l)
				if l < 0 {
					break
				}
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// A run longer than TimelineLimit intervals widens its timeline by
// doubling, and merging pairs loses nothing: the widened timeline is the
// one a recorder would have kept at that width from the start, and it adds
// up to the run's totals.
func TestTimelineWidensExactly(t *testing.T) {
	span := 3 * time.Hour
	ps := longRun(span, 1700*time.Millisecond)
	run := recordPlays(t, "long", t0, span, ps, nil)
	l := run.Load
	// 3 h: 1 s up to 640 s, then 2, 4, 8, 16 and 32 s (10,800 s in 338).
	if l.IntervalMS != 32000 || len(l.Timeline) != 338 {
		t.Fatalf("timeline of %d intervals of %gms, want 338 of 32s", len(l.Timeline), l.IntervalMS)
	}
	checkTotals(t, run)
	want := recordPlays(t, "long", t0, span, ps, func(tl *timeline) { tl.width = 32 * time.Second }).Load.Timeline
	if !reflect.DeepEqual(l.Timeline, want) {
		t.Error("the widened timeline differs from one kept at 32s from the start")
	}
}

// A day's timeline stays within the bound, in intervals and in memory.
func TestTimelineIsBounded(t *testing.T) {
	tl := newTimeline(t0)
	for at := time.Duration(0); at < 24*time.Hour; at += 100 * time.Millisecond {
		tl.cover(at).lat.add(latency.Micros(time.Duration(1+int64(at)%9973)*time.Millisecond), 1)
	}
	if len(tl.slots) > TimelineLimit || tl.width != 256*time.Second {
		t.Errorf("%d intervals of %v after 24h, want at most %d of 256s", len(tl.slots), tl.width, TimelineLimit)
	}
	// Latencies from 1 ms to 10 s in every interval: about 13 octaves of
	// 128 coarse buckets, 8 bytes each.
	bytes := 0
	for _, s := range tl.slots {
		bytes += 8 * cap(s.lat.counts)
	}
	if limit := TimelineLimit * 13 * 128 * 8 * 2; bytes > limit {
		t.Errorf("the timeline's histograms hold %d bytes, more than %d", bytes, limit)
	}
}

// BenchmarkTimelineMemory reports the heap a day's timeline holds, with
// replies from 1 ms to 10 s (wider than most services spread).
func BenchmarkTimelineMemory(b *testing.B) {
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tl := newTimeline(t0)
		for at := time.Duration(0); at < 24*time.Hour; at += 100 * time.Millisecond {
			tl.cover(at).lat.add(latency.Micros(time.Duration(1+int64(at)%9973)*time.Millisecond), 1)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(tl)
	}
	b.ReportMetric(float64(heap), "heap-B/day")
}

// split deals ps to two shards in turn, the second beginning off after the
// first, and keeps to each shard the plays that begin before its end.
func split(ps []synthetic, off, endA, endB time.Duration) (a, b []synthetic) {
	for i, p := range ps {
		switch {
		case i%2 == 0 && p.began < endA:
			a = append(a, p)
		case i%2 == 1 && p.began >= off && p.began-off < endB:
			p.began -= off
			b = append(b, p)
		}
	}
	return a, b
}

// Shards that began together, or a whole number of intervals apart, merge
// into the timeline one recorder would have kept of all their plays, even
// when one ran long enough to widen its intervals and the other did not.
// (The limit is lowered to 40 intervals so that a 70 s run widens.)
func TestMergedTimelineIsTheCombinedOne(t *testing.T) {
	limit := func(tl *timeline) { tl.limit = 40 }
	all := longRun(70*time.Second, 50*time.Millisecond)
	for _, off := range []time.Duration{0, 4 * time.Second} {
		a, b := split(all, off, 70*time.Second, 20*time.Second)
		ra := recordPlays(t, "a", t0, 70*time.Second, a, limit)
		rb := recordPlays(t, "b", t0.Add(off), 20*time.Second, b, limit)
		if ra.Load.IntervalMS <= rb.Load.IntervalMS {
			t.Fatalf("shard widths %g and %gms, want the longer run's wider", ra.Load.IntervalMS, rb.Load.IntervalMS)
		}
		var both []synthetic
		both = append(both, a...)
		for _, p := range b {
			p.began += off
			both = append(both, p)
		}
		want := recordPlays(t, "ab", t0, 70*time.Second, both, limit)
		got, err := Merge(roundTrip(t, ra), roundTrip(t, rb))
		if err != nil {
			t.Fatal(err)
		}
		if got.Load.IntervalMS != want.Load.IntervalMS || !reflect.DeepEqual(got.Load.Timeline, want.Load.Timeline) {
			t.Errorf("shards %v apart: the merged timeline (%d of %gms) differs from the combined one (%d of %gms)",
				off, len(got.Load.Timeline), got.Load.IntervalMS, len(want.Load.Timeline), want.Load.IntervalMS)
		}
		checkTotals(t, got)
	}
}

// Shards that began part of an interval apart cannot be merged onto one
// grid without splitting intervals: each goes whole to the merged one that
// holds its middle, and the totals stay exact.
func TestMergedTimelineOfShardsOutOfStep(t *testing.T) {
	all := longRun(20*time.Second, 50*time.Millisecond)
	a, b := split(all, 1300*time.Millisecond, 20*time.Second, 15*time.Second)
	ra := recordPlays(t, "a", t0, 20*time.Second, a, nil)
	rb := recordPlays(t, "b", t0.Add(1300*time.Millisecond), 15*time.Second, b, nil)
	got, err := Merge(ra, rb)
	if err != nil {
		t.Fatal(err)
	}
	if got.Load.IntervalMS != 1000 || len(got.Load.Timeline) < 20 {
		t.Errorf("merged timeline of %d intervals of %gms, want 20 or more of 1s", len(got.Load.Timeline), got.Load.IntervalMS)
	}
	checkTotals(t, got)
	// B's interval from 1.3 s to 2.3 s holds its middle, 1.8 s, in the
	// merged interval from 1 s.
	if got, want := got.Load.Timeline[1].Started, ra.Load.Timeline[1].Started+rb.Load.Timeline[0].Started; got != want {
		t.Errorf("merged interval 1 has %d begun, want %d (a's interval 1 and b's first)", got, want)
	}

	// A record without a timeline leaves the merge without one: a timeline
	// short of a shard would show a dip that never happened.
	old := roundTrip(t, rb)
	old.Load.IntervalMS, old.Load.Timeline = 0, nil
	if got, err := Merge(ra, old); err != nil || got.Load.Timeline != nil || got.Load.IntervalMS != 0 {
		t.Errorf("merge with a record without timeline: %v, %d intervals; want none", err, len(got.Load.Timeline))
	}
}

func TestMergeRefusesACorruptTimeline(t *testing.T) {
	good := recordPlays(t, "a", t0, 3*time.Second, longRun(3*time.Second, 100*time.Millisecond), nil)
	other := recordPlays(t, "b", t0, 3*time.Second, longRun(3*time.Second, 100*time.Millisecond), nil)
	busiest := 0
	for i, iv := range other.Load.Timeline {
		if iv.Turns > other.Load.Timeline[busiest].Turns {
			busiest = i
		}
	}
	for _, c := range []struct {
		name  string
		spoil func(l *results.Load)
		want  string
	}{
		{"negative count", func(l *results.Load) { l.Timeline[2].Turns = -1 }, "load.timeline[2]: counts must not be negative"},
		{"no width", func(l *results.Load) { l.IntervalMS = 0 }, "load.interval_ms is 0;"},
		{"negative start", func(l *results.Load) { l.Timeline[1].StartMS = -5 }, "load.timeline[1]: start_ms -5"},
		// Both used to make the merged interval count overflow an int and
		// panic in make.
		{"start far past the run", func(l *results.Load) { l.Timeline[1].StartMS = 1e300 }, "load.timeline[1]: start_ms 1e+300 is not within the run"},
		{"tiny width", func(l *results.Load) { l.IntervalMS = 1e-300 }, "load.interval_ms is 1e-300;"},
		{"width past the run", func(l *results.Load) { l.IntervalMS = 1e300 }, "load.interval_ms is 1e+300;"},
		{"bad histogram", func(l *results.Load) { l.Timeline[3].Histogram = "bm90IGEgaGlzdG9ncmFt" }, "load.timeline[3]: decode histogram"},
		{"more latencies than turns", func(l *results.Load) { l.Timeline[busiest].Turns = 1 }, fmt.Sprintf("load.timeline[%d]: the histogram holds", busiest)},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := roundTrip(t, other)
			c.spoil(bad.Load)
			_, err := Merge(good, bad)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "record 2 (run b)") {
				t.Errorf("err = %v, want one that says %q of record 2", err, c.want)
			}
		})
	}
}

// The bound on a record's interval width (results.CheckTimeline) allows
// the width a recorder starts at.
func TestTimelineFirstWidthMatchesResults(t *testing.T) {
	if got := ms(TimelineInterval); got != results.TimelineFirstWidthMS {
		t.Errorf("TimelineInterval is %v ms, results.TimelineFirstWidthMS %v", got, results.TimelineFirstWidthMS)
	}
}

// BenchmarkTimelineRecord measures writing a full timeline into the record,
// as the end of a long run does: 640 intervals of replies from 1 ms to 10 s,
// and how many bytes their histograms take in the record.
func BenchmarkTimelineRecord(b *testing.B) {
	tl := newTimeline(t0)
	for at := time.Duration(0); at < 640*time.Second; at += 10 * time.Millisecond {
		s := tl.cover(at)
		s.turns++
		s.lat.add(latency.Micros(time.Duration(1+int64(at)%9973)*time.Millisecond), 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, ivs, err := tl.record(640 * time.Second)
		if err != nil {
			b.Fatal(err)
		}
		size := 0
		for _, iv := range ivs {
			size += len(iv.Histogram)
		}
		b.ReportMetric(float64(size), "histogram-B")
	}
}

// The percentiles the recorder writes for an interval are those anyone
// reads from its histogram (report.ReadRecord, merge): latency.Percentiles.
func TestCoarsePercentilesAreTheHistograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 40 {
		var c coarse
		for _, d := range latencies(rng, 1+n*31, time.Duration(1+rng.IntN(5000))*time.Millisecond) {
			c.add(latency.Micros(d), int64(1+rng.IntN(3)))
		}
		c.add(int64(rng.IntN(3000)), 1) // and one of the µs exact below 256
		h := latency.New()
		if err := c.hdr(h); err != nil {
			t.Fatal(err)
		}
		enc, err := latency.Encode(h)
		if err != nil {
			t.Fatal(err)
		}
		back, err := latency.Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.percentiles(), latency.Percentiles(back); got != want {
			t.Fatalf("case %d: coarse percentiles %+v, the histogram's %+v", n, got, want)
		}
	}
}

// report.ReadRecord takes a record with a timeline as the recorder wrote
// it, percentiles and all, and refuses one whose timeline no run could
// have written.
func TestReadRecordChecksTheTimeline(t *testing.T) {
	run := recordPlays(t, "a", t0, 5*time.Second, longRun(5*time.Second, 100*time.Millisecond), nil)
	b, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadRecord(bytes.NewReader(b), "a.json")
	if err != nil {
		t.Fatal(err)
	}
	if back.Load.IntervalMS != run.Load.IntervalMS || !reflect.DeepEqual(back.Load.Timeline, run.Load.Timeline) {
		t.Error("the timeline read back differs from the one written")
	}
	busiest := 0
	for i, iv := range run.Load.Timeline {
		if iv.Turns > run.Load.Timeline[busiest].Turns {
			busiest = i
		}
	}
	for _, c := range []struct {
		name  string
		spoil func(l *results.Load)
		want  string
	}{
		{"negative count", func(l *results.Load) { l.Timeline[2].Errors = -1 }, "load.timeline[2]: counts must not be negative"},
		{"negative width", func(l *results.Load) { l.IntervalMS = -1000 }, "load.interval_ms is -1000"},
		{"negative start", func(l *results.Load) { l.Timeline[1].StartMS = -5 }, "load.timeline[1]: start_ms -5"},
		{"start far past the run", func(l *results.Load) { l.Timeline[1].StartMS = 1e300 }, "load.timeline[1]: start_ms 1e+300 is not within the run"},
		{"tiny width", func(l *results.Load) { l.IntervalMS = 1e-300 }, "load.interval_ms is 1e-300;"},
		{"width past the run", func(l *results.Load) { l.IntervalMS = 1e300 }, "load.interval_ms is 1e+300;"},
		{"bad histogram", func(l *results.Load) { l.Timeline[3].Histogram = "bm90IGEgaGlzdG9ncmFt" }, "load.timeline[3]: decode histogram"},
		{"more latencies than turns", func(l *results.Load) { l.Timeline[busiest].Turns = 1 }, fmt.Sprintf("load.timeline[%d]: the histogram holds", busiest)},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := roundTrip(t, run)
			c.spoil(bad.Load)
			b, err := json.Marshal(bad)
			if err != nil {
				t.Fatal(err)
			}
			_, err = report.ReadRecord(bytes.NewReader(b), "a.json")
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "a.json: corrupt record") {
				t.Errorf("err = %v, want a corrupt record that says %q", err, c.want)
			}
		})
	}
}

// BenchmarkMergeTimelines measures merging the timelines of four shards of
// 640 intervals each, with a few dozen turns in every interval.
func BenchmarkMergeTimelines(b *testing.B) {
	var runs []*results.Run
	for i := range 4 {
		runs = append(runs, recordPlays(b, fmt.Sprint("shard-", i), t0, 640*time.Second, longRun(630*time.Second, 100*time.Millisecond), nil))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := mergeTimelines(runs, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// Merge reads any histogram a timeline may carry into the coarse buckets:
// evalrun's at full precision (a record built by hand, say) from its
// counts, others through latency.Decode; the totals stay exact, the
// percentiles within the coarse buckets, and a value past an hour is
// refused.
func TestMergeCoarsensForeignTimelineHistograms(t *testing.T) {
	vals := latencies(rand.New(rand.NewPCG(5, 6)), 500, 300*time.Millisecond)
	fine, foreign := latency.New(), hdrhistogram.New(1, 10_000_000, 2)
	for _, d := range vals {
		_ = fine.RecordValue(latency.Micros(d))
		_ = foreign.RecordValue(min(latency.Micros(d), 10_000_000))
	}
	huge := hdrhistogram.New(1, 1<<40, 3)
	_ = huge.RecordValue(1 << 39)
	for _, c := range []struct {
		name string
		h    *hdrhistogram.Histogram
		want string
	}{{"evalrun's", fine, ""}, {"another geometry", foreign, ""}, {"past an hour", huge, "values past 1h"}} {
		t.Run(c.name, func(t *testing.T) {
			enc, err := latency.Encode(c.h)
			if err != nil {
				t.Fatal(err)
			}
			run := recordPlays(t, "a", t0, time.Second, nil, nil)
			run.Load.Timeline[0].Turns, run.Load.Timeline[0].Histogram = c.h.TotalCount(), enc
			m, err := Merge(run)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("err = %v, want one that says %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			iv := m.Load.Timeline[0]
			back, err := latency.Decode(iv.Histogram)
			if err != nil {
				t.Fatal(err)
			}
			want := latency.Percentiles(c.h)
			if back.TotalCount() != c.h.TotalCount() || iv.LatencyMS.P99 < want.P99 || iv.LatencyMS.P99 > want.P99*1.01 {
				t.Errorf("merged %d latencies, p99 %gms; want %d, p99 %gms to 1%%", back.TotalCount(), iv.LatencyMS.P99, c.h.TotalCount(), want.P99)
			}
		})
	}
}
