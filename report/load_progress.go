package report

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/evalrun/evalrun/internal/term"
)

// LoadSnapshot is where a load run stands: what the status line and the
// progress bars show. The command fills it from the engine's own snapshot.
type LoadSnapshot struct {
	Elapsed, Duration time.Duration // since the start; the planned duration, without grace
	// TargetRate is the arrival rate the schedule asks for now (0 in the
	// closed model); AchievedRate, conversations begun per second.
	TargetRate, AchievedRate   float64
	InFlight, Started, Dropped int
	Errors                     int64         // turns that failed so far
	P95                        time.Duration // turn latency p95 so far; 0 before the first turn
}

// LoadProgress follows a load run while it runs.
type LoadProgress interface {
	// Update shows s. It is safe to call from many goroutines at once;
	// calls after Wait are ignored.
	Update(s LoadSnapshot)
	// Wait finishes the display and returns once nothing more will be
	// written. Calling it again does nothing.
	Wait()
}

var (
	_ LoadProgress = nopLoadProgress{}
	_ LoadProgress = (*lineLoadProgress)(nil)
	_ LoadProgress = (*barLoadProgress)(nil)
)

// loadStatusEvery is how often, at most, the plain status line is written:
// often enough to show a CI log is alive, rarely enough to stay readable.
const loadStatusEvery = 5 * time.Second

// NewLoadProgress returns the display for a load run of the given duration,
// written to s.Err: nothing when disabled; when s may draw, a bar of elapsed
// time over duration with a line of figures under it; otherwise a plain
// status line at most every five seconds and a last one at Wait, such as
//
//	load 12s/60s  rate 49.8/50.0/s  started 597  in flight 37  errors 0  p95 812ms  dropped 0
func NewLoadProgress(s *term.Streams, duration time.Duration, disabled bool) LoadProgress {
	switch {
	case disabled || s == nil || s.Err == nil:
		return nopLoadProgress{}
	case s.CanDraw():
		return newBarLoadProgress(s, duration)
	}
	return newLineLoadProgress(s.Err, duration, loadStatusEvery, time.Now)
}

type nopLoadProgress struct{}

func (nopLoadProgress) Update(LoadSnapshot) {}
func (nopLoadProgress) Wait()               {}

// lineLoadProgress writes the status line when at least every has passed
// since the last one, by the clock now.
type lineLoadProgress struct {
	mu       sync.Mutex
	w        io.Writer
	duration time.Duration
	every    time.Duration
	now      func() time.Time
	last     time.Time // when the last line was written, or the display began
	snap     LoadSnapshot
	pending  bool // snap has not been written
	ended    bool
}

func newLineLoadProgress(w io.Writer, duration, every time.Duration, now func() time.Time) *lineLoadProgress {
	return &lineLoadProgress{w: w, duration: duration, every: every, now: now, last: now()}
}

func (p *lineLoadProgress) Update(s LoadSnapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.snap, p.pending = s, true
	if now := p.now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.write()
	}
}

func (p *lineLoadProgress) Wait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = true
	if p.pending {
		p.write()
	}
}

func (p *lineLoadProgress) write() {
	p.pending = false
	// Progress is advisory: a closed stderr must not stop the run.
	_, _ = io.WriteString(p.w, "load "+loadClock(p.snap, p.duration)+"  "+loadFigures(p.snap)+"\n")
}

// barLoadProgress draws a bar of elapsed time and, under it, a line of
// figures.
type barLoadProgress struct {
	mu       sync.Mutex
	p        *mpb.Progress
	bar      *mpb.Bar // elapsed over duration
	figures  *mpb.Bar // no bar, only the figures
	duration time.Duration
	total    int64 // the bar's total, in milliseconds
	current  int64
	ended    bool

	snap atomic.Pointer[LoadSnapshot] // read by the decorators as mpb draws
}

