package load

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/evalrun/evalrun/suites"
)

// The bounds of a workload are suites' limits (suites/limits.go), the one
// place they are decided: a suite's load: section is held to them when it
// loads, and Validate holds the workload that flags and suites resolve to,
// per process, to the same numbers. A value past them is a typo or a unit
// mistake (1e12 for 1e2, 100000h for 100s), not a test one process can run;
// a bigger test is split across machines with --shard and merged.
const (
	MaxRate          = suites.MaxRate     // new conversations per second, at any point of the ramp
	MaxVUs           = suites.MaxVUs      // virtual users
	MaxInFlightLimit = suites.MaxInFlight // the most Options.MaxInFlight may be
	MaxStages        = 1_000              // legs of the ramp
	MaxDuration      = suites.MaxLoadDuration
	MaxGrace         = suites.MaxWait
	MaxThinkTime     = suites.MaxWait
)

// Validate checks every number of o against the bounds above and against
// sense (negative counts, NaN or infinite rates), and says what is wrong in
// words that fit both where a setting comes from: the flag (--rate) and the
// suite's load: key (rate). It is the one rule both pass through; Run
// applies it too, before the rules of the two models.
func (o Options) Validate() error {
	shard := " (split a bigger load across machines with --shard)"
	rate := func(what string, r float64) error {
		switch {
		case math.IsNaN(r) || math.IsInf(r, 0):
			return fmt.Errorf("%s %v: want a number of new conversations per second, such as 50", what, r)
		case r < 0:
			return fmt.Errorf("%s %s: want at least 0 new conversations per second", what, formatFloat(r))
		case r > MaxRate:
			return fmt.Errorf("%s %s: want at most %d new conversations per second in one evalrun%s", what, formatFloat(r), MaxRate, shard)
		}
		return nil
	}
	span := func(what string, d, most time.Duration) error {
		switch {
		case d < 0:
			return fmt.Errorf("%s %s: want a duration of at least 0", what, d)
		case d > most:
			return fmt.Errorf("%s %s: want at most %s", what, d, most)
		}
		return nil
	}
	count := func(what string, n, most int, unit string) error {
		switch {
		case n < 0:
			return fmt.Errorf("%s %d: want at least 0 %s", what, n, unit)
		case n > most:
			return fmt.Errorf("%s %d: want at most %d %s in one evalrun%s", what, n, most, unit, shard)
		}
		return nil
	}
	if err := errors.Join(
		rate("rate", o.Rate),
		count("vus", o.VUs, MaxVUs, "virtual users"),
		count("max in flight", o.MaxInFlight, MaxInFlightLimit, "conversations in flight"),
		span("duration", o.Duration, MaxDuration),
		span("think time", o.ThinkTime, MaxThinkTime),
		// A negative grace means none (see Options.Grace).
		span("grace", max(o.Grace, 0), MaxGrace),
	); err != nil {
		return err
	}
	if len(o.Stages) > MaxStages {
		return fmt.Errorf("%d stages: want at most %d", len(o.Stages), MaxStages)
	}
	var total time.Duration
	for i, s := range o.Stages {
		what := "stage " + strconv.Itoa(i+1) + " (" + s.Duration.String() + ":" + formatFloat(s.Target) + ")"
		if err := span(what+" duration", s.Duration, MaxDuration); err != nil {
			return err
		}
		if err := rate(what+" target", s.Target); err != nil {
			return err
		}
		if total += s.Duration; total > MaxDuration {
			return fmt.Errorf("the stages last %s up to stage %d: want at most %s in all", total, i+1, MaxDuration)
		}
	}
	return nil
}

// formatFloat prints a rate as it would be typed: 50, 0.5, 1e+12.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
