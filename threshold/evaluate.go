package threshold

import (
	"github.com/evalrun/evalrun/results"
)

// Evaluate measures t's metric in run and judges it. A metric the run has no
// data for (no load record, no turns, a turn index the conversations never
// reached) is Missing and does not pass.
func (t Threshold) Evaluate(run *results.Run) results.Threshold {
	r := results.Threshold{Expr: t.Expr, Unit: t.Unit}
	if r.Expr == "" {
		r.Expr = t.String()
	}
	v, ok := t.measure(run)
	if !ok {
		r.Missing = true
		return r
	}
	r.Measured = v
	r.Passed = t.holds(v)
	return r
}

// EvaluateAll evaluates every threshold, in order; allPassed is false when
// any was crossed or had no data.
func EvaluateAll(ts []Threshold, run *results.Run) (out []results.Threshold, allPassed bool) {
	out = make([]results.Threshold, 0, len(ts))
	allPassed = true
	for _, t := range ts {
		r := t.Evaluate(run)
		allPassed = allPassed && r.Passed
		out = append(out, r)
	}
	return out, allPassed
}

// holds compares measured with the threshold's value. Counts are whole
// numbers held exactly in a float64, so == and != on them are exact.
func (t Threshold) holds(measured float64) bool {
	switch t.Op {
	case "<":
		return measured < t.Value
	case "<=":
		return measured <= t.Value
	case ">":
		return measured > t.Value
	case ">=":
		return measured >= t.Value
	case "==":
		return measured == t.Value
	case "!=":
		return measured != t.Value
	}
	return false
}

// measure reads the metric from run; ok is false when the run has no data
// for it.
func (t Threshold) measure(run *results.Run) (float64, bool) {
	if run == nil {
		return 0, false
	}
	l, s := run.Load, run.Summary
	switch t.Metric {
	case "turn_latency", "turn_service_latency":
		service := t.Metric == "turn_service_latency"
		if t.Index > 0 {
			if l == nil {
				return 0, false
			}
			ts, ok := turn(l.Turns, t.Index)
			if !ok {
				return 0, false
			}
			return t.latency(ts, service)
		}
		if l != nil {
			return t.latency(l.Overall, service)
		}
		// A run without a load record still aggregates every turn.
		if s.Turns == 0 {
			return 0, false
		}
		if !service {
			return pick(s.LatencyMS, t.Stat), true
		}
		if s.ServiceLatencyMS == nil {
			return 0, false
		}
		return pick(*s.ServiceLatencyMS, t.Stat), true
	case "conversation_latency", "conversation_service_latency":
		if l == nil {
			return 0, false
		}
		return t.latency(l.Conversation, t.Metric == "conversation_service_latency")
	case "session_latency":
		if l == nil {
			return 0, false
		}
		return t.latency(l.Session, false)
	case "error_rate":
		switch {
		case s.ErrorRate != nil:
			return *s.ErrorRate, true
		case l != nil && l.Overall.Count > 0:
			return float64(l.Overall.Errors) / float64(l.Overall.Count), true
		case s.Turns > 0:
			return float64(s.TurnErrors) / float64(s.Turns), true
		}
		return 0, false
	case "pass_rate":
		if s.PassRate != nil {
			return *s.PassRate, true
		}
		// Flaky conversations met their min_pass_rate: they count as
		// passed. Unfinished ones did not pass.
		judged := s.Passed + s.Flaky + s.Failed + s.Errored + s.Unfinished
		if judged == 0 {
			return 0, false
		}
		return float64(s.Passed+s.Flaky) / float64(judged), true
	case "dropped":
		switch {
		case s.Dropped != nil:
			return float64(*s.Dropped), true
		case l != nil:
			return float64(l.Dropped), true
		}
		return 0, false
	case "late":
		// Starts that waited for a --max-in-flight slot (or behind a
		// stalled generator) and began more than load.LateAfter after they
		// were due: the open model's early sign of a saturated service.
		if l == nil {
			return 0, false
		}
		return float64(l.Late), true
	case "throughput":
		if l == nil {
			return 0, false
		}
		return l.Throughput, true
	case "achieved_rate":
		if l == nil {
			return 0, false
		}
		return l.AchievedRate, true
	}
	return 0, false
}

// turn finds the stats of 1-based turn n. Turns carry their index; a zero
// Index falls back to the position.
func turn(turns []results.TurnStats, n int) (results.TurnStats, bool) {
	for i, ts := range turns {
		idx := ts.Index
		if idx == 0 {
			idx = i + 1
		}
		if idx == n {
			return ts, true
		}
	}
	return results.TurnStats{}, false
}

func (t Threshold) latency(ts results.TurnStats, service bool) (float64, bool) {
	// Errored samples carry no latency: a metric whose every sample errored
	// measured nothing, which must not read as 0ms and pass.
	if ts.Count-ts.Errors <= 0 {
		return 0, false
	}
	if service {
		return pick(ts.ServiceMS, t.Stat), true
	}
	return pick(ts.LatencyMS, t.Stat), true
}

func pick(p results.Percentiles, stat string) float64 {
	switch stat {
	case "p50":
		return p.P50
	case "p90":
		return p.P90
	case "p95":
		return p.P95
	case "p99":
		return p.P99
	case "p99.9":
		return p.P999
	default: // max
		return p.Max
	}
}
