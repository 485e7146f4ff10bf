package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
)

// The commands run in-process from their options and streams, with no flag
// parsing: here `run` draws its progress bar on a terminal and prints a
// line per conversation elsewhere, and `load` runs the same way.
func TestCommandsRunFromTheirOptions(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	for _, tc := range []struct {
		name string
		tty  bool
		want string // on stderr
	}{
		{"progress bar on a terminal", true, "conversations"},
		{"a line per conversation in a log", false, "[2/2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, out, errOut := term.Test()
			s.SetTTY(tc.tty)
			s.SetWidth(100)
			o := &runOptions{concurrency: 1, paths: []string{p}}
			code, err := o.run(context.Background(), s)
			if err != nil || code != exitFailed {
				t.Fatalf("exit %d, %v\n%s", code, err, errOut)
			}
			if !strings.Contains(out.String(), "TOTAL") {
				t.Errorf("no table on stdout:\n%s", out)
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%q", tc.want, errOut)
			}
			if tc.tty == strings.Contains(errOut.String(), "[2/2]") {
				t.Errorf("the terminal got plain lines, or the log got a bar:\n%q", errOut)
			}
		})
	}

	s, out, errOut := term.Test()
	lo := &loadFlags{set: map[string]bool{"vus": true, "duration": true}, vus: 1, duration: 300 * time.Millisecond, grace: 5 * time.Second, noProgress: true, paths: []string{p}}
	if code, err := lo.run(context.Background(), s); err != nil || (code != exitOK && code != exitFailed) {
		t.Fatalf("load: exit %d, %v\n%s", code, err, errOut)
	}
	if !strings.Contains(out.String(), "all turns") {
		t.Errorf("no load table:\n%s", out)
	}

	// validate, then a run that writes its record, which report and
	// merge read.
	if code, err := (&validateOptions{paths: []string{p}}).run(context.Background(), s); err != nil || code != exitOK {
		t.Fatalf("validate: exit %d, %v", code, err)
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "run.json")
	ro := &runOptions{concurrency: 1, noProgress: true, reports: reportFlags{json: rec}, paths: []string{p}}
	if code, err := ro.run(context.Background(), s); err != nil || code != exitFailed {
		t.Fatalf("run: exit %d, %v", code, err)
	}
	s, out, _ = term.Test()
	if code, err := (&reportOptions{paths: []string{rec}}).run(s); err != nil || code != exitFailed || !strings.Contains(out.String(), "TOTAL") {
		t.Errorf("report: exit %d, %v\n%s", code, err, out)
	}
	mo := &mergeOptions{reports: reportFlags{json: filepath.Join(dir, "merged.json")}, paths: []string{rec}}
	if code, err := mo.run(context.Background(), s); err != nil || code != exitFailed {
		t.Errorf("merge: exit %d, %v", code, err)
	}
}
