package runner_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// judgedSuite talks to the simulator's refund flow with every kind of check,
// a regex and a json capture, and a template fed by them.
const judgedSuite = `
name: refunds
provider: {type: opencx, base_url: sim, token: "${EVALRUN_TEST_TOKEN}"}
vars: {order: ord_42}
conversations:
  - name: refund
    turns:
      - user: I want a refund for order {{order}}
        expect:
          contains: refund
          not_contains: "I don't know"
          regex: "TCK-\\d+"
          mode: refunds
          json: {"$.autopilotResponse.mode.slug": refunds}
        capture:
          ticket: {regex: "(TCK-\\d+)"}
          slug: {json: "$.autopilotResponse.mode.slug"}
      - user: "What is the status of ticket {{ticket}} ({{slug}})?"
        expect: {contains: [being processed, "{{ticket}}"]}
  - name: wrong on purpose
    turns:
      - user: I want a refund for order {{order}}
        expect: {contains: no refund, json: {"$.autopilotResponse.mode.slug": billing}}
`

// TestASecretThatIsAWordOfTheRepliesChangesNoVerdict runs the same suite
// with a token the bot says in every refund reply ("refund") and with one it
// never says: the verdicts, the assertions, the captures and what was sent
// must not differ. Secrets are hidden where output is written, not in what
// is judged.
func TestASecretThatIsAWordOfTheRepliesChangesNoVerdict(t *testing.T) {
	record := func(token string) *results.Run {
		env := map[string]string{"EVALRUN_TEST_TOKEN": token}
		ss, err := suites.Load(writeSuite(t, "refunds.yaml", judgedSuite), suites.Options{LookupEnv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		}})
		if err != nil {
			t.Fatal(err)
		}
		return run(t, ss, runner.Options{Concurrency: 1})
	}
	// judged is what a run decided, without its timings and ids.
	judged := func(r *results.Run) []string {
		var out []string
		for _, c := range r.Conversations {
			out = append(out, c.Name+" "+string(c.Status))
			for _, tr := range c.Turns {
				out = append(out, fmt.Sprintf("  %d %s -> %s", tr.Index, tr.User, tr.Reply))
				for _, a := range tr.Assertions {
					out = append(out, fmt.Sprintf("    %+v", a))
				}
			}
		}
		return out
	}
	plain, secret := record("an-unrelated-token-7f3a"), record("refund")
	if got, want := judged(secret), judged(plain); !reflect.DeepEqual(got, want) {
		t.Errorf("with the token \"refund\":\n%s\nwith an unrelated token:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := statuses(plain); strings.Join(got, ",") != "refund=passed,wrong on purpose=failed" {
		t.Errorf("verdicts %v", got)
	}
	// The captures took the real values into the next turn.
	c := byName(t, secret, "refund")
	if len(c.Turns) != 2 || !strings.Contains(c.Turns[1].User, "TCK-") || !strings.Contains(c.Turns[1].User, "(refunds)") {
		t.Errorf("captures with the token \"refund\":\n%s", describe(c))
	}
}

// TestABlankReplyIsSilentForTheRecordAndTheChecks: Toolzz reports no
// silence of its own, so a reply of spaces is decided by the one definition
// of silence, which the record and reply: false share.
func TestABlankReplyIsSilentForTheRecordAndTheChecks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"message":{"content":"   ","conversationId":"c-1","transferToAgent":false,"targetBotId":null}}`)
	}))
	t.Cleanup(srv.Close)
	ss := load(t, fmt.Sprintf(`
provider: {type: toolzz, base_url: %q, bot_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6, retries: 0}
conversations:
  - name: blank
    turns: [{user: hello, expect: {reply: false}}]
`, srv.URL))
	r := run(t, ss, runner.Options{})
	c := r.Conversations[0]
	if c.Status != results.Passed || len(c.Turns) != 1 || !c.Turns[0].Silent {
		t.Errorf("a reply of spaces passes reply: false, so the record must call it silent too:\n%s", describe(c))
	}
}

// TestAgentTurnsAreRecordedAsTheAgents: the transcript says who wrote each
// turn, so reports do not show a human agent's message as the user's.
func TestAgentTurnsAreRecordedAsTheAgents(t *testing.T) {
	ss := load(t, `
provider: {type: opencx, base_url: sim}
conversations:
  - name: a human agent joins
    turns:
      - user: hello
      - agent: "Hi, Maria here."
        take_over: true
      - user: thanks Maria
