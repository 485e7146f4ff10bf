package runner_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/sim"
)

func TestCapturesFeedLaterTurns(t *testing.T) {
	ss := load(t, `
provider: {type: opencx, base_url: sim}
vars: {order: ord_42}
conversations:
  - name: refund then status
    turns:
      - user: "I want a refund for order {{order}}"
        expect: {action: create_refund_ticket}
        capture:
          ticket: {regex: "(TCK-\\d+)"}
          ticket_id: {json: "$.autopilotResponse.debugInfo.actionCalls[0].result.ticket_id"}
          mode: {json: "$.autopilotResponse.mode.slug"}
      - user: "What is the status of ticket {{ticket}}?"
        custom_data: {ticket: "{{ticket_id}}"}
        expect:
          contains: ["{{ticket_id}}", "{{order}}", being processed]
          regex: "^Ticket {{ticket}} "
          action: {name: lookup_ticket, args: {ticket_id: "{{ticket}}"}}
    final:
      custom_data: {ticket: "{{ticket_id}}"}
`)
	r := run(t, ss, runner.Options{})
	c := r.Conversations[0]
	if c.Status != results.Passed {
		t.Fatalf("status %s:\n%s", c.Status, describe(c))
	}
	if want := "What is the status of ticket TCK-1001?"; c.Turns[1].User != want {
		t.Errorf("turn 2 sent %q, want %q", c.Turns[1].User, want)
	}
	if !strings.Contains(c.Turns[1].Reply, "TCK-1001") {
		t.Errorf("the bot did not see the captured ticket: %q", c.Turns[1].Reply)
	}
}

func TestCaptureThatMatchesNothingFails(t *testing.T) {
	ss := load(t, `
provider: {type: opencx, base_url: sim}
conversations:
  - name: regex capture misses
    turns:
      - user: hello
        capture: {ticket: {regex: "(TCK-\\d+)"}}
      - user: "status of {{ticket}}"
  - name: json capture misses
    turns:
      - user: hello
        capture: {action: {json: "$.autopilotResponse.debugInfo.actionCalls[0].action.name"}}
      - user: "about {{action}}"
  - name: capture hits
    turns:
      - user: hello
        capture: {greeting: {regex: "^(\\w+)!"}}
      - user: "{{greeting}} to you"
        expect: {contains: demo assistant}
`)
	r := run(t, ss, runner.Options{})
	want := []string{"regex capture misses=failed", "json capture misses=failed", "capture hits=passed"}
	if got := statuses(r); !slices.Equal(got, want) {
		t.Fatalf("verdicts %q, want %q", got, want)
	}
	for _, tc := range []struct{ conv, check string }{
		{"regex capture misses", "capture.ticket"},
		{"json capture misses", "capture.action"},
	} {
		c := byName(t, r, tc.conv)
		f := c.Failures()
		if len(f) != 1 || f[0].Turn != 1 || f[0].Check != tc.check || f[0].Message == "" {
			t.Errorf("%s: failures %+v, want one %s on turn 1 with a message", tc.conv, f, tc.check)
		}
		if c.Reason != "" || c.Turns[0].Error != "" {
			t.Errorf("%s: a capture that misses is a failure, not an error:\n%s", tc.conv, describe(c))
		}
	}
	if got := byName(t, r, "capture hits").Turns[1].User; got != "Hello to you" {
		t.Errorf("turn 2 of capture hits sent %q", got)
	}
}

