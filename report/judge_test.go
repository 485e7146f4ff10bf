package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

func TestJudgeLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *results.JudgeSummary
		want string
	}{
		{"no judge", nil, ""},
		{"cached", &results.JudgeSummary{Calls: 12, Cached: 3, TotalTokens: 4210, DurationMS: 3200}, "judge: 12 calls (3 cached), 4,210 tokens, 3.2s"},
		{"failed", &results.JudgeSummary{Calls: 1, Failed: 1, TotalTokens: 7, DurationMS: 12}, "judge: 1 call, 1 failed, 7 tokens, 12ms"},
		{"a million", &results.JudgeSummary{Calls: 2, TotalTokens: 1234567, DurationMS: 0.5}, "judge: 2 calls, 1,234,567 tokens, <1ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := JudgeLine(tc.s); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestJudgeInReports: the table says what the judge cost under the table,
// and the JUnit report on the suite's testsuite, as properties, which the
// schema allows there.
func TestJudgeInReports(t *testing.T) {
	run := &results.Run{
		Schema:  results.Schema,
		Summary: results.Summary{Conversations: 1, Passed: 1, Turns: 1, Judge: &results.JudgeSummary{Calls: 2, Cached: 1, TotalTokens: 40, DurationMS: 30}},
		Suites:  []results.Suite{{Name: "s", File: "s.yaml", Provider: "opencx"}},
		Conversations: []*results.Conversation{{
			Suite: "s", File: "s.yaml", Line: 3, Name: "c", Status: results.Passed, Runs: 1, PassedRuns: 1,
			Turns: []*results.Turn{{Index: 1, User: "hi", Reply: "hello", LatencyMS: 5, JudgeMS: 30,
				Assertions: []results.Assertion{{Check: "judge", Passed: true}}}},
			Judge: &results.JudgeUse{Checks: 2, Tokens: 40, DurationMS: 30},
		}},
	}
	var table bytes.Buffer
	if err := Table(&table, run, TableOptions{Width: 100, ASCII: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "\njudge: 2 calls (1 cached), 40 tokens, 30ms\n") {
		t.Errorf("the table lacks the judge line:\n%s", table.String())
	}
	var junit bytes.Buffer
	if err := JUnit(&junit, run); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<property name="evalrun.judge.checks" value="2"></property>`,
		`<property name="evalrun.judge.tokens" value="40"></property>`,
		`<property name="evalrun.judge.time" value="0.030"></property>`,
	} {
		if !strings.Contains(junit.String(), want) {
			t.Errorf("the JUnit report lacks %s:\n%s", want, junit.String())
		}
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, junit.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	validateSchema(t, path)
}
