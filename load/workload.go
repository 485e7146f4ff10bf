package load

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/evalrun/evalrun/suites"
)

// A workload is resolved in three steps, each a pure function, so that
// every rule of precedence can be tested without running anything:
//
//	whole, err := FromSuites(ss)    // the suites' load: sections
//	whole, err = whole.Override(f)  // then the flags that were given
//	part, err := whole.Shard(k, n)  // then this machine's part, under --shard
//	err = part.Validate()           // the one rule, per process
//
// The whole is the test as the user asked for it, the same on every shard;
// the part is what one process plays.

// FromSuites is the workload of the suites' load: sections, taken in file
// order. Two suites may set a setting only to the same value (stages only
// once): a test has one workload, and picking one silently would run a test
// nobody wrote. The error names both files.
//
// A grace the suites do not set is left 0, Options' "the default"; a grace
// of 0 they set is kept as none (-1).
func FromSuites(ss []*suites.Suite) (Options, error) {
	var o Options
	from := map[string]string{} // setting -> the first suite file that set it
	take := func(s *suites.Suite, key string, agrees bool) error {
		if !agrees {
			return fmt.Errorf("%s sets load.%s differently from %s; set it in one place, or with a flag", s.File, key, from[key])
		}
		if _, ok := from[key]; !ok {
			from[key] = s.File
		}
		return nil
	}
	for _, s := range ss {
		l := s.Load
		if l == nil {
			continue
		}
		for _, k := range l.Keys {
			var err error
			switch k.Name {
			case "rate":
				err = take(s, k.Name, o.Rate == 0 || o.Rate == l.Rate)
				o.Rate = l.Rate
			case "vus":
				err = take(s, k.Name, o.VUs == 0 || o.VUs == l.VUs)
				o.VUs = l.VUs
			case "duration":
				err = take(s, k.Name, o.Duration == 0 || o.Duration == l.Duration)
				o.Duration = l.Duration
			case "think_time":
				err = take(s, k.Name, o.ThinkTime == 0 || o.ThinkTime == l.ThinkTime)
				o.ThinkTime = l.ThinkTime
			case "max_in_flight":
				err = take(s, k.Name, o.MaxInFlight == 0 || o.MaxInFlight == l.MaxInFlight)
				o.MaxInFlight = l.MaxInFlight
			case "grace":
				if l.Grace == nil {
					continue // a loaded suite with the key has the value
				}
				err = take(s, k.Name, from["grace"] == "" || o.Grace == *l.Grace)
				o.Grace = *l.Grace
			case "stages":
				err = take(s, k.Name, from["stages"] == "")
				o.Stages = nil
				for _, st := range l.Stages {
					o.Stages = append(o.Stages, Stage{Duration: st.Duration, Target: st.Target})
				}
			}
			if err != nil {
				return o, err
			}
		}
	}
	if from["grace"] != "" && o.Grace == 0 {
		o.Grace = -1 // Options reads 0 as "the default"; the suite asked for none
	}
	return o, nil
}

// Flags are the command-line settings of a workload. A nil field (no
// stages) was not given, and leaves what the suites set; a given one wins.
type Flags struct {
	Rate        *float64       // --rate
	VUs         *int           // --vus
	Duration    *time.Duration // --duration
	Stages      []string       // --stage, each D:TARGET as typed
	ThinkTime   *time.Duration // --think-time
	MaxInFlight *int           // --max-in-flight
	Grace       *time.Duration // --grace
}

