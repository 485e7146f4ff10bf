package load_test

import (
	"context"
	"errors"
	"github.com/evalrun/evalrun/internal/testtool"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

func TestParseStartAt(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 250_000_000, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2026-12-01T10:30:00Z", time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)},
		{"2026-12-01T11:30:00+01:00", time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)},
		{"2026-12-01T10:30:00.123456789Z", time.Date(2026, 12, 1, 10, 30, 0, 123456789, time.UTC)},
		// In the past, up to a day: a shard started late begins at once.
		{"2026-12-01T09:59:00Z", time.Date(2026, 12, 1, 9, 59, 0, 0, time.UTC)},
		{"2026-11-30T10:00:01Z", time.Date(2026, 11, 30, 10, 0, 1, 0, time.UTC)},
		// From now, rounded up to a whole second.
		{"+30s", time.Date(2026, 12, 1, 10, 0, 31, 0, time.UTC)},
		{"+2m", time.Date(2026, 12, 1, 10, 2, 1, 0, time.UTC)},
		{"+0s", time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC)},
		{"+24h", time.Date(2026, 12, 2, 10, 0, 1, 0, time.UTC)}, // a day, rounded up
	} {
		got, err := load.ParseStartAt(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "want an RFC 3339 time"},
		{"10:30", "want an RFC 3339 time"},
		{"2026-12-01T10:30:00", "with its zone"},
		{"2026-12-01 10:30:00Z", "want an RFC 3339 time"},
		{"tomorrow", "want an RFC 3339 time"},
		{"+", "want +D"},
		{"+30", "want +D"},
		{"+-5s", "want +D"},
		{"++5s", "want +D"},
		{"+5 s", "want +D"},
		{"2026-12-03T10:00:00Z", "at most 24h0m0s ahead"},
		{"+25h", "at most 24h0m0s ahead"},
		{"2027-12-01T10:30:00Z", "mistyped date or zone"},
		// More than a day ago: a typo, not a late pod.
		{"2026-11-30T10:00:00Z", "at most 24h0m0s ago"},
		{"2020-12-01T10:30:00Z", "mistyped date or zone"},
	} {
		_, err := load.ParseStartAt(c.in, now)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"`+c.in+`"`) {
			t.Errorf("%q: %v, want an error quoting it that says %q", c.in, err, c.want)
		}
	}
}

// outcome is what a Run in a goroutine returned.
type outcome struct {
	run *results.Run
	err error
}

// startRun runs one conversation as opts says, in a goroutine.
func startRun(ctx context.Context, p load.Player, opts load.Options) <-chan outcome {
	ss := []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "c"}}}}
	out := make(chan outcome, 1)
	go func() {
		r, err := load.Run(ctx, p, ss, opts)
		out <- outcome{r, err}
	}()
	return out
}

// A run with a planned start waits on the clock, sending nothing, until
// then; then it plays, and records when it was planned and began.
func TestStartAtWaitsForThePlannedStart(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	planned := now.Add(30 * time.Second)
	clk := testtool.NewClock(now)
	p := &countingPlayer{}
	var started atomic.Int64
	var startedAt atomic.Pointer[time.Time]
	res := startRun(context.Background(), p, load.Options{
		Rate: 100, Duration: 50 * time.Millisecond, StartAt: planned, Clock: clk,
		OnStart: func(at time.Time) { started.Add(1); startedAt.Store(&at) },
	})
	if d := <-clk.Waits; d != 30*time.Second {
		t.Errorf("waited %s, want the 30s to the planned start", d)
	}
	if n := p.plays.Load(); n != 0 || started.Load() != 0 {
		t.Fatalf("%d plays and %d OnStart calls while waiting for the planned start", n, started.Load())
	}
	// The timer fires 10s early, as after a step of the wall clock: the run
	// waits again for the 10s left, and starts nothing before.
	early := planned.Add(-10 * time.Second)
	clk.Set(early)
	clk.Fire <- early
	if d := <-clk.Waits; d != 10*time.Second {
		t.Errorf("after firing early, waited %s, want the 10s left", d)
	}
	if n := p.plays.Load(); n != 0 {
		t.Fatalf("%d plays before the planned start", n)
	}
	began := planned.Add(2 * time.Millisecond)
	clk.Set(began)
	clk.Fire <- began
	o := <-res
	if o.err != nil {
		t.Fatal(o.err)
	}
	if p.plays.Load() != 5 || o.run.Load.Started != 5 {
		t.Errorf("%d plays, %d started; want the 5 of 50ms at 100/s", p.plays.Load(), o.run.Load.Started)
	}
	tt := o.run.Test
	if tt == nil || tt.PlannedStart == nil || !tt.PlannedStart.Equal(planned) || !tt.Start.Equal(began) || tt.LateMS != 2 || tt.End.Before(tt.Start) || tt.RanMS != 0 {
		t.Fatalf("test %+v; want planned %v, start %v, 2ms late, not cut short", tt, planned, began)
	}
	if started.Load() != 1 || !startedAt.Load().Equal(began) {
		t.Errorf("OnStart called %d times, at %v; want once at %v", started.Load(), startedAt.Load(), began)
	}
}

// A run called after its planned start begins at once and records how late.
func TestStartAtPassedStartsAtOnce(t *testing.T) {
	planned := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := planned.Add(3200 * time.Millisecond)
	clk := testtool.NewClock(now)
	p := &countingPlayer{}
	o := <-startRun(context.Background(), p, load.Options{VUs: 1, Duration: 10 * time.Millisecond, StartAt: planned, Clock: clk})
	if o.err != nil {
		t.Fatal(o.err)
	}
	if len(clk.Waits) != 0 {
		t.Errorf("waited %s for a start already past", <-clk.Waits)
	}
	if tt := o.run.Test; tt.LateMS != 3200 || !tt.Start.Equal(now) || !tt.PlannedStart.Equal(planned) {
		t.Errorf("test %+v; want 3200ms late, started at %v", tt, now)
	}
	if p.plays.Load() == 0 {
		t.Error("nothing played")
	}
}

// Stopped while it waits, a run sends nothing and returns no record.
func TestStartAtWaitInterrupted(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clk := testtool.NewClock(now)
	p := &countingPlayer{}
	ctx, cancel := context.WithCancelCause(context.Background())
	res := startRun(ctx, p, load.Options{Rate: 10, Duration: time.Second, StartAt: now.Add(time.Minute), Clock: clk})
	<-clk.Waits
	cancel(errors.New("terminate"))
	o := <-res
	if o.run != nil || !errors.Is(o.err, load.ErrNotStarted) || !strings.Contains(o.err.Error(), "terminate") {
		t.Errorf("record %v, error %v; want none, and ErrNotStarted with the cause", o.run, o.err)
	}
	if n := p.plays.Load(); n != 0 {
		t.Errorf("%d plays", n)
	}
}

// Without a planned start, the record has none and no lateness.
func TestNoStartAt(t *testing.T) {
	o := <-startRun(context.Background(), &countingPlayer{}, load.Options{VUs: 1, Duration: 10 * time.Millisecond})
	if o.err != nil {
		t.Fatal(o.err)
	}
	tt := o.run.Test
	if tt == nil || tt.PlannedStart != nil || tt.LateMS != 0 || tt.Start.IsZero() || !tt.Start.Equal(o.run.StartedAt) || tt.Version == "" || tt.ID == "" || tt.Workload != "closed 1 vus for 10ms, grace 30s" {
		t.Errorf("test %+v", tt)
	}
}
