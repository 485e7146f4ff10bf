package report

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/results"
)

// waitOrFail fails the test when Wait blocks: a progress display that hangs
// would hang the whole run.
func waitOrFail(t *testing.T, p Progress) {
	t.Helper()
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return")
	}
}

func TestProgressPlainLines(t *testing.T) {
	s, out, errOut := term.Test()
	convs := fixtureRun().Conversations
	p := NewProgress(s, len(convs), false)
	if _, ok := p.(*lineProgress); !ok {
		t.Fatalf("off a terminal NewProgress returned %T, want plain lines", p)
	}
	for _, c := range convs {
		p.Done(c)
	}
	waitOrFail(t, p)
	p.Done(convs[0]) // after Wait: ignored

	want := strings.Join([]string{
		"[1/9] PASSED  refunds / simple refund (2 turns, 1.7s)",
		"[2/9] FAILED  refunds / refund with ticket follow-up (2 turns, 4.2s, turn 2: contains)",
		"[3/9] FLAKY   refunds / angry customer is handed off (17/20 runs, 2 turns, 3.0s, turn 1: handoff)",
		"[4/9] FAILED  refunds / refund policy (2/5 runs, 1 turn, 610ms, turn 1: knowledge)",
		`[5/9] ERRORED billing & <support> / invoice <copy> & "quotes" (2 turns, 31.0s, turn 2: toolzz: send-message: 503 Service Unavailable: {"error":"upstream <timeout>"})`,
		"[6/9] ERRORED billing & <support> / session never opened (conversation: opencx: create session: dial tcp 127.0.0.1:1: connect: connection refused)",
		"[7/9] SKIPPED billing & <support> / skipped for now (skip: waiting on BOT-12)",
		"[8/9] UNFINISHED billing & <support> / cut short by Ctrl-C (1 turn, 0ms, the run was interrupted during turn 2)",
		`[9/9] FAILED  billing & <support> / awkward replies — 日本語 ünïcödé 🎉\x1b[31m (3 turns, 5.1s, turn 1: equals)`,
	}, "\n") + "\n"
	if got := errOut.String(); got != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("progress wrote to standard output: %q", out)
	}
}

func TestProgressDisabled(t *testing.T) {
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			s, out, errOut := term.Test()
			s.SetTTY(tty)
			p := NewProgress(s, 3, true)
			for _, c := range fixtureRun().Conversations[:3] {
				p.Done(c)
			}
			waitOrFail(t, p)
			if out.Len()+errOut.Len() != 0 {
				t.Errorf("disabled progress wrote %q and %q", out, errOut)
			}
		})
	}
}

func TestProgressChoosesBarsOnlyWhereItMayDraw(t *testing.T) {
	tests := []struct {
		name     string
		tty, ci  bool
		disabled bool
		want     string
	}{
		{name: "terminal", tty: true, want: "*report.barProgress"},
		{name: "terminal in CI", tty: true, ci: true, want: "*report.lineProgress"},
		{name: "pipe", want: "*report.lineProgress"},
		{name: "disabled terminal", tty: true, disabled: true, want: "report.nopProgress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := term.Test()
			s.SetTTY(tt.tty)
			s.SetCI(tt.ci)
			p := NewProgress(s, 1, tt.disabled)
			defer waitOrFail(t, p)
			if got := fmt.Sprintf("%T", p); got != tt.want {
				t.Errorf("NewProgress = %s, want %s", got, tt.want)
			}
		})
	}
}

// concurrentDone reports n conversations from n goroutines at once.
func concurrentDone(p Progress, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := results.Passed
			if i%5 == 0 {
				status = results.Failed
			}
			p.Done(&results.Conversation{Suite: "load", Name: fmt.Sprintf("c%03d", i), Status: status, Runs: 1})
		}()
	}
	wg.Wait()
}

func TestProgressConcurrentDone(t *testing.T) {
	const n = 200
	s, _, errOut := term.Test()
	p := NewProgress(s, n, false)
	concurrentDone(p, n)
	waitOrFail(t, p)

	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines for %d conversations", len(lines), n)
	}
	seen := map[string]bool{}
	for i, line := range lines {
		// Counters are handed out in the order lines are written.
		if prefix := fmt.Sprintf("[%3d/%d] ", i+1, n); !strings.HasPrefix(line, prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, line, prefix)
		}
		seen[line[strings.Index(line, "load / "):]] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct conversations reported, want %d", len(seen), n)
	}
}

func TestProgressBars(t *testing.T) {
	t.Run("all done", func(t *testing.T) {
		const n = 50
		s, out, errOut := term.Test()
		s.SetTTY(true)
		p := NewProgress(s, n, false)
		concurrentDone(p, n)
		waitOrFail(t, p)
		p.Done(&results.Conversation{Status: results.Passed}) // after Wait: ignored
		got := errOut.String()
		if !strings.Contains(got, "conversations") || !strings.Contains(got, fmt.Sprintf("%d/%d", n, n)) {
			t.Errorf("bar output lacks the final count:\n%q", got)
		}
		if !strings.Contains(got, "FAILED  load / c000") {
			t.Errorf("failed conversation not printed above the bar:\n%q", got)
		}
		if out.Len() != 0 {
			t.Errorf("progress wrote to standard output: %q", out)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		s, _, errOut := term.Test()
		s.SetTTY(true)
		p := NewProgress(s, 10, false)
		concurrentDone(p, 3)
		waitOrFail(t, p) // must not wait for the 7 that never finished
		if !strings.Contains(errOut.String(), "3/10") {
			t.Errorf("bar does not show where it stopped:\n%q", errOut)
		}
	})

	t.Run("more than planned", func(t *testing.T) {
		s, _, _ := term.Test()
		s.SetTTY(true)
		p := NewProgress(s, 2, false)
		concurrentDone(p, 5)
		waitOrFail(t, p)
	})

	t.Run("nothing planned", func(t *testing.T) {
		s, _, _ := term.Test()
		s.SetTTY(true)
		p := NewProgress(s, 0, false)
		waitOrFail(t, p)
	})
}
