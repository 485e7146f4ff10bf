package checks

import (
	"strconv"

	"github.com/evalrun/evalrun/results"
)

// The checks of a conversation's state after its last turn. Their assertions
// are named "final.KEY". A value the service did not report fails the check.

// FinalString checks that the state's value of key (status, sentiment,
// closure) is want; got is "" when the service did not report it.
func FinalString(key, want, got string) results.Assertion {
	name := "final." + key
	lead := "expected final " + key + " " + strconv.Quote(want) + ", "
	switch {
	case got == "":
		return failed(name, want, notReported, lead+"but it was not reported")
	case got != want:
		return failed(name, want, got, lead+"got "+quote(got))
	}
	return passed(name)
}

// FinalHandoff checks that the conversation was (want) or was not handed off;
// got is nil when the service did not say.
func FinalHandoff(want bool, got *bool) results.Assertion {
	const name = "final.handoff"
	w := strconv.FormatBool(want)
	lead := "expected final handoff to be " + w + ", "
	switch {
	case got == nil:
		return failed(name, w, notReported, lead+"but it was not reported")
	case *got != want:
		g := strconv.FormatBool(*got)
		return failed(name, w, g, lead+"got "+g)
	}
	return passed(name)
}

// FinalCustomData checks that got holds at least the keys and values of want;
// got is nil when the service did not report custom data.
func FinalCustomData(want, got map[string]any) results.Assertion {
	const name = "final.custom_data"
	if match(want, got, true) {
		return passed(name)
	}
	w := render(want)
	lead := "expected final custom_data to include " + Shorten(w, width) + ", "
	if got == nil {
		return failed(name, w, notReported, lead+"but it was not reported")
	}
	g := render(got)
	return failed(name, w, g,
		lead+"got "+Shorten(g, width)+" ("+explain(want, got, true)+")")
}

// UnknownFinal returns the failing assertion of a final key evalrun has no
// check for.
func UnknownFinal(name string) results.Assertion {
	return failed("final."+name, "a known check", name, "evalrun has no final check named "+strconv.Quote(name))
}

// InvalidFinal is the failing assertion of a final key whose value is not of
// the type the key's entry reads; see Invalid.
func InvalidFinal(name, reason string) results.Assertion {
	return failed("final."+name, "a valid final "+name+" check", notChecked, "cannot check final "+name+": "+reason)
}
