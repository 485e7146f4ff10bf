// Package baseline compares a run with the record of an earlier one, so that
// CI can tell a regression from a conversation that was already failing, and
// decides what of the difference fails the build.
//
// Conversations are matched by suite name and conversation name. Each pair
// of verdicts, the baseline's (was) and this run's (now), lands in one
// bucket of a results.Comparison:
//
//	was \ now            passed, flaky   failed, errored   skipped, unfinished   absent
//	passed, flaky        unchanged       regressed         not compared          removed
//	failed, errored      fixed           still failing     not compared          removed
//	skipped, unfinished  not compared    not compared      (see below)           removed
//	absent               new             new               new                   —
//
// Skipped and unfinished conversations have no verdict on the bot, so a pair
// with one on either side is "not compared" and listed as such: a
// conversation that was passing and is now unfinished is not called a
// regression (nothing says it regressed), and one the baseline skipped is not
// called fixed. Skipped on both sides is unchanged; any other pair of the two
// is not compared.
//
// # The build rule (Gate)
//
// With a baseline, a run fails the build when a conversation regressed,
// errored (in both runs or not: an error is the service failing, which no
// baseline excuses), or is unfinished (an interrupted run cannot show that
// nothing regressed), or when it failed and the baseline does not excuse
// it: only a conversation that failed or errored in the baseline too is
// excused. A new conversation that fails therefore fails the build, and so
// does one the baseline skipped. With failOnAny (--fail-on any) the plain
// rule applies, as without a baseline: any failed, errored or unfinished
// conversation fails the build.
package baseline

import "github.com/evalrun/evalrun/results"

// key identifies a conversation across runs; suite names are unique within
// a run, and conversation names within a suite.
type key struct{ suite, name string }

func keyOf(c *results.Conversation) key { return key{c.Suite, c.Name} }

// good and bad are the verdicts a comparison is about: the bot passed, or it
// did not. Anything else (skipped, unfinished) says nothing about the bot.
func good(s results.Status) bool { return s == results.Passed || s == results.Flaky }
func bad(s results.Status) bool  { return s == results.Failed || s == results.Errored }
