package main

import (
	"strings"
	"testing"
)

// TestFlagHelpNamesOneArgument: the flag package takes the first
// backquoted word of a usage string as the flag's argument, so backquotes
// around anything else print as a bogus argument ("--allow-partial run
// --shard"). An argument is one word.
func TestFlagHelpNamesOneArgument(t *testing.T) {
	for _, cmd := range []string{"run", "load", "merge", "report", "regrade", "validate", "sim"} {
		code, out, errOut := inProcess(t, cmd, "-h")
		if code != exitOK || !strings.Contains(out, "Flags:") {
			t.Fatalf("%s -h: exit %d\n%s%s", cmd, code, out, errOut)
		}
		for _, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "  -") {
				continue
			}
			if f := strings.Fields(line); len(f) > 2 {
				t.Errorf("%s -h: %q names more than one argument", cmd, strings.TrimSpace(line))
			}
		}
	}
}

func TestUsageSaysMergeTakesBothKinds(t *testing.T) {
	code, _, errOut := inProcess(t)
	if code != exitUsage || !strings.Contains(errOut, "load records or run records") {
		t.Errorf("exit %d, usage:\n%s", code, errOut)
	}
}

// TestMergeErrorsSayMergeOnce: the library's errors already name the
// operation; the command must not say it twice.
func TestMergeErrorsSayMergeOnce(t *testing.T) {
	dir := t.TempDir()
	rec := dir + "/run.json"
	if code, _, errOut := inProcess(t, "run", "--no-progress", "--json", rec, quickstart); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	code, _, errOut := inProcess(t, "merge", "--json", dir+"/m.json", rec, rec)
	if code != exitUsage || strings.Count(errOut, "merge:") != 1 {
		t.Errorf("exit %d, want %d and one \"merge:\":\n%s", code, exitUsage, errOut)
	}
}
