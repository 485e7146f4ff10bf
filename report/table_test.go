package report

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/evalrun/evalrun/results"
)

// renderTable renders run's table with opts, failing the test on error.
func renderTable(t *testing.T, run *results.Run, opts TableOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Table(&buf, run, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// checkFits fails the test for every line of out wider than width.
func checkFits(t *testing.T, out string, width int) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if w := twwidth.Width(line); w > width {
			t.Errorf("line %d is %d columns wide, more than %d:\n%s", i+1, w, width, line)
		}
	}
}

func TestTableWidthGoldens(t *testing.T) {
	tests := []struct {
		golden string
		opts   TableOptions
	}{
		{"full.table-80.txt", TableOptions{Width: 80}},
		{"full.table-200.txt", TableOptions{Width: 200}},
		{"full.table-60.txt", TableOptions{Width: 60}},
		{"full.table-30.txt", TableOptions{Width: 30}},
		{"full.table-80-ascii.txt", TableOptions{Width: 80, ASCII: true}},
		{"full.table-80-color.txt", TableOptions{Width: 80, Color: true}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out := renderTable(t, fixtureRun(), tt.opts)
			checkGolden(t, tt.golden, []byte(out))
			checkFits(t, out, tt.opts.Width)
		})
	}
}

// asciiRun is a run whose own text is ASCII, long enough to be cut.
func asciiRun() *results.Run {
	run := fixtureRun()
	for _, c := range run.Conversations {
		c.Suite = "a suite with a rather long name"
		c.Name = strings.Repeat("a long conversation name ", 3)
		for _, tu := range c.Turns {
			for i := range tu.Assertions {
				tu.Assertions[i].Message = strings.Repeat("x", 400)
			}
		}
	}
	return run
}

func TestTableASCII(t *testing.T) {
	for _, width := range []int{0, 30, 80, 200} {
		out := renderTable(t, asciiRun(), TableOptions{Width: width, ASCII: true})
		for i, r := range out {
			if r > 0x7f {
				t.Fatalf("width %d: non-ASCII %q at byte %d:\n%s", width, r, i, out)
			}
		}
		if !strings.Contains(out, "...") {
			t.Errorf("width %d: a cut should be marked with ...:\n%s", width, out)
		}
	}
	if out := renderTable(t, asciiRun(), TableOptions{Width: 80}); !strings.Contains(out, "│") || !strings.Contains(out, "…") {
		t.Errorf("UTF-8 tables draw boxes and mark cuts with …:\n%s", out)
	}
}

func TestTableColorOnlyWhenAsked(t *testing.T) {
	for _, width := range []int{0, 30, 80} {
		if out := renderTable(t, fixtureRun(), TableOptions{Width: width}); strings.Contains(out, "\x1b[") {
			t.Errorf("width %d: colour was not asked for:\n%s", width, out)
		}
		if out := renderTable(t, fixtureRun(), TableOptions{Width: width, Color: true}); !strings.Contains(out, "\x1b[31mFAILED\x1b[0m") {
			t.Errorf("width %d: verdicts should be painted:\n%s", width, out)
		}
	}
}

func TestTableFitsEveryWidth(t *testing.T) {
	for width := 12; width <= 220; width++ {
		for _, run := range []*results.Run{fixtureRun(), asciiRun(), emptyRun()} {
			checkFits(t, renderTable(t, run, TableOptions{Width: width}), width)
		}
	}
}

// A terminal narrower than a verdict label (COLUMNS=1..5) wraps the label
// itself; the table must still render, and colour must not change the text.
func TestTableNarrowerThanALabel(t *testing.T) {
	for width := 1; width <= 11; width++ {
		for _, run := range []*results.Run{fixtureRun(), asciiRun()} {
			plain := renderTable(t, run, TableOptions{Width: width})
			painted := renderTable(t, run, TableOptions{Width: width, Color: true})
			if got := stripANSI(painted); got != plain {
				t.Errorf("width %d: the coloured table reads differently:\n%s\nwant\n%s", width, got, plain)
			}
		}
	}
}

// stripANSI removes the colour codes paint writes.
func stripANSI(s string) string {
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], 'm')
		if j < 0 {
			return s
		}
		s = s[:i] + s[i+j+1:]
	}
}

func TestTableDropsColumnsInOrder(t *testing.T) {
	header := func(out string) string {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "VERDICT") {
				return strings.Join(strings.FieldsFunc(line, func(r rune) bool { return r == '│' || r == ' ' }), " ")
			}
		}
		return "(list)"
	}
	want := map[int]string{
		200: "SUITE CONVERSATION VERDICT TURNS RUNS P50 P95",
		84:  "SUITE CONVERSATION VERDICT TURNS RUNS P50 P95",
		80:  "SUITE CONVERSATION VERDICT TURNS RUNS P50",
		70:  "CONVERSATION VERDICT TURNS RUNS P50",
		60:  "CONVERSATION VERDICT TURNS RUNS",
		50:  "CONVERSATION VERDICT TURNS",
		40:  "CONVERSATION VERDICT",
		30:  "(list)",
	}
	for width, cols := range want {
		if got := header(renderTable(t, fixtureRun(), TableOptions{Width: width})); got != cols {
			t.Errorf("width %d: columns %q, want %q", width, got, cols)
		}
	}
}