func TestFinalChecksReadTheSession(t *testing.T) {
	rec := &recorder{h: sim.New(sim.Options{})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	ss := load(t, `
provider: {type: opencx, base_url: `+srv.URL+`}
conversations:
  - name: resolved
    session: {contact: {name: Ana, custom_data: {plan: pro}}, custom_data: {source: test}}
    turns: [{user: hello}, {user: thank you}]
    final: {status: closed_resolved, sentiment: happy, closure: assumed_resolved, handoff: false, custom_data: {plan: pro, source: test}}
  - name: handed off
    turns: [{user: I want a human}, {user: "hello?", expect: {reply: false}}]
    final: {status: open, closure: handed_off, handoff: true}
  - name: wrong expectations
    turns: [{user: hello}]
    final: {status: closed_resolved, sentiment: angry, closure: handed_off, handoff: true, custom_data: {plan: pro}}
`)
	r := run(t, ss, runner.Options{Concurrency: 1})

	want := []string{"resolved=passed", "handed off=passed", "wrong expectations=failed"}
	if got := statuses(r); !slices.Equal(got, want) {
		t.Fatalf("verdicts %q, want %q\n%s", got, want, describe(byName(t, r, "wrong expectations")))
	}
	wrong := byName(t, r, "wrong expectations")
	var failed []string
	for _, a := range wrong.Final {
		if !a.Passed {
			failed = append(failed, a.Check+"="+a.Actual)
		}
	}
	wantFailed := []string{"final.status=open", "final.sentiment=neutral", "final.closure=not reported", "final.handoff=false",
		`final.custom_data={"evalrun_run_id":"` + r.RunID + `"}`}
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("failed final checks %q\nwant %q", failed, wantFailed)
	}

	gets := map[string]int{}
	for _, q := range rec.requests() {
		if q.Method == "GET" {
			gets[q.Path]++
		}
	}
	for _, c := range r.Conversations {
		if n := gets["/chat/sessions/"+c.SessionID]; n != 1 {
			t.Errorf("%s: %d GETs of its session, want 1", c.Name, n)
		}
	}
}

func TestLatencyIsMeasuredAroundTheCall(t *testing.T) {
	const delay = 30 * time.Millisecond
	ss := load(t, `
provider: {type: opencx, base_url: sim}
conversations:
  - name: one
    turns: [{user: hello}, {user: "How long does delivery take?"}, {user: thank you}]
  - name: two
    think_time: 300ms
    turns: [{user: hello}, {user: hi}]
  - name: three
    turns: [{user: hello, expect: {max_latency: 5s}}]
`)
	r := run(t, ss, runner.Options{Sim: runner.SimOptions{Latency: delay}, Concurrency: 3})

	low := float64(delay.Milliseconds())
	for _, c := range r.Conversations {
		if c.Status != results.Passed {
			t.Errorf("%s: %s\n%s", c.Name, c.Status, describe(c))
		}
		var sum float64
		for _, tr := range c.Turns {
			// The upper bound is generous (slow CI, -race) but well below
			// the 300ms think time, which must not count as latency.
			if tr.LatencyMS < low || tr.LatencyMS >= 250 {
				t.Errorf("%s turn %d: latency %.1fms, want in [%v, 250)", c.Name, tr.Index, tr.LatencyMS, low)
			}
			sum += tr.LatencyMS
		}
		if c.DurationMS < sum {
			t.Errorf("%s: duration %.1fms is less than its turns' %.1fms", c.Name, c.DurationMS, sum)
		}
		p := c.LatencyMS
		if !(low <= p.P50 && p.P50 <= p.P95 && p.P95 <= p.Max) {
			t.Errorf("%s: percentiles %+v", c.Name, p)
		}
	}
	if two := byName(t, r, "two"); two.DurationMS < 300 {
		t.Errorf("think time not spent: duration %.1fms", two.DurationMS)
	}

	p := r.Summary.LatencyMS
	if !(low <= p.P50 && p.P50 <= p.P90 && p.P90 <= p.P95 && p.P95 <= p.P99 && p.P99 <= p.Max) {
		t.Errorf("summary percentiles inconsistent: %+v", p)
	}
	var slowest float64
	for _, c := range r.Conversations {
		for _, tr := range c.Turns {
			slowest = max(slowest, tr.LatencyMS)
		}
	}
	// The histogram keeps three significant digits.
	if p.Max < slowest*0.999 || p.Max > slowest*1.001+0.001 {
		t.Errorf("summary max %.3fms, slowest turn %.3fms", p.Max, slowest)
	}
}
