package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// TestRegrade runs the quickstart against the simulator, then judges its
// record again: unchanged suites give the same verdicts, a changed check its
// new verdict, and suites of other conversations are refused.
func TestRegrade(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "run.json")
	quick, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(dir, "quickstart.yaml")
	if err := os.WriteFile(suite, quick, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := inProcess(t, "run", "--no-progress", "--json", rec, suite); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}

	out, junit := filepath.Join(dir, "regraded.json"), filepath.Join(dir, "regraded.xml")
	code, stdout, stderr := inProcess(t, "regrade", rec, suite, "--json", out, "--junit", junit)
	if code != 0 {
		t.Fatalf("regrade: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "refund with ticket follow-up") {
		t.Errorf("no table on stdout:\n%s", stdout)
	}
	var was, now results.Run
	readJSON(t, rec, &was)
	readJSON(t, out, &now)
	if now.RegradedFrom == nil || now.RegradedFrom.RunID != was.RunID || now.RegradedFrom.File != rec {
		t.Errorf("regraded_from %+v, want run %s of %s", now.RegradedFrom, was.RunID, rec)
	}
	if now.Summary.Passed != was.Summary.Passed || now.Summary.Conversations != was.Summary.Conversations {
		t.Errorf("summary %+v, want the recorded %+v", now.Summary, was.Summary)
	}
	checkJUnitSchema(t, junit)

	changed := filepath.Join(dir, "changed.yaml")
	if err := os.WriteFile(changed, []byte(strings.Replace(string(quick), "contains: sorry", "contains: apologies", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = inProcess(t, "regrade", rec, changed)
	if code != 1 || !strings.Contains(stdout+stderr, `"apologies"`) {
		t.Errorf("changed check: exit %d, want 1 with the failure\n%s%s", code, stdout, stderr)
	}

	renamed := filepath.Join(dir, "renamed.yaml")
	if err := os.WriteFile(renamed, []byte(strings.Replace(string(quick), "How long does delivery take?", "When will it arrive?", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = inProcess(t, "regrade", rec, renamed, "--json", filepath.Join(dir, "none.json"))
	if code != 2 || !strings.Contains(stderr, `quickstart/shipping question: turn 1: the suite sends "When will it arrive?"`) {
		t.Errorf("other conversations: exit %d, want 2 naming the difference\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.json")); err == nil {
		t.Error("a refused regrade wrote its record")
	}
}

func TestRegradeRefusals(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(suite, []byte(simSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "run.json")
	if code, _, stderr := inProcess(t, "run", "--no-progress", "--json", rec, suite); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	// The record of an evalrun from before regrade: no observed replies.
	var r map[string]any
	readJSON(t, rec, &r)
	for _, c := range r["conversations"].([]any) {
		for _, tu := range c.(map[string]any)["turns"].([]any) {
			delete(tu.(map[string]any), "observed")
		}
	}
	old := filepath.Join(dir, "old.json")
	b, _ := json.Marshal(r)
	if err := os.WriteFile(old, b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no suites", []string{"regrade", rec}, "name the JSON record of a run, then the suite files"},
		{"old record", []string{"regrade", old, suite}, "written by an evalrun from before regrade"},
		{"not a record", []string{"regrade", suite, suite}, "not an evalrun JSON record"},
		{"report over the record", []string{"regrade", rec, suite, "--json", rec}, "--json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := inProcess(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q\n%s%s", code, tc.want, stdout, stderr)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
