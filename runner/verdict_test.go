package runner_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
)

func TestProviderFailuresMakeAConversationErrored(t *testing.T) {
	tests := []struct {
		name string
		// setup makes the server fail the conversation named "broken" and
		// no other; its sessions carry custom_data.kind = broken.
		setup      func(s *opencxServer)
		final      bool
		wantReason []string // all must appear in Reason
		wantTurn   int      // the turn that carries the error; 0 for none
		wantSends  int      // sends the server saw for the broken conversation
	}{
		{
			name: "HTTP 500 on a send, no retries",
			setup: func(s *opencxServer) {
				s.reply = func(id string, n int, text string) (int, string) {
					if text == "break" {
						return http.StatusInternalServerError, `{"statusCode":500,"message":"Internal server error"}`
					}
					return http.StatusCreated, flat("echo: " + text)
				}
			},
			wantReason: []string{"turn 2", "send", "HTTP 500", "Internal server error"},
			wantTurn:   2,
			wantSends:  2,
		},
		{
			name: "undecodable reply",
			setup: func(s *opencxServer) {
				s.reply = func(id string, n int, text string) (int, string) {
					if text == "break" {
						return http.StatusCreated, `<html>gateway</html>`
					}
					return http.StatusCreated, flat("echo: " + text)
				}
			},
			wantReason: []string{"turn 2", "not JSON"},
			wantTurn:   2,
			wantSends:  2,
		},
		{
			name: "unknown session is a 404",
			setup: func(s *opencxServer) {
				s.create = func(n int, body map[string]any) (int, string) {
					if cd, _ := body["custom_data"].(map[string]any); cd["kind"] == "broken" {
						return http.StatusCreated, `{"id":"no-such-session"}`
					}
					return http.StatusCreated, fmt.Sprintf(`{"id":"sess-%d"}`, n)
				}
			},
			wantReason: []string{"turn 1", "HTTP 404", "Session not found"},
			wantTurn:   1,
			wantSends:  1,
		},
		{
			name: "session cannot be created",
			setup: func(s *opencxServer) {
				s.create = func(n int, body map[string]any) (int, string) {
					if cd, _ := body["custom_data"].(map[string]any); cd["kind"] == "broken" {
						return http.StatusServiceUnavailable, `{"statusCode":503,"message":"down"}`
					}
					return http.StatusCreated, fmt.Sprintf(`{"id":"sess-%d"}`, n)
				}
			},
			wantReason: []string{"create session", "HTTP 503"},
		},
		{
			name:  "final state cannot be read",
			final: true,
			setup: func(s *opencxServer) {
				s.getStatus = http.StatusBadGateway
			},
			wantReason: []string{"final", "get session", "HTTP 502"},
			wantSends:  3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOpenCX(t, nil)
			tt.setup(srv)
			final := ""
			if tt.final {
				final = "    final: {status: open}\n"
			}
			ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q, retries: 0, timeout: 5s}
conversations:
  - name: before
    turns: [{user: hello, expect: {contains: hello}}]
  - name: broken
    session: {custom_data: {kind: broken}}
    turns:
      - user: hello broken
        expect: {contains: hello}
      - user: break
        expect: {contains: break}
      - user: last turn
%s  - name: after
    turns: [{user: hello, expect: {contains: hello}}, {user: again, expect: {contains: again}}]
`, srv.URL, final))
			r := run(t, ss, runner.Options{Concurrency: 1})

			if got := statuses(r); !slices.Equal(got, []string{"before=passed", "broken=errored", "after=passed"}) {
				t.Fatalf("verdicts %q", got)
			}
			c := byName(t, r, "broken")
			for _, w := range tt.wantReason {
				if !strings.Contains(c.Reason, w) {
					t.Errorf("reason %q lacks %q", c.Reason, w)
				}
			}
			for _, tr := range c.Turns {
				switch {
				case tr.Index == tt.wantTurn && tr.Error == "":
					t.Errorf("turn %d has no error:\n%s", tr.Index, describe(c))
				case tr.Index == tt.wantTurn && !strings.Contains(c.Reason, tr.Error):
					t.Errorf("turn error %q is not the reason %q", tr.Error, c.Reason)
				case tr.Index != tt.wantTurn && tr.Error != "":
					t.Errorf("turn %d has error %q", tr.Index, tr.Error)
				}
				if tr.Index == tt.wantTurn && len(tr.Assertions) > 0 {
					t.Errorf("a reply that never came cannot be judged: %+v", tr.Assertions)
				}
			}
			if tt.wantTurn > 0 && len(c.Turns) != tt.wantTurn {
				t.Errorf("an error must stop the conversation at turn %d; it has %d turns", tt.wantTurn, len(c.Turns))
			}
			f := c.Failures()
			if len(f) != 1 || f[0].Check != "error" {
				t.Errorf("failures %+v, want the one error", f)
			}

			_, sends, _ := srv.snapshot()
			brokenSends := 0
			for _, s := range sends {
				switch s.Text {
				case "hello broken", "break", "last turn":
					brokenSends++
				}
				if s.Text == "last turn" && tt.wantTurn > 0 {
					t.Error("a turn after the error was sent")
				}
			}
			if brokenSends != tt.wantSends {
				t.Errorf("broken conversation made %d sends, want %d (retries: 0)", brokenSends, tt.wantSends)
			}

			wantTurnErrors := 0
			if tt.wantTurn > 0 {
				wantTurnErrors = 1
			}
			s := r.Summary
			if s.Errored != 1 || s.Failed != 0 || s.Passed != 2 || s.TurnErrors != wantTurnErrors {
				t.Errorf("summary %+v", s)
			}
			if want := 3 + len(c.Turns); s.Turns != want {
				t.Errorf("summary turns %d, want %d", s.Turns, want)
			}
		})
	}
}

func TestVerdictsAndSummary(t *testing.T) {
	down := newOpenCX(t, func(string, int, string) (int, string) {
		return http.StatusBadGateway, "bad gateway"
	})
	ss := load(t, fmt.Sprintf(`
name: sim
provider: {type: opencx, base_url: sim}
conversations:
  - name: passes
    turns:
      - {user: hello, expect: {contains: help}}
      - {user: "How long does delivery take?", expect: {contains: business days}}
  - name: fails
    turns:
      - {user: hello, expect: {contains: help, mode: refunds}}
      - {user: thank you, expect: {reply: true}}
    final: {sentiment: angry}
  - name: skipped
    skip: waiting on BOT-12
    turns: [{user: hello}]
  - name: skipped too
    skip: true
    turns: [{user: hello}]
---
name: down
provider: {type: opencx, base_url: %q, retries: 0}
conversations:
  - name: errors
    turns: [{user: hello}, {user: again}]
`, down.URL))
	r := run(t, ss, runner.Options{})

	want := []string{"passes=passed", "fails=failed", "skipped=skipped", "skipped too=skipped", "errors=errored"}
	if got := statuses(r); !slices.Equal(got, want) {
		t.Fatalf("verdicts %q, want %q", got, want)
	}
	wantSummary := results.Summary{Conversations: 5, Passed: 1, Failed: 1, Errored: 1, Skipped: 2, Turns: 5, TurnErrors: 1}
	got := r.Summary
	got.LatencyMS = results.Percentiles{}
	if h, err := latency.Decode(got.LatencyHistogram); err != nil || h.TotalCount() != int64(got.Turns-got.TurnErrors) {
		t.Errorf("the summary's histogram %q should hold the answered turns: %v", got.LatencyHistogram, err)
	}
	got.LatencyHistogram = ""
	if got != wantSummary {
		t.Errorf("summary %+v\nwant    %+v", got, wantSummary)
	}

	fails := byName(t, r, "fails")
	var checks []string
	for _, f := range fails.Failures() {
		checks = append(checks, f.Where()+" "+f.Check)
	}
	if want := []string{"turn 1 mode", "final final.sentiment"}; !slices.Equal(checks, want) {
		t.Errorf("failures %q, want %q", checks, want)
	}
	if len(fails.Final) != 1 || fails.Final[0].Actual != "happy" {
		t.Errorf("final assertions %+v", fails.Final)
	}

	skipped := byName(t, r, "skipped")
	if skipped.Reason != "waiting on BOT-12" || skipped.Runs != 0 || len(skipped.Turns) != 0 || skipped.SessionID != "" {
		t.Errorf("skipped conversation:\n%s", describe(skipped))
	}
	if c := byName(t, r, "skipped too"); c.Reason == "" {
		t.Error("skip: true must still give a reason")
	}
	if s, _, _ := down.snapshot(); len(s) != 1 {
		t.Errorf("the down server saw %d sessions, want 1", len(s))
	}
	if errs := byName(t, r, "errors"); len(errs.Turns) != 1 || errs.Turns[0].Error == "" || !strings.Contains(errs.Reason, "HTTP 502") {
		t.Errorf("errored conversation:\n%s", describe(errs))
	}
	for _, c := range r.Conversations {
		if c.Status != results.Skipped && (c.Runs != 1 || c.SessionID == "") {
			t.Errorf("%s: runs %d session %q", c.Name, c.Runs, c.SessionID)
		}
	}
	if len(r.Suites) != 2 || r.Suites[0].Name != "sim" || r.Suites[1].Name != "down" || r.Suites[1].Provider != "opencx" {
		t.Errorf("suites %+v", r.Suites)
	}
}

func TestRepeats(t *testing.T) {
	t.Run("every run passes", func(t *testing.T) {
		ss := load(t, `
provider: {type: opencx, base_url: sim}
conversations:
  - name: greeting
    repeat: 4
    turns: [{user: hello, expect: {contains: help}}, {user: thank you, expect: {reply: true}}]
    final: {status: closed_resolved}
`)
		r := run(t, ss, runner.Options{Concurrency: 2})
		c := r.Conversations[0]
		if c.Status != results.Passed || c.Runs != 4 || c.PassedRuns != 4 {
			t.Errorf("status %s runs %d passed %d", c.Status, c.Runs, c.PassedRuns)
		}
		if len(c.Turns) != 2 || len(c.Final) != 1 {
			t.Errorf("the record shows one run's transcript:\n%s", describe(c))
		}
		if r.Summary.Conversations != 1 || r.Summary.Passed != 1 || r.Summary.Turns != 8 {
			t.Errorf("summary %+v, want one conversation over 8 turns", r.Summary)
		}
	})

	// Odd sessions get a good answer, even ones a bad one: two of four runs pass.
	alternating := func(id string, n int, text string) (int, string) {
		if n%2 == 1 {
			return http.StatusCreated, flat("good answer")
		}
		return http.StatusCreated, flat("bad answer")
	}
	tests := []struct {
		rate float64
		want results.Status
	}{
		{0.5, results.Flaky},
		{0.75, results.Failed},
		{1, results.Failed},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("min_pass_rate %v", tt.rate), func(t *testing.T) {
			srv := newOpenCX(t, alternating)
			ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q, retries: 0}
defaults: {repeat: 4}
conversations:
  - name: sometimes
    min_pass_rate: %v
    turns: [{user: hello, expect: {contains: good}}]
`, srv.URL, tt.rate))
			r := run(t, ss, runner.Options{Concurrency: 3})
			c := r.Conversations[0]
			if c.Status != tt.want || c.Runs != 4 || c.PassedRuns != 2 {
				t.Errorf("status %s runs %d passed %d, want %s 4 2", c.Status, c.Runs, c.PassedRuns, tt.want)
			}
			if len(c.Turns) != 1 || c.Turns[0].Reply != "bad answer" {
				t.Errorf("the transcript must be a failing run's:\n%s", describe(c))
			}
			s := r.Summary
			wantFlaky, wantFailed := 0, 0
			if tt.want == results.Flaky {
				wantFlaky = 1
			} else {
				wantFailed = 1
			}
			if s.Flaky != wantFlaky || s.Failed != wantFailed || s.Passed != 0 || s.Turns != 4 {
				t.Errorf("summary %+v", s)
			}
		})
	}
}
