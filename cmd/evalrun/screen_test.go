package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/results"
)

// twoTurnSuite is a suite for the simulator with a conversation of two turns,
// one that passes and one that fails, and a name long enough to be cut.
const twoTurnSuite = `name: screen
provider: {type: opencx, base_url: sim}
conversations:
  - name: a customer who says hello and then says goodbye, politely, at length
    turns: [{user: hello}, {user: bye}]
  - name: fails
    turns: [{user: hello, expect: {contains: "no bot says this"}}, {user: bye}]
`

// inStreams runs evalrun with the given streams and returns the exit code.
func inStreams(streams *term.Streams, args ...string) int {
	return Main(context.Background(), args, streams)
}

// suiteFile writes text as a suite in a fresh folder and returns its path.
func suiteFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "suite.yaml")
	writeFile(t, p, text)
	return p
}

// terminal returns test streams that act as a terminal of width columns
// in the environment env.
func terminal(width int, env map[string]string) (*term.Streams, *bytes.Buffer, *bytes.Buffer) {
	s, out, errOut := term.Test()
	s.ReadEnv(func(k string) string { return env[k] })
	s.SetTTY(true)
	s.SetWidth(width)
	return s, out, errOut
}

func TestQuietPrintsOnlyTheSummaryLine(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	for name, args := range map[string][]string{
		"run":  {"run", "--quiet", p},
		"load": {"load", "--quiet", "--vus", "1", "--duration", "1s", p},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := inProcess(t, args...)
			if code != exitFailed {
				t.Fatalf("exit %d, want 1 (one conversation fails): %s", code, errOut)
			}
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("want exactly one line on stdout, got:\n%s", out)
			}
			if !regexp.MustCompile(`^\d+ conversations?: .*failed.*; \d+ turns`).MatchString(out) {
				t.Errorf("the line should count verdicts and turns: %q", out)
			}
			if errOut != "" {
				t.Errorf("--quiet prints no progress: stderr %q", errOut)
			}
		})
	}
	// On a terminal, where progress bars would be drawn, too.
	s, out, errOut := terminal(80, map[string]string{"LANG": "C.UTF-8"})
	if code := inStreams(s, "run", "--quiet", p); code != exitFailed {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Count(out.String(), "\n") != 1 || errOut.Len() != 0 {
		t.Errorf("on a terminal, --quiet still prints one line and no progress:\nstdout %q\nstderr %q", out, errOut)
	}
}

func TestJSONOnStdout(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	tests := []struct {
		name      string
		args      []string
		wantOnErr string
	}{
		{"run", []string{"run", "--json", "-", p}, "TOTAL"},
		{"run quiet", []string{"run", "--json", "-", "--quiet", p}, "2 conversations: 1 passed, 1 failed"},
		{"run with junit too", []string{"run", "--json", "-", "--junit", filepath.Join(t.TempDir(), "j.xml"), p}, "TOTAL"},
		{"load", []string{"load", "--json", "-", "--vus", "1", "--duration", "1s", p}, "all turns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := inProcess(t, tt.args...)
			if code != exitFailed {
				t.Fatalf("exit %d, want 1: %s", code, errOut)
			}
			dec := json.NewDecoder(strings.NewReader(out))
			var run results.Run
			if err := dec.Decode(&run); err != nil {
				t.Fatalf("stdout is not a JSON record: %v\n%s", err, out)
			}
			if run.Schema != results.Schema || run.Summary.Conversations == 0 {
				t.Errorf("stdout holds no evalrun record: %+v", run.Summary)
			}
			if dec.More() {
				t.Errorf("stdout holds more than the record:\n%s", out)
			}
			if rest := out[dec.InputOffset():]; strings.TrimSpace(rest) != "" {
				t.Errorf("after the record stdout has %q", rest)
			}
			if !strings.Contains(errOut, tt.wantOnErr) {
				t.Errorf("stderr should have %q:\n%s", tt.wantOnErr, errOut)
			}
		})
	}
}

func TestTwoReportsOnStdoutAreRefused(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	code, out, errOut := inProcess(t, "run", "--json", "-", "--junit", "-", p)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2: %s", code, errOut)
	}
	if !strings.Contains(errOut, "both ask for standard output") {
		t.Errorf("the message should say why: %s", errOut)
	}
	if out != "" {
		t.Errorf("nothing runs, nothing is printed: %q", out)
	}
}

func TestTableFitsTheTerminal(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	for _, width := range []int{40, 80, 200} {
		s, out, errOut := terminal(width, map[string]string{"LANG": "en_US.UTF-8"})
		if code := inStreams(s, "run", "--no-progress", p); code != exitFailed {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			if w := twwidth.Width(line); w > width {
				t.Errorf("width %d: a line of %d columns:\n%s", width, w, line)
			}
		}
		long := "a customer who says hello and then says goodbye, politely, at length"
		switch {
		case width == 200 && !strings.Contains(out.String(), long+" │"):
			t.Errorf("at 200 columns the name is whole:\n%s", out)
		// How much of the name fits depends on how wide the latency
		// columns came out ("1ms" or "<1ms"), so only its start is fixed.
		case width == 80 && (!strings.Contains(out.String(), "│ a customer who says hello and") || !strings.Contains(out.String(), "… │") ||
			strings.Contains(out.String(), long) || !strings.Contains(out.String(), "P95")):
			t.Errorf("at 80 columns the name is cut, keeping its start, and every column stays:\n%s", out)
		}
	}
	// A pipe has no width: nothing is cut.
	code, out, _ := inProcess(t, "run", "--no-progress", p)
	if code != exitFailed || !strings.Contains(out, "at length │") {
		t.Errorf("piped output keeps every name whole:\n%s", out)
	}
}

