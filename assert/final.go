package assert

import (
	"strconv"
	"strings"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// finalKeys lists every final key, in the order checks run when the suite did
// not record the order it wrote them in.
var finalKeys = []struct {
	name  string
	given func(f *suites.Final) bool
	check func(f *suites.Final, s *providers.State) results.Assertion
}{
	{"status", func(f *suites.Final) bool { return f.Status != nil }, func(f *suites.Final, s *providers.State) results.Assertion {
		return finalString("status", f.Status, s.Status)
	}},
	{"sentiment", func(f *suites.Final) bool { return f.Sentiment != nil }, func(f *suites.Final, s *providers.State) results.Assertion {
		return finalString("sentiment", f.Sentiment, s.Sentiment)
	}},
	{"closure", func(f *suites.Final) bool { return f.Closure != nil }, func(f *suites.Final, s *providers.State) results.Assertion {
		return finalString("closure", f.Closure, s.Closure)
	}},
	{"handoff", func(f *suites.Final) bool { return f.Handoff != nil }, finalHandoff},
	{"custom_data", func(f *suites.Final) bool { return f.CustomData != nil }, finalCustomData},
}

// Final judges a conversation's state after its last turn against the suite's
// final mapping, one assertion per key, in the order the suite wrote them
// (f.Keys; keys it leaves out but f sets follow). Assertions are named
// "final.status", "final.sentiment", ... A value the service did not report
// fails the check. A nil state is taken as one that reported nothing.
func Final(f *suites.Final, s *providers.State) []results.Assertion {
	if f == nil {
		return nil
	}
	if s == nil {
		s = &providers.State{}
	}
	out := make([]results.Assertion, 0, len(finalKeys))
	var done [8]bool
	for _, k := range f.Keys {
		name := strings.TrimPrefix(k.Name, "final.")
		i := finalKeyIndex(name)
		if i < 0 {
			out = append(out, failed("final."+name, "a known check", name,
				"evalrun has no final check named "+strconv.Quote(name)))
			continue
		}
		if done[i] {
			continue
		}
		done[i] = true
		if finalKeys[i].given(f) {
			out = append(out, finalKeys[i].check(f, s))
		}
	}
	for i, k := range finalKeys {
		if !done[i] && k.given(f) {
			out = append(out, k.check(f, s))
		}
	}
	return out
}

func finalKeyIndex(name string) int {
	for i, k := range finalKeys {
		if k.name == name {
			return i
		}
	}
	return -1
}

func finalString(key string, want *string, got string) results.Assertion {
	name := "final." + key
	lead := "expected final " + key + " " + strconv.Quote(*want) + ", "
	switch {
	case got == "":
		return failed(name, *want, notReported, lead+"but it was not reported")
	case got != *want:
		return failed(name, *want, got, lead+"got "+quote(got))
	}
	return passed(name)
}

func finalHandoff(f *suites.Final, s *providers.State) results.Assertion {
	const name = "final.handoff"
	want := strconv.FormatBool(*f.Handoff)
	lead := "expected final handoff to be " + want + ", "
	switch {
	case s.Handoff == nil:
		return failed(name, want, notReported, lead+"but it was not reported")
	case *s.Handoff != *f.Handoff:
		got := strconv.FormatBool(*s.Handoff)
		return failed(name, want, got, lead+"got "+got)
	}
	return passed(name)
}

func finalCustomData(f *suites.Final, s *providers.State) results.Assertion {
	const name = "final.custom_data"
	if match(f.CustomData, s.CustomData, true) {
		return passed(name)
	}
	want := render(f.CustomData)
	lead := "expected final custom_data to include " + Shorten(want, width) + ", "
	if s.CustomData == nil {
		return failed(name, want, notReported, lead+"but it was not reported")
	}
	got := render(s.CustomData)
	return failed(name, want, got,
		lead+"got "+Shorten(got, width)+" ("+explain(f.CustomData, s.CustomData, true)+")")
}
