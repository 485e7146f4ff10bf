package baseline

import (
	"math"
	"time"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
)

// turnLatency compares, per turn index, the latency of the turns both records
// have: the same conversation, the same index, answered in both (a turn that
// errored or was stopped has no reply latency). Pairing the samples keeps a
// conversation that only one run has, or that one run cut short, from
// passing for a change in speed.
func turnLatency(base, now *results.Run, was map[key]*results.Conversation) []results.LatencyChange {
	then := map[int][]time.Duration{}
	is := map[int][]time.Duration{}
	last := 0
	for _, c := range now.Conversations {
		b := was[keyOf(c)]
		if b == nil {
			continue
		}
		answered := answeredTurns(b)
		for i, t := range c.Turns {
			idx := turnIndex(t, i)
			bt, ok := answered[idx]
			if !ok || t.Error != "" {
				continue
			}
			then[idx] = append(then[idx], duration(bt.LatencyMS))
			is[idx] = append(is[idx], duration(t.LatencyMS))
			last = max(last, idx)
		}
	}
	var out []results.LatencyChange
	for idx := 1; idx <= last; idx++ {
		if len(is[idx]) == 0 {
			continue
		}
		w, n := latency.Exact(then[idx]), latency.Exact(is[idx])
		out = append(out, results.LatencyChange{
			Index: idx, Was: w, Now: n,
			P50Change: relative(w.P50, n.P50), P95Change: relative(w.P95, n.P95),
		})
	}
	return out
}

func answeredTurns(c *results.Conversation) map[int]*results.Turn {
	m := make(map[int]*results.Turn, len(c.Turns))
	for i, t := range c.Turns {
		if t.Error == "" {
			m[turnIndex(t, i)] = t
		}
	}
	return m
}

// duration converts a record's milliseconds back to a duration; a negative
// or absurd value (a corrupt file) is clamped rather than wrapped around.
func duration(ms float64) time.Duration {
	if math.IsNaN(ms) || ms <= 0 {
		return 0
	}
	return time.Duration(min(ms, float64(math.MaxInt64/int64(time.Millisecond))) * float64(time.Millisecond))
}

// relative is (now - was) / was. A zero baseline has no relative change, and
// JSON has no infinity: it reads as 0.
func relative(was, now float64) float64 {
	if was <= 0 {
		return 0
	}
	return (now - was) / was
}
