package assert

import (
	"slices"
	"time"

	"github.com/evalrun/evalrun/suites"
)

// legacyExpect and legacyFinal keep the tests' cases in the shape they were
// written in, one field per key, from before every key became one entry of
// the suites table. lx and lf turn them into the Spec lists the loader
// builds: the keys Keys names first, in its order, then every other key that
// is set, in table order.
type legacyExpect struct {
	Contains     []string
	NotContains  []string
	Equals       *string
	Regex        []string
	MightSolve   *bool
	FullyCovered *bool
	Handoff      *bool
	TransferBot  *string
	Actions      []suites.ActionExpect
	Knowledge    []string
	Mode         *string
	Reply        *bool
	MaxLatency   time.Duration
	JSON         []suites.JSONExpect
	Keys         []suites.Key
}

func lx(e *legacyExpect) *suites.Expect {
	set := map[string]any{}
	if e.Contains != nil {
		set["contains"] = e.Contains
	}
	if e.NotContains != nil {
		set["not_contains"] = e.NotContains
	}
	if e.Equals != nil {
		set["equals"] = *e.Equals
	}
	if e.Regex != nil {
		set["regex"] = e.Regex
	}
	if e.MightSolve != nil {
		set["might_solve"] = *e.MightSolve
	}
	if e.FullyCovered != nil {
		set["fully_covered"] = *e.FullyCovered
	}
	if e.Handoff != nil {
		set["handoff"] = *e.Handoff
	}
	if e.TransferBot != nil {
		set["transfer_bot"] = *e.TransferBot
	}
	if e.Actions != nil {
		set["action"] = e.Actions
	}
	if e.Knowledge != nil {
		set["knowledge"] = e.Knowledge
	}
	if e.Mode != nil {
		set["mode"] = *e.Mode
	}
	if e.Reply != nil {
		set["reply"] = *e.Reply
	}
	if e.MaxLatency > 0 {
		set["max_latency"] = e.MaxLatency
	}
	if e.JSON != nil {
		set["json"] = e.JSON
	}
	var names []string
	for _, en := range suites.ExpectEntries() {
		names = append(names, en.Name)
	}
	return &suites.Expect{Specs: ordered(e.Keys, names, set, suites.ExpectSpec)}
}

type legacyFinal struct {
	Status     *string
	Sentiment  *string
	Closure    *string
	Handoff    *bool
	CustomData map[string]any
	Keys       []suites.Key
}

func lf(f *legacyFinal) *suites.Final {
	set := map[string]any{}
	if f.Status != nil {
		set["status"] = *f.Status
	}
	if f.Sentiment != nil {
		set["sentiment"] = *f.Sentiment
	}
	if f.Closure != nil {
		set["closure"] = *f.Closure
	}
	if f.Handoff != nil {
		set["handoff"] = *f.Handoff
	}
	if f.CustomData != nil {
		set["custom_data"] = f.CustomData
	}
	var names []string
	for _, en := range suites.FinalEntries() {
		names = append(names, en.Name)
	}
	return &suites.Final{Specs: ordered(f.Keys, names, set, suites.FinalSpec)}
}

func ordered(keys []suites.Key, names []string, set map[string]any, spec func(string, any) suites.Spec) []suites.Spec {
	var out []suites.Spec
	done := map[string]bool{}
	for _, k := range keys {
		if done[k.Name] {
			continue
		}
		done[k.Name] = true
		v, ok := set[k.Name]
		if !ok && slices.Contains(names, k.Name) {
			continue // named but not set: nothing to check
		}
		out = append(out, spec(k.Name, v))
	}
	for _, name := range names {
		if v, ok := set[name]; ok && !done[name] {
			out = append(out, spec(name, v))
		}
	}
	return out
}
