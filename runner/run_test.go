package runner_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/sim"
)

func TestEverySessionCarriesTheRunID(t *testing.T) {
	rec := &recorder{h: sim.New(sim.Options{})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q}
conversations:
  - name: with custom data
    repeat: 2
    session: {custom_data: {source: "{{src}}"}}
    vars: {src: runner-test}
    turns: [{user: hello}]
  - name: without
    turns: [{user: hello}]
    final: {custom_data: {evalrun_run_id: fixed-run-7}}
`, srv.URL))

	for _, id := range []string{"fixed-run-7", ""} {
		before := len(rec.requests())
		r := run(t, ss, runner.Options{RunID: id})
		if id != "" && r.RunID != id {
			t.Errorf("RunID %q, want the one given, %q", r.RunID, id)
		}
		if r.RunID == "" {
			t.Fatal("a run needs an id")
		}
		creates, withSource := 0, 0
		for _, q := range rec.requests()[before:] {
			if q.Method != http.MethodPost || q.Path != "/chat/sessions" {
				continue
			}
			creates++
			cd, _ := q.Body["custom_data"].(map[string]any)
			if cd[runner.RunIDKey] != r.RunID {
				t.Errorf("session created with custom_data %v, want %s=%s", cd, runner.RunIDKey, r.RunID)
			}
			if cd["source"] == "runner-test" {
				withSource++
			}
		}
		if creates != 3 || withSource != 2 {
			t.Errorf("%d sessions created, %d with the suite's custom_data; want 3 and 2", creates, withSource)
		}
		if id != "" {
			if c := byName(t, r, "without"); c.Status != results.Passed {
				t.Errorf("the session state must hold the run id:\n%s", describe(c))
			}
		}
	}
	if cd := ss[0].Conversations[0].Session.CustomData; cd[runner.RunIDKey] != nil || cd["source"] != "{{src}}" {
		t.Errorf("running changed the suite: %v", cd)
	}
}

func TestTheTokenIsSentAndRecordedAsItCame(t *testing.T) {
	srv := newOpenCX(t, func(id string, n int, text string) (int, string) {
		// A careless service echoes what it was sent, credentials included.
		switch text {
		case "echo my key":
			return http.StatusCreated, flat("you sent Bearer " + testToken)
		case "fail loudly":
			return http.StatusInternalServerError, `{"statusCode":500,"message":"bad header Bearer ` + testToken + `"}`
		}
		return http.StatusCreated, flat("hello")
	})

	ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q, token: "${EVALRUN_TEST_TOKEN}", retries: 0}
conversations:
  - name: plain
    turns: [{user: hi, expect: {contains: hello}}]
  - name: echoed in a reply
    turns:
      - user: echo my key
        expect: {contains: something else, equals: "x", not_contains: sent}
        capture: {said: {regex: "sent (.*)"}}
      - user: "you said {{said}}"
  - name: echoed in an error
    turns: [{user: fail loudly}]
`, srv.URL))
	r := run(t, ss, runner.Options{})

	sessions, sends, _ := srv.snapshot()
	if len(sessions) != 3 || len(sends) != 4 {
		t.Fatalf("server saw %d sessions and %d sends, want 3 and 4", len(sessions), len(sends))
	}
	for _, s := range sessions {
		if s.Auth != "Bearer "+testToken {
			t.Errorf("create session: Authorization %q, want the suite's token as a bearer token", s.Auth)
		}
	}
	for _, s := range sends {
		if s.Auth != "Bearer "+testToken {
			t.Errorf("send: Authorization %q, want the suite's token as a bearer token", s.Auth)
		}
	}
	if got := statuses(r); strings.Join(got, ",") != "plain=passed,echoed in a reply=failed,echoed in an error=errored" {
		t.Errorf("verdicts %q", got)
	}
	// The record holds what the service said, as it said it: output
	// writers hide secrets, the record and its judging never do, so the
	// capture carried the echoed token into the next turn.
	echoed := byName(t, r, "echoed in a reply")
	if len(echoed.Turns) != 2 || echoed.Turns[1].User != "you said Bearer "+testToken {
		t.Errorf("the capture did not see the reply as it came:\n%s", describe(echoed))
	}
	if !slices.ContainsFunc(sends, func(s sent) bool { return s.Text == "you said Bearer "+testToken }) {
		t.Errorf("no turn sent the captured text: %+v", sends)
	}
	// A provider's own error message is output it builds, and still
	// hides the token.
	if c := byName(t, r, "echoed in an error"); strings.Contains(c.Reason, testToken) || !strings.Contains(c.Reason, "[redacted]") {
		t.Errorf("the error shows the token: %s", c.Reason)
	}
}

func TestSuitesOfOneFileKeepTheirOwnDuration(t *testing.T) {
	ss := load(t, `
name: quick
provider: {type: opencx, base_url: sim}
conversations:
  - name: quick
    turns: [{user: hello}]
---
name: slow
provider: {type: opencx, base_url: sim}
conversations:
  - name: slow
    think_time: 200ms
    turns: [{user: hello}, {user: hi}]
`)
	r := run(t, ss, runner.Options{Concurrency: 1})
	quick, slow := r.Suites[0], r.Suites[1]
	if slow.DurationMS < 200 {
		t.Errorf("suite slow took %.1fms, want at least its 200ms think time", slow.DurationMS)
	}
	if quick.DurationMS >= slow.DurationMS {
		t.Errorf("suite quick took %.1fms, as long as slow (%.1fms): the two suites of one file were mixed up",
			quick.DurationMS, slow.DurationMS)
	}
}

