// Package assert judges what a bot did: one Check per key of a turn's expect
// mapping, the final checks of a conversation's state, and the captures that
// carry values into later turns. Everything here is a pure function of what the
// service already returned; nothing does I/O.
package assert

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// width is how many characters of a reply or a value a message quotes before
// cutting it short.
const width = 100

// silentActual is the Actual of a content check when the bot said nothing.
const silentActual = "(silent)"

// notChecked is the Actual of a check that could not be applied at all.
const notChecked = "(not checked)"

// Check is one key of a turn's expect mapping, or one item of a list-valued key.
// Checks are built once per turn and may be used from several goroutines.
type Check interface {
	// Name returns the suite key the check came from: "contains", "json", ...
	Name() string
	// Check judges one turn's result. A failing assertion says on its own what
	// was expected and what came back.
	Check(o *Observation) results.Assertion
}

// Observation is one turn's result as the checks and captures see it. The
// reply text is case-folded and the raw body decoded at most once, however
// many checks and captures read them. Its methods are safe for concurrent use;
// its fields must not change once checks have started reading it.
type Observation struct {
	Reply   *providers.Reply
	Latency time.Duration // from sending the user message to having the reply

	foldOnce sync.Once
	folded   string

	jsonOnce sync.Once
	root     *yaml.Node
	jsonErr  error
}

// NewObservation wraps one reply and the time it took. A nil reply is taken as
// a silent one.
func NewObservation(r *providers.Reply, latency time.Duration) *Observation {
	return &Observation{Reply: r, Latency: latency}
}

var silentReply = &providers.Reply{Silent: true}

func (o *Observation) reply() *providers.Reply {
	if o.Reply == nil {
		return silentReply
	}
	return o.Reply
}

// Silent reports whether the bot said nothing in r: the service said so, or
// the text is blank. It is the one definition of silence: the record of a
// turn and every check that asks use it, so they cannot disagree (a reply of
// spaces is silent for both). A nil reply is silent.
func Silent(r *providers.Reply) bool {
	return r == nil || r.Silent || strings.TrimSpace(r.Text) == ""
}

func (o *Observation) silent() bool { return Silent(o.Reply) }

// foldedText returns the reply text case-folded for case-insensitive search.
func (o *Observation) foldedText() string {
	o.foldOnce.Do(func() { o.folded = fold(o.reply().Text) })
	return o.folded
}

// document returns the raw reply body as a node tree for JSONPath queries.
func (o *Observation) document() (*yaml.Node, error) {
	o.jsonOnce.Do(func() { o.root, o.jsonErr = jsonpath.DecodeJSON(o.reply().Raw) })
	return o.root, o.jsonErr
}

