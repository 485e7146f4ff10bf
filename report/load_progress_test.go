package report

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// waitLoadOrFail fails the test when Wait blocks.
func waitLoadOrFail(t *testing.T, p LoadProgress) {
	t.Helper()
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return")
	}
}

// snapshotAt is a run of a 50/s open model at second sec of 60.
func snapshotAt(sec int) LoadSnapshot {
	return LoadSnapshot{
		Elapsed: time.Duration(sec) * time.Second, Duration: time.Minute,
		TargetRate: 50, AchievedRate: 49.8,
		InFlight: 37, Started: sec * 50, Dropped: sec / 20,
		Errors: int64(sec / 10), P95: 812 * time.Millisecond,
	}
}

func TestLoadProgressPlainLinesAreThrottled(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC)}
	s, out, errOut := term.Test()
	p := newLineLoadProgress(s.Err, time.Minute, 5*time.Second, clock.now)
	// An update a second, as the command sends them, for 12 seconds, then
	// the end of the run a little later.
	for sec := 1; sec <= 12; sec++ {
		clock.advance(time.Second)
		p.Update(snapshotAt(sec))
	}
	clock.advance(500 * time.Millisecond)
	p.Update(LoadSnapshot{Elapsed: 63 * time.Second, Duration: time.Minute, AchievedRate: 49.9, TargetRate: 0, Started: 2991, Dropped: 3, Errors: 7, P95: 1830 * time.Millisecond})
	waitLoadOrFail(t, p)
	p.Update(snapshotAt(70)) // after Wait: ignored
	waitLoadOrFail(t, p)     // again: nothing more

	want := strings.Join([]string{
		"load 5s/60s  rate 49.8/50.0/s  started 250  in flight 37  errors 0  p95 812ms  dropped 0",
		"load 10s/60s  rate 49.8/50.0/s  started 500  in flight 37  errors 1  p95 812ms  dropped 0",
		"load 60s/60s +3s grace  rate 49.9/s  started 2991  in flight 0  errors 7  p95 1.8s  dropped 3",
	}, "\n") + "\n"
	if got := errOut.String(); got != want {
		t.Errorf("status lines:\n%s\nwant:\n%s", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("progress wrote to standard output: %q", out)
	}
}

func TestLoadProgressPlainFinalLine(t *testing.T) {
	tests := []struct {
		name    string
		updates []int // seconds at which an update arrives, one a second
		want    string
	}{
		{name: "no update", want: ""},
		{name: "short run", updates: []int{1, 2}, want: "load 2s/60s  rate 49.8/50.0/s  started 100  in flight 37  errors 0  p95 812ms  dropped 0\n"},
		{
			name:    "last update already written",
			updates: []int{1, 2, 3, 4, 5},
			want:    "load 5s/60s  rate 49.8/50.0/s  started 250  in flight 37  errors 0  p95 812ms  dropped 0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{}
			s, _, errOut := term.Test()
			p := newLineLoadProgress(s.Err, time.Minute, 5*time.Second, clock.now)
			for _, sec := range tt.updates {
				clock.advance(time.Second)
				p.Update(snapshotAt(sec))
			}
			waitLoadOrFail(t, p)
			if got := errOut.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadClock(t *testing.T) {
	tests := []struct {
		name     string
		s        LoadSnapshot
		duration time.Duration
		want     string
	}{
		{"from the snapshot", LoadSnapshot{Elapsed: 12_400 * time.Millisecond, Duration: time.Minute}, 0, "12s/60s"},
		{"from the constructor", LoadSnapshot{Elapsed: 12 * time.Second}, time.Minute, "12s/60s"},
		{"long run", LoadSnapshot{Elapsed: 312 * time.Second, Duration: 10 * time.Minute}, 0, "5m12s/10m0s"},
		{"grace", LoadSnapshot{Elapsed: 65 * time.Second, Duration: time.Minute}, 0, "60s/60s +5s grace"},
		{"no duration", LoadSnapshot{Elapsed: 3 * time.Second}, 0, "3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadClock(tt.s, tt.duration); got != tt.want {
				t.Errorf("loadClock = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadProgressDisabled(t *testing.T) {
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			s, out, errOut := term.Test()
			s.SetTTY(tty)
			p := NewLoadProgress(s, time.Minute, true)
			for sec := range 70 {
				p.Update(snapshotAt(sec))
			}
			waitLoadOrFail(t, p)
			if out.Len()+errOut.Len() != 0 {
				t.Errorf("disabled progress wrote %q and %q", out, errOut)
			}
		})
	}
}

func TestLoadProgressChoosesBarsOnlyWhereItMayDraw(t *testing.T) {
	tests := []struct {
		name     string
		tty, ci  bool
		disabled bool
		want     string
	}{
		{name: "terminal", tty: true, want: "*report.barLoadProgress"},
		{name: "terminal in CI", tty: true, ci: true, want: "*report.lineLoadProgress"},
		{name: "pipe", want: "*report.lineLoadProgress"},
		{name: "disabled terminal", tty: true, disabled: true, want: "report.nopLoadProgress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := term.Test()
			s.SetTTY(tt.tty)
			s.SetCI(tt.ci)
			p := NewLoadProgress(s, time.Minute, tt.disabled)
			defer waitLoadOrFail(t, p)
			if got := fmt.Sprintf("%T", p); got != tt.want {
				t.Errorf("NewLoadProgress = %s, want %s", got, tt.want)
			}
		})
	}
}

// concurrentUpdates sends n snapshots from n goroutines at once.
func concurrentUpdates(p LoadProgress, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Update(snapshotAt(i % 61))
		}()
	}
	wg.Wait()
}

