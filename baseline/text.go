package baseline

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/evalrun/evalrun/internal/textwrap"
	"github.com/evalrun/evalrun/results"
)

// latencyLines bounds the per-turn latency shown on a terminal; the record
// has every index.
const latencyLines = 8

// WriteText writes c for a terminal, as plain text (ASCII arrows, no
// colour): a line of counts, then one line per conversation that changes
// the verdict of the build (regressed, fixed, new and failing) with the
// turn and check, the p95 latency per turn index, and the notes. Each is
// wrapped to width display columns, as the details under the table are (0:
// no limit, one line each). Bot text is written with control characters
// replaced, so a reply cannot move the cursor or colour the terminal.
func WriteText(w io.Writer, c *results.Comparison, width int) error {
	if c == nil {
		return nil
	}
	bw := bufio.NewWriter(w)
	// put writes s cleaned and wrapped, its continuation lines indented
	// under its own text.
	put := func(s string) {
		for _, l := range textwrap.Lines(clean(s), width, "    ") {
			fmt.Fprintln(bw, l)
		}
	}
	from := "baseline run " + orNone(c.BaselineRunID)
	if c.BaselineFile != "" {
		from += " (" + c.BaselineFile + ")"
	}
	put(fmt.Sprintf("%s: %d regressed, %d fixed, %d new, %d removed, %d still failing, %d not compared, %d unchanged",
		from, len(c.Regressed), len(c.Fixed), len(c.New), len(c.Removed), len(c.StillFailing), len(c.NotCompared), c.Unchanged))
	line := func(what string, ch results.Change) {
		verdicts := string(ch.Was) + " -> " + string(ch.Now)
		if ch.Was == "" {
			verdicts = string(ch.Now)
		}
		s := fmt.Sprintf("  %-9s  %s / %s (%s)", what, ch.Suite, ch.Name, verdicts)
		if ch.Detail != "" {
			s += ": " + ch.Detail
		}
		put(s)
	}
	for _, ch := range c.Regressed {
		line("regressed", ch)
	}
	for _, ch := range c.Fixed {
		line("fixed", ch)
	}
	for _, ch := range c.New {
		if bad(ch.Now) {
			line("new", ch)
		}
	}
	if len(c.Latency) > 0 {
		var parts []string
		for i, l := range c.Latency {
			if i == latencyLines {
				parts = append(parts, fmt.Sprintf("%d more in the record", len(c.Latency)-i))
				break
			}
			parts = append(parts, fmt.Sprintf("turn %d %s -> %s (%s)", l.Index, millis(l.Was.P95), millis(l.Now.P95), percent(l.P95Change)))
		}
		put("  p95 latency: " + strings.Join(parts, ", "))
	}
	for _, n := range c.Notes {
		put("  note: " + n)
	}
	return bw.Flush()
}

func millis(ms float64) string {
	if ms >= 10 {
		return fmt.Sprintf("%.0fms", ms)
	}
	return fmt.Sprintf("%.1fms", ms)
}

func percent(r float64) string {
	if r == 0 {
		return "same"
	}
	return fmt.Sprintf("%+.0f%%", r*100)
}

func orNone(s string) string {
	if s == "" {
		return "(no id)"
	}
	return s
}

// clean keeps a line one line and free of terminal control sequences.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
