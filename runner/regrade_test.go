package runner_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// quickstart returns the text of the quickstart suites, which exercise
// every kind of check, a regex and a json capture, and final state.
func quickstart(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recordRun runs the suites against the simulator and returns their record
// as a file would give it back: through the JSON writer and reader.
func recordRun(t *testing.T, ss []*suites.Suite, opts runner.Options) *results.Run {
	t.Helper()
	r := run(t, ss, opts)
	var buf bytes.Buffer
	if err := report.JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadRecord(&buf, "record.json")
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// edited loads the suite text with each old string replaced by its new one.
func edited(t *testing.T, text string, oldNew ...string) []*suites.Suite {
	t.Helper()
	for i := 0; i < len(oldNew); i += 2 {
		if !strings.Contains(text, oldNew[i]) {
			t.Fatalf("the suite has no %q to replace", oldNew[i])
		}
		text = strings.Replace(text, oldNew[i], oldNew[i+1], 1)
	}
	return load(t, text)
}

func regrade(t *testing.T, rec *results.Run, ss []*suites.Suite) (*results.Run, error) {
	t.Helper()
	return runner.Regrade(context.Background(), rec, ss, runner.RegradeOptions{File: "record.json"})
}

// verdicts lists every conversation's status and each assertion's outcome.
func verdicts(r *results.Run) []string {
	var out []string
	for _, c := range r.Conversations {
		out = append(out, c.Suite+"/"+c.Name+": "+string(c.Status)+" "+c.Reason)
		for _, tu := range c.Turns {
			for _, a := range tu.Assertions {
				out = append(out, "  "+a.Check+" "+map[bool]string{true: "ok", false: "FAIL " + a.Message}[a.Passed])
			}
			if tu.Error != "" {
				out = append(out, "  error "+tu.Error)
			}
		}
		for _, a := range c.Final {
			out = append(out, "  "+a.Check+" "+map[bool]string{true: "ok", false: "FAIL " + a.Message}[a.Passed])
		}
	}
	return out
}

func TestRegradeGivesTheRecordedVerdicts(t *testing.T) {
	ss := load(t, quickstart(t))
	rec := recordRun(t, ss, runner.Options{})
	if rec.Summary.Passed != rec.Summary.Conversations || rec.Summary.Conversations == 0 {
		t.Fatalf("the quickstart should pass against the simulator: %v", statuses(rec))
	}
	got, err := regrade(t, rec, load(t, quickstart(t)))
	if err != nil {
		t.Fatal(err)
	}
	if w, g := strings.Join(verdicts(rec), "\n"), strings.Join(verdicts(got), "\n"); w != g {
		t.Errorf("regrade changed the verdicts\nrecorded:\n%s\nregraded:\n%s", w, g)
	}
	if got.RunID == rec.RunID || got.RegradedFrom == nil || got.RegradedFrom.RunID != rec.RunID || got.RegradedFrom.File != "record.json" {
		t.Errorf("run id %q, regraded_from %+v; want a new id and the recorded run's", got.RunID, got.RegradedFrom)
	}
	ws, gs := rec.Summary, got.Summary
	if ws.Turns != gs.Turns || ws.TurnErrors != gs.TurnErrors || ws.LatencyMS != gs.LatencyMS {
		t.Errorf("summary %+v, want the recorded %+v", gs, ws)
	}
	for i, c := range got.Conversations {
		for j, tu := range c.Turns {
			if w := rec.Conversations[i].Turns[j]; tu.LatencyMS != w.LatencyMS || tu.User != w.User || tu.Reply != w.Reply {
				t.Errorf("%s turn %d: %v ms %q, want the recorded %v ms %q", c.Name, j+1, tu.LatencyMS, tu.Reply, w.LatencyMS, w.Reply)
			}
		}
	}
}

func TestRegradeJudgesChangedChecks(t *testing.T) {
	text := quickstart(t)
	rec := recordRun(t, load(t, text), runner.Options{})
	for _, tc := range []struct {
		name, old, new string
		conv, want     string
	}{
		{"contains", "contains: sorry", "contains: apologies", "angry customer is handed to a human", `"apologies"`},
		// A json check and a json capture read the recorded raw body: a
		// capture that now takes another field changes what turn 3 expects.
		{"json check", `json: {"$.autopilotResponse.mode.slug": refunds}`, `json: {"$.autopilotResponse.mode.slug": shipping}`,
			"refund with ticket follow-up", "shipping"},
		{"json capture", `ticket_id: {json: "$.autopilotResponse.debugInfo.actionCalls[0].result.ticket_id"}`,
			`ticket_id: {json: "$.autopilotResponse.debugInfo.actionCalls[0].action.name"}`, "refund with ticket follow-up", "create_refund_ticket"},
		{"final", "sentiment: angry", "sentiment: happy", "angry customer is handed to a human", `"happy"`},
		{"max_latency", "max_latency: 2s", "max_latency: 1ns", "greeting", "1ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := regrade(t, rec, edited(t, text, tc.old, tc.new))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range got.Conversations {
				want := results.Passed
				if c.Name == tc.conv {
					want = results.Failed
				}
				if c.Status != want {
					t.Errorf("%s: %s, want %s\n%s", c.Name, c.Status, want, strings.Join(verdicts(got), "\n"))
				}
				if c.Name == tc.conv {
					if f := c.Failures(); len(f) == 0 || !strings.Contains(f[0].Message, tc.want) {
						t.Errorf("%s: failures %v, want one naming %s", c.Name, f, tc.want)
					}
				}
			}
			if got.Summary.Failed != 1 {
				t.Errorf("summary %+v, want one failed", got.Summary)
			}
		})
	}
}

