package judge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/sim"
)

// simJudge starts a simulator and returns a client of its judge, and a
// count of the /v1 requests it received.
func simJudge(t *testing.T, opts sim.Options, cfg judge.Config) (*judge.Client, *atomic.Int64) {
	t.Helper()
	s := sim.New(opts)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + sim.OpenAIPath
	if cfg.Model == "" {
		cfg.Model = "sim-judge"
	}
	if cfg.EmbeddingModel == "" {
		cfg.EmbeddingModel = "sim-embed"
	}
	return judge.New(cfg), &n
}

// answering returns a client of a server whose chat completions carry
// content, and a count of the requests it received.
func answering(t *testing.T, content string) (*judge.Client, *atomic.Int64) {
	t.Helper()
	return serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) {
		completion(w, content)
	})
}

func serving(t *testing.T, cfg judge.Config, h http.HandlerFunc) (*judge.Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.Model == "" {
		cfg.Model = "gpt-test"
	}
	if cfg.EmbeddingModel == "" {
		cfg.EmbeddingModel = "embed-test"
	}
	return judge.New(cfg), &n
}

func completion(w http.ResponseWriter, content string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
		"usage":   map[string]int{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
	})
}

var refundTurn = judge.Request{
	Rubric:     "The reply confirms a refund ticket for the order",
	Transcript: []judge.Message{{Role: judge.RoleUser, Text: "I want a refund for ord_42"}},
	Reply:      "I've opened refund ticket TCK-1001 for order ord_42. The refund will reach you in 5 days.",
}

