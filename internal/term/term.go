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

// DefaultWidth is the width assumed for a terminal whose size cannot be read,
// and for progress drawn where no size is known.
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
	ascii   bool // the locale is not UTF-8: write ASCII only
	width   int  // forced by SetWidth; 0 means ask the terminal
	columns int  // $COLUMNS, when it is a positive number
	// sized are the files whose terminal size Width may read, stdout first;
	// outFile and errFile are stdout and stderr when they are terminals.
	sized            []*os.File
	outFile, errFile *os.File
}

// System returns the streams of this process. Terminal detection uses the
// file descriptors of os.Stdin, os.Stdout and os.Stderr; the rest comes from
// the environment (see ReadEnv).
func System() *Streams {
	s := &Streams{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		inTTY:  isTerminal(os.Stdin),
		outTTY: isTerminal(os.Stdout),
		errTTY: isTerminal(os.Stderr),
	}
	if s.outTTY {
		s.outFile = os.Stdout
		s.sized = append(s.sized, os.Stdout)
	}
	if s.errTTY {
		s.errFile = os.Stderr
		s.sized = append(s.sized, os.Stderr)
	}
	s.ReadEnv(os.Getenv)
	return s
}

// Test returns streams over in-memory buffers: empty input, and the buffers
// that collect standard output and standard error. Nothing is a terminal,
// the locale counts as UTF-8, no width is known, and the environment is
// ignored until the test says otherwise (SetTTY, SetWidth, ReadEnv…).
func Test() (*Streams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: &bytes.Buffer{}, Out: out, Err: errOut}, out, errOut
}

// ReadEnv takes from the environment, as getenv reports it, everything the
// streams decide on besides which files are terminals:
//   - CI: continuous integration, where nothing is animated;
//   - TERM=dumb: a terminal that can neither move the cursor nor colour;
//   - NO_COLOR: any value but "" turns colour off (https://no-color.org);
//   - COLUMNS: the width, when the size cannot be read from a terminal;
//   - LC_ALL, LC_CTYPE, LANG: the first of them that is set is the locale,
//     and unless it names UTF-8 ("en_US.UTF-8", "C.utf8") only ASCII is
//     written; "C", "POSIX" or none at all mean ASCII.
//
// System calls it with os.Getenv; tests call it with a map's lookup.
func (s *Streams) ReadEnv(getenv func(string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ci = truthy(getenv("CI"))
	s.dumb = getenv("TERM") == "dumb"
	s.noColor = getenv("NO_COLOR") != ""
	s.columns = 0
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		s.columns = n
	}
	s.ascii = !utf8Locale(getenv)
}

// utf8Locale reports whether the locale's character set is UTF-8. The
// variables are read in the order POSIX gives them precedence, and the first
// one that is not empty decides alone: LC_ALL=C beats LANG=en_US.UTF-8.
func utf8Locale(getenv func(string) string) bool {
	for _, name := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(name); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
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
		ci: s.ci, dumb: s.dumb, noColor: s.noColor, ascii: s.ascii,
		width: s.width, columns: s.columns,
		sized: s.sized, outFile: s.outFile, errFile: s.errFile,
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

// SetUTF8 forces whether the locale counts as UTF-8; when it does not, only
// ASCII is written.
func (s *Streams) SetUTF8(utf8 bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ascii = !utf8
}

// SetNoColor forces whether colour was turned off, as NO_COLOR does.
func (s *Streams) SetNoColor(off bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noColor = off
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
func (s *Streams) ColorEnabled() bool { return s.OutDisplay().Color }

// Width returns the width of the terminal in columns, for progress drawn on
// it: the forced width if any, else the size of output (or error) when it is
// a terminal, else $COLUMNS, else DefaultWidth. It is read on every call, so
// it follows a resized window.
func (s *Streams) Width() int {
	s.mu.Lock()
	width, columns, sized := s.width, s.columns, s.sized
	s.mu.Unlock()
	if width > 0 {
		return width
	}
	for _, f := range sized {
		if w := sizeOf(f); w > 0 {
			return w
		}
	}
	if columns > 0 {
		return columns
	}
	return DefaultWidth
}

// Display is what text written to one stream may use.
type Display struct {
	Color bool // ANSI colours
	ASCII bool // ASCII only: no box drawing, no "…", "✓" or "✗"
	// Width is the number of columns a line may take; 0 means no limit.
	Width int
}

// OutDisplay is what may be written to standard output; see display.
func (s *Streams) OutDisplay() Display { return s.display(false) }

// ErrDisplay is what may be written to standard error; see display.
func (s *Streams) ErrDisplay() Display { return s.display(true) }

// display decides, for output or error: colour only on a terminal that is
// not dumb, and only without NO_COLOR; ASCII when the locale is not UTF-8;
// the width forced by SetWidth, else a terminal's size (or $COLUMNS, or
// DefaultWidth, when it cannot be read), else $COLUMNS. Text that goes to a
// file or a pipe, with no COLUMNS, is never cut to a width: a CI log or a
// file keeps every column and every name whole.
func (s *Streams) display(stderr bool) Display {
	s.mu.Lock()
	tty, f := s.outTTY, s.outFile
	if stderr {
		tty, f = s.errTTY, s.errFile
	}
	d := Display{Color: tty && !s.dumb && !s.noColor, ASCII: s.ascii, Width: s.width}
	columns := s.columns
	s.mu.Unlock()
	switch {
	case d.Width > 0:
	case !tty:
		d.Width = columns
	case sizeOf(f) > 0:
		d.Width = sizeOf(f)
	case columns > 0:
		d.Width = columns
	default:
		d.Width = DefaultWidth
	}
	return d
}

// sizeOf is the width of the terminal f, or 0 when it cannot be read.
func sizeOf(f *os.File) int {
	if f == nil {
		return 0
	}
	if w, _, err := xterm.GetSize(int(f.Fd())); err == nil && w > 0 {
		return w
	}
	return 0
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