func TestRegradeRefusesARecordOfOtherConversations(t *testing.T) {
	text := quickstart(t)
	rec := recordRun(t, load(t, text), runner.Options{})
	for _, tc := range []struct {
		name    string
		oldNew  []string
		want    string
		turn    int
		convers string
	}{
		{"renamed", []string{"name: shipping question", "name: delivery question"},
			`in the suites (`, 0, "delivery question"},
		{"user text", []string{"How long does delivery take?", "How long does shipping take?"},
			`the suite sends "How long does shipping take?", the record has "How long does delivery take?"`, 1, "shipping question"},
		{"more turns", []string{"          max_latency: 2s\n", "          max_latency: 2s\n      - user: And?\n"},
			"the suite has 2 turns, the record 1", 0, "greeting"},
		{"fewer turns", []string{"      - user: Great, thank you!\n        expect:\n          reply: true\n          not_contains: [\"not sure\"]\n", ""},
			"the suite has 3 turns, the record 4", 0, "refund with ticket follow-up"},
		// The capture is taken again from the recorded reply, and the
		// message it fills is then not what was sent.
		{"capture", []string{`ticket: {regex: "(TCK-\\d+)"}`, `ticket: {regex: "(TCK)-\\d+"}`},
			`the suite sends "What is the status of ticket TCK?"`, 3, "refund with ticket follow-up"},
		{"final added", []string{"          max_latency: 2s\n", "          max_latency: 2s\n    final: {status: open}\n"},
			"no final state", 0, "greeting"},
		{"suite renamed", []string{"name: quickstart-toolzz", "name: toolzz"},
			"in the suites", 0, "billing question moves to the billing bot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := regrade(t, rec, edited(t, text, tc.oldNew...))
			var re *runner.RegradeError
			if !errors.As(err, &re) {
				t.Fatalf("err %v, want a *RegradeError", err)
			}
			if !strings.Contains(err.Error(), tc.want) || re.Turn != tc.turn || re.Name != tc.convers {
				t.Errorf("err %q (turn %d, %q), want one naming %q at turn %d of %q", err, re.Turn, re.Name, tc.want, tc.turn, tc.convers)
			}
		})
	}
	t.Run("renamed says what the record has", func(t *testing.T) {
		_, err := regrade(t, rec, edited(t, text, "name: shipping question", "name: delivery question"))
		if err == nil || !strings.Contains(err.Error(), `which has "shipping question" instead`) {
			t.Errorf("err %v, want the record's name beside it", err)
		}
	})
	t.Run("a suite left out", func(t *testing.T) {
		ss := load(t, text)
		_, err := regrade(t, rec, ss[:1])
		if err == nil || !strings.Contains(err.Error(), "quickstart-toolzz/billing question moves to the billing bot: in the record but in none of the suites given") {
			t.Errorf("err %v", err)
		}
	})
}

