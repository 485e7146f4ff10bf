package load

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// sliceCases are open-model tests to split: constant rates that do and do
// not divide, ramps up, down and by steps, a hold after the stages, and as
// many shards as starts. (More shards than starts are refused: see
// TestShardsNeedAStartEach.)
var sliceCases = []struct {
	name  string
	whole Options
	n     int
}{
	{"3/s for 2s over 4", Options{Rate: 3, Duration: 2 * time.Second}, 4},
	{"40/s for 2s over 4", Options{Rate: 40, Duration: 2 * time.Second}, 4},
	{"0.7/s for 10s over 3", Options{Rate: 0.7, Duration: 10 * time.Second}, 3},
	{"997/s for 1s over 10", Options{Rate: 997, Duration: time.Second}, 10},
	{"a ramp, a step and a fall over 5", Options{Rate: 1, Stages: []Stage{{2 * time.Second, 13}, {0, 5}, {3 * time.Second, 0.5}}}, 5},
	{"a ramp then a hold over 7", Options{Rate: 7, Stages: []Stage{{1500 * time.Millisecond, 50}}, Duration: 4 * time.Second}, 7},
	{"a ramp cut short over 2", Options{Stages: []Stage{{10 * time.Second, 30}}, Duration: 3 * time.Second}, 2},
	{"one start per shard", Options{Rate: 1, Duration: 8 * time.Second}, 8},
	{"one shard", Options{Rate: 5, Duration: time.Second}, 1},
}

// dueTimes lists every due time of p's starts, in its order.
func dueTimes(t *testing.T, p plan) []time.Duration {
	t.Helper()
	var due []time.Duration
	for h := uint64(0); ; h++ {
		wait, stop := p.pace(0, h)
		if stop {
			return due
		}
		if len(due) > 100_000 {
			t.Fatal("no end to the schedule")
		}
		due = append(due, wait)
	}
}

func mustPlan(t *testing.T, o Options) plan {
	t.Helper()
	p, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The shards of a test play its schedule between them: every start of the
// whole exactly once, at its due time, so that whatever the rate, the
// starts due by any moment add up to the whole's.
func TestShardsPartitionTheWholeSchedule(t *testing.T) {
	for _, c := range sliceCases {
		t.Run(c.name, func(t *testing.T) {
			whole := mustPlan(t, c.whole)
			want := dueTimes(t, whole)
			var got []time.Duration
			parts := make([]plan, c.n)
			for k := range c.n {
				o, err := c.whole.Shard(k, c.n)
				if err != nil {
					t.Fatal(err)
				}
				parts[k] = mustPlan(t, o)
				got = append(got, dueTimes(t, parts[k])...)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("the shards' %d due times are not the whole's %d:\n%v\n%v", len(got), len(want), got, want)
			}
			// Counted at any moment, from any start on: a shard stopped there
			// drops what it had due, and the drops add up to the whole's.
			window := whole.window
			for _, at := range []time.Duration{0, 1, window / 3, window / 2, window - 1, window, window + time.Second} {
				var sum int64
				for k, p := range parts {
					n := p.countDue(0, at)
					if from := uint64(n / 2); p.countDue(from, at) != n-int64(from) {
						t.Errorf("shard %d at %s: %d due from its start %d on, want %d", k, at, p.countDue(from, at), from, n-int64(from))
					}
					sum += n
				}
				if w := whole.countDue(0, at); sum != w {
					t.Errorf("due before %s: the shards have %d, the whole %d", at, sum, w)
				}
			}
		})
	}
}

// convPlayer records which conversation it played how often.
type convPlayer struct {
	mu     sync.Mutex
	played map[string]int
}

func (p *convPlayer) Play(_ context.Context, _ *suites.Suite, c *suites.Conversation) runner.Outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.played[c.Name]++
	return runner.Outcome{Status: results.Passed}
}