func newBarLoadProgress(s *term.Streams, duration time.Duration) *barLoadProgress {
	bp := &barLoadProgress{duration: duration}
	bp.snap.Store(&LoadSnapshot{Duration: duration})
	// Auto refresh, because the decision to draw was made by Streams; mpb's
	// own terminal probe would disagree with a Streams forced in tests.
	// lineStart: the "^C" echo must not shift the redraw (see progress.go).
	bp.p = mpb.New(mpb.WithOutput(lineStart{s.Err}), mpb.WithAutoRefresh(), mpb.WithWidth(s.Width()))
	// Built with no total, so reaching the planned duration does not end
	// the bar: conversations in flight still finish in the grace period.
	bp.bar = bp.p.AddBar(0,
		mpb.PrependDecorators(
			decor.Name("load "),
			decor.Any(func(decor.Statistics) string { return loadClock(*bp.snap.Load(), bp.duration) }, decor.WCSyncWidthR),
		),
		mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5})),
	)
	bp.figures = bp.p.New(0, mpb.NopStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return loadFigures(*bp.snap.Load()) })),
	)
	bp.setTotal(duration)
	return bp
}

func (bp *barLoadProgress) setTotal(d time.Duration) {
	if total := d.Milliseconds(); total > 0 && total != bp.total {
		bp.total = total
		bp.bar.SetTotal(total, false)
	}
}

func (bp *barLoadProgress) Update(s LoadSnapshot) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.ended {
		return
	}
	bp.snap.Store(&s)
	if s.Duration > 0 {
		bp.setTotal(s.Duration)
	}
	bp.current = min(s.Elapsed.Milliseconds(), bp.total)
	bp.bar.SetCurrent(bp.current)
}

func (bp *barLoadProgress) Wait() {
	bp.mu.Lock()
	if bp.ended {
		bp.mu.Unlock()
		return
	}
	bp.ended = true
	if bp.total > 0 && bp.current >= bp.total {
		bp.bar.SetTotal(-1, true)
	} else {
		// Stopped before the planned duration (interrupted, or a threshold
		// aborted it): leave the bar drawn where it stopped.
		bp.bar.Abort(false)
	}
	bp.figures.SetTotal(-1, true)
	bp.mu.Unlock()
	bp.p.Wait()
}

// loadClock is "12s/60s", and "60s/60s +4s grace" once the planned duration
// is over and conversations in flight are finishing.
func loadClock(s LoadSnapshot, duration time.Duration) string {
	if s.Duration > 0 {
		duration = s.Duration
	}
	if duration <= 0 {
		return formatClock(s.Elapsed)
	}
	if s.Elapsed > duration {
		return formatClock(duration) + "/" + formatClock(duration) + " +" + formatClock(s.Elapsed-duration) + " grace"
	}
	return formatClock(s.Elapsed) + "/" + formatClock(duration)
}

// loadFigures is "rate 49.8/50.0/s  started 597  in flight 37  errors 0
// p95 812ms  dropped 0": achieved over target rate, or only the achieved
// rate in the closed model.
func loadFigures(s LoadSnapshot) string {
	rate := strconv.FormatFloat(s.AchievedRate, 'f', 1, 64)
	if s.TargetRate > 0 {
		rate += "/" + strconv.FormatFloat(s.TargetRate, 'f', 1, 64)
	}
	p95 := "-"
	if s.P95 > 0 {
		p95 = formatMS(float64(s.P95) / float64(time.Millisecond))
	}
	return strings.Join([]string{
		"rate " + rate + "/s",
		"started " + strconv.Itoa(s.Started),
		"in flight " + strconv.Itoa(s.InFlight),
		"errors " + strconv.FormatInt(s.Errors, 10),
		"p95 " + p95,
		"dropped " + strconv.Itoa(s.Dropped),
	}, "  ")
}

// formatClock is whole seconds, "12s", up to 99s, then "1m40s".
func formatClock(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	if d < 100*time.Second {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
