package main

import (
	"context"
	"github.com/evalrun/evalrun/internal/testtool"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
)

// startAtFlags is a short load of the simulator suite with --start-at.
func startAtFlags(t *testing.T, startAt string, clk *testtool.Clock) (*loadFlags, string) {
	js := filepath.Join(t.TempDir(), "r.json")
	return &loadFlags{
		set: map[string]bool{"rate": true, "duration": true, "grace": true}, rate: 30, duration: 100 * time.Millisecond, grace: 5 * time.Second,
		noProgress: true, paths: []string{writeSuite(t, loadSuite)}, startAt: startAt, clock: clk, shard: "1/3",
		reports: reportFlags{json: js},
	}, js
}

// A shard with --start-at says it waits, waits on the clock without
// sending, starts at the planned time, and records it.
func TestStartAtWaitsThenRecords(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clk := testtool.NewClock(now)
	lo, js := startAtFlags(t, "+30s", clk)
	s, _, errOut := term.Test()
	type exit struct {
		code int
		err  error
	}
	done := make(chan exit, 1)
	go func() {
		code, err := lo.run(context.Background(), s)
		done <- exit{code, err}
	}()
	if d := <-clk.Waits; d != 30*time.Second {
		t.Errorf("waited %s, want 30s", d)
	}
	planned := now.Add(30 * time.Second)
	clk.Set(planned)
	clk.Fire <- planned
	if e := <-done; e.err != nil || e.code != exitOK {
		t.Fatalf("exit %d, %v\n%s", e.code, e.err, errOut)
	}
	if want := "evalrun: waiting for --start-at 2026-12-01T10:00:30Z (in 30s)"; !strings.Contains(errOut.String(), want) || strings.Contains(errOut.String(), "after --start-at") {
		t.Errorf("stderr lacks %q, or says it started late:\n%s", want, errOut)
	}
	r := readFullRun(t, js)
	tt := r.Test
	if tt.PlannedStart == nil || !tt.PlannedStart.Equal(planned) || !tt.Start.Equal(planned) || tt.LateMS != 0 || !strings.HasSuffix(tt.ID, "-20261201t100030") {
		t.Errorf("test %+v; want planned and started at %v, an id that ends with it", tt, planned)
	}
}

// A shard started after --start-at begins at once and says how late, on
// stderr and in its record.
func TestStartAtPassedSaysLate(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 3, 200_000_000, time.UTC)
	clk := testtool.NewClock(now)
	lo, js := startAtFlags(t, "2026-12-01T10:00:00Z", clk)
	s, _, errOut := term.Test()
	if code, err := lo.run(context.Background(), s); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s", code, err, errOut)
	}
	if len(clk.Waits) != 0 {
		t.Error("it waited for a start already past")
	}
	if want := "evalrun: started 3.2s after --start-at 2026-12-01T10:00:00Z"; !strings.Contains(errOut.String(), want) || strings.Contains(errOut.String(), "waiting for") {
		t.Errorf("stderr lacks %q, or says it waits:\n%s", want, errOut)
	}
	if tt := readFullRun(t, js).Test; tt.LateMS != 3200 || !strings.HasSuffix(tt.ID, "-20261201t100000") {
		t.Errorf("test %+v; want 3200ms late", tt)
	}
}

// SIGTERM during the wait: nothing sent, no record, the signal's exit code.
func TestStartAtWaitStopped(t *testing.T) {
	clk := testtool.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	lo, js := startAtFlags(t, "+1m", clk)
	ctx, stop := context.WithCancelCause(context.Background())
	s, _, errOut := term.Test()
	type exit struct {
		code int
		err  error
	}
	done := make(chan exit, 1)
	go func() {
		code, err := lo.run(ctx, s)
		done <- exit{code, err}
	}()
	<-clk.Waits
	stop(&signalError{syscall.SIGTERM})
	e := <-done
	if e.err != nil || e.code != 143 || !strings.Contains(errOut.String(), "stopped while waiting for --start-at: nothing was sent and no record written") {
		t.Errorf("exit %d, %v; want 143 and why\n%s", e.code, e.err, errOut)
	}
	// Nothing at all beside the record's path: no record, no temporary file.
	if es, err := os.ReadDir(filepath.Dir(js)); err != nil || len(es) != 0 {
		t.Errorf("files left where the record would be: %v, %v", es, err)
	}
}
