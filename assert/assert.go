// Package assert judges what a bot did: the checks of a turn's expect mapping,
// the final checks of a conversation's state, and the captures that carry
// values into later turns. Each key's check comes from its entry in the
// suites table and does its judging in package checks; everything here is a
// pure function of what the service already returned, and nothing does I/O.
package assert

import (
	"context"
	"time"

	"github.com/evalrun/evalrun/checks"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// width is how many characters of a reply or a value a message quotes before
// cutting it short.
const width = 100

// Check is one key of a turn's expect mapping, or one item of a list-valued
// key; see checks.Check.
type Check = checks.Check

// Observation is one turn's result as the checks and captures see it; see
// checks.Observation.
type Observation = checks.Observation

// Services are the outside services a check may ask for its verdict; see
// checks.Services.
type Services = checks.Services

// NewObservation wraps one reply and the time it took. A nil reply is taken as
// a silent one.
func NewObservation(r *providers.Reply, latency time.Duration) *Observation {
	return checks.NewObservation(r, latency)
}

// Silent reports whether the bot said nothing in r; see checks.Silent.
func Silent(r *providers.Reply) bool { return checks.Silent(r) }

// Shorten makes s fit on one line of a message; see checks.Shorten.
func Shorten(s string, max int) string { return checks.Shorten(s, max) }

// Run judges o with c, calling the service c asks when it is a
// checks.ServiceCheck; an error means that service gave no verdict, which
// makes the conversation errored, not failed. See checks.Run.
func Run(ctx context.Context, c Check, o *Observation, svc Services) (results.Assertion, error) {
	return checks.Run(ctx, c, o, svc)
}

// Turn returns the checks of one expect mapping, in the order the suite wrote
// the keys. A list-valued key gives one check per item, so that a report says
// which item failed; a key evalrun does not know gives a check that always
// fails, so that a misspelt check can never pass unnoticed.
func Turn(e *suites.Expect) []Check {
	if e == nil {
		return nil
	}
	out := make([]Check, 0, len(e.Specs)+2)
	for _, s := range e.Specs {
		out = s.Checks(out)
	}
	return out
}

// Final judges a conversation's state after its last turn against the suite's
// final mapping, one assertion per key, in the order the suite wrote them.
// Assertions are named "final.status", "final.sentiment", ... A value the
// service did not report fails the check. A nil state is taken as one that
// reported nothing.
func Final(f *suites.Final, s *providers.State) []results.Assertion {
	if f == nil {
		return nil
	}
	if s == nil {
		s = &providers.State{}
	}
	out := make([]results.Assertion, 0, len(f.Specs))
	for _, spec := range f.Specs {
		out = append(out, spec.CheckFinal(s))
	}
	return out
}