func TestLoadProgressConcurrentUpdate(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		clock := &fakeClock{}
		s, _, errOut := term.Test()
		p := newLineLoadProgress(s.Err, time.Minute, 5*time.Second, clock.now)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				clock.advance(time.Second)
			}
		}()
		concurrentUpdates(p, 200)
		wg.Wait()
		waitLoadOrFail(t, p)
		lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
		// At most one line per five seconds of the twenty, and the last.
		if len(lines) == 0 || len(lines) > 5 {
			t.Errorf("%d lines for 20s of updates:\n%s", len(lines), errOut)
		}
		for _, line := range lines {
			if !strings.HasPrefix(line, "load ") || strings.Count(line, "dropped ") != 1 {
				t.Errorf("interleaved or malformed line %q", line)
			}
		}
	})

	t.Run("bars", func(t *testing.T) {
		s, _, _ := term.Test()
		s.SetTTY(true)
		p := NewLoadProgress(s, time.Minute, false)
		concurrentUpdates(p, 200)
		waitLoadOrFail(t, p)
		p.Update(snapshotAt(5)) // after Wait: ignored
	})
}

func TestLoadProgressBars(t *testing.T) {
	t.Run("to the end", func(t *testing.T) {
		s, out, errOut := term.Test()
		s.SetTTY(true)
		s.SetWidth(100)
		p := NewLoadProgress(s, time.Minute, false)
		for sec := 0; sec <= 63; sec++ {
			p.Update(snapshotAt(sec))
		}
		waitLoadOrFail(t, p)
		got := errOut.String()
		for _, want := range []string{"load", "60s/60s +3s grace", "100 %", "rate 49.8/50.0/s", "in flight 37", "errors 6", "p95 812ms", "dropped 3"} {
			if !strings.Contains(got, want) {
				t.Errorf("bar output lacks %q:\n%q", want, got)
			}
		}
		if out.Len() != 0 {
			t.Errorf("progress wrote to standard output: %q", out)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		s, _, errOut := term.Test()
		s.SetTTY(true)
		p := NewLoadProgress(s, time.Minute, false)
		p.Update(snapshotAt(15))
		waitLoadOrFail(t, p) // must not wait for the 45 seconds never run
		if !strings.Contains(errOut.String(), "15s/60s") {
			t.Errorf("bar does not show where it stopped:\n%q", errOut)
		}
	})

	t.Run("no update", func(t *testing.T) {
		s, _, _ := term.Test()
		s.SetTTY(true)
		waitLoadOrFail(t, NewLoadProgress(s, 0, false))
	})
}
