package baseline

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// TestBaselineOfOtherSuites checks that a baseline sharing no conversation
// with the run is refused, naming the suites of both, rather than compared as
// everything removed and everything new.
func TestBaselineOfOtherSuites(t *testing.T) {
	base, err := Read(filepath.Join("testdata", "other-suites.json"))
	if err != nil {
		t.Fatal(err)
	}
	now, err := Read(filepath.Join("testdata", "quickstart.json"))
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := Compare(base, now)
	if err == nil {
		t.Fatalf("compared records of other suites: %+v", cmp)
	}
	for _, want := range []string{"shares no conversation", `its suites are "billing", "shipping"`, `this run's are "quickstart", "quickstart-toolzz"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestPartialOverlap checks the notes of a baseline that shares only some
// suites, and of one most of whose conversations this run does not have.
func TestPartialOverlap(t *testing.T) {
	base := record("base", conv("a/x", results.Passed), conv("gone/y", results.Passed), conv("gone/z", results.Failed))
	now := record("now", conv("a/x", results.Passed), conv("fresh/w", results.Passed))
	cmp, err := Compare(base, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Removed) != 2 || len(cmp.New) != 1 || cmp.Unchanged != 1 {
		t.Fatalf("removed %v, new %v, unchanged %d", cmp.Removed, cmp.New, cmp.Unchanged)
	}
	notes := strings.Join(cmp.Notes, "\n")
	for _, want := range []string{
		`1 suite is only in the baseline: "gone"`,
		`1 suite is only in this run: "fresh"`,
		"2 of the baseline's 3 conversations are not in this run",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
}

// TestShardOfTheBaseline is a run of one shard against a full baseline:
// same suites, most conversations absent. It is compared, with a note.
func TestShardOfTheBaseline(t *testing.T) {
	base := record("base")
	for i := range 10 {
		base.Conversations = append(base.Conversations, conv(fmt.Sprintf("c%d", i), results.Passed))
	}
	now := record("now", conv("c3", results.Passed), conv("c7", results.Failed))
	cmp, err := Compare(base, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Regressed) != 1 || len(cmp.Removed) != 8 {
		t.Fatalf("regressed %v, removed %d", cmp.Regressed, len(cmp.Removed))
	}
	if len(cmp.Notes) != 1 || !strings.Contains(cmp.Notes[0], "8 of the baseline's 10 conversations are not in this run (another selection, a shard") {
		t.Errorf("notes %q", cmp.Notes)
	}
}

// TestInterruptedRuns checks that a run stopped early says so, on either
// side, so that it never reads as a clean comparison.
func TestInterruptedRuns(t *testing.T) {
	base := record("base", conv("x", results.Passed), conv("y", results.Unfinished))
	base.Interrupted = "fail-fast"
	now := record("now", conv("x", results.Unfinished), conv("y", results.Passed))
	now.Interrupted = "interrupt"
	cmp, err := Compare(base, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.NotCompared) != 2 {
		t.Fatalf("not compared %v", cmp.NotCompared)
	}
	notes := strings.Join(cmp.Notes, "\n")
	for _, want := range []string{
		"the baseline run was stopped early (fail-fast): 1 unfinished conversation has no verdict",
		"this run was stopped early (interrupt): 1 conversation is unfinished, so the comparison is incomplete",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if fail, _ := Gate(cmp, now, false); !fail {
		t.Error("an interrupted run passed the gate")
	}
}

func TestCompareRefuses(t *testing.T) {
	good := record("good", conv("x", results.Passed))
	load := record("load", conv("x", results.Passed))
	load.Load = &results.Load{Model: "open"}
	dup := record("dup", conv("x", results.Passed), conv("x", results.Failed))
	tests := []struct {
		name      string
		base, now *results.Run
		want      string
	}{
		{"no baseline", nil, good, "a record is missing"},
		{"a load baseline", load, good, "the baseline (run load) is a load run"},
		{"a load run", good, load, "this run (run load) is a load run"},
		{"a corrupt run", good, dup, "this run (run dup): conversations 1 and 2 are both"},
		{"an empty run", good, record("empty"), "this run (run empty) has no conversations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmp, err := Compare(tc.base, tc.now)
			if err == nil || cmp != nil {
				t.Fatalf("Compare = %v, %v", cmp, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}
