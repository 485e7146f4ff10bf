package load_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// stoppingPlayer passes every conversation; at its stopAt-th play it
// cancels the run's context, as a SIGTERM to a drained node's shard would.
// With hold, every play waits for the context to end.
type stoppingPlayer struct {
	stopAt int64
	hold   bool
	cancel context.CancelCauseFunc
	plays  atomic.Int64
}

func (p *stoppingPlayer) Play(ctx context.Context, _ *suites.Suite, _ *suites.Conversation) runner.Outcome {
	if p.plays.Add(1) == p.stopAt {
		p.cancel(errors.New("terminate"))
	}
	if p.hold {
		<-ctx.Done()
		return runner.Outcome{Status: results.Unfinished, Reason: "stopped"}
	}
	return runner.Outcome{Status: results.Passed}
}

// A shard stopped half-way counts every start of its window it never made
// as dropped, those due after the stop too, and says how long it ran.
func TestStoppedRunCountsWhatItNeverStarted(t *testing.T) {
	ss := []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "c"}}}}
	for _, c := range []struct {
		name string
		opts load.Options
		hold bool
	}{
		{"on schedule", load.Options{Rate: 100, Duration: 10 * time.Second}, false},
		{"waiting for a slot", load.Options{Rate: 100, Duration: 10 * time.Second, MaxInFlight: 2}, true},
		{"ramp", load.Options{Rate: 50, Stages: []load.Stage{{Duration: 10 * time.Second, Target: 150}}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			p := &stoppingPlayer{stopAt: 2, hold: c.hold, cancel: cancel}
			r, err := load.Run(ctx, p, ss, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			const planned = 1000 // 10s at 100/s, or its average on the ramp
			l, s := r.Load, r.Summary
			if l.Started < 2 || l.Started+l.Dropped != planned || *s.Dropped != l.Dropped || s.Conversations != l.Started {
				t.Errorf("started %d, dropped %d (summary %d), conversations %d; want started + dropped = the %d planned", l.Started, l.Dropped, *s.Dropped, s.Conversations, planned)
			}
			if r.Interrupted != "terminate" || r.Test == nil || r.Test.RanMS <= 0 || r.Test.RanMS > r.DurationMS {
				t.Errorf("interrupted %q, test %+v, duration %gms; want the cause and how long it ran", r.Interrupted, r.Test, r.DurationMS)
			}
		})
	}
}

// A closed run stopped early drops nothing: its count of conversations is
// not planned, only its duration; it says how long it ran.
func TestStoppedClosedRun(t *testing.T) {
	ss := []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "c"}}}}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	p := &stoppingPlayer{stopAt: 5, cancel: cancel}
	r, err := load.Run(ctx, p, ss, load.Options{VUs: 2, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Load.Dropped != 0 || r.Load.Started < 5 || r.Interrupted != "terminate" || r.Test.RanMS <= 0 {
		t.Errorf("started %d, dropped %d, interrupted %q, test %+v", r.Load.Started, r.Load.Dropped, r.Interrupted, r.Test)
	}
}
