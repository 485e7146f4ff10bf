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

// Validate checks that o is one workload a process can play: every number
// against the bounds above and against sense (negative counts, NaN or
// infinite rates), then that it asks for one model, with a load and a
// duration, and no setting of the other model. It says what is wrong in the
// words of `evalrun load`, which also fit a suite's load: section. It is the
// one rule flags and suites pass through, and Run applies it before anything
// starts. A refused number other than the stages' is a *SettingError, named
// by its suite key, which Flags.Name renames after the flag that set it.
func (o Options) Validate() error {
	// The numbers first, all of them at once: a model that contradicts
	// itself is one mistake, and each wrong number another.
	if err := o.checkBounds(); err != nil {
		return err
	}
	if err := o.checkModel(); err != nil {
		return err
	}
	if o.open() && (Ramp{Start: o.Rate, Stages: o.Stages, Duration: o.Duration}).End() <= 0 {
		return errSayHowLong // stages that last nothing, which only a caller of Run can write
	}
	return nil
}

// open reports whether o asks for the open model: past checkBounds, a
// rate is a positive number or 0.
func (o Options) open() bool { return o.Rate != 0 || len(o.Stages) > 0 }

var errSayHowLong = errors.New("say how long: --duration D (or --stage ramps, whose total is the duration)")

// checkModel refuses a workload of both models, of neither, without a
// duration, or with a setting of the model it does not ask for.
func (o Options) checkModel() error {
	open := o.open()
	switch {
	case open && o.VUs != 0:
		return errors.New("--rate/--stage (open model) and --vus (closed model) exclude each other; keep one")
	case !open && o.VUs == 0:
		return errors.New("say how much load: --rate R (new conversations per second) or --vus N (virtual users), here or in a suite's load: section")
	case o.Duration == 0 && len(o.Stages) == 0:
		return errSayHowLong
	case o.MaxInFlight > 0 && !open:
		return errors.New("--max-in-flight caps the open model; the closed model has --vus conversations in flight at most")
	case o.ThinkTime > 0 && open:
		return errors.New("--think-time paces the closed model's users; the open model (--rate/--stage) starts conversations on its own schedule")
	}
	return nil
}

// checkBounds holds every number of o to the bounds above.
func (o Options) checkBounds() error {
	shard := " (split a bigger load across machines with --shard)"
	// Each of rate, span and count returns the value as typed and what
	// would be right, or "" and "" when the value is fine.
	rate := func(r float64) (string, string) {
		switch {
		case math.IsNaN(r) || math.IsInf(r, 0):
			return fmt.Sprint(r), "want a number of new conversations per second, such as 50"
		case r < 0:
			return formatFloat(r), "want at least 0 new conversations per second"
		case r > MaxRate:
			return formatFloat(r), fmt.Sprintf("want at most %d new conversations per second in one evalrun%s", MaxRate, shard)
		}
		return "", ""
	}
	span := func(d, most time.Duration) (string, string) {
		switch {
		case d < 0:
			return d.String(), "want a duration of at least 0"
		case d > most:
			return d.String(), "want at most " + most.String()
		}
		return "", ""
	}
	count := func(n, most int, unit string) (string, string) {
		switch {
		case n < 0:
			return strconv.Itoa(n), "want at least 0 " + unit
		case n > most:
			return strconv.Itoa(n), fmt.Sprintf("want at most %d %s in one evalrun%s", most, unit, shard)
		}
		return "", ""
	}
	var errs []error
	check := func(key string) func(value, want string) {
		return func(value, want string) {
			if want != "" {
				errs = append(errs, &SettingError{key, value, want})
			}
		}
	}
	check("rate")(rate(o.Rate))
	check("vus")(count(o.VUs, MaxVUs, "virtual users"))
	check("max_in_flight")(count(o.MaxInFlight, MaxInFlightLimit, "conversations in flight"))
	check("duration")(span(o.Duration, MaxDuration))
	check("think_time")(span(o.ThinkTime, MaxThinkTime))
	// A negative grace means none (see Options.Grace).
	check("grace")(span(max(o.Grace, 0), MaxGrace))
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(o.Stages) > MaxStages {
		return fmt.Errorf("%d stages: want at most %d", len(o.Stages), MaxStages)
	}
	var total time.Duration
	for i, s := range o.Stages {
		what := "stage " + strconv.Itoa(i+1) + " (" + s.Duration.String() + ":" + formatFloat(s.Target) + ")"
		if v, want := span(s.Duration, MaxDuration); want != "" {
			return fmt.Errorf("%s duration %s: %s", what, v, want)
		}
		if v, want := rate(s.Target); want != "" {
			return fmt.Errorf("%s target %s: %s", what, v, want)
		}
		if total += s.Duration; total > MaxDuration {
			return fmt.Errorf("the stages last %s up to stage %d: want at most %s in all", total, i+1, MaxDuration)
		}
	}
	return nil
}

// A SettingError is a setting of Options that Validate refused.
type SettingError struct {
	Key   string // as a suite's load: section spells it: rate, vus, max_in_flight, duration, think_time, grace
	Value string // as it would be typed: NaN, -3, 25h0m0s
	Want  string // what would be right: "want at least 0 virtual users"
}

func (e *SettingError) Error() string { return e.Key + " " + e.Value + ": " + e.Want }

// formatFloat prints a rate as it would be typed: 50, 0.5, 1e+12.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
