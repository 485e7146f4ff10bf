package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/internal/textwrap"
	"github.com/evalrun/evalrun/results"
)

// TableOptions controls the terminal table.
type TableOptions struct {
	// Color paints verdicts with ANSI colours. Leave it off unless the output
	// is a terminal that wants them (see term.Display).
	Color bool
	// ASCII draws the table and its marks ("...", not "…") in ASCII only,
	// for a locale that is not UTF-8. Text from the suites and the bot is
	// printed as it is.
	ASCII bool
	// Width is the number of columns every line must fit in; 0 means no
	// limit, and the table is as wide as its widest cells.
	Width int
}

// TableOptionsFor returns the options that suit a stream, as term decided.
func TableOptionsFor(d term.Display) TableOptions {
	return TableOptions{Color: d.Color, ASCII: d.ASCII, Width: d.Width}
}

// Longest threshold expressions and failure messages the tables print; the
// JSON and JUnit reports keep the whole text. Suite and conversation names
// are cut only to fit a width.
const (
	maxNameRunes    = 60
	maxMessageRunes = 300
)

// When the table is too wide for the screen, the suite and conversation
// names are cut first, down to these widths; only then are whole columns
// left out.
const (
	comfortableSuiteWidth = 10
	comfortableNameWidth  = 20
	// narrowestNameWidth is how far a conversation name is cut once every
	// column that may go has gone; below it the table becomes a list.
	narrowestNameWidth = 8
)

// column is one column of the conversation table, before it is fitted.
type column struct {
	header string
	align  tw.Align
	cells  []string // one per row, plain text
	footer []string // the TOTAL cell, one entry a line
	// cut marks the name columns, which may be shortened to fit.
	cut bool
	// drop is the order in which columns are left out when the names
	// cannot be shortened enough: 1 goes first; 0 never goes.
	drop  int
	width int // as fitted
}

// natural is the width the column takes when nothing is cut.
func (c *column) natural() int {
	w := twwidth.Width(c.header)
	for _, s := range c.cells {
		w = max(w, twwidth.Width(s))
	}
	for _, s := range c.footer {
		w = max(w, twwidth.Width(s))
	}
	return w
}

// least is the narrowest the column may be cut to, never narrower than its
// header or its TOTAL cell, nor than it needs to be.
func (c *column) least(comfortable int) int {
	w := twwidth.Width(c.header)
	for _, s := range c.footer {
		w = max(w, twwidth.Width(s))
	}
	return max(w, min(c.natural(), comfortable))
}