func TestColourOnlyOnATerminalWithoutNoColor(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	tests := []struct {
		name   string
		tty    bool
		env    map[string]string
		colour bool
	}{
		{"terminal", true, map[string]string{"TERM": "xterm"}, true},
		{"NO_COLOR", true, map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, false},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
		{"pipe", false, map[string]string{"TERM": "xterm"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, errOut := terminal(0, tt.env)
			s.SetTTY(tt.tty)
			if code := inStreams(s, "run", "--no-progress", p); code != exitFailed {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := strings.Contains(out.String(), "\x1b[31mFAILED\x1b[0m"); got != tt.colour {
				t.Errorf("coloured verdicts: %v, want %v:\n%s", got, tt.colour, out)
			}
			if !tt.colour && strings.Contains(out.String(), "\x1b[") {
				t.Errorf("no escape sequence at all without colour:\n%q", out)
			}
		})
	}
}

func TestASCIIWhenTheLocaleIsNotUTF8(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	for _, env := range []map[string]string{{}, {"LANG": "C"}, {"LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}} {
		s, out, errOut := terminal(80, env)
		if code := inStreams(s, "run", "--no-progress", p); code != exitFailed {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for i, r := range out.String() {
			if r >= utf8.RuneSelf {
				t.Fatalf("%v: %q at byte %d is not ASCII:\n%s", env, r, i, out)
			}
		}
		if !strings.Contains(out.String(), "+---") || !strings.Contains(out.String(), "...") {
			t.Errorf("%v: want ASCII borders and a cut marked with ...:\n%s", env, out)
		}
	}
}

func TestTurnsAgreeWithTotalUnderRepeat(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	code, out, errOut := inProcess(t, "run", "--no-progress", "--repeat", "3", "--json", "-", p)
	if code != exitFailed {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var run results.Run
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatal(err)
	}
	rows, total := 0, -1
	for _, line := range strings.Split(errOut, "\n") {
		cells := strings.Split(line, "│")
		if len(cells) < 6 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(cells[4]))
		switch {
		case err != nil:
		case strings.TrimSpace(cells[1]) == "TOTAL":
			total = n
		default:
			rows += n
		}
	}
	if rows != 4 || total != rows {
		t.Errorf("the rows add up to %d turns and TOTAL says %d; want both 4 (2 conversations of 2 turns):\n%s", rows, total, errOut)
	}
	if run.Summary.Turns != 12 {
		t.Errorf("the record counts %d turns, want every run's 12", run.Summary.Turns)
	}
	if !strings.Contains(errOut, "the 6 runs sent 12 turns in all") {
		t.Errorf("a note should say how many turns every run sent:\n%s", errOut)
	}
}

func TestLoadTableFitsTheTerminal(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	s, out, errOut := terminal(80, map[string]string{"LANG": "C.UTF-8"})
	inStreams(s, "load", "--no-progress", "--vus", "1", "--duration", "1s", "--threshold", "turn_latency.p95<1m", p)
	if !strings.Contains(out.String(), "all turns") {
		t.Fatalf("no load table:\n%s\n%s", out, errOut)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if w := twwidth.Width(line); w > 80 {
			t.Errorf("a line of %d columns:\n%s", w, line)
		}
	}
}

func TestMarkdownDoesNotPointAtStdout(t *testing.T) {
	r := reportFlags{md: "summary.md", json: "-"}
	if got, _ := r.markdown(); got.FullReport != "" {
		t.Errorf("FullReport = %q; a record on stdout is no file to link to", got.FullReport)
	}
	r.html = "report.html"
	if got, _ := r.markdown(); got.FullReport != "report.html" {
		t.Errorf("FullReport = %q, want report.html", got.FullReport)
	}
}

func TestMarkdownOnStdout(t *testing.T) {
	p := suiteFile(t, twoTurnSuite)
	code, out, errOut := inProcess(t, "run", "--md", "-", p)
	if code != exitFailed {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "┌") || strings.Contains(out, "TOTAL ") {
		t.Errorf("the table must not be mixed into the Markdown on stdout:\n%s", out)
	}
	if !strings.Contains(out, "fails") || !strings.Contains(errOut, "TOTAL") {
		t.Errorf("want the Markdown on stdout and the table on stderr:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// The baseline block under the table wraps to the terminal as the table's
// details do (README: "the details under the table wrap").
func TestBaselineBlockFitsTheTerminal(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "gate.yaml")
	writeFile(t, suite, gateSuite)
	first := filepath.Join(dir, "first.json")
	if code, _, stderr := inProcess(t, "run", "--no-progress", "--json", first, suite); code != exitFailed {
		t.Fatalf("plain run: exit %d, want 1\n%s", code, stderr)
	}
	base := baselineWith(t, first, map[string]results.Status{"promises the moon": results.Passed})
	const width = 40
	s, out, errOut := terminal(width, map[string]string{"LANG": "C.UTF-8"})
	if code := inStreams(s, "run", "--no-progress", "--baseline", base, suite); code != exitFailed {
		t.Fatalf("exit %d, want 1 (a regression): %s", code, errOut)
	}
	text := out.String()
	at := strings.Index(text, "baseline run before")
	if at < 0 {
		t.Fatalf("no comparison under the table:\n%s", text)
	}
	block, _, _ := strings.Cut(text[at:], "fails the build")
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		if w := twwidth.Width(line); w > width {
			t.Errorf("a %d-column line on a %d-column terminal: %q", w, width, line)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(block), " "), "regressed gate / promises the moon (passed -> failed)") {
		t.Errorf("the regression is not in the block:\n%s", block)
	}
}
