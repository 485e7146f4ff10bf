package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/evalrun/evalrun/internal/term"
)

// Ctrl-C while the suites are still loading stops the command with the
// signal's exit code, as it would during the run, not with exit 2 as if a
// suite were invalid.
func TestSignalWhileLoadingExitsWithTheSignalsCode(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(suite, []byte("provider: {type: opencx, base_url: sim}\nconversations:\n  - name: c\n    turns: [{user: hi}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "load", "validate"} {
		t.Run(cmd, func(t *testing.T) {
			ctx, stop := context.WithCancelCause(context.Background())
			stop(&signalError{syscall.SIGINT})
			args := []string{cmd, suite}
			if cmd == "load" {
				args = []string{cmd, "--vus", "1", "--duration", "1s", suite}
			}
			streams, _, errOut := term.Test()
			if code := Main(ctx, args, streams); code != 130 {
				t.Errorf("exit %d, want 130; stderr:\n%s", code, errOut)
			}
			if !strings.Contains(errOut.String(), "interrupted") {
				t.Errorf("stderr does not say loading was interrupted:\n%s", errOut)
			}
		})
	}
}

func TestRepeatFlagIsBounded(t *testing.T) {
	code, _, stderr := inProcess(t, "run", "--repeat", "3000000000", "examples/quickstart.yaml")
	if code != exitUsage || !strings.Contains(stderr, "--repeat must be from 1 to 10000") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
