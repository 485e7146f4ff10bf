package results

import (
	"strings"
	"testing"
)

func TestCheckTimeline(t *testing.T) {
	// A 100 ms run with the recorder's first width: the interval is wider
	// than the run, as a recorder writes it.
	short := func() *Run {
		return &Run{DurationMS: 100, Load: &Load{DurationMS: 100, IntervalMS: 1000, Timeline: []Interval{{StartMS: 0}}}}
	}
	for _, c := range []struct {
		name  string
		spoil func(r *Run)
		want  string // "" for accepted
	}{
		{"as recorded", func(*Run) {}, ""},
		{"no timeline", func(r *Run) { r.Load.Timeline, r.Load.IntervalMS = nil, 0 }, ""},
		{"a long run's doubled width", func(r *Run) {
			r.DurationMS, r.Load.IntervalMS = 9000, 4000
			r.Load.Timeline = []Interval{{StartMS: 0}, {StartMS: 4000}, {StartMS: 8000}}
		}, ""},
		{"last start within an interval of the span's end", func(r *Run) {
			r.DurationMS = 1500
			r.Load.Timeline = []Interval{{StartMS: 0}, {StartMS: 1000}, {StartMS: 2000}}
		}, ""},
		{"start past the span and an interval", func(r *Run) {
			r.DurationMS = 800
			r.Load.Timeline = []Interval{{StartMS: 0}, {StartMS: 1000}, {StartMS: 2000}}
		}, "start_ms 2000 is not within the run (0 to 1800 ms)"},
		{"start off the grid", func(r *Run) {
			r.DurationMS = 5000
			r.Load.Timeline = []Interval{{StartMS: 0}, {StartMS: 1100}}
		}, "start_ms 1100 is not a whole number of intervals (load.interval_ms 1000)"},
		{"starts out of order", func(r *Run) {
			r.DurationMS = 5000
			r.Load.Timeline = []Interval{{StartMS: 0}, {StartMS: 2000}, {StartMS: 1000}}
		}, "load.timeline[2]: start_ms 1000 is not after load.timeline[1]'s 2000"},
		{"start twice", func(r *Run) {
			r.DurationMS = 5000
			r.Load.Timeline = []Interval{{StartMS: 0}, {StartMS: 0}}
		}, "load.timeline[1]: start_ms 0 is not after"},
		{"negative start", func(r *Run) { r.Load.Timeline[0].StartMS = -1 }, "start_ms -1"},
		{"width too narrow", func(r *Run) { r.Load.IntervalMS = 0.5 }, "load.interval_ms is 0.5; a timeline's intervals are from 1 ms to"},
		{"width wider than run and first width", func(r *Run) { r.Load.IntervalMS = 2000 }, "load.interval_ms is 2000"},
		{"negative count", func(r *Run) { r.Load.Timeline[0].Turns = -1 }, "counts must not be negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := short()
			c.spoil(r)
			err := CheckTimeline(r)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want one that says %q", err, c.want)
			}
		})
	}
}