// Shards run by the engine start, drop, target and play what the whole
// test does, to the conversation: a short window run to its end (without a
// cap every start due in it is made, however late), and a run stopped
// before it began, which drops its whole part.
func TestShardRunsAddUpToTheWhole(t *testing.T) {
	ss := []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "a"}, {Name: "b"}, {Name: "c"}}}}
	stopped, stop := context.WithCancelCause(context.Background())
	stop(errors.New("terminate"))
	for _, c := range []struct {
		name  string
		ctx   context.Context
		whole Options
		n     int
	}{
		{"a short window", context.Background(), Options{Rate: 300, Duration: 20 * time.Millisecond, Grace: -1}, 4},
		{"a short ramp", context.Background(), Options{Rate: 100, Stages: []Stage{{30 * time.Millisecond, 900}}, Grace: -1}, 3},
		{"stopped at once", stopped, Options{Rate: 3, Duration: 2 * time.Second}, 4},
		{"a ramp stopped at once", stopped, Options{Rate: 1, Stages: []Stage{{2 * time.Second, 13}, {3 * time.Second, 2}}}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			type counts struct {
				started, dropped int
				target           float64
				played           map[string]int
			}
			play := func(o Options) counts {
				t.Helper()
				p := &convPlayer{played: map[string]int{}}
				r, err := Run(c.ctx, p, ss, o)
				if err != nil {
					t.Fatal(err)
				}
				return counts{r.Load.Started, r.Load.Dropped, r.Load.TargetRate, p.played}
			}
			want := play(c.whole)
			if want.started+want.dropped == 0 {
				t.Fatal("the whole test plans nothing")
			}
			got := counts{played: map[string]int{}}
			for k := range c.n {
				o, err := c.whole.Shard(k, c.n)
				if err != nil {
					t.Fatal(err)
				}
				part := play(o)
				got.started += part.started
				got.dropped += part.dropped
				got.target += part.target
				for name, n := range part.played {
					got.played[name] += n
				}
			}
			if got.started != want.started || got.dropped != want.dropped || fmt.Sprint(got.played) != fmt.Sprint(want.played) {
				t.Errorf("%d shards: started %d, dropped %d, played %v; the whole: %d, %d, %v",
					c.n, got.started, got.dropped, got.played, want.started, want.dropped, want.played)
			}
			if d := got.target - want.target; d > 1e-9 || d < -1e-9 {
				t.Errorf("%d shards' target rates add up to %g, the whole's is %g", c.n, got.target, want.target)
			}
		})
	}
}

// A slice Shard would not have made is refused before anything starts.
func TestSliceRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"K past N", Options{Rate: 1, Duration: time.Second, Slice: &Slice{K: 2, N: 2, Rate: 2}}, "slice 2/2: want 0 <= K < N"},
		{"stages that are not the part's", Options{Rate: 1, Stages: []Stage{{time.Second, 2}}, Slice: &Slice{K: 0, N: 2, Rate: 2}}, "1 in the part"},
		{"other durations", Options{Rate: 1, Stages: []Stage{{time.Second, 2}}, Slice: &Slice{K: 0, N: 2, Rate: 2, Stages: []Stage{{2 * time.Second, 4}}}}, "want the part's duration 1s"},
		{"a negative whole", Options{Rate: 1, Duration: time.Second, Slice: &Slice{K: 0, N: 2, Rate: -1}}, "the whole's rate -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(context.Background(), &convPlayer{played: map[string]int{}}, []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "a"}}}}, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// A shard that would start nothing is refused whatever its K, as for the
// users: it would end at once, and never overlap the others.
func TestShardsNeedAStartEach(t *testing.T) {
	whole := Options{Rate: 1, Duration: 2 * time.Second} // starts at 0s and 1s
	for k := range 3 {
		if _, err := whole.Shard(k, 3); err == nil || !strings.Contains(err.Error(), "starts only 2 conversations") {
			t.Errorf("shard %d/3 of 2 starts: %v", k, err)
		}
	}
	if _, err := whole.Shard(1, 2); err != nil {
		t.Errorf("shard 1/2 of 2 starts: %v", err)
	}
}
