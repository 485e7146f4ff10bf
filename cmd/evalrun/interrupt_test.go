package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/evalrun/evalrun/internal/term"
)

const passingSuite = `name: ok
provider: {type: opencx, base_url: sim}
conversations:
  - name: greets
    turns:
      - user: Hello!
        expect: {contains: demo assistant}
`

// A merge that takes in a shard stopped early cannot pass its gate: the
// test did not run as planned, whatever its thresholds say, and the JUnit
// already shows the interruption as an error.
func TestMergeOfAnInterruptedShardFails(t *testing.T) {
	suite := writeSuite(t, passingSuite)
	dir := t.TempDir()
	rec := filepath.Join(dir, "shard.json")
	if code, _, stderr := inProcess(t, "load", "--no-progress", "--vus", "1", "--duration", "1s", "--threshold", "error_rate<0.5", "--json", rec, suite); code != exitOK {
		t.Fatalf("load: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := inProcess(t, "merge", "--json", filepath.Join(dir, "whole.json"), rec); code != exitOK {
		t.Fatalf("merge of a complete shard: exit %d\n%s", code, stderr)
	}
	raw, _ := os.ReadFile(rec)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["interrupted"] = "interrupted (SIGINT)"
	raw, _ = json.Marshal(m)
	cut := filepath.Join(dir, "cut.json")
	os.WriteFile(cut, raw, 0o644)
	if code, _, stderr := inProcess(t, "merge", "--json", filepath.Join(dir, "merged.json"), cut); code != exitFailed {
		t.Errorf("merge of an interrupted shard: exit %d, want 1\n%s", code, stderr)
	}
}

// A signal that arrives once every conversation has ended cut nothing
// short: the exit code is the verdicts', as the reports say, not 130.
func TestSignalAfterTheRunEndedKeepsTheVerdict(t *testing.T) {
	suite := writeSuite(t, passingSuite)
	ctx, stop := context.WithCancelCause(context.Background())
	streams, _, errOut := term.Test()
	// The signal lands as the last conversation's progress line is
	// written: it has ended, and Run has not yet returned.
	w := &cancelOnWrite{w: streams.Err, stop: func() { stop(&signalError{syscall.SIGINT}) }, after: "ok / greets"}
	streams.Err = w
	code := Main(ctx, []string{"run", suite}, streams)
	if !w.fired {
		t.Skipf("the progress line this test waits for was not printed:\n%s", errOut)
	}
	if code != exitOK {
		t.Errorf("exit %d, want 0: the run had ended\n%s", code, errOut)
	}
}

// cancelOnWrite calls stop at the first write to it that contains after.
type cancelOnWrite struct {
	w     io.Writer
	stop  func()
	after string
	fired bool
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	if !c.fired && strings.Contains(string(p), c.after) {
		c.fired = true
		c.stop()
	}
	return c.w.Write(p)
}