// Override returns o with the flags of f that were given in place of its
// settings. The error is a --stage that does not parse.
//
// A flag for one model drops the other model's settings that o holds from
// the suites: --rate or --stage drops vus and think_time, --vus drops rate,
// stages and max_in_flight, unless the flag for that setting is given too;
// flags that contradict each other stay, for Validate to refuse. --rate
// alone asks for a constant rate, so it drops the suites' stages too. A
// grace of 0 asks for none; a grace nobody set is DefaultGrace, spelled
// out so that the workload says what runs.
func (o Options) Override(f Flags) (Options, error) {
	o.Stages = append([]Stage(nil), o.Stages...) // o's caller keeps its own
	if f.Rate != nil {
		o.Rate = *f.Rate
		if f.Stages == nil {
			o.Stages = nil
		}
	}
	if f.VUs != nil {
		o.VUs = *f.VUs
	}
	if f.Duration != nil {
		o.Duration = *f.Duration
	}
	if f.ThinkTime != nil {
		o.ThinkTime = *f.ThinkTime
	}
	if f.MaxInFlight != nil {
		o.MaxInFlight = *f.MaxInFlight
	}
	switch {
	case f.Grace != nil:
		o.Grace = *f.Grace
		if o.Grace == 0 {
			o.Grace = -1
		}
	case o.Grace == 0:
		o.Grace = DefaultGrace
	}
	if f.Stages != nil {
		o.Stages = nil
		for _, s := range f.Stages {
			d, target, err := suites.ParseStage(s)
			if err != nil {
				return o, fmt.Errorf("--stage %v", err)
			}
			o.Stages = append(o.Stages, Stage{Duration: d, Target: target})
		}
	}
	switch open := f.Rate != nil || f.Stages != nil; {
	case open:
		if f.VUs == nil {
			o.VUs = 0
		}
		if f.ThinkTime == nil {
			o.ThinkTime = 0
		}
	case f.VUs != nil:
		o.Rate, o.Stages = 0, nil
		if f.MaxInFlight == nil {
			o.MaxInFlight = 0
		}
	}
	return o, nil
}

// Shard returns part k of n of o, for one of n machines that together play
// o. In the open model the part plays the whole test's starts k, k+n,
// k+2n, … at their due times on the whole schedule, so that the n parts
// interleave into o's schedule and their starts add up to o's exactly, at
// any rate; its Rate and stage targets are 1/n of o's, what it plays on
// average, which the bounds hold per process and its record states, and
// Slice keeps what it is a slice of. In the closed model it takes a whole
// share of the users, and in the open one a whole share of the cap on
// conversations in flight. Whole shares differ by one at most, the first
// whole%n shards taking one more, so that the parts add up to o. A whole
// smaller than n is refused by every shard, not only by those it leaves a
// share of 0 (which would play nothing, or nothing at once).
func (o Options) Shard(k, n int) (Options, error) {
	if n < 1 || k < 0 || k >= n {
		return o, fmt.Errorf("--shard %d/%d: want K/N with 0 <= K < N", k, n)
	}
	part := func(whole, most int, what string) (int, error) {
		// Both refusals whatever k: the shards that could run would load
		// the service for a test that, missing the others, never merges.
		if whole < n {
			return 0, fmt.Errorf("--shard %d/%d: %d %s cannot be split into %d shards; give at least %d, or run at most %d shards", k, n, whole, what, n, n, whole)
		}
		// With one shard, Validate says it in the flag's own words.
		if biggest := (whole + n - 1) / n; n > 1 && biggest > most {
			return 0, fmt.Errorf("--shard %d/%d: %d %s make shares of up to %d, and one evalrun runs at most %d; run at least %d shards", k, n, whole, what, biggest, most, (whole+most-1)/most)
		}
		share := whole / n
		if k < whole%n {
			share++
		}
		return share, nil
	}
	var err error
	if o.VUs > 0 {
		o.VUs, err = part(o.VUs, MaxVUs, "virtual users")
		return o, err
	}
	if starts, ok := o.starts(); ok && starts < int64(n) {
		// As for the users: a shard with no start would run and end at
		// once, and the others would load the service for a test whose
		// shards never overlap in time.
		return o, fmt.Errorf("--shard %d/%d: the test starts only %d conversations, so some shards would start none; run at most %d shards, or more load", k, n, starts, max(starts, 1))
	}
	if n > 1 {
		o.Slice = &Slice{K: k, N: n, Rate: o.Rate, Stages: append([]Stage(nil), o.Stages...)}
	}
	o.Rate /= float64(n)
	stages := make([]Stage, len(o.Stages)) // the whole keeps its targets
	for i, s := range o.Stages {
		stages[i] = Stage{Duration: s.Duration, Target: s.Target / float64(n)}
	}
	if o.Stages != nil {
		o.Stages = stages
	}
	if o.MaxInFlight > 0 {
		o.MaxInFlight, err = part(o.MaxInFlight, MaxInFlightLimit, "conversations in flight (--max-in-flight)")
	}
	return o, err
}

