package runner_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// fakeJudge is an OpenAI-compatible judge on httptest: answer decides the
// message content of each chat completion from its user message; it records
// every prompt and counts every request.
type fakeJudge struct {
	*httptest.Server
	answer func(prompt string) (status int, content string)

	mu      sync.Mutex
	prompts []string
	embeds  int
}

func newFakeJudge(t *testing.T, answer func(prompt string) (int, string)) *fakeJudge {
	f := &fakeJudge{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeJudge) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Messages []struct{ Content string } `json:"messages"`
		Input    []string                   `json:"input"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/chat/completions":
		prompt := body.Messages[len(body.Messages)-1].Content
		f.mu.Lock()
		f.prompts = append(f.prompts, prompt)
		f.mu.Unlock()
		status, content := f.answer(prompt)
		w.WriteHeader(status)
		if status != http.StatusOK {
			_, _ = w.Write([]byte(`{"error":{"message":"judge down"}}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
		})
	case "/v1/embeddings":
		f.mu.Lock()
		f.embeds++
		f.mu.Unlock()
		data := make([]any, len(body.Input))
		for i := range body.Input {
			data[i] = map[string]any{"index": i, "embedding": []float64{1, 0}}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "usage": map[string]int{"prompt_tokens": 4, "total_tokens": 4}})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeJudge) seen() ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.prompts...), f.embeds
}

func passing(string) (int, string) {
	return http.StatusOK, `{"pass": true, "score": 1, "reason": "fine"}`
}