func TestRegradeRefusesARecordWithoutReplies(t *testing.T) {
	text := quickstart(t)
	rec := recordRun(t, load(t, text), runner.Options{})
	for _, c := range rec.Conversations {
		for _, tu := range c.Turns {
			tu.Observed = nil
		}
	}
	_, err := regrade(t, rec, load(t, text))
	var re *runner.RegradeError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "from before regrade") || !strings.Contains(err.Error(), `no "observed"`) {
		t.Errorf("err %v, want a refusal that says the record is too old", err)
	}

	load := *rec
	load.Load = &results.Load{}
	if _, err := regrade(t, &load, nil); err == nil || !strings.Contains(err.Error(), "load record") {
		t.Errorf("err %v, want a refusal of a load record", err)
	}
}

func TestRegradeOfATruncatedBody(t *testing.T) {
	text := quickstart(t)
	rec := recordRun(t, load(t, text), runner.Options{})
	c := findConversation(t, rec, "refund with ticket follow-up")
	ob := c.Turns[1].Observed
	ob.RawBytes, ob.RawTruncated, ob.Raw = len(ob.Raw), true, ob.Raw[:10]
	got, err := regrade(t, rec, load(t, text))
	if err != nil {
		t.Fatal(err)
	}
	g := findConversation(t, got, c.Name)
	if g.Status != results.Errored || !strings.Contains(g.Reason, "turn 2: cannot judge the json checks") {
		t.Errorf("%s: %s %q, want errored for the cut body", g.Name, g.Status, g.Reason)
	}
	if got.Summary.Errored != 1 || got.Summary.Passed != got.Summary.Conversations-1 {
		t.Errorf("summary %+v", got.Summary)
	}

	// The regraded record keeps the body marked cut, so that judging it
	// once more does not take the cut body for the whole one.
	var buf bytes.Buffer
	if err := report.JSON(&buf, got); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadRecord(&buf, "regraded.json")
	if err != nil {
		t.Fatal(err)
	}
	again, err := regrade(t, back, load(t, text))
	if err != nil {
		t.Fatal(err)
	}
	if a := findConversation(t, again, c.Name); a.Status != results.Errored || a.Reason != g.Reason {
		t.Errorf("regraded twice: %s %q, want %q", a.Status, a.Reason, g.Reason)
	}
}

