package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// evalrun report of one shard's record shows its thresholds but leaves the
// verdict to merge, as load --shard does: it exits 0 where a threshold of
// the shard alone is crossed. The same record merged alone into a whole
// test is judged, and fails.
func TestReportOfAShardLeavesTheVerdictToMerge(t *testing.T) {
	suite := writeSuite(t, loadSuite)
	dir := t.TempDir()
	p := filepath.Join(dir, "shard-0.json")
	// error_rate<0 is crossed by any run: an error rate is never negative.
	code, _, stderr := inProcess(t, "load", "--no-progress", "--rate", "20", "--duration", "200ms",
		"--threshold", "error_rate<0", "--shard", "0/2", "--json", p, suite)
	if code != exitOK {
		t.Fatalf("load --shard: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := inProcess(t, "report", p)
	if code != exitOK {
		t.Errorf("report of a shard: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "error_rate<0") {
		t.Errorf("report of a shard does not show its thresholds:\n%s", stdout)
	}
	if want := "evalrun: shard 0/2: thresholds are judged by merge on the whole test, not by this shard's exit code"; !strings.Contains(stderr, want) {
		t.Errorf("report of a shard does not say who judges it; stderr:\n%s", stderr)
	}
	// A merge of the same record (an incomplete one, on purpose) does judge.
	m := filepath.Join(dir, "m.json")
	if code, out, errOut := inProcess(t, "merge", "--allow-partial", "--json", m, p); code != exitFailed {
		t.Errorf("merge: exit %d, want 1\n%s%s", code, out, errOut)
	}
	if code, out, errOut := inProcess(t, "report", m); code != exitFailed {
		t.Errorf("report of the merge: exit %d, want 1\n%s%s", code, out, errOut)
	}
	// A record that is not usable is still refused.
	writeFile(t, filepath.Join(dir, "bad.json"), `{"schema": "nope"}`)
	if code, _, _ := inProcess(t, "report", filepath.Join(dir, "bad.json")); code != exitUsage {
		t.Errorf("report of an unusable record: exit %d, want 2", code)
	}
}
