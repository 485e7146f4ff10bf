package runner_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/sim"
)

// TestFaultsGiveTheRightVerdict plays one turn against the simulator with a
// fault injected by a message directive and checks the verdict, how many
// times the send was attempted, what the reason says, and that the run
// stayed within its time bound.
func TestFaultsGiveTheRightVerdict(t *testing.T) {
	tests := []struct {
		name      string
		provider  string // extra provider keys
		directive string
		status    results.Status
		sends     int      // attempts the simulator saw
		reason    []string // parts the reason must hold
		atLeast   time.Duration
		atMost    time.Duration
	}{
		{name: "503 twice then success", provider: "retries: 2", directive: "[sim fault=503 times=2]",
			status: results.Passed, sends: 3, atMost: 3 * time.Second},
		{name: "500 every time", provider: "retries: 2", directive: "[sim fault=500]",
			status: results.Errored, sends: 3, reason: []string{"HTTP 500", "after 3 attempts"}, atMost: 3 * time.Second},
		{name: "502 with no retries", provider: "retries: 0", directive: "[sim fault=502]",
			status: results.Errored, sends: 1, reason: []string{"HTTP 502"}, atMost: time.Second},
		{name: "429 waits for Retry-After in seconds", provider: "retries: 1", directive: "[sim fault=429 retry_after=1 times=1]",
			status: results.Passed, sends: 2, atLeast: 900 * time.Millisecond, atMost: 3 * time.Second},
		{name: "429 waits for Retry-After as a date", provider: "retries: 1", directive: "[sim fault=429 retry_after=1 retry_after_date=1 times=1]",
			status: results.Passed, sends: 2, atLeast: 200 * time.Millisecond, atMost: 4 * time.Second},
		{name: "429 every time", provider: "retries: 1", directive: "[sim fault=429 retry_after=1]",
			status: results.Errored, sends: 2, reason: []string{"HTTP 429", "after 2 attempts"}, atMost: 4 * time.Second},
		{name: "dropped connection", provider: "retries: 1", directive: "[sim fault=drop]",
			status: results.Errored, sends: 2, reason: []string{"after 2 attempts"}, atMost: 3 * time.Second},
		{name: "malformed JSON", provider: "retries: 1", directive: "[sim fault=malformed]",
			status: results.Errored, sends: 2, reason: []string{"not JSON", "after 2 attempts"}, atMost: 3 * time.Second},
		{name: "oversize body", provider: "retries: 0, max_body: 64KiB", directive: "[sim fault=oversize oversize_bytes=200KiB]",
			status: results.Errored, sends: 1, reason: []string{"max_body"}, atMost: 3 * time.Second},
		{name: "a hanging server costs timeout x attempts", provider: "retries: 1, timeout: 300ms", directive: "[sim fault=hang]",
			status: results.Errored, sends: 2, reason: []string{"timeout", "after 2 attempts"}, atLeast: 600 * time.Millisecond, atMost: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{h: sim.New(sim.Options{})}
			srv := httptest.NewServer(rec)
			t.Cleanup(srv.Close)
			ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q, %s}
conversations:
  - name: faulty
    turns:
      - user: "how long does shipping take? %s"
        expect: {contains: business days}
`, srv.URL, tt.provider, tt.directive))
			start := time.Now()
			r := run(t, ss, runner.Options{})
			took := time.Since(start)
			c := r.Conversations[0]
			if c.Status != tt.status {
				t.Fatalf("status %s, want %s\n%s", c.Status, tt.status, describe(c))
			}
			sends := 0
			for _, req := range rec.requests() {
				if strings.HasSuffix(req.Path, "/send") {
					sends++
				}
			}
			if sends != tt.sends {
				t.Errorf("the simulator saw %d sends, want %d", sends, tt.sends)
			}
			for _, part := range tt.reason {
				if !strings.Contains(c.Reason, part) {
					t.Errorf("reason %q lacks %q", c.Reason, part)
				}
			}
			if tt.status == results.Errored && (len(c.Turns) != 1 || c.Turns[0].Error == "") {
				t.Errorf("the turn must carry the error: %s", describe(c))
			}
			if took < tt.atLeast || took > tt.atMost {
				t.Errorf("took %v, want between %v and %v", took, tt.atLeast, tt.atMost)
			}
		})
	}
}

// TestEveryReplyShapeWithEveryCheck runs one conversation using every check
// kind against each OpenCX reply shape. Checks a shape cannot answer must fail
// as "not reported", never pass.
func TestEveryReplyShapeWithEveryCheck(t *testing.T) {
	const suite = `
provider: {type: opencx, base_url: "sim?shape=%s", poll_interval: 10ms, reply_timeout: 5s}
conversations:
  - name: every check
    turns:
      - user: I want a refund for order ord_42
        expect:
          contains: refund
          not_contains: not sure
          regex: "TCK-\\d+"
          equals: "I've opened refund ticket TCK-1001 for order ord_42. The refund will reach your original payment method within 5 business days."
          reply: true
          max_latency: 5s
          might_solve: true
          fully_covered: false
          handoff: false
          action: {name: create_refund_ticket, args: {order_id: ord_42}}
          knowledge: refund-policy
          mode: refunds
          json: {"$.autopilotResponse.mode.slug": refunds}
`
	text := []string{"contains", "not_contains", "regex", "equals", "reply", "max_latency"}
	details := []string{"might_solve", "fully_covered", "action", "knowledge", "mode"}
	tests := []struct {
		shape      string
		passes     []string
		unreported []string // fail with "not reported"
		fails      []string // fail otherwise
	}{
		{"flat", append(append(append([]string{}, text...), details...), "handoff", "json"), nil, nil},
		{"data", append(append(append([]string{}, text...), details...), "handoff"), nil, []string{"json"}},
		{"legacy", text, append(append([]string{}, details...), "handoff"), []string{"json"}},
		{"id-only", append(append([]string{}, text...), "handoff"), details, []string{"json"}},
	}
	for _, tt := range tests {
		t.Run(tt.shape, func(t *testing.T) {
			r := run(t, load(t, fmt.Sprintf(suite, tt.shape)), runner.Options{})
			c := r.Conversations[0]
			if c.Status == results.Errored || len(c.Turns) != 1 {
				t.Fatalf("%s", describe(c))
			}
			got := map[string]results.Assertion{}
			for _, a := range c.Turns[0].Assertions {
				got[a.Check] = a
			}
			for _, k := range tt.passes {
				if a, ok := got[k]; !ok || !a.Passed {
					t.Errorf("%s should pass on the %s shape: %+v", k, tt.shape, a)
				}
			}
			for _, k := range tt.unreported {
				if a := got[k]; a.Passed || !strings.Contains(a.Message, "not reported") {
					t.Errorf("%s on the %s shape must fail as not reported, got %+v", k, tt.shape, a)
				}
			}
			for _, k := range tt.fails {
				if a := got[k]; a.Passed {
					t.Errorf("%s must fail on the %s shape, got %+v", k, tt.shape, a)
				}
			}
			if want := len(tt.passes) + len(tt.unreported) + len(tt.fails); len(got) != want {
				t.Errorf("%d checks ran, want %d", len(got), want)
			}
			wantStatus := results.Passed
			if len(tt.unreported)+len(tt.fails) > 0 {
				wantStatus = results.Failed
			}
			if c.Status != wantStatus {
				t.Errorf("status %s, want %s", c.Status, wantStatus)
			}
		})
	}
}

// TestRepeatsAgainstANondeterministicBot uses the simulator's flaky bot, with
// a fixed seed and one conversation at a time so the draws are reproducible.
func TestRepeatsAgainstANondeterministicBot(t *testing.T) {
	const suite = `
provider: {type: opencx, base_url: "sim?flaky=%s&seed=7"}
conversations:
  - name: shipping
    repeat: 12
    min_pass_rate: %s
    turns: [{user: "how long does shipping take?", expect: {contains: business days}}]
`
	tests := []struct {
		flaky, rate string
		want        results.Status
	}{
		{"0", "1.0", results.Passed},
		{"0.5", "0.1", results.Flaky},
		{"0.5", "1.0", results.Failed},
		{"1", "0.5", results.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.flaky+"@"+tt.rate, func(t *testing.T) {
			r := run(t, load(t, fmt.Sprintf(suite, tt.flaky, tt.rate)), runner.Options{Concurrency: 1})
			c := r.Conversations[0]
			if c.Runs != 12 || c.Status != tt.want {
				t.Fatalf("runs %d passed %d: %s, want %s", c.Runs, c.PassedRuns, c.Status, tt.want)
			}
			if tt.want == results.Flaky && (c.PassedRuns == 0 || c.PassedRuns == c.Runs) {
				t.Errorf("flaky needs both outcomes, got %d/%d", c.PassedRuns, c.Runs)
			}
			if c.Status != results.Passed && len(c.Failures()) == 0 {
				t.Error("a run that did not pass must show its failing run's details")
			}
		})
	}
}