// TestPlayBuildsNoRecordExtras: a load test's plays that pass are never
// recorded, so what only a record needs is built by Transcript, not by Play.
func TestPlayBuildsNoRecordExtras(t *testing.T) {
	ss := load(t, quickstart(t))
	p, err := runner.NewPlayer(ss, runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var conv *suites.Conversation
	for _, c := range ss[0].Conversations {
		if c.Name == "refund with ticket follow-up" {
			conv = c
		}
	}
	o := p.Play(context.Background(), ss[0], conv)
	if o.Status != results.Passed {
		t.Fatalf("play: %s %s", o.Status, o.Reason)
	}
	for i, tu := range o.Turns {
		if tu.Record.Observed != nil {
			t.Errorf("turn %d: Play built the observed record", i+1)
		}
	}
	tr := o.Transcript()
	ob := tr[1].Observed
	if ob == nil || len(ob.Actions) == 0 || ob.Actions[0].Name != "create_refund_ticket" || ob.Raw == "" || ob.MightSolve == nil {
		t.Errorf("turn 2 observed %+v, want the reply's fields and body", ob)
	}
	if st := o.RecordedState(); st == nil || st.Status != "closed_resolved" || st.Handoff == nil || *st.Handoff {
		t.Errorf("recorded state %+v, want the final state read", st)
	}
}

// TestPlayerSkipObservedKeepsNoReplies: with SkipObserved, as evalrun load
// plays, a play keeps neither its replies nor its final state, so a
// transcript built afterwards has nothing to fill Observed from; the turns
// still say what came back.
func TestPlayerSkipObservedKeepsNoReplies(t *testing.T) {
	ss := load(t, quickstart(t))
	p, err := runner.NewPlayer(ss, runner.Options{SkipObserved: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var conv *suites.Conversation
	for _, c := range ss[0].Conversations {
		if c.Name == "refund with ticket follow-up" {
			conv = c
		}
	}
	o := p.Play(context.Background(), ss[0], conv)
	if o.Status != results.Passed || len(o.Final) == 0 {
		t.Fatalf("play: %s %s, %d final checks", o.Status, o.Reason, len(o.Final))
	}
	for i, tu := range o.Transcript() {
		if tu.Observed != nil {
			t.Errorf("turn %d: observed %+v, want none kept", i+1, tu.Observed)
		}
		if tu.Reply == "" {
			t.Errorf("turn %d: no reply text", i+1)
		}
	}
	if st := o.RecordedState(); st != nil {
		t.Errorf("recorded state %+v, want none kept", st)
	}
}

func TestRegradeKeepsWhatTheRunDidNotJudge(t *testing.T) {
	text := quickstart(t)
	rec := recordRun(t, load(t, text), runner.Options{Tags: []string{"smoke"}})
	// An errored conversation: the service failed at its second turn.
	c := findConversation(t, rec, "refund with ticket follow-up")
	c.Status, c.Reason = results.Errored, "turn 2: opencx: send: HTTP 500"
	c.Turns = c.Turns[:2]
	c.Turns[1].Observed, c.Turns[1].Error, c.Turns[1].Assertions = nil, "opencx: send: HTTP 500", nil
	c.State = nil

	got, err := regrade(t, rec, edited(t, text, "contains: order number", "contains: order numbers"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got.Conversations {
		w := findConversation(t, rec, g.Name)
		if w.Status == results.Skipped && (g.Status != results.Skipped || g.Reason != w.Reason) {
			t.Errorf("%s: %s %q, want skipped as recorded: %q", g.Name, g.Status, g.Reason, w.Reason)
		}
	}
	g := findConversation(t, got, c.Name)
	// The cause is the recorded run's, and says so.
	if g.Status != results.Errored || g.Reason != "in the recorded run: "+c.Reason || len(g.Turns) != 2 || g.Turns[1].Error != "opencx: send: HTTP 500" {
		t.Errorf("%s: %s %q with %d turns, want errored as recorded\n%s", g.Name, g.Status, g.Reason, len(g.Turns), strings.Join(verdicts(got), "\n"))
	}
	if a := g.Turns[0].Assertions; len(a) == 0 || a[0].Passed || !strings.Contains(a[0].Message, "order numbers") {
		t.Errorf("turn 1 of the errored conversation was not judged again: %+v", a)
	}
	if got.Summary.TurnErrors != 1 {
		t.Errorf("summary %+v, want the recorded turn error", got.Summary)
	}
}

func TestRegradeNotesRepeatedConversations(t *testing.T) {
	text := quickstart(t)
	rec := recordRun(t, load(t, text), runner.Options{Repeat: 2, Tags: []string{"handoff"}})
	got, err := regrade(t, rec, load(t, text))
	if err != nil {
		t.Fatal(err)
	}
	if n := got.RegradedFrom.Notes; len(n) != 2 || !strings.Contains(n[0], "ran 2 times") {
		t.Errorf("notes %q, want one per repeated conversation", n)
	}
	if c := findConversation(t, got, "angry customer is handed to a human"); c.Runs != 1 || c.Status != results.Passed {
		t.Errorf("%s: %d runs, %s; want the one recorded run, passed", c.Name, c.Runs, c.Status)
	}
}

func findConversation(t *testing.T, r *results.Run, name string) *results.Conversation {
	t.Helper()
	for _, c := range r.Conversations {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no conversation %q", name)
	return nil
}
