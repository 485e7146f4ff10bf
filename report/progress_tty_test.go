package report

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/results"
)

// screen is a small terminal emulator: it keeps the rows a terminal of a
// given width would show after the bytes written to it, understanding what
// mpb sends (text, \r, \n, cursor up, erase below, colours) and wrapping
// long lines as a terminal does. Tests read the screen a user would see,
// not the byte stream.
type screen struct {
	mu    sync.Mutex
	width int
	rows  [][]rune
	r, c  int
	n     int // bytes written
}

func newScreen(width int) *screen { return &screen{width: width, rows: [][]rune{nil}} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += len(p)
	text := []rune(string(p))
	for i := 0; i < len(text); i++ {
		switch ch := text[i]; ch {
		case '\r':
			s.c = 0
		case '\n':
			// A terminal's output processing (onlcr) makes this CR LF.
			s.r, s.c = s.r+1, 0
			s.grow()
		case '\x1b':
			j := i + 1
			if j < len(text) && text[j] == '[' {
				j++
				start := j
				for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == ';') {
					j++
				}
				if j < len(text) {
					s.csi(string(text[start:j]), text[j])
				}
				i = j
			}
		default:
			if s.c >= s.width {
				s.r, s.c = s.r+1, 0
				s.grow()
			}
			row := s.rows[s.r]
			for len(row) <= s.c {
				row = append(row, ' ')
			}
			row[s.c] = ch
			s.rows[s.r] = row
			s.c++
		}
	}
	return len(p), nil
}

func (s *screen) csi(args string, final rune) {
	n, err := strconv.Atoi(args)
	if err != nil || n < 1 {
		n = 1
	}
	switch final {
	case 'A':
		s.r = max(0, s.r-n)
	case 'J': // erase from the cursor to the end of the screen
		if row := s.rows[s.r]; len(row) > s.c {
			s.rows[s.r] = row[:s.c]
		}
		s.rows = s.rows[:s.r+1]
	case 'K': // erase to the end of the line
		if row := s.rows[s.r]; len(row) > s.c {
			s.rows[s.r] = row[:s.c]
		}
	}
	// Colours and everything else do not move the cursor.
}

func (s *screen) grow() {
	for len(s.rows) <= s.r {
		s.rows = append(s.rows, nil)
	}
}

// echo writes what the terminal itself prints when the user presses Ctrl-C
// (ECHOCTL): "^C" where the cursor is.
func (s *screen) echo(text string) { _, _ = s.Write([]byte(text)) }

func (s *screen) written() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// lines are the screen's rows, trailing spaces and empty rows dropped.
func (s *screen) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.rows {
		out = append(out, strings.TrimRight(string(r), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// ttyStreams are streams whose standard error is the screen, forced to
// count as a terminal so that NewProgress draws bars.
func ttyStreams(width int) (*term.Streams, *screen) {
	s, _, _ := term.Test()
	scr := newScreen(width)
	s.Err = scr
	s.SetTTY(true)
	s.SetWidth(width)
	return s, scr
}

// waitForOutput waits until something was drawn, so that Ctrl-C arrives
// under a bar as it does for a user. It bounds a wait; it asserts no time.
func waitForOutput(t *testing.T, scr *screen) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); scr.written() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the bar was never drawn")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestProgressBarCtrlC is Ctrl-C on a terminal during a run of 6
// conversations, 2 of them done: the runner then reports the 4 others as
// unfinished. The screen must keep one bar, stopped at 2/6, not filled to
// 6/6, and the terminal's "^C" echo must not push the redraw off its line
// (which left the bar drawn twice).
func TestProgressBarCtrlC(t *testing.T) {
	const width = 80
	s, scr := ttyStreams(width)
	p := NewProgress(s, 6, false)
	if _, ok := p.(*barProgress); !ok {
		t.Fatalf("NewProgress returned %T on a terminal, want a bar", p)
	}
	p.Done(&results.Conversation{Suite: "s", Name: "a", Status: results.Passed, Runs: 1})
	p.Done(&results.Conversation{Suite: "s", Name: "b", Status: results.Failed, Runs: 1})
	waitForOutput(t, scr)

	scr.echo("^C")
	for _, name := range []string{"c", "d", "e", "f"} {
		p.Done(&results.Conversation{Suite: "s", Name: name, Status: results.Unfinished, Reason: "not started: interrupted (SIGINT)"})
	}
	waitOrFail(t, p)

	lines := scr.lines()
	shown := strings.Join(lines, "\n")
	var bars []string
	for _, l := range lines {
		if strings.Contains(l, "conversations") {
			bars = append(bars, l)
		}
	}
	if len(bars) != 1 {
		t.Fatalf("want the bar drawn once, see %d:\n%s", len(bars), shown)
	}
	if !strings.HasPrefix(bars[0], "conversations 2/6 ") {
		t.Errorf("the bar must stop where the run was (2/6), not be filled:\n%s", shown)
	}
	if strings.Contains(shown, "6/6") {
		t.Errorf("unfinished conversations were counted as done:\n%s", shown)
	}
	if len(lines) != 2 || lines[0] != "FAILED  s / b" {
		t.Errorf("want the failed conversation above one bar, and nothing else:\n%s", shown)
	}
}

// TestLoadProgressBarCtrlC: the same for the load display, interrupted at
// 12s of 60s.
func TestLoadProgressBarCtrlC(t *testing.T) {
	const width = 100
	s, scr := ttyStreams(width)
	p := NewLoadProgress(s, time.Minute, false)
	if _, ok := p.(*barLoadProgress); !ok {
		t.Fatalf("NewLoadProgress returned %T on a terminal, want bars", p)
	}
	p.Update(snapshotAt(12))
	waitForOutput(t, scr)
	scr.echo("^C")
	waitLoadOrFail(t, p)

	lines := scr.lines()
	shown := strings.Join(lines, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "load 12s/60s ") || !strings.HasPrefix(lines[1], "rate 49.8/50.0/s") {
		t.Errorf("want the bar stopped at 12s/60s and its figures under it, once each:\n%s", shown)
	}
	if strings.Contains(shown, "^C") {
		t.Errorf("the Ctrl-C echo was drawn over instead of cleared:\n%s", shown)
	}
}

// The emulator itself, so the tests above can trust it.
func TestScreen(t *testing.T) {
	scr := newScreen(10)
	scr.echo("one\ntwo\n")
	scr.echo("\x1b[2A\x1b[Jthree\x1b[31m!\x1b[0m\n")
	scr.echo("0123456789abc\n")
	want := []string{"three!", "0123456789", "abc"}
	if got := scr.lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("screen %q, want %q", got, want)
	}
	// A "^C" echoed under a bar shifts the redraw: the cursor goes up to
	// column 2, not 0, and the old bar's first letters stay.
	scr = newScreen(10)
	scr.echo("bar\n^C\x1b[1A\x1b[Jbar2\n")
	if got := scr.lines(); len(got) != 1 || got[0] != "babar2" {
		t.Errorf("screen %q, want [babar2]", got)
	}
}