`)
	r := run(t, ss, runner.Options{})
	c := r.Conversations[0]
	var got []string
	for _, tr := range c.Turns {
		got = append(got, tr.Sender)
	}
	if want := []string{results.SenderUser, results.SenderAgent, results.SenderUser}; !reflect.DeepEqual(got, want) {
		t.Errorf("senders %q, want %q:\n%s", got, want, describe(c))
	}
	if !c.Turns[1].IsAgent() || c.Turns[0].IsAgent() {
		t.Errorf("IsAgent disagrees with Sender %q", got)
	}
}

// TestAnInterruptedRunCountsOnlyCompletedTurns stops a run while the
// service holds a turn: that turn is neither a turn error nor a latency
// sample, and a run with nothing measured has all-zero percentiles.
func TestAnInterruptedRunCountsOnlyCompletedTurns(t *testing.T) {
	for _, tc := range []struct {
		name         string
		turns        string
		wantTurns    int
		wantMeasured bool
	}{
		{"after one answered turn", "[{user: hello}, {user: hold}]", 1, true},
		{"in the first turn", "[{user: hold}]", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			release := make(chan struct{})
			srv := newOpenCX(t, func(id string, n int, text string) (int, string) {
				if text == "hold" {
					// Stop the run, and answer only once the test ends:
					// the turn can end only by being cut short.
					cancel()
					<-release
				}
				return http.StatusCreated, flat("hello there")
			})
			t.Cleanup(func() { close(release) })
			ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q, retries: 0}
conversations:
  - name: cut
    turns: %s
`, srv.URL, tc.turns))
			r, err := runner.Run(ctx, ss, runner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := r.Summary
			if s.Unfinished != 1 || s.Turns != tc.wantTurns || s.TurnErrors != 0 {
				t.Errorf("summary %+v: want %d turns, no turn errors", s, tc.wantTurns)
			}
			if measured := s.LatencyMS.Max > 0; measured != tc.wantMeasured || (!measured && s.LatencyMS != (results.Percentiles{})) {
				t.Errorf("latency %+v with %d answered turns", s.LatencyMS, s.Turns-s.TurnErrors)
			}
			c := r.Conversations[0]
			if c.Status != results.Unfinished || !strings.Contains(c.Reason, "stopped during turn") {
				t.Errorf("%s", describe(c))
			}
			if last := c.Turns[len(c.Turns)-1]; last.Error != "stopped: context canceled" {
				t.Errorf("the cut turn's error %q, want what stopped it", last.Error)
			}
		})
	}
}

// TestRepeatedConversationsListEveryRun: each run's verdict, time and
// located failures, in the order the runs ended, and the time of all runs.
func TestRepeatedConversationsListEveryRun(t *testing.T) {
	srv := newOpenCX(t, func(id string, n int, text string) (int, string) {
		switch {
		case text == "hello":
			return http.StatusCreated, flat("hello there")
		case n == 2:
			return http.StatusCreated, flat("bad answer")
		case n == 3:
			return http.StatusInternalServerError, `{"statusCode":500,"message":"down"}`
		}
		return http.StatusCreated, flat("good answer TCK-1")
	})
	ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q, retries: 0}
conversations:
  - name: sometimes
    repeat: 4
    min_pass_rate: 0.5
    turns:
      - user: hello
      - user: question
        expect: {contains: good, regex: "TCK-\\d+"}
  - name: once
    turns: [{user: hello}]
`, srv.URL))
	r := run(t, ss, runner.Options{Concurrency: 1})
	c := byName(t, r, "sometimes")
	if c.Status != results.Flaky || len(c.RunResults) != 4 {
		t.Fatalf("%s", describe(c))
	}
	var statuses []results.Status
	var total float64
	for _, rr := range c.RunResults {
		statuses = append(statuses, rr.Status)
		total += rr.DurationMS
		if rr.DurationMS <= 0 {
			t.Errorf("run without a duration: %+v", rr)
		}
	}
	if want := []results.Status{results.Passed, results.Failed, results.Errored, results.Passed}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("run verdicts %v, want %v", statuses, want)
	}
	if pass := c.RunResults[0]; pass.Message != "" || pass.Detail != "" {
		t.Errorf("a passed run with a failure: %+v", pass)
	}
	failed := c.RunResults[1]
	if !strings.HasPrefix(failed.Message, "turn 2: contains: ") || strings.Contains(failed.Message, "\n") {
		t.Errorf("failed run's message %q, want the first failure, located", failed.Message)
	}
	if lines := strings.Split(failed.Detail, "\n"); len(lines) != 2 || lines[0] != failed.Message || !strings.HasPrefix(lines[1], "turn 2: regex: ") {
		t.Errorf("failed run's detail %q, want both failures", failed.Detail)
	}
	if errored := c.RunResults[2]; !strings.HasPrefix(errored.Message, "turn 2: ") || !strings.Contains(errored.Message, "500") {
		t.Errorf("errored run's message %q, want where and why", errored.Message)
	}
	if d := c.TotalMS - total; d < -0.01 || d > 0.01 || c.TotalMS < c.DurationMS {
		t.Errorf("total %gms, want the sum of the runs, %gms (shown run %gms)", c.TotalMS, total, c.DurationMS)
	}
	once := byName(t, r, "once")
	if once.RunResults != nil || once.TotalMS != once.DurationMS {
		t.Errorf("a conversation run once: run results %v, total %g, duration %g", once.RunResults, once.TotalMS, once.DurationMS)
	}
}
