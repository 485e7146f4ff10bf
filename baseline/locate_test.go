package baseline

import (
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// TestLocate pins which turn and check a change points at, and that its
// detail carries the message of the failure it is about.
func TestLocate(t *testing.T) {
	errTurn := func(msg string) *results.Turn { return &results.Turn{User: "hi", Error: msg} }
	withFinal := func(c *results.Conversation, final ...results.Assertion) *results.Conversation {
		c.Final = final
		return c
	}
	withReason := func(c *results.Conversation, reason string) *results.Conversation {
		c.Reason = reason
		return c
	}
	tests := []struct {
		name      string
		base, now *results.Conversation // nil base: a new conversation
		bucket    string
		turn      int
		check     string
		detail    []string // all must appear
	}{
		{
			name:   "the check that held before and fails now",
			base:   conv("c", results.Passed, turn(1, held("contains")), turn(1, held("contains"), held("regex"))),
			now:    conv("c", results.Failed, turn(1, held("contains")), turn(1, held("contains"), fails("regex", `no match for "TCK-\d+"`))),
			bucket: "regressed", turn: 2, check: "regex",
			detail: []string{"turn 2: regex fails", "held in the baseline", `no match for "TCK-\d+"`},
		},
		{
			name:   "a check that failed in both is passed over for one that held",
			base:   conv("c", results.Flaky, turn(1, fails("contains", "old")), turn(1, held("mode"))),
			now:    conv("c", results.Failed, turn(1, fails("contains", "again")), turn(1, fails("mode", "mode was billing"))),
			bucket: "regressed", turn: 2, check: "mode",
			detail: []string{"mode was billing", "held in the baseline"},
		},
		{
			name:   "the baseline's flaky run failed the same check",
			base:   conv("c", results.Flaky, turn(1, fails("contains", "old"))),
			now:    conv("c", results.Failed, turn(1, fails("contains", "no refund"))),
			bucket: "regressed", turn: 1, check: "contains",
			detail: []string{"baseline's failing run", "no refund"},
		},
		{
			name:   "the second of two checks of one name",
			base:   conv("c", results.Passed, turn(1, held("contains"), held("contains"))),
			now:    conv("c", results.Failed, turn(1, held("contains"), fails("contains", `no "ticket"`))),
			bucket: "regressed", turn: 1, check: "contains",
			detail: []string{`no "ticket"`, "held in the baseline"},
		},
		{
			name:   "a check the baseline did not have",
			base:   conv("c", results.Passed, turn(1, held("contains"))),
			now:    conv("c", results.Failed, turn(1, fails("regex", "no match"), held("contains"))),
			bucket: "regressed", turn: 1, check: "regex",
			detail: []string{"not checked in the baseline", "no match"},
		},
		{
			name:   "a turn the bot did not answer",
			base:   conv("c", results.Passed, turn(1, held("contains")), turn(1, held("contains"))),
			now:    withReason(conv("c", results.Errored, turn(1, held("contains")), errTurn("opencx: send: timeout after 60s")), "turn 2: opencx: send: timeout after 60s"),
			bucket: "regressed", turn: 2, check: "error",
			detail: []string{"turn 2: the bot could not be asked", "opencx: send: timeout after 60s"},
		},
		{
			name:   "a session that could not be created",
			base:   conv("c", results.Passed, turn(1, held("contains"))),
			now:    withReason(conv("c", results.Errored), "create session: 503 Service Unavailable"),
			bucket: "regressed", turn: 0, check: "error",
			detail: []string{"the bot could not be asked", "503 Service Unavailable"},
		},
		{
			name:   "a final check",
			base:   withFinal(conv("c", results.Passed, turn(1, held("contains"))), held("final.status")),
			now:    withFinal(conv("c", results.Failed, turn(1, held("contains"))), fails("final.status", "status is open, want closed_resolved")),
			bucket: "regressed", turn: 0, check: "final.status",
			detail: []string{"final.status fails", "want closed_resolved"},
		},
		{
			name:   "fixed: the check that failed before holds now",
			base:   conv("c", results.Failed, turn(1, held("contains")), turn(1, fails("regex", "no ticket number"))),
			now:    conv("c", results.Passed, turn(1, held("contains")), turn(1, held("regex"))),
			bucket: "fixed", turn: 2, check: "regex",
			detail: []string{"turn 2: regex holds now", "no ticket number"},
		},
		{
			name:   "fixed: the bot answers now",
			base:   withReason(conv("c", results.Errored, turn(1), errTurn("429 Too Many Requests")), "turn 2: 429"),
			now:    conv("c", results.Passed, turn(1), turn(1)),
			bucket: "fixed", turn: 2, check: "error",
			detail: []string{"answers now", "429 Too Many Requests"},
		},
		{
			name:   "fixed, but flaky: the check still fails in the shown run",
			base:   conv("c", results.Failed, turn(1, fails("contains", "no refund"))),
			now:    conv("c", results.Flaky, turn(1, fails("contains", "no refund"))),
			bucket: "fixed", turn: 1, check: "contains",
			detail: []string{"still fails in some runs", "no refund"},
		},
		{
			name:   "still failing, somewhere new",
			base:   conv("c", results.Failed, turn(1, fails("contains", "old")), turn(1, held("regex"))),
			now:    conv("c", results.Failed, turn(1, fails("contains", "old")), turn(1, fails("regex", "new failure"))),
			bucket: "still failing", turn: 2, check: "regex",
			detail: []string{"new failure", "held in the baseline"},
		},
		{
			name:   "still failing, the same way",
			base:   conv("c", results.Failed, turn(1, fails("contains", "old"))),
			now:    conv("c", results.Failed, turn(1, fails("contains", "still"))),
			bucket: "still failing", turn: 1, check: "contains",
			detail: []string{"as in the baseline", "still"},
		},
		{
			name:   "a new conversation that fails",
			now:    conv("c", results.Failed, turn(1, held("contains")), turn(1, fails("equals", "got hello"))),
			bucket: "new", turn: 2, check: "equals",
			detail: []string{"turn 2: equals fails: got hello"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := record("base", conv("anchor", results.Passed))
			if tc.base != nil {
				base.Conversations = append(base.Conversations, tc.base)
			}
			now := record("now", conv("anchor", results.Passed), tc.now)
			cmp, err := Compare(base, now)
			if err != nil {
				t.Fatal(err)
			}
			got := buckets(cmp)
			if len(got) != 1 || got[0].bucket != tc.bucket {
				t.Fatalf("buckets %v, want only %q", got, tc.bucket)
			}
			ch := got[0].change
			if ch.Turn != tc.turn || ch.Check != tc.check {
				t.Errorf("located at turn %d check %q, want turn %d check %q (detail %q)", ch.Turn, ch.Check, tc.turn, tc.check, ch.Detail)
			}
			t.Logf("%s: %q", tc.bucket, ch.Detail)
			for _, want := range tc.detail {
				if !strings.Contains(ch.Detail, want) {
					t.Errorf("detail %q lacks %q", ch.Detail, want)
				}
			}
		})
	}
}

// TestLocateNotCompared checks that a failure the baseline has no verdict on
// is still located: it fails the build.
func TestLocateNotCompared(t *testing.T) {
	skipped := conv("c", results.Skipped)
	skipped.Reason = "skip: true in the suite"
	base := record("base", conv("anchor", results.Passed), skipped)
	now := record("now", conv("anchor", results.Passed), conv("c", results.Failed, turn(1, fails("contains", "no refund"))))
	cmp, err := Compare(base, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.NotCompared) != 1 {
		t.Fatalf("not compared %v", cmp.NotCompared)
	}
	ch := cmp.NotCompared[0]
	want := "turn 1: contains fails: no refund; the baseline has no verdict to compare with: it was skipped (skip: true in the suite) there"
	if ch.Turn != 1 || ch.Check != "contains" || ch.Detail != want {
		t.Errorf("change %+v, want turn 1 contains and detail %q", ch, want)
	}
}
