// Package term decides, in one place, what the process may do with its
// standard streams: whether they are terminals, whether progress may be drawn,
// whether colour is wanted and how wide the screen is. Commands ask a Streams
// value instead of probing file descriptors, so tests can force every answer.
package term

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	xterm "golang.org/x/term"
)

// DefaultWidth is the width assumed when the output is not a terminal or its
// size cannot be read.
const DefaultWidth = 80

// Streams is the process's standard input, output and error plus what is
// known about them. The zero value is not usable; build one with System or
// Test. A Streams may be shared between goroutines.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	mu      sync.Mutex
	inTTY   bool
	outTTY  bool
	errTTY  bool
	ci      bool
	dumb    bool // TERM=dumb: a terminal that cannot move the cursor
	noColor bool // NO_COLOR is set (https://no-color.org)
	width   int  // forced by SetWidth; 0 means ask the terminal
	// sized are the files whose terminal size Width may read, stdout first.
	sized []*os.File
}

// System returns the streams of this process. Terminal detection uses the
// file descriptors of os.Stdin, os.Stdout and os.Stderr; CI, TERM and
// NO_COLOR come from the environment.
func System() *Streams {
	s := &Streams{
		In:      os.Stdin,
		Out:     os.Stdout,
		Err:     os.Stderr,
		inTTY:   isTerminal(os.Stdin),
		outTTY:  isTerminal(os.Stdout),
		errTTY:  isTerminal(os.Stderr),
		ci:      truthy(os.Getenv("CI")),
		dumb:    os.Getenv("TERM") == "dumb",
		noColor: os.Getenv("NO_COLOR") != "",
	}
	if s.outTTY {
		s.sized = append(s.sized, os.Stdout)
	}
	if s.errTTY {
		s.sized = append(s.sized, os.Stderr)
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 && len(s.sized) == 0 {
		s.width = n
	}
	return s
}

// Test returns streams over in-memory buffers: empty input, and the buffers
// that collect standard output and standard error. Nothing is a terminal and
// the environment is ignored until the test says otherwise.
func Test() (*Streams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: &bytes.Buffer{}, Out: out, Err: errOut}, out, errOut
}

// Wrap returns streams that write through wrap(Out) and wrap(Err) and are
// otherwise the same: what is a terminal, CI, colour and width are read from
// s. This is how every line a command prints passes one filter, such as the
// one that hides secrets. When a wrapped writer holds output back, Flush
// writes it.
func (s *Streams) Wrap(wrap func(io.Writer) io.Writer) *Streams {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Streams{
		In: s.In, Out: wrap(s.Out), Err: wrap(s.Err),
		inTTY: s.inTTY, outTTY: s.outTTY, errTTY: s.errTTY,
		ci: s.ci, dumb: s.dumb, noColor: s.noColor, width: s.width, sized: s.sized,
	}
}

// flusher is a writer that may hold output back until it is flushed.
type flusher interface{ Flush() error }

// Flush writes what Out and Err hold back, if they are writers that do
// (Wrap's), and returns the first error.
func (s *Streams) Flush() error {
	var first error
	for _, w := range []io.Writer{s.Out, s.Err} {
		if f, ok := w.(flusher); ok {
			if err := f.Flush(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// SetTTY forces whether input, output and error count as terminals.
func (s *Streams) SetTTY(tty bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inTTY, s.outTTY, s.errTTY = tty, tty, tty
}

// SetCI forces whether the process runs under continuous integration.
func (s *Streams) SetCI(ci bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ci = ci
}

// SetWidth forces the width Width reports; 0 goes back to asking the
// terminal.
func (s *Streams) SetWidth(width int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.width = max(width, 0)
}

// IsStdinTTY reports whether input is a terminal.
func (s *Streams) IsStdinTTY() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inTTY
}

// IsStdoutTTY reports whether output is a terminal.
func (s *Streams) IsStdoutTTY() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outTTY
}

// IsStderrTTY reports whether standard error is a terminal.
func (s *Streams) IsStderrTTY() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errTTY
}

// IsCI reports whether the process runs under continuous integration (the
// CI environment variable is set to anything but "", "0" or "false").
func (s *Streams) IsCI() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ci
}

// CanDraw reports whether animated output such as progress bars may be
// written to standard error: it must be a terminal that can move the cursor,
// and not a CI log, where every redraw would become another line.
func (s *Streams) CanDraw() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errTTY && !s.ci && !s.dumb
}

// ColorEnabled reports whether ANSI colours may be written to standard
// output: it is a terminal, not a dumb one, and NO_COLOR is unset.
func (s *Streams) ColorEnabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outTTY && !s.dumb && !s.noColor
}

// Width returns the width of the terminal in columns: the forced width if
// any, else the size of output (or error) when it is a terminal, else
// DefaultWidth. It is read on every call, so it follows a resized window.
func (s *Streams) Width() int {
	s.mu.Lock()
	width, sized := s.width, s.sized
	s.mu.Unlock()
	if width > 0 {
		return width
	}
	for _, f := range sized {
		if w, _, err := xterm.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return DefaultWidth
}

func isTerminal(f *os.File) bool {
	return f != nil && xterm.IsTerminal(int(f.Fd()))
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}
