package results

import (
	"fmt"
	"math"
)

// TimelineFirstWidthMS is the width a load recorder's timeline starts at
// (load.TimelineInterval); a short run's intervals are this wide even when
// the run is shorter.
const TimelineFirstWidthMS = 1000

// TimelineMinWidthMS is the narrowest interval a record may hold. No
// recorder writes anything below TimelineFirstWidthMS; the floor only keeps
// a hand-made record's span/width from overflowing an int.
const TimelineMinWidthMS = 1

// CheckTimeline checks that run's load timeline could have been recorded
// (load/timeline.go): an interval width no wider than the run's span (or TimelineFirstWidthMS, whichever is
// wider); start_ms strictly increasing, each a whole number of intervals;
// and every start_ms from 0 to the span plus one interval. The span is the
// longer of the run's wall time and the load's duration plus grace: a
// merged record's wall time also covers the gaps between its shards'
// starts. (A recorder's last interval begins before its wall time ends; the
// bound stays looser because load's tests build records whose replies come
// after the wall time they are given.) Every comparison is made on
// floats, so an absurd value is refused before anything converts it to an
// int. A run without a timeline passes.
func CheckTimeline(run *Run) error {
	l := run.Load
	if l == nil || len(l.Timeline) == 0 {
		return nil
	}
	span := max(run.DurationMS, l.DurationMS+l.GraceMS)
	if math.IsNaN(span) || math.IsInf(span, 0) {
		return fmt.Errorf("the run's duration (%v ms) is not a time", span)
	}
	widest := max(span, TimelineFirstWidthMS)
	w := l.IntervalMS
	if !(w >= TimelineMinWidthMS && w <= widest) {
		return fmt.Errorf("load.interval_ms is %v; a timeline's intervals are from %v ms to the run's span (%v ms) wide", w, TimelineMinWidthMS, widest)
	}
	last := span + w
	for i, iv := range l.Timeline {
		switch {
		case iv.Started < 0 || iv.Turns < 0 || iv.Errors < 0:
			return fmt.Errorf("load.timeline[%d]: counts must not be negative", i)
		case !(iv.StartMS >= 0 && iv.StartMS <= last):
			return fmt.Errorf("load.timeline[%d]: start_ms %v is not within the run (0 to %v ms)", i, iv.StartMS, last)
		case math.Mod(iv.StartMS, w) != 0:
			return fmt.Errorf("load.timeline[%d]: start_ms %v is not a whole number of intervals (load.interval_ms %v) from the start", i, iv.StartMS, w)
		case i > 0 && !(iv.StartMS > l.Timeline[i-1].StartMS):
			return fmt.Errorf("load.timeline[%d]: start_ms %v is not after load.timeline[%d]'s %v; the intervals are listed in order, once each", i, iv.StartMS, i-1, l.Timeline[i-1].StartMS)
		}
	}
	return nil
}