func TestJudgeOnSim(t *testing.T) {
	c, _ := simJudge(t, sim.Options{}, judge.Config{})
	ctx := context.Background()

	v, err := c.Judge(ctx, refundTurn)
	if err != nil {
		t.Fatal(err)
	}
	want := "found 3 of 4 rubric terms in the reply: refund, ticket, order; missing: confirms"
	if !v.Pass || !v.JudgePass || v.Score != 0.75 || v.Reason != want || v.Cached {
		t.Errorf("verdict %+v, want a pass with score 0.75 and reason %q", v, want)
	}
	if v.Usage.PromptTokens == 0 || v.Usage.CompletionTokens == 0 || v.Usage.TotalTokens != v.Usage.PromptTokens+v.Usage.CompletionTokens {
		t.Errorf("usage %+v", v.Usage)
	}

	fail := refundTurn
	fail.Rubric = `The reply says "within 24 hours" and apologises`
	v, err = c.Judge(ctx, fail)
	if err != nil {
		t.Fatal(err)
	}
	if v.Pass || v.JudgePass || v.Score != 0 || v.Message() != `found 0 of 2 rubric terms in the reply; missing: "within 24 hours", apologises` {
		t.Errorf("verdict %+v, message %q", v, v.Message())
	}

	final := judge.Request{
		Rubric: "the bot opens a refund ticket",
		Final:  true,
		Transcript: []judge.Message{
			{Role: judge.RoleUser, Text: "refund please"},
			{Role: judge.RoleBot, Text: "Which order?"},
			{Role: judge.RoleUser, Text: "ord_42, and open a ticket"},
			{Role: judge.RoleBot, Text: "Done: refund\nticket TCK-1001."},
		},
	}
	v, err = c.Judge(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Pass || v.Score != 0.67 || !strings.Contains(v.Reason, "what the bot said: refund, ticket; missing: opens") {
		t.Errorf("final verdict %+v", v)
	}

	st := c.Stats()
	if st.JudgeCalls != 3 || st.Cached != 0 || st.Failed != 0 || st.Usage.TotalTokens == 0 || st.Time <= 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestJudgeFencedOnSim(t *testing.T) {
	c, _ := simJudge(t, sim.Options{JudgeShape: sim.JudgeFenced}, judge.Config{})
	if v, err := c.Judge(context.Background(), refundTurn); err != nil || !v.Pass {
		t.Errorf("fenced: %+v, %v", v, err)
	}
	c, _ = simJudge(t, sim.Options{JudgeShape: sim.JudgeProse}, judge.Config{})
	_, err := c.Judge(context.Background(), refundTurn)
	var je *judge.Error
	if !errors.As(err, &je) || je.Kind != judge.KindAnswer || !strings.HasPrefix(je.Answer, "Here is my verdict") {
		t.Errorf("prose: %v", err)
	}
}

func TestMinScore(t *testing.T) {
	c, n := answering(t, `{"pass": true, "score": 0.7, "reason": "mostly there"}`)
	ctx := context.Background()
	for _, tc := range []struct {
		min  float64
		pass bool
		msg  string
	}{
		{0, true, "mostly there"},
		{0.7, true, "mostly there"},
		{0.8, false, "score 0.7 is below min_score 0.8: mostly there"},
	} {
		req := refundTurn
		req.MinScore = tc.min
		v, err := c.Judge(ctx, req)
		if err != nil || v.Pass != tc.pass || v.Message() != tc.msg || v.MinScore != tc.min {
			t.Errorf("min_score %g: %+v %q, %v; want pass %v", tc.min, v, v.Message(), err, tc.pass)
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d requests for checks that differ only in min_score, want 1", n.Load())
	}
	c, _ = answering(t, `{"pass": false, "score": 0.9, "reason": "wrong order"}`)
	req := refundTurn
	req.MinScore = 0.5
	if v, err := c.Judge(ctx, req); err != nil || v.Pass || v.Message() != "wrong order" {
		t.Errorf("a judge's fail with a high score: %+v, %v", v, err)
	}
}

func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          judge.Answer
		err           string // "" for none; else part of the *judge.Error's text, of KindAnswer
	}{
		{"bare", `{"pass": true, "score": 1, "reason": "ok"}`, judge.Answer{Pass: true, Score: 1, Reason: "ok"}, ""},
		{"white space", "\n  {\"pass\": false, \"score\": 0, \"reason\": \" no \"}\n", judge.Answer{Reason: "no"}, ""},
		{"fenced json", "```json\n{\"pass\": true, \"score\": 0.5, \"reason\": \"half\"}\n```", judge.Answer{Pass: true, Score: 0.5, Reason: "half"}, ""},
		{"fenced plain", "```\n{\"pass\": true, \"score\": 0.5}\n```\n", judge.Answer{Pass: true, Score: 0.5}, ""},
		{"fenced JSON upper case", "```JSON\n{\"pass\": true, \"score\": 0.5}\n```", judge.Answer{Pass: true, Score: 0.5}, ""},
		{"extra members", `{"pass": true, "score": 1, "reason": "ok", "confidence": "high"}`, judge.Answer{Pass: true, Score: 1, Reason: "ok"}, ""},
		{"no reason", `{"pass": true, "score": 1}`, judge.Answer{Pass: true, Score: 1}, ""},
		{"prose around JSON", `Sure! Here is my verdict: {"pass": true, "score": 1, "reason": "ok"} Hope that helps.`, judge.Answer{}, "it does not start with {"},
		{"prose after JSON", `{"pass": true, "score": 1, "reason": "ok"} That is all.`, judge.Answer{}, "there is text after the JSON object"},
		{"prose after the fence", "```json\n{\"pass\": true, \"score\": 1}\n```\nAnything else?", judge.Answer{}, "not closed with ```"},
		{"fence of another language", "```yaml\npass: true\n```", judge.Answer{}, "must open with ``` or ```json"},
		{"missing score", `{"pass": true, "reason": "ok"}`, judge.Answer{}, `"score" is missing`},
		{"missing pass", `{"score": 1, "reason": "ok"}`, judge.Answer{}, `"pass" is missing`},
		{"null pass", `{"pass": null, "score": 1}`, judge.Answer{}, `"pass" is missing`},
		{"score over 1", `{"pass": true, "score": 7, "reason": "ok"}`, judge.Answer{}, `"score" is 7, want a number from 0 to 1`},
		{"negative score", `{"pass": false, "score": -0.1}`, judge.Answer{}, `"score" is -0.1`},
		{"pass as a string", `{"pass": "yes", "score": 1}`, judge.Answer{}, `"pass" is string, want true or false`},
		{"score as a string", `{"pass": true, "score": "0.9"}`, judge.Answer{}, `"score" is string, want a number from 0 to 1`},
		{"invalid JSON", `{"pass": true, "score": 1,}`, judge.Answer{}, "invalid JSON"},
		{"two objects", `{"pass": true, "score": 1} {"pass": false, "score": 0}`, judge.Answer{}, "text after the JSON object"},
		{"an array", `[{"pass": true, "score": 1}]`, judge.Answer{}, "does not start with {"},
		{"empty", ``, judge.Answer{}, "the message has no content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := answering(t, tc.content)
			v, err := c.Judge(context.Background(), refundTurn)
			if tc.err == "" {
				got := judge.Answer{Pass: v.JudgePass, Score: v.Score, Reason: v.Reason}
				if err != nil || got != tc.want {
					t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			var je *judge.Error
			if !errors.As(err, &je) || je.Kind != judge.KindAnswer || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %+v, %v; want an answer error with %q", v, err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), `judge (gpt-test): chat completion: the answer is not the JSON object {"pass", "score", "reason"} evalrun asked for: `) {
				t.Errorf("error %q does not name the judge and what was wrong", err)
			}
			if tc.content != "" && !strings.Contains(err.Error(), "it began ") {
				t.Errorf("error %q does not quote the answer", err)
			}
		})
	}
}

func TestReplyErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"no choices", `{"choices": [], "usage": {}}`, "no choices"},
		{"null content", `{"choices": [{"message": {"role": "assistant", "content": null}, "finish_reason": "content_filter"}]}`, `has no content (finish_reason "content_filter")`},
		{"choices not a list", `{"choices": {}}`, "undecodable"},
		{"cut short", `{"choices": [{"message": {"content": "{\"pass\": true, \"sco"}, "finish_reason": "length"}]}`, "finish_reason length: the answer was cut short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) })
			_, err := c.Judge(context.Background(), refundTurn)
			var je *judge.Error
			if !errors.As(err, &je) || je.Kind == judge.KindService || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a reply or answer error with %q", err, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var arrived []time.Time
	c, n := serving(t, judge.Config{Retries: 2}, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, time.Now())
		first := len(arrived) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error": {"message": "Rate limit reached", "type": "requests"}}`)
			return
		}
		completion(w, `{"pass": true, "score": 1, "reason": "ok"}`)
	})
	v, err := c.Judge(context.Background(), refundTurn)
	if err != nil || !v.Pass {
		t.Fatalf("%+v, %v", v, err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d attempts, want 2", n.Load())
	}
	// A wait is never shorter than asked: this bound cannot flake.
	if gap := arrived[1].Sub(arrived[0]); gap < time.Second {
		t.Errorf("the retry came %s after the 429, before its Retry-After of 1s", gap)
	}
	if st := c.Stats(); st.JudgeCalls != 1 || st.Failed != 0 || st.Time < time.Second {
		t.Errorf("stats %+v: one call that took the wait", st)
	}
}

