package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A shard says what merge judges: its thresholds when the test has some,
// its conversations' verdicts when it has none, never thresholds it lacks.
func TestShardSaysWhatMergeJudges(t *testing.T) {
	p := writeSuite(t, loadSuite)
	for _, c := range []struct {
		name      string
		extra     []string
		want, not string
	}{
		{"no thresholds", nil, "shard 0/2: its conversations' verdicts are judged by merge on the whole test", "thresholds"},
		{"a threshold", []string{"--threshold", "error_rate<0.5"}, "shard 0/2: thresholds are judged by merge on the whole test", "verdicts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"load", "--no-progress", "--rate", "20", "--duration", "100ms", "--shard", "0/2",
				"--json", filepath.Join(t.TempDir(), "r.json")}, c.extra...)
			code, out, errOut := inProcess(t, append(args, p)...)
			if code != exitOK || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr lacks %q:\n%s%s", code, c.want, out, errOut)
			}
			for _, line := range strings.Split(errOut, "\n") {
				if strings.Contains(line, "judged by merge") && strings.Contains(line, c.not) {
					t.Errorf("the shard's line names %s: %q", c.not, line)
				}
			}
		})
	}
}

// --start-at's help gives machines one absolute time: "+D" is read on each
// machine's own clock, so machines started apart plan different starts
// (and derive different test ids).
func TestStartAtHelpSaysPlusDIsForOneMachine(t *testing.T) {
	_, out, errOut := inProcess(t, "load", "-h")
	help := out + errOut
	i := strings.Index(help, "--start-at")
	if i < 0 {
		t.Fatalf("no --start-at in load -h:\n%s", help)
	}
	entry := help[i:]
	if j := strings.Index(entry[1:], "\n  --"); j >= 0 {
		entry = entry[:j+1]
	}
	for _, want := range []string{"the one to give shards on many machines", "+D from now such as +30s, only for shards started at once on one machine"} {
		if !strings.Contains(entry, want) {
			t.Errorf("--start-at help lacks %q:\n%s", want, entry)
		}
	}
	if strings.Contains(entry, "so that shards on many machines start together") {
		t.Errorf("--start-at help still offers +D to many machines:\n%s", entry)
	}
}