// TestJudgedChecksWithTheSimulator: judge, similar and final judge against
// the simulator's judge, passing and failing; a failure says the judge's
// reason, or the similarity and the min; their cost is recorded apart.
func TestJudgedChecksWithTheSimulator(t *testing.T) {
	ss := load(t, `provider: {type: opencx, base_url: sim}
judge: {base_url: sim, model: sim-judge, embedding_model: sim-embed}
vars: {order: ord_42}
conversations:
  - name: passes
    turns:
      - user: Hi, I would like a refund please.
        expect:
          judge: {rubric: 'asks for the "order number"', min_score: 0.5}
      - user: "Sure, it is {{order}}."
        expect:
          judge: "confirms a refund ticket for {{order}}"
          similar: {to: "I opened a refund ticket for order {{order}}", min: 0.5}
    final:
      judge: "opens a refund ticket"
  - name: fails
    turns:
      - user: Hello!
        expect:
          judge: "apologises for the refund delay"
          similar: {to: "your parcel ships tomorrow", min: 0.5}
    final:
      judge: "mentions the warranty"
`)
	r := run(t, ss, runner.Options{})
	pass, fail := byName(t, r, "passes"), byName(t, r, "fails")
	if pass.Status != results.Passed {
		t.Fatalf("passes: %s", describe(pass))
	}
	if fail.Status != results.Failed {
		t.Fatalf("fails: %s", describe(fail))
	}
	got := fail.Failures()
	want := []string{
		"turn 1: judge: found 0 of 3 rubric terms in the reply; missing: apologises, refund, delay",
		`turn 1: similar: similarity 0.00 is below min 0.50: expected a reply meaning "your parcel ships tomorrow", got "Hello! I'm the evalrun demo assistant. How can I help you today?"`,
		"final.judge: found 0 of 1 rubric terms in what the bot said; missing: warranty",
	}
	if len(got) != len(want) {
		t.Fatalf("failures %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("failure %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	if pass.Judge == nil || pass.Judge.Checks != 4 || pass.Judge.Tokens == 0 {
		t.Errorf("passes: judge use %+v, want 4 checks with tokens", pass.Judge)
	}
	if fail.Judge == nil || fail.Judge.Checks != 3 {
		t.Errorf("fails: judge use %+v, want 3 checks", fail.Judge)
	}
	j := r.Summary.Judge
	// 4 judge requests and 3 embeddings requests: nothing was asked twice.
	if j == nil || j.Calls != 7 || j.Failed != 0 || j.TotalTokens == 0 || j.TotalTokens != j.PromptTokens+j.CompletionTokens {
		t.Errorf("summary judge %+v", j)
	}
}

// TestJudgeFailureIsErrored: a judge that cannot give a verdict (a 500 after
// retries, an answer that is not the contract's JSON, embeddings down) makes
// the conversation errored, naming the judge, and never failed.
func TestJudgeFailureIsErrored(t *testing.T) {
	down := newFakeJudge(t, func(string) (int, string) { return http.StatusInternalServerError, "" })
	prose := newFakeJudge(t, func(string) (int, string) { return http.StatusOK, "The reply looks fine to me." })
	tests := []struct {
		name, judge, expect, final, reason string
	}{
		{"the simulator's 500", "{base_url: sim, model: sim-judge, retries: 0}", `{judge: "greets [sim fault=500]"}`, "",
			`turn 1: check judge: judge (sim-judge): chat completion: HTTP 500: {"error":{"message":"Simulated fault: Internal Server Error"`},
		{"a 500 after retries", "{base_url: " + down.URL + "/v1, model: m, retries: 1}", "{judge: greets}", "",
			"turn 1: check judge: judge (m): chat completion: HTTP 500 after 2 attempts"},
		{"not the contract's JSON", "{base_url: " + prose.URL + "/v1, model: m}", "{judge: greets}", "",
			`turn 1: check judge: judge (m): chat completion: the answer is not the JSON object {"pass", "score", "reason"} evalrun asked for`},
		{"embeddings down", "{base_url: " + down.URL + "/v1/nowhere, embedding_model: e, retries: 0}", "{similar: {to: hello, min: 0.5}}", "",
			"turn 1: check similar: judge (e): embeddings: HTTP 404"},
		{"a final judge", "{base_url: " + prose.URL + "/v1, model: m}", "{contains: hello}", "{judge: polite}",
			`final: final.judge: judge (m): chat completion: the answer is not the JSON object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "provider: {type: opencx, base_url: sim}\njudge: " + tc.judge + "\nconversations:\n  - name: c\n    turns:\n      - user: Hello!\n        expect: " + tc.expect + "\n"
			if tc.final != "" {
				src += "    final: " + tc.final + "\n"
			}
			r := run(t, load(t, src), runner.Options{})
			c := r.Conversations[0]
			if c.Status != results.Errored {
				t.Fatalf("status %s, want errored: %s", c.Status, describe(c))
			}
			if !strings.HasPrefix(c.Reason, tc.reason) {
				t.Errorf("reason %q\nwant it to start %q", c.Reason, tc.reason)
			}
			for _, tu := range c.Turns {
				for _, a := range tu.Assertions {
					if !a.Passed {
						t.Errorf("a judge failure left a failed assertion: %+v", a)
					}
				}
			}
			if r.Summary.Failed != 0 || r.Summary.Errored != 1 {
				t.Errorf("summary %d failed, %d errored; want 0 and 1", r.Summary.Failed, r.Summary.Errored)
			}
			if tc.name != "embeddings down" && (r.Summary.Judge == nil || r.Summary.Judge.Failed == 0) {
				t.Errorf("summary judge %+v, want a failed call", r.Summary.Judge)
			}
		})
	}
}

// TestJudgeCallsAreMadeOnce: identical judge checks, in two conversations
// and in two suites with the same judge: section, send one request; the
// others are answered from the run's cache.
func TestJudgeCallsAreMadeOnce(t *testing.T) {
	f := newFakeJudge(t, passing)
	suite := func(name string) string {
		return "name: " + name + `
provider: {type: opencx, base_url: sim}
judge: {base_url: ` + f.URL + `/v1, model: m, embedding_model: e}
conversations:
  - name: one
    turns: [{user: Hello!, expect: {judge: greets, similar: {to: hello there, min: 0.5}}}]
  - name: two
    turns: [{user: Hello!, expect: {judge: greets, similar: {to: hello there, min: 0.5}}}]
`
	}
	ss := append(load(t, suite("a")), load(t, suite("b"))...)
	r := run(t, ss, runner.Options{Concurrency: 1})
	if r.Summary.Passed != 4 {
		t.Fatalf("%v", statuses(r))
	}
	prompts, embeds := f.seen()
	if len(prompts) != 1 || embeds != 1 {
		t.Errorf("%d judge requests and %d embeddings requests, want 1 of each", len(prompts), embeds)
	}
	j := r.Summary.Judge
	// Three judge calls from the cache, and both texts of three similar
	// checks.
	if j == nil || j.Calls != 2 || j.Cached != 3+6 || j.TotalTokens != 15+4 {
		t.Errorf("summary judge %+v", j)
	}
}

// TestJudgeSeesTheConversation: a turn's judge reads the messages before the
// reply and the reply; the final judge reads them all, a silent reply as
// one.
func TestJudgeSeesTheConversation(t *testing.T) {
	f := newFakeJudge(t, passing)
	ss := load(t, `provider: {type: opencx, base_url: sim}
judge: {base_url: `+f.URL+`/v1, model: m}
conversations:
  - name: c
    turns:
      - user: I want to talk to a human.
      - user: Hello?
        expect: {judge: stays quiet}
    final: {judge: hands off politely}
`)
	r := run(t, ss, runner.Options{})
	if c := r.Conversations[0]; c.Status != results.Passed {
		t.Fatal(describe(c))
	}
	prompts, _ := f.seen()
	if len(prompts) != 2 {
		t.Fatalf("%d prompts, want 2", len(prompts))
	}
	turn, final := prompts[0], prompts[1]
	for _, want := range []string{
		"<rubric>\nstays quiet\n</rubric>",
		"[user] I want to talk to a human.\n[bot] ",
		"[user] Hello?\n</conversation>",
		"<reply>\n(the bot said nothing)\n</reply>",
	} {
		if !strings.Contains(turn, want) {
			t.Errorf("the turn's prompt lacks %q:\n%s", want, turn)
		}
	}
	for _, want := range []string{"hands off politely", "[user] Hello?\n[bot] (the bot said nothing)\n</conversation>"} {
		if !strings.Contains(final, want) || strings.Contains(final, "<reply>") {
			t.Errorf("the final prompt lacks %q or has a reply:\n%s", want, final)
		}
	}
}

// TestPlayerSkipsJudgedChecks: a player told to skip judged checks (a load
// test without --judge) runs none of them, neither passed nor failed, and
// asks no judge; without it, they run.
func TestPlayerSkipsJudgedChecks(t *testing.T) {
	f := newFakeJudge(t, func(string) (int, string) {
		return http.StatusOK, `{"pass": false, "score": 0, "reason": "never"}`
	})
	ss := load(t, `provider: {type: opencx, base_url: sim}
judge: {base_url: `+f.URL+`/v1, model: m, embedding_model: e}
conversations:
  - name: c
    turns: [{user: Hello!, expect: {contains: hello, judge: greets, similar: {to: hi, min: 0.5}}}]
    final: {handoff: false, judge: polite}
`)
	play := func(skip bool) runner.Outcome {
		p, err := runner.NewPlayer(ss, runner.Options{SkipJudged: skip})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		return p.Play(context.Background(), ss[0], ss[0].Conversations[0])
	}
	names := func(o runner.Outcome) string {
		var out []string
		for _, a := range o.Turns[0].Record.Assertions {
			out = append(out, a.Check)
		}
		for _, a := range o.Final {
			out = append(out, a.Check)
		}
		return strings.Join(out, " ")
	}

	o := play(true)
	if o.Status != results.Passed || names(o) != "contains final.handoff" || o.Judge.Checks != 0 {
		t.Errorf("skipped: %s with %q, judge %+v; want passed with contains final.handoff only", o.Status, names(o), o.Judge)
	}
	if prompts, embeds := f.seen(); len(prompts)+embeds != 0 {
		t.Errorf("skipped judged checks sent %d requests", len(prompts)+embeds)
	}

	o = play(false)
	if o.Status != results.Failed || names(o) != "contains judge similar final.handoff final.judge" || o.Judge.Checks != 3 {
		t.Errorf("run: %s with %q, judge %+v; want failed with every check", o.Status, names(o), o.Judge)
	}
}

// TestBaseURLLeavesTheJudge: --base-url points the bot elsewhere, not the
// judge.
func TestBaseURLLeavesTheJudge(t *testing.T) {
	f := newFakeJudge(t, passing)
	ss := load(t, `provider: {type: opencx, base_url: "https://bot.invalid"}
judge: {base_url: `+f.URL+`/v1, model: m}
conversations: [{name: c, turns: [{user: Hello!, expect: {judge: greets}}]}]
`)
	r := run(t, ss, runner.Options{BaseURL: suites.SimURL})
	if c := r.Conversations[0]; c.Status != results.Passed {
		t.Fatal(describe(c))
	}
	if prompts, _ := f.seen(); len(prompts) != 1 {
		t.Errorf("the judge got %d requests, want 1", len(prompts))
	}
}
