package load

import (
	"math"
	"time"
)

// A Pacer schedules the starts of the open model.
type Pacer interface {
	// Pace returns how long after elapsed (time since the test start) the
	// start numbered hits (0-based: hits starts came before it) is due, and
	// stop true when it is not due at all because the schedule has ended.
	// The wait is negative when that start is overdue, so elapsed+wait is
	// always its due time: a caller that runs late does not drift.
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
	// Rate returns the target rate, in starts per second, at elapsed.
	Rate(elapsed time.Duration) float64
}

// Stage is one leg of a ramp: the rate moves linearly from where it is to
// Target (starts per second) over Duration. A zero Duration is a step.
type Stage struct {
	Duration time.Duration
	Target   float64
}

// Ramp is the open model's schedule: the rate starts at Start, follows
// Stages one after another, then holds the last stage's target. Starts are
// due until Duration; 0 means the stages' total. Ramp{Start: r, Duration: d}
// is a constant rate.
//
// The i-th start (0-based) is due at the moment the integral of the rate
// from the test start reaches i, so the first start is due at once and a
// constant rate r has start i due at i/r.
type Ramp struct {
	Start    float64
	Stages   []Stage
	Duration time.Duration
}

var _ Pacer = Ramp{}

// End returns when starts stop being due: Duration, or the stages' total.
func (r Ramp) End() time.Duration {
	if r.Duration > 0 {
		return r.Duration
	}
	var total time.Duration
	for _, s := range r.Stages {
		total += s.Duration
	}
	return total
}

// Pace implements Pacer.
func (r Ramp) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	due, ok := r.Due(hits)
	if !ok {
		return 0, true
	}
	return due - elapsed, false
}

// Due returns when the start numbered i is due, and false when that is not
// before End (or never: the rate has fallen to zero for good).
func (r Ramp) Due(i uint64) (time.Duration, bool) {
	end := r.End().Seconds()
	want := float64(i)
	var (
		t    float64 // seconds: where the current segment begins
		done float64 // starts due before t: the integral of the rate up to t
		rate = r.Start
	)
	// segment finds the due time within [t, t+d) where the rate goes
	// linearly from rate to target, or moves past it.
	segment := func(d, target float64) (float64, bool) {
		if d > end-t {
			// Cut short by End: the rate only reaches what it has there.
			target = rate + (target-rate)*(end-t)/d
			d = end - t
		}
		area := (rate + target) / 2 * d
		if want < done+area {
			m := want - done
			a := (target - rate) / d
			// The root of a/2·τ² + rate·τ = m, in the form that is stable
			// whichever way the ramp goes (and for a = 0).
			var tau float64
			if m > 0 {
				tau = 2 * m / (rate + math.Sqrt(max(rate*rate+2*a*m, 0)))
			}
			return t + min(tau, d), true
		}
		t += d
		done += area
		rate = target
		return 0, false
	}
	for _, s := range r.Stages {
		if t >= end {
			return 0, false
		}
		d := s.Duration.Seconds()
		if d <= 0 {
			rate = s.Target
			continue
		}
		if at, ok := segment(d, s.Target); ok {
			return seconds(at, end)
		}
	}
	if t >= end || rate <= 0 {
		return 0, false
	}
	// After the last stage the rate holds until End.
	at := t + (want-done)/rate
	return seconds(at, end)
}

func seconds(at, end float64) (time.Duration, bool) {
	if at >= end {
		return 0, false
	}
	return time.Duration(math.Round(at * 1e9)), true
}

// Rate implements Pacer.
func (r Ramp) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= r.End() {
		return 0
	}
	rate := r.Start
	var t time.Duration
	for _, s := range r.Stages {
		if elapsed < t+s.Duration {
			f := float64(elapsed-t) / float64(s.Duration)
			return rate + (s.Target-rate)*f
		}
		t += s.Duration
		rate = s.Target
	}
	return rate
}
