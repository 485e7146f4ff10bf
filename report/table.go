package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/evalrun/evalrun/results"
)

// TableOptions controls the terminal table.
type TableOptions struct {
	// Color paints verdicts with ANSI colours. Leave it off unless the output
	// is a terminal that wants them (see term.Streams.ColorEnabled).
	Color bool
}

// Longest names and failure messages the table prints; the JSON and JUnit
// reports keep the whole text.
const (
	maxSuiteRunes   = 40
	maxNameRunes    = 60
	maxMessageRunes = 300
)

// Table writes a table with a row per conversation (suite, name, verdict,
// turns, pass count when conversations were repeated, latency p50 and p95)
// and a totals row, followed by the details of every conversation that did
// not simply pass. The output holds no timestamps: the same run always
// renders the same bytes.
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

	header := []any{"SUITE", "CONVERSATION", "VERDICT", "TURNS"}
	aligns := []tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight}
	if repeated {
		header = append(header, "RUNS")
		aligns = append(aligns, tw.AlignRight)
	}
	header = append(header, "P50", "P95")
	aligns = append(aligns, tw.AlignRight, tw.AlignRight)

	var buf bytes.Buffer
	table := tablewriter.NewTable(&buf,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithFooterAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	)
	table.Header(header...)

	for _, c := range convs {
		row := []string{
			truncate(oneLine(c.Suite), maxSuiteRunes),
			truncate(oneLine(c.Name), maxNameRunes),
			paint(opts, c.Status, verdictLabel(c.Status)),
		}
		noTurns := c.Status == results.Skipped || len(c.Turns) == 0
		if noTurns {
			row = append(row, "-")
		} else {
			row = append(row, strconv.Itoa(len(c.Turns)))
		}
		if repeated {
			if c.Runs > 1 {
				row = append(row, runsLabel(c))
			} else {
				row = append(row, "")
			}
		}
		if noTurns {
			row = append(row, "-", "-")
		} else {
			row = append(row, formatMS(c.LatencyMS.P50), formatMS(c.LatencyMS.P95))
		}
		if err := table.Append(row); err != nil {
			return fmt.Errorf("report: table: %w", err)
		}
	}

	sum := run.Summary
	footer := []string{"TOTAL", plural(sum.Conversations, "conversation"), verdictCounts(sum), strconv.Itoa(sum.Turns)}
	if repeated {
		passed, runs := 0, 0
		for _, c := range convs {
			passed += c.PassedRuns
			runs += c.Runs
		}
		footer = append(footer, strconv.Itoa(passed)+"/"+strconv.Itoa(runs))
	}
	if sum.Turns == 0 {
		footer = append(footer, "-", "-")
	} else {
		footer = append(footer, formatMS(sum.LatencyMS.P50), formatMS(sum.LatencyMS.P95))
	}
	table.Footer(footer)

	if err := table.Render(); err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	writeDetails(&buf, convs, opts)
	_, err := w.Write(buf.Bytes())
	return err
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

// writeDetails explains, below the table, every conversation that failed,
// errored or was flaky: where it is defined and each thing that went wrong,
// one line each, named by turn and check.
func writeDetails(b *bytes.Buffer, convs []*results.Conversation, opts TableOptions) {
	for _, c := range convs {
		switch c.Status {
		case results.Failed, results.Errored, results.Flaky, results.Unfinished:
		default:
			continue
		}
		b.WriteByte('\n')
		b.WriteString(paint(opts, c.Status, verdictLabel(c.Status)))
		b.WriteString(" " + oneLine(c.Suite) + " / " + oneLine(c.Name))
		if loc := location(c); loc != "" {
			b.WriteString("  (" + oneLine(loc) + ")")
		}
		if c.Runs > 1 {
			b.WriteString("  passed " + runsLabel(c) + " runs")
			if c.Status == results.Flaky || c.PassedRuns < c.Runs {
				b.WriteString("; first failing run:")
			}
		}
		b.WriteByte('\n')

		failures := c.Failures()
		if len(failures) == 0 {
			msg := "no failed check was recorded"
			if c.Reason != "" {
				msg = c.Reason
			}
			b.WriteString("  " + truncate(oneLine(msg), maxMessageRunes) + "\n")
			continue
		}
		width := 0
		for _, f := range failures {
			width = max(width, len(f.Where()))
		}
		for _, f := range failures {
			fmt.Fprintf(b, "  %-*s  %s: %s\n", width, f.Where(), oneLine(f.Check), truncate(oneLine(f.Message), maxMessageRunes))
		}
	}
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
