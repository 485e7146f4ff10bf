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
		{"last start within one interval past the span", func(r *Run) { r.Load.Timeline[0].StartMS = 1100 }, ""},
		{"a merged record's wall time covers its shards", func(r *Run) { r.DurationMS = 5000; r.Load.Timeline[0].StartMS = 5500 }, ""},
		{"start past the span", func(r *Run) { r.Load.Timeline[0].StartMS = 1100.5 }, "start_ms 1100.5"},
		{"negative start", func(r *Run) { r.Load.Timeline[0].StartMS = -1 }, "start_ms -1"},
		{"width too narrow", func(r *Run) { r.Load.IntervalMS = 0.5 }, "load.interval_ms is 0.5"},
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
