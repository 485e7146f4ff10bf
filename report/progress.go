package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/results"
)

// Progress follows a run while conversations finish.
type Progress interface {
	// Done records that c has its verdict. It is safe to call from many
	// goroutines at once; calls after Wait are ignored.
	Done(c *results.Conversation)
	// Wait finishes the display, whether or not every conversation was
	// reported (an interrupted run stops early), and returns once nothing
	// more will be written. Calling it again does nothing.
	Wait()
}

var (
	_ Progress = nopProgress{}
	_ Progress = (*lineProgress)(nil)
	_ Progress = (*barProgress)(nil)
)

// NewProgress returns the progress display for a run of total conversations,
// written to s.Err: nothing when disabled; a progress bar when s may draw
// (standard error is a terminal and this is not CI), with a line above it for
// each conversation that did not pass; otherwise a plain line per finished
// conversation, which reads well in CI logs.
func NewProgress(s *term.Streams, total int, disabled bool) Progress {
	switch {
	case disabled || s == nil || s.Err == nil:
		return nopProgress{}
	case s.CanDraw():
		return newBarProgress(s, total)
	}
	return &lineProgress{w: s.Err, total: total}
}

type nopProgress struct{}

func (nopProgress) Done(*results.Conversation) {}
func (nopProgress) Wait()                      {}

// lineProgress writes "[ 3/12] PASSED  suite / name (3 turns, 1.2s)" per
// conversation.
type lineProgress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	done  int
	ended bool
}

func (p *lineProgress) Done(c *results.Conversation) {
	if c == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.done++
	var prefix string
	if p.total > 0 {
		digits := len(strconv.Itoa(p.total))
		prefix = fmt.Sprintf("[%*d/%d] ", digits, p.done, p.total)
	}
	// Progress is advisory: a closed stderr must not stop the run.
	_, _ = io.WriteString(p.w, prefix+progressLine(c)+"\n")
}

func (p *lineProgress) Wait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
}

// barProgress draws one mpb bar for the whole run.
type barProgress struct {
	mu    sync.Mutex
	p     *mpb.Progress
	bar   *mpb.Bar
	total int
	done  int
	ended bool

	failed, errored, flaky atomic.Int64
}

func newBarProgress(s *term.Streams, total int) *barProgress {
	bp := &barProgress{total: total}
	// Auto refresh, because the decision to draw was made by Streams; mpb's
	// own terminal probe would disagree with a Streams forced in tests.
	bp.p = mpb.New(mpb.WithOutput(lineStart{s.Err}), mpb.WithAutoRefresh(), mpb.WithWidth(s.Width()))
	bp.bar = bp.p.AddBar(int64(total),
		mpb.PrependDecorators(
			decor.Name("conversations "),
			decor.CountersNoUnit("%d/%d", decor.WCSyncWidth),
		),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return bp.tally() }),
			decor.Elapsed(decor.ET_STYLE_MMSS, decor.WC{W: 6}),
		),
	)
	return bp
}

// tally is " 2 failed, 1 errored" for the verdicts worth noticing.
func (bp *barProgress) tally() string {
	var parts []string
	for _, c := range []struct {
		n    int64
		name string
	}{{bp.failed.Load(), "failed"}, {bp.errored.Load(), "errored"}, {bp.flaky.Load(), "flaky"}} {
		if c.n > 0 {
			parts = append(parts, strconv.FormatInt(c.n, 10)+" "+c.name)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, ", ")
}

func (bp *barProgress) Done(c *results.Conversation) {
	if c == nil {
		return
	}
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.ended {
		return
	}
	if c.Status == results.Unfinished {
		// The run was stopped and reports what it never finished: the
		// bar stays where the run was, and Wait leaves it aborted there.
		return
	}
	bp.done++
	switch c.Status {
	case results.Failed:
		bp.failed.Add(1)
	case results.Errored:
		bp.errored.Add(1)
	case results.Flaky:
		bp.flaky.Add(1)
	}
	switch c.Status {
	case results.Failed, results.Errored, results.Flaky:
		// Printed above the bar, so problems show up before the run ends.
		_, _ = io.WriteString(bp.p, progressLine(c)+"\n")
	}
	if bp.done <= bp.total {
		bp.bar.Increment()
	}
}

func (bp *barProgress) Wait() {
	bp.mu.Lock()
	if bp.ended {
		bp.mu.Unlock()
		return
	}
	bp.ended = true
	if bp.done < bp.total || bp.total <= 0 {
		// An interrupted run reports fewer conversations than it planned;
		// the bar would otherwise wait for them forever. Abort leaves it
		// drawn where it stopped.
		bp.bar.Abort(false)
	}
	bp.mu.Unlock()
	bp.p.Wait()
}

// lineStart makes every write to a terminal begin at the start of a line.
// mpb redraws by moving the cursor up from where it left it, at column 0;
// the terminal's own "^C" echo of Ctrl-C moves it to column 2, so the next
// frame would start two columns in, keep the old frame's first letters,
// wrap, and leave the bar drawn twice. mpb writes each frame in one call,
// cursor movement first, so a carriage return before it is enough.
type lineStart struct{ w io.Writer }

func (l lineStart) Write(p []byte) (int, error) {
	buf := make([]byte, 0, len(p)+1)
	buf = append(append(buf, '\r'), p...)
	n, err := l.w.Write(buf)
	return max(n-1, 0), err
}

// progressLine is "FAILED  suite / name (3 turns, 1.2s; turn 2: contains)".
func progressLine(c *results.Conversation) string {
	var details []string
	if c.Runs > 1 {
		details = append(details, runsLabel(c)+" runs")
	}
	if c.Status != results.Skipped && len(c.Turns) > 0 {
		details = append(details, plural(len(c.Turns), "turn"), formatMS(c.DurationMS))
	}
	var why string
	switch c.Status {
	case results.Failed, results.Flaky:
		if f := c.Failures(); len(f) > 0 {
			why = f[0].Where() + ": " + f[0].Check
		}
	case results.Errored:
		why = c.Reason
		for _, f := range c.Failures() {
			if f.Check == "error" {
				why = f.Where() + ": " + f.Message
				break
			}
		}
	case results.Skipped, results.Unfinished:
		why = c.Reason
	}
	text := fmt.Sprintf("%-7s %s / %s", verdictLabel(c.Status), oneLine(c.Suite), oneLine(c.Name))
	if why != "" {
		details = append(details, truncate(oneLine(why), 120))
	}
	if len(details) > 0 {
		text += " (" + strings.Join(details, ", ") + ")"
	}
	return text
}