// Table writes a table with a row per conversation (suite, name, verdict,
// turns, pass count when conversations were repeated, latency p50 and p95)
// and a totals row, followed by the details of every conversation that did
// not simply pass. The output holds no timestamps: the same run always
// renders the same bytes.
//
// With opts.Width set, no line is wider. The names are cut first (keeping
// their start, marked with an ellipsis), the suite's before the
// conversation's; then columns are left out in this order: P95 (of a few
// turns it is close to the slowest one, which the details below name
// anyway), SUITE (the details say it), P50, RUNS, TURNS. Name and verdict
// always stay; on a screen too narrow even for those, the table becomes a
// list of one line per conversation. The details below the table are
// wrapped, not cut: what failed is the point of reading them.
//
// With repeats, a row shows the run the record kept (the first that did not
// pass, or the last); its TURNS are that run's, and so is the TOTAL row's
// sum, while the latencies are over every run. When the runs together sent
// another number of turns, a note under the table says how many.
func Table(w io.Writer, run *results.Run, opts TableOptions) error {
	if run == nil {
		return errors.New("report: table: no run")
	}
	convs := conversations(run)
	repeated := false
	for _, c := range convs {
		if c.Runs > 1 {
			repeated = true
		}
	}

	suite := &column{header: "SUITE", align: tw.AlignLeft, cut: true, drop: 2, footer: []string{"TOTAL"}}
	name := &column{header: "CONVERSATION", align: tw.AlignLeft, cut: true}
	verdict := &column{header: "VERDICT", align: tw.AlignLeft}
	turns := &column{header: "TURNS", align: tw.AlignRight, drop: 5}
	runs := &column{header: "RUNS", align: tw.AlignRight, drop: 4}
	p50 := &column{header: "P50", align: tw.AlignRight, drop: 3}
	p95 := &column{header: "P95", align: tw.AlignRight, drop: 1}

	shownTurns, passed, runCount := 0, 0, 0
	for _, c := range convs {
		suite.cells = append(suite.cells, oneLine(c.Suite))
		name.cells = append(name.cells, oneLine(c.Name))
		verdict.cells = append(verdict.cells, verdictLabel(c.Status))
		n := answeredTurns(c)
		shownTurns += n
		passed += c.PassedRuns
		runCount += c.Runs
		noTurns := c.Status == results.Skipped || n == 0
		switch {
		case noTurns:
			turns.cells = append(turns.cells, "-")
		default:
			turns.cells = append(turns.cells, strconv.Itoa(n))
		}
		switch {
		case c.Runs > 1:
			runs.cells = append(runs.cells, runsLabel(c))
		default:
			runs.cells = append(runs.cells, "")
		}
		if noTurns || !measured(c) {
			// Nothing was measured: a percentile of no samples is not 0ms.
			p50.cells = append(p50.cells, "-")
			p95.cells = append(p95.cells, "-")
		} else {
			p50.cells = append(p50.cells, formatMS(c.LatencyMS.P50))
			p95.cells = append(p95.cells, formatMS(c.LatencyMS.P95))
		}
	}

	sum := run.Summary
	name.footer = []string{plural(sum.Conversations, "conversation")}
	verdict.footer = strings.Split(verdictCounts(sum), "\n")
	turns.footer = []string{strconv.Itoa(shownTurns)}
	runs.footer = []string{strconv.Itoa(passed) + "/" + strconv.Itoa(runCount)}
	if sum.Turns <= sum.TurnErrors {
		p50.footer, p95.footer = []string{"-"}, []string{"-"}
	} else {
		p50.footer = []string{formatMS(sum.LatencyMS.P50)}
		p95.footer = []string{formatMS(sum.LatencyMS.P95)}
	}

	cols := []*column{suite, name, verdict, turns}
	if repeated {
		cols = append(cols, runs)
	}
	cols = append(cols, p50, p95)

	var buf bytes.Buffer
	if cols = fitColumns(cols, suite, name, opts.Width); cols == nil {
		writeList(&buf, convs, sum, opts)
	} else if err := renderColumns(&buf, cols, verdict, convs, opts); err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	if repeated && sum.Turns != shownTurns {
		note := fmt.Sprintf("TURNS are those of the run each row shows (the first that did not pass, else the last); "+
			"the %s sent %s in all, and the latencies are over every run.", plural(runCount, "run"), plural(sum.Turns, "turn"))
		for _, line := range textwrap.Lines(note, opts.Width, "") {
			buf.WriteString(line + "\n")
		}
	}
	if line := JudgeLine(sum.Judge); line != "" {
		buf.WriteString(line + "\n")
	}
	writeDetails(&buf, convs, opts)
	_, err := w.Write(buf.Bytes())
	return err
}

// answeredTurns counts the turns of c's transcript that the service answered
// or failed, as the summary counts them: a turn the run was stopped during
// is neither.
// measured reports whether any turn of c has a reply latency: one that got
// an answer, neither errored nor stopped.
func measured(c *results.Conversation) bool {
	for _, t := range c.Turns {
		if t != nil && t.Error == "" {
			return true
		}
	}
	return false
}

func answeredTurns(c *results.Conversation) int {
	n := 0
	for _, t := range c.Turns {
		if t != nil && !strings.HasPrefix(t.Error, "stopped: ") {
			n++
		}
	}
	return n
}

// tableWidth is how wide a boxed table of columns this wide is: a border
// before each column, a space either side of each cell, a closing border.
func tableWidth(widths ...int) int {
	w := 1
	for _, c := range widths {
		w += c + 3
	}
	return w
}