func TestServerErrorAfterRetries(t *testing.T) {
	c, n := serving(t, judge.Config{Retries: 2}, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error": {"message": "The server had an error", "type": "server_error"}}`)
	})
	_, err := c.Judge(context.Background(), refundTurn)
	var je *judge.Error
	var pe *providers.Error
	if !errors.As(err, &je) || je.Kind != judge.KindService || !errors.As(err, &pe) || pe.Status != 500 || pe.Attempts != 3 {
		t.Fatalf("got %v, want a service error after 3 attempts", err)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 3", n.Load())
	}
	if want := "judge (gpt-test): chat completion: HTTP 500 after 3 attempts: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	if st := c.Stats(); st.JudgeCalls != 1 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestNotJSONAfterRetries(t *testing.T) {
	c, n := serving(t, judge.Config{Retries: 1}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>gateway</html>")
	})
	_, err := c.Judge(context.Background(), refundTurn)
	var je *judge.Error
	if !errors.As(err, &je) || je.Kind != judge.KindService || !errors.Is(err, providers.ErrNotJSON) || n.Load() != 2 {
		t.Errorf("got %v after %d requests, want a not-JSON service error after 2", err, n.Load())
	}
	if !strings.Contains(err.Error(), "judge.base_url") {
		t.Errorf("error %q does not point at judge.base_url", err)
	}
}

func TestHang(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) *judge.Client
	}{
		{"server", func(t *testing.T) *judge.Client {
			c, _ := serving(t, judge.Config{Timeout: 50 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
				// The server notices a client gone only once it has read
				// the body.
				io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			})
			return c
		}},
		{"sim directive", func(t *testing.T) *judge.Client {
			c, _ := simJudge(t, sim.Options{}, judge.Config{Timeout: 50 * time.Millisecond})
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client(t)
			req := refundTurn
			req.Rubric += " [sim fault=hang]"
			start := time.Now()
			_, err := c.Judge(context.Background(), req)
			if took := time.Since(start); took > 30*time.Second {
				t.Fatalf("Judge hung for %s", took)
			}
			var je *judge.Error
			if !errors.As(err, &je) || je.Kind != judge.KindService || !errors.Is(err, providers.ErrTimeout) {
				t.Fatalf("got %v, want a timeout", err)
			}
			if !strings.Contains(err.Error(), "judge.timeout") || strings.Contains(err.Error(), "provider.") {
				t.Errorf("error %q should name judge.timeout", err)
			}
		})
	}
}

