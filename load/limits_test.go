package load_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// countingPlayer plays nothing and counts the plays it was asked for.
type countingPlayer struct{ plays atomic.Int64 }

func (p *countingPlayer) Play(context.Context, *suites.Suite, *suites.Conversation) runner.Outcome {
	p.plays.Add(1)
	return runner.Outcome{}
}

// Workloads past the bounds are refused before anything starts, with a
// message that says what was wrong and what would be right.
func TestOptionsOutOfBoundsAreRefused(t *testing.T) {
	ss := []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "c"}}}}
	sec := time.Second
	many := make([]load.Stage, load.MaxStages+1)
	for i := range many {
		many[i] = load.Stage{Duration: sec, Target: 1}
	}
	for _, c := range []struct {
		name string
		opts load.Options
		want string
	}{
		{"rate Inf", load.Options{Rate: math.Inf(1), Duration: sec}, "rate +Inf: want a number of new conversations per second"},
		{"rate NaN", load.Options{Rate: math.NaN(), Duration: sec}, "rate NaN: want a number"},
		{"rate 1e12", load.Options{Rate: 1e12, Duration: sec}, "rate 1e+12: want at most 100000 new conversations per second in one evalrun (split"},
		{"stage target Inf", load.Options{Stages: []load.Stage{{sec, 5}, {sec, math.Inf(1)}}}, "stage 2 (1s:+Inf) target +Inf"},
		{"stage target NaN", load.Options{Stages: []load.Stage{{sec, math.NaN()}}}, "stage 1 (1s:NaN) target NaN"},
		{"stage target 1e12", load.Options{Stages: []load.Stage{{sec, 1e12}}}, "stage 1 (1s:1e+12) target 1e+12: want at most 100000"},
		{"stage negative", load.Options{Stages: []load.Stage{{-sec, 1}}}, "stage 1 (-1s:1) duration -1s"},
		{"too many stages", load.Options{Stages: many}, "1001 stages: want at most 1000"},
		{"stages too long", load.Options{Stages: []load.Stage{{100 * time.Hour, 1}, {100 * time.Hour, 1}}}, "the stages last 200h0m0s up to stage 2: want at most 168h0m0s"},
		{"duration absurd", load.Options{Rate: 1, Duration: 1_000_000 * time.Hour}, "duration 1000000h0m0s: want at most 168h0m0s"},
		{"vus huge", load.Options{VUs: 1_000_000_000, Duration: sec}, "vus 1000000000: want at most 100000 virtual users"},
		{"vus negative", load.Options{VUs: -2, Duration: sec}, "vus -2: want at least 0"},
		{"max in flight huge", load.Options{Rate: 1, Duration: sec, MaxInFlight: math.MaxInt}, "max_in_flight 9223372036854775807: want at most 100000"}, // named as the suite key, no longer "max in flight"
		{"grace huge", load.Options{Rate: 1, Duration: sec, Grace: 1000 * time.Hour}, "grace 1000h0m0s: want at most 24h0m0s"},
		{"think time huge", load.Options{VUs: 1, Duration: sec, ThinkTime: 25 * time.Hour}, "think_time 25h0m0s: want at most 24h0m0s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p := &countingPlayer{}
			_, err := load.Run(ctx, p, ss, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one that says %q", err, c.want)
			}
			if n := p.plays.Load(); n != 0 {
				t.Errorf("%d conversations played before the refusal", n)
			}
			if err := c.opts.Validate(); err == nil {
				t.Error("Validate accepts what Run refuses")
			}
		})
	}
	// Each refused setting says which, for a command to name its flag.
	err := load.Options{Rate: math.NaN(), VUs: -1, ThinkTime: -time.Second}.Validate()
	var keys []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *load.SettingError
		if errors.As(e, &se) {
			keys = append(keys, se.Key+"="+se.Value)
		}
	}
	if got := strings.Join(keys, " "); got != "rate=NaN vus=-1 think_time=-1s" {
		t.Errorf("setting errors %q", got)
	}
	// The bounds themselves are allowed.
	for _, o := range []load.Options{
		{Rate: load.MaxRate, Duration: load.MaxDuration, MaxInFlight: load.MaxInFlightLimit, Grace: load.MaxGrace},
		{VUs: load.MaxVUs, Duration: load.MaxDuration, ThinkTime: load.MaxThinkTime},
		{Stages: []load.Stage{{load.MaxDuration, load.MaxRate}}},
		{Rate: 1, Duration: sec, Grace: -1},
	} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
