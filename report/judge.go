package report

import (
	"strconv"

	"github.com/evalrun/evalrun/results"
)

// JudgeLine is the line under the run's table that says what the judged
// checks cost: "judge: 12 calls (3 cached), 4,210 tokens, 3.2s". Calls are
// requests made; cached, checks answered without one; the time is summed
// over requests. It is "" when the run asked no judge.
func JudgeLine(s *results.JudgeSummary) string {
	if s == nil {
		return ""
	}
	line := "judge: " + plural(s.Calls, "call")
	if s.Cached > 0 {
		line += " (" + strconv.Itoa(s.Cached) + " cached)"
	}
	if s.Failed > 0 {
		line += ", " + strconv.Itoa(s.Failed) + " failed"
	}
	return line + ", " + thousands(s.TotalTokens) + " tokens, " + formatMS(s.DurationMS)
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// junitProperties holds a testsuite's <property> elements.
type junitProperties struct {
	Props []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// judgeProperties says what the judged checks of a suite's conversations
// cost, as JUnit properties (the schema allows them on a testsuite, not on
// testsuites); nil when none asked the judge.
func judgeProperties(convs []*results.Conversation) *junitProperties {
	var u results.JudgeUse
	for _, c := range convs {
		if c.Judge != nil {
			u.Checks += c.Judge.Checks
			u.Tokens += c.Judge.Tokens
			u.DurationMS += c.Judge.DurationMS
		}
	}
	if u.Checks == 0 {
		return nil
	}
	return &junitProperties{Props: []junitProperty{
		{Name: "evalrun.judge.checks", Value: strconv.Itoa(u.Checks)},
		{Name: "evalrun.judge.tokens", Value: strconv.Itoa(u.Tokens)},
		{Name: "evalrun.judge.time", Value: junitTime(u.DurationMS)},
	}}
}