func TestSimFaultThenPass(t *testing.T) {
	c, n := simJudge(t, sim.Options{RetryAfter: time.Second}, judge.Config{Retries: 2})
	req := refundTurn
	req.Rubric += " [sim fault=503 times=2]"
	v, err := c.Judge(context.Background(), req)
	if err != nil || !v.Pass || n.Load() != 3 {
		t.Errorf("got %+v, %v after %d requests; want a pass on the third", v, err, n.Load())
	}
}

func TestCache(t *testing.T) {
	c, n := answering(t, `{"pass": true, "score": 1, "reason": "ok"}`)
	ctx := context.Background()
	first, err := c.Judge(ctx, refundTurn)
	if err != nil || first.Cached || first.Usage.TotalTokens != 120 {
		t.Fatalf("%+v, %v", first, err)
	}
	again, err := c.Judge(ctx, refundTurn)
	if err != nil || !again.Cached || again.Usage != (judge.Usage{}) || !again.Pass {
		t.Errorf("second identical call: %+v, %v", again, err)
	}
	other := refundTurn
	other.Reply += " Anything else?"
	if _, err := c.Judge(ctx, other); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2: one per distinct prompt", n.Load())
	}
	st := c.Stats()
	if st.JudgeCalls != 2 || st.Cached != 1 || st.Usage.TotalTokens != 240 {
		t.Errorf("stats %+v", st)
	}
}

func TestCacheConcurrent(t *testing.T) {
	release := make(chan struct{})
	c, n := serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) {
		<-release
		completion(w, `{"pass": true, "score": 1, "reason": "ok"}`)
	})
	const callers = 16
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.Judge(context.Background(), refundTurn)
			errs <- err
		})
	}
	// Whether a caller joins the request in flight or comes after it and
	// finds the answer cached, it makes no request of its own.
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d requests for %d identical concurrent calls, want 1", n.Load(), callers)
	}
	if st := c.Stats(); st.JudgeCalls != 1 || st.Cached != callers-1 {
		t.Errorf("stats %+v", st)
	}
}

func TestCacheAbandoned(t *testing.T) {
	arrived := make(chan struct{}, 2)
	var calls atomic.Int64
	c, _ := serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			io.Copy(io.Discard, r.Body)
			arrived <- struct{}{}
			<-r.Context().Done() // the first caller goes away before an answer
			return
		}
		completion(w, `{"pass": true, "score": 1, "reason": "ok"}`)
	})
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, err := c.Judge(ctx, refundTurn)
		gone <- err
	}()
	<-arrived
	// This caller either waits on the first one's request or, if that has
	// already failed, claims the prompt itself; either way the first
	// caller's cancellation must not be its answer.
	done := make(chan error, 1)
	go func() {
		v, err := c.Judge(context.Background(), refundTurn)
		if err == nil && !v.Pass {
			err = fmt.Errorf("verdict %+v", v)
		}
		done <- err
	}()
	cancel()
	if err := <-gone; err == nil {
		t.Error("the cancelled caller got no error")
	}
	if err := <-done; err != nil {
		t.Errorf("the caller still running: %v", err)
	}
}

func TestFailureNotCached(t *testing.T) {
	var calls atomic.Int64
	c, _ := serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		completion(w, `{"pass": true, "score": 1, "reason": "ok"}`)
	})
	if _, err := c.Judge(context.Background(), refundTurn); err == nil {
		t.Fatal("no error for a 502 without retries")
	}
	if v, err := c.Judge(context.Background(), refundTurn); err != nil || v.Cached || calls.Load() != 2 {
		t.Errorf("after a failure: %+v, %v, %d requests; want a fresh request", v, err, calls.Load())
	}
}

func TestSetup(t *testing.T) {
	c := judge.New(judge.Config{BaseURL: "http://127.0.0.1:1"})
	_, err := c.Judge(context.Background(), refundTurn)
	var je *judge.Error
	if !errors.As(err, &je) || je.Kind != judge.KindSetup || !strings.Contains(err.Error(), "judge.model") {
		t.Errorf("judge without a model: %v", err)
	}
	_, _, err = c.Embed(context.Background(), []string{"a"})
	if !errors.As(err, &je) || je.Kind != judge.KindSetup || !strings.Contains(err.Error(), "judge.embedding_model") {
		t.Errorf("embed without a model: %v", err)
	}
}

