package suites

import (
	"strings"
	"testing"

	"github.com/evalrun/evalrun/checks"
)

func TestJudgeSection(t *testing.T) {
	const head = "provider: {type: opencx, base_url: sim}\n"
	tests := []struct {
		name string
		src  string
		opts Options
		errs []string
		warn []string
	}{
		{name: "every key", src: head + `judge:
  base_url: https://judge.example/v1/
  model: m
  embedding_model: e
  token: "${JUDGE_KEY}"
  timeout: 5s
  retries: 1
  rate_limit: 60/min
conversations:
  - name: a
    turns: [{user: hi, expect: {judge: greets, similar: {to: hello, min: 0.5}}}]
    final: {judge: {rubric: "stays polite", min_score: 0.7}}
`, opts: env(map[string]string{"JUDGE_KEY": "sk-judge-0123456789"})},
		{name: "did you mean, and base_url is required", src: head + `judge: {modle: m}
conversations: [{name: a, turns: [{user: hi}]}]
`, errs: []string{
			`2:8: judge: add base_url: the root of an OpenAI-compatible API, such as https://api.openai.com/v1, or "sim" for the built-in simulator`,
			`2:9: unknown key "modle" in judge; did you mean "model"?`,
		}},
		{name: "bad values", src: head + `judge: {base_url: "ftp://x", model: "", timeout: 5, retries: -1, rate_limit: lots, token: $KEY}
conversations: [{name: a, turns: [{user: hi}]}]
`, errs: []string{
			`2:19: judge.base_url: want "sim" or the root of an OpenAI-compatible API such as https://api.openai.com/v1, got "ftp://x"`,
			`2:37: judge.model: must not be empty; leave it out if no check needs it`,
			`2:50: judge.timeout: want a duration such as 5s or 1m30s, got the bare number 5 (add a unit)`,
			`2:62: judge.retries: want a whole number from 0 to 100, got -1`,
			`2:78: rate_limit: want requests per time such as 100/min, 5/s or 1000/h, or none, got "lots"`,
			`2:91: token: $KEY is not read from the environment; write ${KEY} (or $$KEY for the literal text)`,
		}},
		{name: "judged checks need the section", src: head + `conversations:
  - name: a
    turns: [{user: hi, expect: {judge: greets, similar: {to: hello, min: 0.5}}}]
    final: {judge: polite}
`, errs: []string{
			`4:33: judge: this check asks an LLM judge, and the suite has no judge: section; add judge: {base_url: ..., model: ...} (base_url: sim for the built-in simulator)`,
			`4:48: similar: this check asks an LLM judge, and the suite has no judge: section; add judge: {base_url: ..., embedding_model: ...} (base_url: sim for the built-in simulator)`,
			`5:13: judge: this check asks an LLM judge, and the suite has no judge: section; add judge: {base_url: ..., model: ...} (base_url: sim for the built-in simulator)`,
		}},
		{name: "and the model each uses", src: head + `judge: {base_url: sim, embedding_model: e}
conversations:
  - name: a
    turns: [{user: hi, expect: {judge: greets, similar: {to: hello, min: 0.5}}}]
---
` + head + `judge: {base_url: sim, model: m}
conversations:
  - name: a
    turns: [{user: hi, expect: {similar: {to: hello, min: 0.5}}}]
`, errs: []string{
			`5:33: judge: this check needs judge.model, which the judge: section at line 2 does not set`,
			`11:33: similar: this check needs judge.embedding_model, which the judge: section at line 8 does not set`,
		}},
		{name: "bad check values", src: head + `judge: {base_url: sim, model: m, embedding_model: e}
conversations:
  - name: a
    turns:
      - user: hi
        expect: {judge: {min_score: 2}, similar: {to: "", min: 1.5, max: 1}}
      - user: hi
        expect: {judge: [a], similar: hello}
`, errs: []string{
			`7:25: judge: add rubric: what the reply must do, such as "apologises and promises a refund"`,
			`7:55: similar.to: must not be empty; give the text the reply should mean`,
			`7:64: similar.min: want a number from 0 to 1 such as 0.8, got 1.5`,
			`7:69: unknown key "max" in similar; want one of to, min`,
			`9:25: judge: want a rubric, or {rubric, min_score}, got a list`,
			`9:39: similar: want {to, min}, such as {to: "I opened a refund ticket", min: 0.8}, got "hello"`,
		}},
		{name: "the simulator needs no token", src: head + `judge: {base_url: sim, model: m, token: "${JUDGE_KEY}"}
conversations: [{name: a, turns: [{user: hi, expect: {judge: greets}}]}]
`, warn: []string{
			`2:41: environment variable JUDGE_KEY is not set; the built-in simulator does not need it, so the value is left out`,
		}},
		{name: "a missing token is an error", src: head + `judge: {base_url: "https://judge.example/v1", model: m, token: "${JUDGE_KEY}"}
conversations: [{name: a, turns: [{user: hi, expect: {judge: greets}}]}]
`, errs: []string{
			`2:64: environment variable JUDGE_KEY is not set; set it, or write $${JUDGE_KEY} for the literal text`,
		}},
		{name: "and a warning for validate", src: head + `judge: {base_url: "https://judge.example/v1", model: m, token: "${JUDGE_KEY}"}
conversations: [{name: a, turns: [{user: hi, expect: {judge: greets}}]}]
`, opts: Options{MissingEnvWarns: true, LookupEnv: func(string) (string, bool) { return "", false }}, warn: []string{
			`2:64: environment variable JUDGE_KEY is not set; the value is left out here, but run and load need it`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts.LookupEnv == nil {
				opts = env(nil)
			}
			_, errs, warns := loadWarned(t, tc.src, opts)
			if !same(errs, tc.errs) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(tc.errs, "\n"))
			}
			if !same(warns, tc.warn) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warns, "\n"), strings.Join(tc.warn, "\n"))
			}
		})
	}
}

