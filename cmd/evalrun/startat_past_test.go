package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/internal/testtool"
)

// A planned start more than a day ago is a mistyped date or zone, not a
// late pod: refused with exit 2, before anything is sent or written. One
// just within the day still starts at once, late, and says so.
func TestStartAtLongPastIsRefused(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 3, 200_000_000, time.UTC)
	for _, at := range []string{"2020-12-01T10:00:00Z", "2026-11-30T10:00:03Z"} {
		clk := testtool.NewClock(now)
		lo, js := startAtFlags(t, at, clk)
		s, _, errOut := term.Test()
		code, err := lo.run(context.Background(), s)
		if code != exitUsage || err == nil || !strings.Contains(err.Error(), "--start-at \""+at+"\"") || !strings.Contains(err.Error(), "want at most 24h0m0s ago") {
			t.Errorf("--start-at %s: exit %d, %v; want %d saying at most 24h0m0s ago\n%s", at, code, err, exitUsage, errOut)
		}
		if _, err := os.Stat(js); err == nil {
			t.Errorf("--start-at %s: a refused run wrote its record", at)
		}
	}

	clk := testtool.NewClock(now)
	lo, js := startAtFlags(t, "2026-11-30T10:00:04Z", clk)
	s, _, errOut := term.Test()
	if code, err := lo.run(context.Background(), s); err != nil || code != exitOK {
		t.Fatalf("a start 23h59m59s ago: exit %d, %v\n%s", code, err, errOut)
	}
	if !strings.Contains(errOut.String(), "evalrun: started 23h59m59.2s after --start-at 2026-11-30T10:00:04Z") {
		t.Errorf("a start 23h59m59s ago: stderr does not say how late:\n%s", errOut)
	}
	if tt := readFullRun(t, js).Test; tt.LateMS != (24*time.Hour-800*time.Millisecond).Seconds()*1000 {
		t.Errorf("test %+v; want it late by 23h59m59.2s", tt)
	}
}
