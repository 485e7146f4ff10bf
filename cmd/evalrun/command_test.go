package main

import (
	"context"
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
}
