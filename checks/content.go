package checks

import (
	"regexp"
	"strings"

	"github.com/evalrun/evalrun/results"
)

// The checks on what the bot wrote. Each fails on a silent reply with a message
// that says so, rather than quoting an empty string.

var (
	_ Check = containsCheck{}
	_ Check = notContainsCheck{}
	_ Check = equalsCheck{}
	_ Check = regexCheck{}
	_ Check = replyCheck{}
)

// containsCheck holds when the reply contains want, without regard to case.
type containsCheck struct{ want, folded string }

// Contains checks that the reply contains want, without regard to case.
func Contains(want string) Check { return containsCheck{want: want, folded: fold(want)} }

func (c containsCheck) Name() string { return "contains" }

func (c containsCheck) Check(o *Observation) results.Assertion {
	const name = "contains"
	if o.silent() {
		return failed(name, c.want, silentActual,
			"expected the reply to contain "+quote(c.want)+", but the bot said nothing")
	}
	if strings.Contains(o.foldedText(), c.folded) {
		return passed(name)
	}
	text := o.reply().Text
	return failed(name, c.want, text, "expected the reply to contain "+quote(c.want)+", got "+quote(text))
}

// notContainsCheck holds when the reply does not contain want, without regard
// to case. A silent reply fails it too: silence is asserted with reply: false,
// and a turn must not pass only because the bot said nothing at all.
type notContainsCheck struct{ want, folded string }

// NotContains checks that the reply does not contain want, without regard to case.
func NotContains(want string) Check { return notContainsCheck{want: want, folded: fold(want)} }

func (c notContainsCheck) Name() string { return "not_contains" }

func (c notContainsCheck) Check(o *Observation) results.Assertion {
	const name = "not_contains"
	if o.silent() {
		return failed(name, c.want, silentActual,
			"expected the reply not to contain "+quote(c.want)+", but the bot said nothing")
	}
	text := o.reply().Text
	start, end := findFolded(text, o.foldedText(), c.folded)
	if start < 0 {
		return passed(name)
	}
	return failed(name, c.want, text,
		"expected the reply not to contain "+quote(c.want)+", got "+excerpt(text, start, end))
}

// equalsCheck holds when the whole reply is want, both trimmed of surrounding
// white space; case counts. An expected value that is itself blank is met by a
// silent reply.
type equalsCheck struct{ want string }

// Equals checks that the whole reply is want, surrounding white space aside.
func Equals(want string) Check { return equalsCheck{want: want} }

func (c equalsCheck) Name() string { return "equals" }

func (c equalsCheck) Check(o *Observation) results.Assertion {
	const name = "equals"
	want := strings.TrimSpace(c.want)
	if o.silent() {
		if want == "" {
			return passed(name)
		}
		return failed(name, c.want, silentActual,
			"expected the reply to equal "+quote(want)+", but the bot said nothing")
	}
	got := strings.TrimSpace(o.reply().Text)
	if got == want {
		return passed(name)
	}
	msg := "expected the reply to equal " + quote(want) + ", got " + quote(got)
	switch {
	case strings.EqualFold(got, want):
		msg += " (they differ only in letter case)"
	case collapse(got) == collapse(want):
		msg += " (they differ only in white space)"
	}
	return failed(name, want, got, msg)
}

// regexCheck holds when the RE2 pattern matches somewhere in the reply.
type regexCheck struct {
	src string
	re  *regexp.Regexp
	err error // the suite loader compiles every pattern first, so only a template can cause this
}

// Regex checks that the RE2 pattern src matches somewhere in the reply.
func Regex(src string) Check { return newRegex(src) }

func newRegex(src string) regexCheck {
	re, err := regexp.Compile(src)
	return regexCheck{src: src, re: re, err: err}
}

func (c regexCheck) Name() string { return "regex" }

func (c regexCheck) Check(o *Observation) results.Assertion {
	const name = "regex"
	shown := "/" + c.src + "/"
	if c.err != nil {
		return failed(name, shown, notChecked, "invalid regex "+shown+": "+c.err.Error())
	}
	if o.silent() {
		return failed(name, shown, silentActual, "expected the reply to match "+shown+", but the bot said nothing")
	}
	text := o.reply().Text
	if c.re.MatchString(text) {
		return passed(name)
	}
	return failed(name, shown, text, "expected the reply to match "+shown+", got "+quote(text))
}

// replyCheck holds when the bot said something (want) or stayed silent (!want).
type replyCheck struct{ want bool }

// Reply checks that the bot said something (want) or nothing (!want).
func Reply(want bool) Check { return replyCheck{want: want} }

func (c replyCheck) Name() string { return "reply" }

func (c replyCheck) Check(o *Observation) results.Assertion {
	const name = "reply"
	silent := o.silent()
	switch {
	case c.want && silent:
		return failed(name, "a reply", silentActual, "expected the bot to reply, but it said nothing")
	case !c.want && !silent:
		text := o.reply().Text
		return failed(name, "silence", text, "expected the bot to stay silent, got "+quote(text))
	}
	return passed(name)
}
