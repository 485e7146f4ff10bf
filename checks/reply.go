package checks

import (
	"strconv"
	"strings"
	"time"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
)

// The checks on what the service reported about a reply besides its text.

var (
	_ Check = flagCheck{}
	_ Check = transferCheck{}
	_ Check = actionCheck{}
	_ Check = knowledgeCheck{}
	_ Check = modeCheck{}
	_ Check = latencyCheck{}
)

// notReported is the Actual of a check whose field the reply did not carry.
const notReported = "not reported"

// unreported fails check name when the reply's shape carries only text, so
// that "not reported" is never read as "none".
func unreported(o *Observation, name, want, what string) (results.Assertion, bool) {
	if !o.reply().Sparse {
		return results.Assertion{}, false
	}
	return failed(name, want, notReported, "expected "+name+" "+strconv.Quote(want)+
		", but this reply's shape reports no "+what+": it was not reported by this reply"), true
}

// flagCheck compares one of the reply's optional booleans. A flag the reply
// did not carry fails: a service that stopped reporting it must not look like
// one that reported the expected value.
type flagCheck struct {
	name string
	want bool
	get  func(*providers.Reply) *bool
}

// Flag checks one of the reply's optional booleans, read by get, under the
// check name name.
func Flag(name string, want bool, get func(*providers.Reply) *bool) Check {
	return flagCheck{name: name, want: want, get: get}
}

func (c flagCheck) Name() string { return c.name }

func (c flagCheck) Check(o *Observation) results.Assertion {
	want := strconv.FormatBool(c.want)
	got := c.get(o.reply())
	switch {
	case got == nil:
		return failed(c.name, want, notReported,
			"expected "+c.name+" to be "+want+", but it was not reported by this reply")
	case *got != c.want:
		return failed(c.name, want, strconv.FormatBool(*got), "expected "+c.name+" to be "+want+", got "+strconv.FormatBool(*got))
	}
	return passed(c.name)
}

// transferCheck holds when the reply moved the conversation to bot want. Bot
// ids are UUIDs, whose letter case carries no meaning, so case is ignored.
type transferCheck struct{ want string }

// TransferBot checks that the reply moved the conversation to bot want.
func TransferBot(want string) Check { return transferCheck{want: want} }

func (c transferCheck) Name() string { return "transfer_bot" }

func (c transferCheck) Check(o *Observation) results.Assertion {
	const name = "transfer_bot"
	got := o.reply().TransferBot
	switch {
	case got == "":
		return failed(name, c.want, "no transfer",
			"expected a transfer to bot "+strconv.Quote(c.want)+", but there was no transfer")
	case !strings.EqualFold(got, c.want):
		return failed(name, c.want, got,
			"expected a transfer to bot "+strconv.Quote(c.want)+", got a transfer to bot "+quote(got))
	}
	return passed(name)
}

// actionCheck holds when the bot called the named action, with at least the
// expected arguments when there are any (see match for how values compare).
type actionCheck struct{ want ActionWant }

// ActionWant asks that the bot called action Name, with at least Args
// (a subset match: extra arguments in the call are fine).
type ActionWant struct {
	Name string
	Args map[string]any
}

// Action checks that the bot called the action want names.
func Action(want ActionWant) Check { return actionCheck{want: want} }

func (c actionCheck) Name() string { return "action" }

func (c actionCheck) Check(o *Observation) results.Assertion {
	const name = "action"
	if a, sparse := unreported(o, name, describeCall(c.want.Name, c.want.Args), "actions"); sparse {
		return a
	}
	calls := o.reply().Actions
	named := -1 // the first call of the expected action, for the message
	for i, a := range calls {
		if a.Name != c.want.Name {
			continue
		}
		if named < 0 {
			named = i
		}
		if len(c.want.Args) == 0 || match(c.want.Args, a.Args, true) {
			return passed(name)
		}
	}

	expected := strconv.Quote(c.want.Name)
	if len(c.want.Args) > 0 {
		expected += " with args " + render(c.want.Args)
	}
	msg := "expected a call to action " + expected + ", but "
	if named >= 0 {
		msg += "no call matched (" + explain(c.want.Args, calls[named].Args, true) + "); "
	}
	actual := "no actions"
	if len(calls) == 0 {
		msg += "the bot called no actions"
	} else {
		actual = describeCalls(calls)
		msg += "the bot called: " + Shorten(actual, 2*width)
	}
	return failed(name, describeCall(c.want.Name, c.want.Args), actual, msg)
}

func describeCall(name string, args map[string]any) string {
	if len(args) == 0 {
		return name
	}
	return name + " " + render(args)
}

func describeCalls(calls []providers.Action) string {
	var b strings.Builder
	for i, a := range calls {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(describeCall(a.Name, a.Args))
	}
	return b.String()
}

// knowledgeCheck holds when the reply drew on the knowledge source want
// (compared whole, without regard to case).
type knowledgeCheck struct{ want string }

// Knowledge checks that the reply drew on the knowledge source want.
func Knowledge(want string) Check { return knowledgeCheck{want: want} }

func (c knowledgeCheck) Name() string { return "knowledge" }

func (c knowledgeCheck) Check(o *Observation) results.Assertion {
	const name = "knowledge"
	if a, sparse := unreported(o, name, c.want, "knowledge sources"); sparse {
		return a
	}
	used := o.reply().Knowledge
	for _, k := range used {
		if strings.EqualFold(k, c.want) {
			return passed(name)
		}
	}
	msg := "expected knowledge source " + strconv.Quote(c.want) + " to be used, but the reply used "
	if len(used) == 0 {
		return failed(name, c.want, "none", msg+"no knowledge sources")
	}
	quoted := make([]string, len(used))
	for i, k := range used {
		quoted[i] = strconv.Quote(k)
	}
	return failed(name, c.want, strings.Join(used, ", "), msg+Shorten(strings.Join(quoted, ", "), 2*width))
}

// modeCheck holds when the reply was given in mode want (a slug; case ignored).
type modeCheck struct{ want string }

// Mode checks that the reply was given in mode want.
func Mode(want string) Check { return modeCheck{want: want} }

func (c modeCheck) Name() string { return "mode" }

func (c modeCheck) Check(o *Observation) results.Assertion {
	const name = "mode"
	if a, sparse := unreported(o, name, c.want, "mode"); sparse {
		return a
	}
	got := o.reply().Mode
	switch {
	case got == "":
		return failed(name, c.want, "no mode reported", "expected mode "+strconv.Quote(c.want)+", but no mode was reported")
	case !strings.EqualFold(got, c.want):
		return failed(name, c.want, got, "expected mode "+strconv.Quote(c.want)+", got "+quote(got))
	}
	return passed(name)
}

// latencyCheck holds when the reply took no longer than limit.
type latencyCheck struct{ limit time.Duration }

// MaxLatency checks that the reply took no longer than limit.
func MaxLatency(limit time.Duration) Check { return latencyCheck{limit: limit} }

func (c latencyCheck) Name() string { return "max_latency" }

func (c latencyCheck) Check(o *Observation) results.Assertion {
	const name = "max_latency"
	if o.Latency <= c.limit {
		return passed(name)
	}
	took := formatLatency(o.Latency, c.limit)
	return failed(name, "at most "+c.limit.String(), took,
		"expected a reply within "+c.limit.String()+", took "+took)
}
