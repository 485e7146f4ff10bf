package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// gateSuite has a conversation that passes and one that fails against the
// simulator.
const gateSuite = `name: gate
provider: {type: opencx, base_url: sim}
conversations:
  - name: greets
    turns:
      - user: Hello!
        expect: {contains: demo assistant}
  - name: promises the moon
    turns:
      - user: Hello!
        expect: {contains: the moon}
`

// baselineWith writes a copy of record with the verdicts of the named
// conversations replaced, as an earlier run would have judged them.
func baselineWith(t *testing.T, record string, status map[string]results.Status) string {
	t.Helper()
	raw, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	var run results.Run
	if err := json.Unmarshal(raw, &run); err != nil {
		t.Fatal(err)
	}
	run.RunID = "before"
	for _, c := range run.Conversations {
		if s, ok := status[c.Name]; ok {
			c.Status = s
		}
	}
	out, _ := json.Marshal(&run)
	p := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// With --baseline only a regression (or an error) fails the build; a
// conversation that failed before too is reported and excused, unless
// --fail-on any. The comparison lands in the JSON record and on stdout.
func TestBaselineGatesOnRegressions(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "gate.yaml")
	if err := os.WriteFile(suite, []byte(gateSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, "first.json")
	if code, _, stderr := inProcess(t, "run", "--no-progress", "--json", first, suite); code != exitFailed {
		t.Fatalf("plain run: exit %d, want 1\n%s", code, stderr)
	}

	tests := []struct {
		name   string
		was    map[string]results.Status
		args   []string
		code   int
		bucket string // the comparison list that must hold "promises the moon"
		stdout string
	}{
		{"still failing is excused", map[string]results.Status{"promises the moon": results.Failed}, nil, exitOK, "still_failing", "1 still failing"},
		{"--fail-on any restores the plain rule", map[string]results.Status{"promises the moon": results.Failed}, []string{"--fail-on", "any"}, exitFailed, "still_failing", "fails the build"},
		{"a regression fails", map[string]results.Status{"promises the moon": results.Passed}, nil, exitFailed, "regressed", "fails the build: 1 conversation regressed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := baselineWith(t, first, tt.was)
			now := filepath.Join(t.TempDir(), "now.json")
			args := append([]string{"run", "--no-progress", "--baseline", base, "--json", now}, tt.args...)
			code, stdout, stderr := inProcess(t, append(args, suite)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout)
			}
			raw, err := os.ReadFile(now)
			if err != nil {
				t.Fatal(err)
			}
			var rec map[string]any
			if err := json.Unmarshal(raw, &rec); err != nil {
				t.Fatal(err)
			}
			cmp, _ := rec["comparison"].(map[string]any)
			if cmp == nil || cmp["baseline_run_id"] != "before" {
				t.Fatalf("record's comparison: %v", rec["comparison"])
			}
			items, _ := cmp[tt.bucket].([]any)
			if len(items) != 1 || items[0].(map[string]any)["name"] != "promises the moon" {
				t.Errorf("%s: %v", tt.bucket, cmp[tt.bucket])
			}

			// report compares the same two records after the fact.
			if code, _, stderr := inProcess(t, append([]string{"report", "--baseline", base}, append(tt.args, now)...)...); code != tt.code {
				t.Errorf("report --baseline: exit %d, want %d\n%s", code, tt.code, stderr)
			}
		})
	}
}

// A baseline of other suites, or one that is not an evalrun record, is a
// usage error before anything is sent, never a diff of unrelated records.
func TestBaselineThatCannotBeComparedIsRefused(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "gate.yaml")
	if err := os.WriteFile(suite, []byte(gateSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	rec := results.Run{Schema: results.Schema, RunID: "x", Conversations: []*results.Conversation{
		{Suite: "billing", Name: "invoice", Status: results.Passed, Turns: []*results.Turn{}},
	}}
	raw, _ := json.Marshal(&rec)
	os.WriteFile(other, raw, 0o644)
	old := filepath.Join(dir, "old.json")
	os.WriteFile(old, []byte(`{"schema":"evalrun/v0","conversations":[]}`), 0o644)

	for name, tc := range map[string]struct{ path, want string }{
		"other suites": {other, "shares no conversation"},
		"old schema":   {old, "evalrun/v0"},
		"missing":      {filepath.Join(dir, "nope.json"), "nope.json"},
	} {
		t.Run(name, func(t *testing.T) {
			js := filepath.Join(t.TempDir(), "out.json")
			code, _, stderr := inProcess(t, "run", "--no-progress", "--baseline", tc.path, "--json", js, suite)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 2 and %q in stderr:\n%s", code, tc.want, stderr)
			}
			if _, err := os.Stat(js); err == nil {
				t.Errorf("a refused run wrote %s", js)
			}
		})
	}
	if code, _, stderr := inProcess(t, "run", "--fail-on", "some", suite); code != exitUsage || !strings.Contains(stderr, `got "some"`) {
		t.Errorf("--fail-on some: exit %d\n%s", code, stderr)
	}
	// The baseline is an input: no report may overwrite it.
	if code, _, stderr := inProcess(t, "run", "--baseline", other, "--json", other, suite); code != exitUsage {
		t.Errorf("--json onto the baseline: exit %d\n%s", code, stderr)
	}
}