// fitColumns decides which columns to show and how wide, so that the table
// fits in width (0: anything fits), and returns them; nil means no table
// fits and a list should be written instead.
func fitColumns(cols []*column, suite, name *column, width int) []*column {
	for _, c := range cols {
		c.width = c.natural()
	}
	if width <= 0 {
		return cols
	}
	for {
		if ok := share(cols, suite, name, width, comfortableSuiteWidth, comfortableNameWidth); ok {
			return cols
		}
		next := -1
		for i, c := range cols {
			if c.drop > 0 && (next < 0 || c.drop < cols[next].drop) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		if cols[next] == suite {
			// TOTAL moves to the first column left.
			name.footer = append([]string{"TOTAL"}, name.footer...)
		}
		cols = append(cols[:next:next], cols[next+1:]...)
	}
	if share(cols, suite, name, width, comfortableSuiteWidth, narrowestNameWidth) {
		return cols
	}
	return nil
}

// share gives the room the other columns leave to the names: the suite
// keeps its whole width if the conversation can keep its own, and is cut
// down to leastSuite before the conversation is cut down to leastName. It
// reports whether the table then fits.
func share(cols []*column, suite, name *column, width, leastSuite, leastName int) bool {
	var fixed []int
	hasSuite := false
	for _, c := range cols {
		switch c {
		case suite:
			hasSuite = true
		case name:
		default:
			fixed = append(fixed, c.width)
		}
	}
	room := width - tableWidth(fixed...) - 3
	if hasSuite {
		room -= 3
	}
	natName := name.natural()
	minName := name.least(leastName)
	s := 0
	if hasSuite {
		natSuite, minSuite := suite.natural(), suite.least(leastSuite)
		s = min(natSuite, max(minSuite, room-natName))
		suite.width = s
	}
	n := min(natName, room-s)
	name.width = n
	return n >= minName
}

// renderColumns writes the boxed table of the fitted columns, cutting each
// cell to its column's width and painting the verdicts.
func renderColumns(b *bytes.Buffer, cols []*column, verdict *column, convs []*results.Conversation, opts TableOptions) error {
	header := make([]any, len(cols))
	aligns := make([]tw.Align, len(cols))
	for i, c := range cols {
		header[i], aligns[i] = c.header, c.align
	}
	table := newTable(b, aligns, opts.ASCII)
	table.Header(header...)
	for r, conv := range convs {
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = cut(c.cells[r], c.width, opts)
			if c == verdict {
				row[i] = paint(opts, conv.Status, row[i])
			}
		}
		if err := table.Append(row); err != nil {
			return err
		}
	}
	footer := make([]string, len(cols))
	for i, c := range cols {
		lines := make([]string, len(c.footer))
		for j, l := range c.footer {
			lines[j] = cut(l, c.width, opts)
		}
		footer[i] = strings.Join(lines, "\n")
	}
	table.Footer(footer)
	return table.Render()
}

// writeList is the table for a screen too narrow for one: a line per
// conversation, its verdict and name, then the totals.
func writeList(b *bytes.Buffer, convs []*results.Conversation, sum results.Summary, opts TableOptions) {
	for _, c := range convs {
		label := verdictLabel(c.Status)
		line := cut(label+" "+oneLine(c.Name), opts.Width, opts)
		if strings.HasPrefix(line, label) {
			line = paint(opts, c.Status, label) + line[len(label):]
		}
		b.WriteString(line + "\n")
	}
	total := "TOTAL " + plural(sum.Conversations, "conversation") + ": " + strings.ReplaceAll(verdictCounts(sum), "\n", ", ")
	for _, line := range textwrap.Lines(total, opts.Width, "  ") {
		b.WriteString(line + "\n")
	}
}

// verdictCounts lists the non-zero verdict counts, one a line, so the
// VERDICT column stays as narrow as its widest verdict.
func verdictCounts(s results.Summary) string {
	counts := []struct {
		n    int
		name string
	}{
		{s.Passed, "passed"},
		{s.Failed, "failed"},
		{s.Errored, "errored"},
		{s.Flaky, "flaky"},
		{s.Skipped, "skipped"},
		{s.Unfinished, "unfinished"},
	}
	var lines []string
	for _, c := range counts {
		if c.n > 0 {
			lines = append(lines, strconv.Itoa(c.n)+" "+c.name)
		}
	}
	if len(lines) == 0 {
		return "-"
	}
	return strings.Join(lines, "\n")
}

// SummaryLine is the whole run in one line, for --quiet: the verdict counts,
// the turns and their p95, for a load run what the thresholds said, and
// what changed against a baseline, as
// "9 conversations: 1 passed, 3 failed; 11 turns, p95 2.4s".
func SummaryLine(run *results.Run) string {
	if run == nil {
		return "no run"
	}
	s := run.Summary
	line := plural(s.Conversations, "conversation")
	if counts := verdictCounts(s); counts != "-" {
		line += ": " + strings.ReplaceAll(counts, "\n", ", ")
	}
	line += "; " + plural(s.Turns, "turn")
	if s.TurnErrors > 0 {
		line += " (" + strconv.Itoa(s.TurnErrors) + " errored)"
	}
	if s.Turns > s.TurnErrors {
		line += ", p95 " + formatMS(s.LatencyMS.P95)
	}
	if l := run.Load; l != nil {
		if l.Dropped > 0 {
			line += "; " + strconv.Itoa(l.Dropped) + " dropped"
		}
		if len(l.Thresholds) > 0 {
			passed, failed, missing := 0, 0, 0
			for _, th := range l.Thresholds {
				switch {
				case th.Missing:
					missing++
				case th.Passed:
					passed++
				default:
					failed++
				}
			}
			line += fmt.Sprintf("; thresholds: %d passed, %d failed", passed, failed)
			if missing > 0 {
				line += fmt.Sprintf(", %d without data", missing)
			}
		}
	}
	if c := run.Comparison; c != nil {
		var changes []string
		for _, n := range []struct {
			n    int
			what string
		}{{len(c.Regressed), "regressed"}, {len(c.Fixed), "fixed"}, {len(c.StillFailing), "still failing"}, {len(c.New), "new"}, {len(c.Removed), "removed"}} {
			if n.n > 0 {
				changes = append(changes, strconv.Itoa(n.n)+" "+n.what)
			}
		}
		if len(changes) == 0 {
			changes = append(changes, "no change")
		}
		line += "; against the baseline: " + strings.Join(changes, ", ")
	}
	if run.Interrupted != "" {
		line += "; stopped early: " + oneLine(run.Interrupted)
	}
	return line
}

