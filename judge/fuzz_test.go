package judge_test

import (
	"testing"

	"github.com/evalrun/evalrun/judge"
)

// FuzzParseAnswer checks that no answer makes ParseAnswer panic, and that
// what it accepts keeps to the contract.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"pass": true, "score": 1, "reason": "ok"}`,
		"```json\n{\"pass\": false, \"score\": 0}\n```",
		"```\n{}\n```",
		`Verdict: {"pass": true, "score": 0.5}`,
		`{"pass": true, "score": 1e400}`,
		"```json",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		a, err := judge.ParseAnswer(content)
		if err == nil && (a.Score < 0 || a.Score > 1) {
			t.Errorf("accepted score %v", a.Score)
		}
	})
}
