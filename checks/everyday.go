package checks

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

var (
	_ Check = containsAnyCheck{}
	_ Check = notRegexCheck{}
	_ Check = lengthCheck{}
)

// containsAnyCheck holds when at least one of want appears in the reply,
// without regard to case.
type containsAnyCheck struct{ want, folded []string }

// ContainsAny checks that the reply contains at least one of want, without
// regard to case, as Contains does for one.
func ContainsAny(want []string) Check {
	c := containsAnyCheck{want: want, folded: make([]string, len(want))}
	for i, w := range want {
		c.folded[i] = fold(w)
	}
	return c
}

func (c containsAnyCheck) Name() string { return "contains_any" }

func (c containsAnyCheck) Check(o *Observation) results.Assertion {
	const name = "contains_any"
	quoted := make([]string, len(c.want))
	for i, w := range c.want {
		quoted[i] = quote(w)
	}
	wants := strings.Join(quoted, ", ")
	if o.silent() {
		return failed(name, "one of "+wants, silentActual,
			"expected the reply to contain one of "+wants+", but the bot said nothing")
	}
	for _, f := range c.folded {
		if strings.Contains(o.foldedText(), f) {
			return passed(name)
		}
	}
	text := o.reply().Text
	return failed(name, "one of "+wants, text,
		"expected the reply to contain one of "+Shorten(wants, 2*width)+", got "+quote(text))
}

// notRegexCheck holds when the RE2 pattern matches nowhere in the reply. A
// silent reply fails it, as it fails not_contains: silence is asserted with
// reply: false.
type notRegexCheck struct{ regexCheck }

// NotRegex checks that the RE2 pattern src matches nowhere in the reply.
func NotRegex(src string) Check { return notRegexCheck{newRegex(src)} }

func (c notRegexCheck) Name() string { return "not_regex" }

func (c notRegexCheck) Check(o *Observation) results.Assertion {
	const name = "not_regex"
	shown := "/" + c.src + "/"
	if c.err != nil {
		return failed(name, "no match of "+shown, notChecked, "invalid regex "+shown+": "+c.err.Error())
	}
	if o.silent() {
		return failed(name, "no match of "+shown, silentActual,
			"expected the reply not to match "+shown+", but the bot said nothing")
	}
	text := o.reply().Text
	m := c.re.FindStringIndex(text)
	if m == nil {
		return passed(name)
	}
	return failed(name, "no match of "+shown, text,
		"expected the reply not to match "+shown+", but it matched "+quote(text[m[0]:m[1]])+" in "+excerpt(text, m[0], m[1]))
}

// LengthBounds are the least and most characters a reply may have; a bound
// of -1 is not set.
type LengthBounds struct {
	Min, Max int
}

// String says what the bounds ask for, as "between 10 and 280 characters".
func (b LengthBounds) String() string {
	switch {
	case b.Min >= 0 && b.Max >= 0:
		return "between " + strconv.Itoa(b.Min) + " and " + strconv.Itoa(b.Max) + " characters"
	case b.Min >= 0:
		return "at least " + characters(b.Min)
	case b.Max >= 0:
		return "at most " + characters(b.Max)
	}
	return "any length"
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}

// lengthCheck holds when the reply, surrounding white space aside, has from
// Min to Max characters (Unicode code points, not bytes).
type lengthCheck struct{ b LengthBounds }

// Length checks that the reply's length in characters is within b. Surrounding
// white space does not count, as for equals; a silent reply fails, as for
// every check of what the bot wrote.
func Length(b LengthBounds) Check { return lengthCheck{b: b} }

func (c lengthCheck) Name() string { return "length" }

func (c lengthCheck) Check(o *Observation) results.Assertion {
	const name = "length"
	want := c.b.String()
	if o.silent() {
		return failed(name, want, silentActual, "expected a reply of "+want+", but the bot said nothing")
	}
	text := strings.TrimSpace(o.reply().Text)
	n := utf8.RuneCountInString(text)
	if (c.b.Min < 0 || n >= c.b.Min) && (c.b.Max < 0 || n <= c.b.Max) {
		return passed(name)
	}
	got := characters(n)
	return failed(name, want, got, "expected a reply of "+want+", got "+got+": "+quote(text))
}