func TestJudgeSectionValues(t *testing.T) {
	ss, errs, _ := loadWarned(t, `provider: {type: opencx, base_url: sim}
vars: {order: ord_42}
judge:
  base_url: https://judge.example/v1/
  model: m
  embedding_model: e
  token: "${JUDGE_KEY}"
  rate_limit: 60/min
conversations:
  - name: a
    turns: [{user: hi, expect: {judge: "mentions {{order}}", similar: {to: "refund for {{order}}", min: 0.5}}}]
    final: {judge: {rubric: "stays polite", min_score: 0.7}}
`, env(map[string]string{"JUDGE_KEY": "sk-judge-0123456789"}))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	j := ss[0].Judge
	if j.BaseURL != "https://judge.example/v1" || j.Model != "m" || j.EmbeddingModel != "e" ||
		j.Token.Value() != "sk-judge-0123456789" || j.RateLimit != (Rate{N: 60, Per: 60e9}) ||
		j.Timeout != defaultTimeout || j.Retries != defaultRetries {
		t.Errorf("judge = %+v", j)
	}
	if len(j.EnvSecrets) != 1 || j.EnvSecrets[0].Value() != "sk-judge-0123456789" {
		t.Errorf("EnvSecrets = %v", j.EnvSecrets)
	}
	c := ss[0].Conversations[0]
	x := c.Turns[0].Expect.Expand(map[string]string{"order": "ord_42"})
	if v, _ := x.Spec("judge"); v != (checks.JudgeWant{Rubric: "mentions ord_42"}) {
		t.Errorf("judge = %#v", v)
	}
	if v, _ := x.Spec("similar"); v != (checks.SimilarWant{To: "refund for ord_42", Min: 0.5}) {
		t.Errorf("similar = %#v", v)
	}
	if v, _ := c.Final.Spec("judge"); v != (checks.JudgeWant{Rubric: "stays polite", MinScore: 0.7}) {
		t.Errorf("final judge = %#v", v)
	}
	for _, key := range []string{"judge", "similar"} {
		if e := ExpectEntry(key); e == nil || !e.Service {
			t.Errorf("expect %s is not a service entry", key)
		}
	}
	if e := FinalEntry("judge"); e == nil || !e.Service {
		t.Error("final judge is not a service entry")
	}
}