// writeDetails explains, below the table, every conversation that failed,
// errored or was flaky: where it is defined and each thing that went wrong,
// one line each (wrapped to opts.Width), named by turn and check.
func writeDetails(b *bytes.Buffer, convs []*results.Conversation, opts TableOptions) {
	for _, c := range convs {
		switch c.Status {
		case results.Failed, results.Errored, results.Flaky, results.Unfinished:
		default:
			continue
		}
		b.WriteByte('\n')
		label := verdictLabel(c.Status)
		head := label + " " + oneLine(c.Suite) + " / " + oneLine(c.Name)
		if loc := location(c); loc != "" {
			head += "  (" + oneLine(loc) + ")"
		}
		if c.Runs > 1 {
			head += "  passed " + runsLabel(c) + " runs"
			if c.Status == results.Flaky || c.PassedRuns < c.Runs {
				head += "; first failing run:"
			}
		}
		for i, line := range textwrap.Lines(head, opts.Width, "  ") {
			// On a screen narrower than the label, wrap has cut the label
			// itself: then the line stays plain.
			if rest, ok := strings.CutPrefix(line, label); i == 0 && ok {
				line = paint(opts, c.Status, label) + rest
			}
			b.WriteString(line + "\n")
		}

		failures := c.Failures()
		if len(failures) == 0 {
			msg := "no failed check was recorded"
			if c.Reason != "" {
				msg = c.Reason
			}
			for _, line := range textwrap.Lines("  "+truncateMark(oneLine(msg), maxMessageRunes, opts), opts.Width, "    ") {
				b.WriteString(line + "\n")
			}
			continue
		}
		width := 0
		for _, f := range failures {
			width = max(width, len(f.Where()))
		}
		// Continuation lines start under the check, unless that would
		// leave too little room on a narrow screen.
		indent := strings.Repeat(" ", 2+width+2)
		if opts.Width > 0 && len(indent) > opts.Width/3 {
			indent = "    "
		}
		for _, f := range failures {
			line := fmt.Sprintf("  %-*s  %s: %s", width, f.Where(), oneLine(f.Check), truncateMark(oneLine(f.Message), maxMessageRunes, opts))
			for _, l := range textwrap.Lines(line, opts.Width, indent) {
				b.WriteString(l + "\n")
			}
		}
	}
}

// ellipsis marks where text was cut.
func ellipsis(opts TableOptions) string {
	if opts.ASCII {
		return "..."
	}
	return "…"
}

// truncateMark is truncate with the mark opts asks for.
func truncateMark(s string, n int, opts TableOptions) string {
	t := truncate(s, n)
	if opts.ASCII && t != s {
		t = strings.TrimSuffix(t, "…") + "..."
	}
	return t
}

// cut shortens s to at most width display columns (0: no limit), keeping
// its start and marking the cut.
func cut(s string, width int, opts TableOptions) string {
	if width <= 0 || twwidth.Width(s) <= width {
		return s
	}
	mark := ellipsis(opts)
	room := width - twwidth.Width(mark)
	if room <= 0 {
		return textwrap.Prefix(s, width)
	}
	return strings.TrimRight(textwrap.Prefix(s, room), " ") + mark
}

// ANSI colours per verdict.
var verdictColors = map[results.Status]string{
	results.Passed:     "\x1b[32m",   // green
	results.Failed:     "\x1b[31m",   // red
	results.Errored:    "\x1b[1;31m", // bold red: the service, not the bot's answer
	results.Flaky:      "\x1b[33m",   // yellow
	results.Skipped:    "\x1b[2m",    // dim
	results.Unfinished: "\x1b[35m",   // magenta: cut short, neither pass nor fail
}

func paint(opts TableOptions, s results.Status, text string) string {
	code, ok := verdictColors[s]
	if !opts.Color || !ok {
		return text
	}
	return code + text + "\x1b[0m"
}

// newTable is a boxed table that writes cells as given (no auto-format, no
// wrapping), aligned per column, in ASCII when the terminal needs it.
func newTable(w io.Writer, aligns []tw.Align, ascii bool) *tablewriter.Table {
	options := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithFooterAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithFooterAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	}
	if ascii {
		options = append(options, tablewriter.WithSymbols(tw.NewSymbols(tw.StyleASCII)))
	}
	return tablewriter.NewTable(w, options...)
}