// repeatedRun is what the runner records for two conversations of two turns
// run three times each: the rows show one run's transcript, the summary
// counts every run's turns.
func repeatedRun() *results.Run {
	conv := func(name string, status results.Status, passed int) *results.Conversation {
		return &results.Conversation{
			Suite: "s", Name: name, Status: status, Runs: 3, PassedRuns: passed,
			LatencyMS: results.Percentiles{P50: 100, P95: 200},
			Turns: []*results.Turn{
				{Index: 1, LatencyMS: 100, Assertions: []results.Assertion{{Check: "contains", Passed: true}}},
				{Index: 2, LatencyMS: 200, Assertions: []results.Assertion{{Check: "contains", Passed: passed == 3}}},
			},
		}
	}
	return &results.Run{
		Schema: results.Schema,
		Summary: results.Summary{
			Conversations: 2, Passed: 1, Flaky: 1, Turns: 12,
			LatencyMS: results.Percentiles{P50: 100, P95: 200},
		},
		Conversations: []*results.Conversation{conv("one", results.Passed, 3), conv("two", results.Flaky, 2)},
	}
}

func TestTableTurnsAgreeWithTotalUnderRepeat(t *testing.T) {
	out := renderTable(t, repeatedRun(), TableOptions{})
	rows, total := 0, -1
	for _, line := range strings.Split(out, "\n") {
		cells := strings.FieldsFunc(line, func(r rune) bool { return r == '│' })
		if len(cells) < 4 {
			continue
		}
		turns := strings.TrimSpace(cells[3])
		switch n, err := strconv.Atoi(turns); {
		case err != nil:
		case strings.TrimSpace(cells[0]) == "TOTAL":
			total = n
		default:
			rows += n
		}
	}
	if rows != 4 || total != rows {
		t.Errorf("rows add up to %d turns and TOTAL says %d; want 4 and 4:\n%s", rows, total, out)
	}
	if !strings.Contains(out, "the 6 runs sent 12 turns in all") {
		t.Errorf("a note should give every run's turns:\n%s", out)
	}
	// Without repeats the note has nothing to say.
	once := repeatedRun()
	for _, c := range once.Conversations {
		c.Runs, c.PassedRuns = 1, 1
	}
	once.Summary.Turns = 4
	if out := renderTable(t, once, TableOptions{}); strings.Contains(out, "in all") {
		t.Errorf("no note without repeats:\n%s", out)
	}
}

func TestTableTurnsLeaveOutStoppedTurns(t *testing.T) {
	run := repeatedRun()
	c := run.Conversations[0]
	c.Runs, c.PassedRuns, c.Status = 1, 0, results.Unfinished
	c.Turns[1].Error = "stopped: interrupt"
	run.Conversations = run.Conversations[:1]
	run.Summary = results.Summary{Conversations: 1, Unfinished: 1, Turns: 1}
	out := renderTable(t, run, TableOptions{})
	if !strings.Contains(out, "│ s     │ one            │ UNFINISHED   │     1 │") {
		t.Errorf("a turn the run was stopped during is not counted, as in the summary:\n%s", out)
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		s     string
		width int
		ascii bool
		want  string
	}{
		{"refund with ticket", 30, false, "refund with ticket"},
		{"refund with ticket", 10, false, "refund wi…"},
		{"refund with ticket", 10, true, "refund..."},
		{"refund with ticket", 7, false, "refund…"},
		{"日本語です", 5, false, "日本…"},
		{"abc", 2, true, "ab"},
	}
	for _, tt := range tests {
		if got := cut(tt.s, tt.width, TableOptions{ASCII: tt.ascii}); got != tt.want {
			t.Errorf("cut(%q, %d, ascii %v) = %q, want %q", tt.s, tt.width, tt.ascii, got, tt.want)
		}
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		run  *results.Run
		want string
	}{
		{"full", fixtureRun(), "9 conversations: 1 passed, 3 failed, 2 errored, 1 flaky, 1 skipped, 1 unfinished; 11 turns (1 errored), p95 30.0s"},
		{"empty", emptyRun(), "0 conversations; 0 turns"},
		{"repeated", repeatedRun(), "2 conversations: 1 passed, 1 flaky; 12 turns, p95 200ms"},
		{"baseline", func() *results.Run {
			run := repeatedRun()
			run.Comparison = &results.Comparison{Regressed: []results.Change{{}}, Fixed: []results.Change{{}, {}}}
			return run
		}(), "2 conversations: 1 passed, 1 flaky; 12 turns, p95 200ms; against the baseline: 1 regressed, 2 fixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SummaryLine(tt.run); got != tt.want {
				t.Errorf("SummaryLine() = %q\nwant            %q", got, tt.want)
			}
		})
	}
}