// expectKeys lists every expect key with what it builds, in the order checks
// run when the suite did not record the order it wrote them in.
var expectKeys = []struct {
	name  string
	given func(e *suites.Expect) bool
	build func(e *suites.Expect, out []Check) []Check
}{
	{"contains", func(e *suites.Expect) bool { return len(e.Contains) > 0 }, func(e *suites.Expect, out []Check) []Check {
		for _, s := range e.Contains {
			out = append(out, newContains(s))
		}
		return out
	}},
	{"not_contains", func(e *suites.Expect) bool { return len(e.NotContains) > 0 }, func(e *suites.Expect, out []Check) []Check {
		for _, s := range e.NotContains {
			out = append(out, newNotContains(s))
		}
		return out
	}},
	{"equals", func(e *suites.Expect) bool { return e.Equals != nil }, func(e *suites.Expect, out []Check) []Check {
		if e.Equals == nil {
			return out
		}
		return append(out, equalsCheck{want: *e.Equals})
	}},
	{"regex", func(e *suites.Expect) bool { return len(e.Regex) > 0 }, func(e *suites.Expect, out []Check) []Check {
		for _, s := range e.Regex {
			out = append(out, newRegex(s))
		}
		return out
	}},
	{"might_solve", func(e *suites.Expect) bool { return e.MightSolve != nil }, func(e *suites.Expect, out []Check) []Check {
		return appendFlag(out, "might_solve", e.MightSolve, func(r *providers.Reply) *bool { return r.MightSolve })
	}},
	{"fully_covered", func(e *suites.Expect) bool { return e.FullyCovered != nil }, func(e *suites.Expect, out []Check) []Check {
		return appendFlag(out, "fully_covered", e.FullyCovered, func(r *providers.Reply) *bool { return r.FullyCovered })
	}},
	{"handoff", func(e *suites.Expect) bool { return e.Handoff != nil }, func(e *suites.Expect, out []Check) []Check {
		return appendFlag(out, "handoff", e.Handoff, func(r *providers.Reply) *bool { return r.Handoff })
	}},
	{"transfer_bot", func(e *suites.Expect) bool { return e.TransferBot != nil }, func(e *suites.Expect, out []Check) []Check {
		if e.TransferBot == nil {
			return out
		}
		return append(out, transferCheck{want: *e.TransferBot})
	}},
	{"action", func(e *suites.Expect) bool { return len(e.Actions) > 0 }, func(e *suites.Expect, out []Check) []Check {
		for _, a := range e.Actions {
			out = append(out, actionCheck{want: a})
		}
		return out
	}},
	{"knowledge", func(e *suites.Expect) bool { return len(e.Knowledge) > 0 }, func(e *suites.Expect, out []Check) []Check {
		for _, s := range e.Knowledge {
			out = append(out, knowledgeCheck{want: s})
		}
		return out
	}},
	{"mode", func(e *suites.Expect) bool { return e.Mode != nil }, func(e *suites.Expect, out []Check) []Check {
		if e.Mode == nil {
			return out
		}
		return append(out, modeCheck{want: *e.Mode})
	}},
	{"reply", func(e *suites.Expect) bool { return e.Reply != nil }, func(e *suites.Expect, out []Check) []Check {
		if e.Reply == nil {
			return out
		}
		return append(out, replyCheck{want: *e.Reply})
	}},
	{"max_latency", func(e *suites.Expect) bool { return e.MaxLatency > 0 }, func(e *suites.Expect, out []Check) []Check {
		return append(out, latencyCheck{limit: e.MaxLatency})
	}},
	{"json", func(e *suites.Expect) bool { return len(e.JSON) > 0 }, func(e *suites.Expect, out []Check) []Check {
		for _, j := range e.JSON {
			out = append(out, newJSON(j))
		}
		return out
	}},
}

// Turn returns the checks of one expect mapping, in the order the suite wrote
// the keys (e.Keys). A list-valued key gives one check per item, so that a
// report says which item failed. Keys that e.Keys leaves out but e sets follow
// in a fixed order; a key this package does not know gives a check that always
// fails, so that a misspelt check can never pass unnoticed.
func Turn(e *suites.Expect) []Check {
	if e == nil {
		return nil
	}
	out := make([]Check, 0, len(e.Keys)+2)
	done := make([]bool, len(expectKeys))
	for _, k := range e.Keys {
		i := expectKeyIndex(k.Name)
		if i < 0 {
			out = append(out, unknownCheck{name: k.Name})
			continue
		}
		if done[i] {
			continue
		}
		done[i] = true
		out = expectKeys[i].build(e, out)
	}
	for i, k := range expectKeys {
		if !done[i] && k.given(e) {
			out = k.build(e, out)
		}
	}
	return out
}

func expectKeyIndex(name string) int {
	for i, k := range expectKeys {
		if k.name == name {
			return i
		}
	}
	return -1
}

// unknownCheck stands for an expect key this package cannot judge.
type unknownCheck struct{ name string }

var _ Check = unknownCheck{}

func (c unknownCheck) Name() string { return c.name }

func (c unknownCheck) Check(*Observation) results.Assertion {
	return failed(c.name, "a known check", c.name, "evalrun has no check named "+strconv.Quote(c.name))
}

func passed(check string) results.Assertion {
	return results.Assertion{Check: check, Passed: true}
}

// failed builds a failing assertion; expected and actual are shortened here.
func failed(check, expected, actual, message string) results.Assertion {
	return results.Assertion{
		Check:    check,
		Passed:   false,
		Message:  message,
		Expected: Shorten(expected, width),
		Actual:   Shorten(actual, width),
	}
}

// sortedKeys returns m's keys in order, so that messages are the same on every run.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
