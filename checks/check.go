// Package checks holds what every expect and final check of a suite does
// once it has been read: the judging itself, as pure functions of what the
// service returned, and the messages that say what was expected and what came
// back. Which keys exist, how they are read from YAML and which providers
// answer them is the table in package suites (see suites.ExpectEntries);
// each of its entries builds its checks from here. Nothing here does I/O
// itself: the judged checks (judge, similar) ask the Services they are given.
package checks

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
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

// ServiceCheck is a Check that has to ask an outside service for its verdict
// (the LLM judge, an embeddings model). The runner calls CheckContext instead
// of Check when a check implements it. An error means the service could not
// give a verdict (an outage, a 429 after retries, an answer that breaks the
// contract): the runner makes the conversation errored, naming the service,
// never failed. Check, for a caller without services, must return a failing
// assertion that says the check needs a service.
type ServiceCheck interface {
	Check
	CheckContext(ctx context.Context, o *Observation, svc Services) (results.Assertion, error)
}

// Services are the outside services a ServiceCheck may call, handed to it by
// the runner.
type Services struct {
	// Judge grades replies and embeds texts for the judge and similar
	// checks; nil when the suite has no judge: section.
	Judge Judge
}

// Run judges o with c, calling the service when c needs one. It is the one
// place the runner asks a check for its verdict.
func Run(ctx context.Context, c Check, o *Observation, svc Services) (results.Assertion, error) {
	if sc, ok := c.(ServiceCheck); ok {
		return sc.CheckContext(ctx, o, svc)
	}
	return c.Check(o), nil
}

// Observation is one turn's result as the checks and captures see it. The
// reply text is case-folded and the raw body decoded at most once, however
// many checks and captures read them. Its methods are safe for concurrent use;
// its fields must not change once checks have started reading it.
type Observation struct {
	Reply   *providers.Reply
	Latency time.Duration // from sending the user message to having the reply
	// Conversation is what was said before the reply, ending with the
	// message it answers, for the checks that judge a reply in context.
	Conversation []judge.Message

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

// Unknown returns a check that always fails, for a key evalrun has no check
// for, so that a misspelt check can never pass unnoticed.
func Unknown(name string) Check { return unknownCheck{name: name} }

type unknownCheck struct{ name string }

var _ Check = unknownCheck{}

func (c unknownCheck) Name() string { return c.name }

func (c unknownCheck) Check(*Observation) results.Assertion {
	return failed(c.name, "a known check", c.name, "evalrun has no check named "+strconv.Quote(c.name))
}

// Invalid returns a check that always fails with reason, for a key whose
// value was built by code rather than read by the loader, and is not of the
// type the key's entry reads.
func Invalid(name, reason string) Check { return invalidCheck{name: name, reason: reason} }

type invalidCheck struct{ name, reason string }

func (c invalidCheck) Name() string { return c.name }

func (c invalidCheck) Check(*Observation) results.Assertion {
	return failed(c.name, "a valid "+c.name+" check", notChecked, "cannot check "+c.name+": "+c.reason)
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