// A Slice is the part of an open-model test one shard plays (see
// Options.Shard): every N-th start of the whole test's schedule from start
// K. It keeps the whole's rate and stage targets as given, so that the
// shard's due times are the whole's to the nanosecond, which the divided
// ones multiplied back would not always be (a start due right at the end
// of the window would fall in or out of it).
type Slice struct {
	K, N   int
	Rate   float64 // the whole test's Options.Rate
	Stages []Stage // the whole test's, same durations as the part's
}

// flagOf is the flag of each setting a *SettingError may name.
var flagOf = map[string]string{
	"rate": "rate", "vus": "vus", "max_in_flight": "max-in-flight",
	"duration": "duration", "think_time": "think-time", "grace": "grace",
}

// given reports whether f set the setting a *SettingError names by key.
func (f Flags) given(key string) bool {
	switch key {
	case "rate":
		return f.Rate != nil
	case "vus":
		return f.VUs != nil
	case "max_in_flight":
		return f.MaxInFlight != nil
	case "duration":
		return f.Duration != nil
	case "think_time":
		return f.ThinkTime != nil
	case "grace":
		return f.Grace != nil
	}
	return false
}

// Name renames each setting Validate refused in err after the flag of f
// that gave it (--max-in-flight for max_in_flight), so that the user knows
// what to change; a value from a suite keeps its load: key. With sharded, a
// value Shard divided says so, since it is not the one typed. Other errors
// pass unchanged.
func (f Flags) Name(err error, sharded bool) error {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
		var se *SettingError
		if !errors.As(e, &se) || !f.given(se.Key) {
			continue
		}
		value := se.Value
		if sharded && (se.Key == "rate" || se.Key == "vus" || se.Key == "max_in_flight") {
			value += " (this shard's part)"
		}
		out[i] = fmt.Errorf("--%s %s: %s", flagOf[se.Key], value, se.Want)
	}
	return errors.Join(out...)
}

// check refuses a slice that part, the options holding it, cannot play:
// one Shard would not have made. Its numbers are the whole's, which the
// per-process bounds do not hold, so they are checked here for sense.
func (s *Slice) check(part Options) error {
	switch {
	case s.N < 1 || s.N > suites.MaxShards || s.K < 0 || s.K >= s.N:
		return fmt.Errorf("slice %d/%d: want 0 <= K < N <= %d", s.K, s.N, suites.MaxShards)
	case part.VUs != 0:
		return fmt.Errorf("slice %d/%d: a slice of the schedule is the open model's; the closed model shares its users", s.K, s.N)
	case len(s.Stages) != len(part.Stages):
		return fmt.Errorf("slice %d/%d: %d stages in the whole, %d in the part; want the same", s.K, s.N, len(s.Stages), len(part.Stages))
	case !(s.Rate >= 0) || math.IsInf(s.Rate, 0):
		return fmt.Errorf("slice %d/%d: the whole's rate %v: want a number of at least 0", s.K, s.N, s.Rate)
	}
	for i, st := range s.Stages {
		if st.Duration != part.Stages[i].Duration || !(st.Target >= 0) || math.IsInf(st.Target, 0) {
			return fmt.Errorf("slice %d/%d: the whole's stage %d (%s:%v): want the part's duration %s and a target of at least 0", s.K, s.N, i+1, st.Duration, st.Target, part.Stages[i].Duration)
		}
	}
	return nil
}

// starts is how many conversations the open model's schedule starts in
// all, and false when o is not an open model whose numbers Validate would
// pass: counting a schedule of NaN or negative rates means nothing, and
// Validate says what is wrong with them.
func (o Options) starts() (int64, bool) {
	if !o.open() || !sane(o.Rate) || o.Duration < 0 || o.Duration > MaxDuration || len(o.Stages) > MaxStages {
		return 0, false
	}
	var total time.Duration
	for _, st := range o.Stages {
		if total += st.Duration; !sane(st.Target) || st.Duration < 0 || total > MaxDuration {
			return 0, false
		}
	}
	r := Ramp{Start: o.Rate, Stages: o.Stages, Duration: o.Duration}
	if r.End() <= 0 {
		return 0, false
	}
	return countDue(r, 0, r.End()), true
}

// sane is a rate Validate accepts.
func sane(r float64) bool { return r >= 0 && r <= MaxRate }