func TestCancelStopsTheRunAndKeepsARecord(t *testing.T) {
	const suite = `
provider: {type: opencx, base_url: sim, retries: 0}
conversations:
%s`
	var convs strings.Builder
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&convs, "  - name: conv %d\n    repeat: 2\n    turns: [{user: hello}, {user: hi}, {user: hey}]\n", i)
	}
	ss := load(t, fmt.Sprintf(suite, convs.String()))

	check := func(t *testing.T, r *results.Run, done map[string]int) {
		t.Helper()
		if r == nil {
			t.Fatal("no record")
		}
		s := r.Summary
		if s.Conversations != 8 || s.Passed+s.Failed+s.Errored+s.Flaky+s.Skipped+s.Unfinished != 8 {
			t.Errorf("summary %+v does not account for every conversation", s)
		}
		if s.Passed != 0 {
			t.Errorf("%d conversations passed, though none could finish", s.Passed)
		}
		for _, c := range r.Conversations {
			if c.Status == "" {
				t.Errorf("%s has no verdict", c.Name)
			}
			if c.Reason == "" {
				t.Errorf("%s (%s) does not say why it stopped", c.Name, c.Status)
			}
			if done[c.Name] != 1 {
				t.Errorf("OnDone called %d times for %s", done[c.Name], c.Name)
			}
		}
	}
	onDone := func(mu *sync.Mutex, done map[string]int) func(*results.Conversation) {
		return func(c *results.Conversation) {
			mu.Lock()
			done[c.Name]++
			mu.Unlock()
		}
	}

	t.Run("while running", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		done := map[string]int{}
		var stopped time.Time
		time.AfterFunc(150*time.Millisecond, func() {
			mu.Lock()
			stopped = time.Now()
			mu.Unlock()
			cancel()
		})
		// 8 conversations × 2 runs × 4 calls × 100ms at 2 at a time would take 3.2s.
		r, err := runner.Run(ctx, ss, runner.Options{
			Concurrency: 2,
			Sim:         runner.SimOptions{Latency: 100 * time.Millisecond},
			OnDone:      onDone(&mu, done),
		})
		mu.Lock()
		took := time.Since(stopped)
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if took > time.Second {
			t.Errorf("Run returned %v after the cancel", took)
		}
		check(t, r, done)
		if c := r.Conversations[0]; c.Status != results.Unfinished || !strings.Contains(c.Reason, "context canceled") {
			t.Errorf("the conversation in flight:\n%s", describe(c))
		}
		if r.Interrupted != "context canceled" {
			t.Errorf("Interrupted = %q", r.Interrupted)
		}
		if c := r.Conversations[7]; c.Status != results.Unfinished || len(c.Turns) != 0 || !strings.HasPrefix(c.Reason, "not started: ") {
			t.Errorf("a conversation that never started:\n%s", describe(c))
		}
	})

	t.Run("between runs of a conversation", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv := newOpenCX(t, nil)
		srv.create = func(n int, body map[string]any) (int, string) {
			if n == 3 {
				cancel()
			}
			return http.StatusCreated, fmt.Sprintf(`{"id":"sess-%d"}`, n)
		}
		ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q, retries: 0}
conversations:
  - name: repeated
    repeat: 4
    turns: [{user: hello}]
  - name: next
    turns: [{user: hello}]
`, srv.URL))
		r, err := runner.Run(ctx, ss, runner.Options{Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		c := r.Conversations[0]
		if c.Status != results.Unfinished || c.Runs != 3 || c.PassedRuns != 2 || !strings.Contains(c.Reason, "context canceled after 3 of 4 runs (2 passed)") {
			t.Errorf("a conversation stopped in its third of four runs:\n%s", describe(c))
		}
		if c := r.Conversations[1]; c.Status != results.Unfinished || !strings.Contains(c.Reason, "not started") {
			t.Errorf("the conversation after it:\n%s", describe(c))
		}
		if s, _, _ := srv.snapshot(); len(s) != 3 {
			t.Errorf("%d sessions created after the cancel, want none", len(s)-3)
		}
	})

	t.Run("before starting", func(t *testing.T) {
		rec := &recorder{h: sim.New(sim.Options{})}
		srv := httptest.NewServer(rec)
		t.Cleanup(srv.Close)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var mu sync.Mutex
		done := map[string]int{}
		r, err := runner.Run(ctx, ss, runner.Options{BaseURL: srv.URL, OnDone: onDone(&mu, done)})
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, done)
		if n := len(rec.requests()); n != 0 {
			t.Errorf("a cancelled run sent %d requests", n)
		}
		if r.Summary.Unfinished != 8 {
			t.Errorf("summary %+v, want every conversation marked as not run", r.Summary)
		}
	})
}