func TestHints(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   string
	}{
		{404, "check judge.base_url (the API root"},
		{400, "check judge.model and judge.embedding_model"},
		{401, "check $JUDGE_KEY"},
		{429, "lower judge.rate_limit"},
	} {
		c, _ := serving(t, judge.Config{Token: "k", TokenVars: []string{"JUDGE_KEY"}}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			io.WriteString(w, `{"error": {"message": "no"}}`)
		})
		_, err := c.Judge(context.Background(), refundTurn)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "provider.") {
			t.Errorf("HTTP %d: %v, want a hint with %q", tc.status, err, tc.want)
		}
	}
}

func TestRequestBody(t *testing.T) {
	var got map[string]any
	var auth string
	c, _ := serving(t, judge.Config{Token: "sk-test", JSONMode: true}, func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.Method != "POST" || r.URL.Path != "/chat/completions" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		json.NewDecoder(r.Body).Decode(&got)
		completion(w, `{"pass": true, "score": 1}`)
	})
	if _, err := c.Judge(context.Background(), refundTurn); err != nil {
		t.Fatal(err)
	}
	system, user := judge.Prompt(refundTurn)
	want := map[string]any{
		"model":           "gpt-test",
		"temperature":     float64(0),
		"response_format": map[string]any{"type": "json_object"},
		"messages": []any{
			map[string]any{"role": "system", "content": system},
			map[string]any{"role": "user", "content": user},
		},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || auth != "Bearer sk-test" {
		t.Errorf("body %v\nwant %v; Authorization %q", got, want, auth)
	}
}

func TestPrompt(t *testing.T) {
	_, user := judge.Prompt(judge.Request{
		Rubric: "  polite  ",
		Transcript: []judge.Message{
			{Role: judge.RoleUser, Text: "hi\nthere"},
			{Role: judge.RoleBot, Text: ""},
			{Role: judge.RoleAgent, Text: "I'm here"},
		},
		Reply: "",
	})
	want := "<rubric>\npolite\n</rubric>\n\n<conversation>\n[user] hi\n  there\n[bot] (the bot said nothing)\n[agent] I'm here\n</conversation>\n\n<reply>\n(the bot said nothing)\n</reply>\n"
	if user != want {
		t.Errorf("user message\n%s\nwant\n%s", user, want)
	}
	system, user := judge.Prompt(judge.Request{Rubric: "polite", Final: true})
	if user != "<rubric>\npolite\n</rubric>\n\n<conversation>\n(no messages)\n</conversation>\n" || !strings.Contains(system, "whole conversation") {
		t.Errorf("final prompt\n%s\n%s", system, user)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	const token = "sk-live-0123456789abcdef"
	echo := func(w http.ResponseWriter, r *http.Request) string {
		return "you sent " + r.Header.Get("Authorization") + " (" + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + ")"
	}
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"401 echoing the header", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": echo(w, r)}})
		}},
		{"500 echoing the header", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, echo(w, r))
		}},
		{"answer echoing the token", func(w http.ResponseWriter, r *http.Request) {
			completion(w, echo(w, r))
		}},
		{"reply without choices echoing it", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"choices": []any{}, "note": echo(w, r)})
		}},
		{"finish_reason echoing it", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"content": nil}, "finish_reason": echo(w, r)}}})
		}},
		{"embeddings echoing it", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"data": []any{}, "note": echo(w, r)})
		}},
		{"hang, cut off", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}},
		{"redirect to a URL with it", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://example.invalid/?key="+token, http.StatusFound)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := serving(t, judge.Config{Token: token, Retries: 1, Timeout: 50 * time.Millisecond}, tc.h)
			_, err := c.Judge(context.Background(), refundTurn)
			if strings.HasPrefix(tc.name, "embeddings") {
				_, _, err = c.Embed(context.Background(), []string{"a"})
			}
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), token[:12]) {
				t.Errorf("the token leaked: %v", err)
			}
			var je *judge.Error
			if errors.As(err, &je) && strings.Contains(je.Answer, token) {
				t.Errorf("the token leaked into Answer: %q", je.Answer)
			}
		})
	}
	c := judge.New(judge.Config{Token: token, Secrets: []string{"other", ""}})
	if got := c.Secrets(); fmt.Sprint(got) != fmt.Sprint([]string{token, "other"}) {
		t.Errorf("Secrets() = %v", got)
	}
	if got := c.Redact("key " + token); strings.Contains(got, token) {
		t.Errorf("Redact left the token: %q", got)
	}
}
