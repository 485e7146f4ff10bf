package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/evalrun/evalrun/internal/textwrap"
	"github.com/evalrun/evalrun/results"
)

// LoadTableReporter returns the end-of-run table of a load run, with opts, as
// a Reporter.
func LoadTableReporter(opts TableOptions) Reporter {
	return ReporterFunc(func(w io.Writer, run *results.Run) error { return LoadTable(w, run, opts) })
}

var _ Reporter = LoadTableReporter(TableOptions{})

// A sampled conversation takes two lines, its name and what went wrong,
// each cut to fit a 100-column terminal; the JSON record keeps the whole
// text.
const (
	sampleIndent   = "             " // under the name, past "  UNFINISHED "
	maxSampleRunes = 100 - len(sampleIndent)
)

// LoadTable writes the end of a load run: two lines describing the workload
// and what became of it, a latency table with a row per turn index, then all
// turns, whole conversations and session creation (count, error %, p50, p90,
// p95, p99 and max, the service-time p95 and p99 when they differ from the
// latency, and completions per second), the thresholds with what was measured
// for each, and the sampled conversations that did not pass. Like Table it
// holds no timestamps: the same record always renders the same bytes.
func LoadTable(w io.Writer, run *results.Run, opts TableOptions) error {
	if run == nil {
		return errors.New("report: load table: no run")
	}
	load := run.Load
	if load == nil {
		return errors.New("report: load table: the run has no load record")
	}

	var buf bytes.Buffer
	var workload bytes.Buffer
	writeWorkload(&workload, run)
	for _, line := range strings.Split(strings.TrimSuffix(workload.String(), "\n"), "\n") {
		for _, l := range textwrap.Lines(line, opts.Width, "  ") {
			buf.WriteString(l + "\n")
		}
	}
	buf.WriteByte('\n')
	if err := writeLatencyTable(&buf, load, opts); err != nil {
		return fmt.Errorf("report: load table: %w", err)
	}
	if len(load.Thresholds) > 0 {
		buf.WriteByte('\n')
		if err := writeThresholds(&buf, load.Thresholds, opts); err != nil {
			return fmt.Errorf("report: load table: %w", err)
		}
	}
	if line := JudgeLine(run.Summary.Judge); line != "" {
		buf.WriteString(line + "\n")
	}
	writeSample(&buf, run, opts)
	_, err := w.Write(buf.Bytes())
	return err
}

// writeWorkload is, for the open model,
//
//	Open model: target 50.0/s, achieved 49.8/s, stages 30s:50 1m0s:50, at most 200 in flight
//	Ran 1m0s + 10s grace: 2991 started, 12 late, 0 dropped; 98.2% passed, 0.4% of requests errored
//
// and for the closed one "Closed model: 20 virtual users, think time 1s".
func writeWorkload(b *bytes.Buffer, run *results.Run) {
	load := run.Load
	var what []string
	switch load.Model {
	case "closed":
		what = append(what, "Closed model: "+plural(load.VUs, "virtual user"))
		if load.ThinkTimeMS > 0 {
			what = append(what, "think time "+formatSpan(load.ThinkTimeMS))
		}
	default:
		model := "Open model"
		if load.Model != "open" && load.Model != "" {
			model = "Model " + oneLine(load.Model)
		}
		target := load.TargetRate
		if target == 0 {
			target = load.Rate
		}
		what = append(what, model+": target "+formatRate(target), "achieved "+formatRate(load.AchievedRate))
		if len(load.Stages) > 0 {
			stages := make([]string, len(load.Stages))
			for i, s := range load.Stages {
				stages[i] = formatSpan(s.DurationMS) + ":" + strconv.FormatFloat(s.Target, 'f', -1, 64)
			}
			what = append(what, "stages "+strings.Join(stages, " "))
		}
	}
	if load.MaxInFlight > 0 {
		what = append(what, "at most "+strconv.Itoa(load.MaxInFlight)+" in flight")
	}
	if len(load.Shards) > 0 {
		what = append(what, "merged from "+plural(len(load.Shards), "run"))
	}
	b.WriteString(strings.Join(what, ", ") + "\n")

	ran := "Ran " + formatSpan(load.DurationMS)
	switch {
	case run.Interrupted != "" && run.Test != nil && run.Test.RanMS > 0:
		// How long it really ran: a stopped shard did not play the plan's
		// window, and no grace period followed.
		ran = "Ran " + formatSpan(run.Test.RanMS) + " of " + formatSpan(load.DurationMS) + " (stopped early: " + oneLine(run.Interrupted) + ")"
	case load.GraceMS > 0:
		// How much of the grace period the conversations in flight used,
		// when they did not need all of it.
		if drain := max(run.DurationMS-load.DurationMS, 0); drain < load.GraceMS {
			ran += " + " + formatSpan(drain) + " of " + formatSpan(load.GraceMS) + " grace"
		} else {
			ran += " + " + formatSpan(load.GraceMS) + " grace"
		}
	}
	stopped := StoppedParts(run.Test)
	if run.Interrupted != "" && (run.Test == nil || run.Test.RanMS == 0) && len(stopped) == 0 {
		ran += " (stopped early: " + oneLine(run.Interrupted) + ")"
	}
	counts := []string{strconv.Itoa(load.Started) + " started"}
	if load.Model != "closed" || load.Late > 0 {
		counts = append(counts, strconv.Itoa(load.Late)+" late")
	}
	if load.Model != "closed" || load.Dropped > 0 {
		counts = append(counts, strconv.Itoa(load.Dropped)+" dropped")
	}
	line := ran + ": " + strings.Join(counts, ", ")
	var rates []string
	if r := run.Summary.PassRate; r != nil {
		rates = append(rates, formatPercent(*r)+" passed")
	}
	if r := run.Summary.ErrorRate; r != nil {
		rates = append(rates, formatPercent(*r)+" of requests errored")
	}
	if len(rates) > 0 {
		line += "; " + strings.Join(rates, ", ")
	}
	b.WriteString(line + "\n")
	// A merge ran its whole window but for the parts that were stopped:
	// which, and how long they ran, is what the run was short of.
	for _, p := range stopped {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:] + "\n")
	}
	if line := partsLine(run.Test); line != "" {
		b.WriteString(line + "\n")
	}
	if run.Incomplete != nil {
		b.WriteString("INCOMPLETE: " + incompleteText(run.Incomplete) + "\n")
	}
}

// StoppedParts says, of a merged record, which parts were stopped early,
// after how long and why: "shard 2/4 stopped early after 4.1s: terminated
// (SIGTERM)". Empty for a record that is not merged or whose parts all ran
// to the end.
func StoppedParts(t *results.Test) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, p := range t.Parts {
		if p.Interrupted == "" {
			continue
		}
		what := PartName(p) + " stopped early"
		if p.RanMS > 0 {
			what += " after " + formatSpan(p.RanMS)
		}
		out = append(out, what+": "+oneLine(p.Interrupted))
	}
	return out
}

// PartName is how reports call a part of a merged record: "shard 2/4", or
// "the whole run" for one that was not a shard.
func PartName(p results.Part) string {
	if p.Shard == nil {
		return "the whole run"
	}
	return "shard " + strconv.Itoa(p.Shard.Index) + "/" + strconv.Itoa(p.Shard.Count)
}

// onTimeMS is how late a start may be and still count as on time: the
// jitter of a timer and a scheduler, load.LateAfter, which every real
// start has. The record keeps the exact figure; reports say nothing below
// it, or every shard would read as late.
const onTimeMS = 10

// partsLine says when the parts of a merged record started, if not all at
// once and on time: "Shards started within 1.2s of each other; shard 2
// started 300ms late, shard 3 1.1s late". A shard's own record says when it
// started late. Empty when there is nothing to say.
func partsLine(t *results.Test) string {
	if t == nil {
		return ""
	}
	if len(t.Parts) == 0 {
		if t.LateMS >= onTimeMS {
			return "Started " + formatSkew(t.LateMS) + " after the planned start"
		}
		return ""
	}
	var what []string
	if t.StartSkewMS >= onTimeMS {
		what = append(what, "Shards started within "+formatSkew(t.StartSkewMS)+" of each other")
	}
	var late []string
	for _, p := range t.Parts {
		if p.LateMS < onTimeMS {
			continue
		}
		who := "the whole run"
		if p.Shard != nil {
			who = "shard " + strconv.Itoa(p.Shard.Index)
		}
		if len(late) == 0 {
			late = append(late, who+" started "+formatSkew(p.LateMS)+" late")
		} else {
			late = append(late, who+" "+formatSkew(p.LateMS)+" late")
		}
	}
	if len(late) > 0 {
		what = append(what, strings.Join(late, ", "))
	}
	line := strings.Join(what, "; ")
	if line != "" {
		line = strings.ToUpper(line[:1]) + line[1:]
	}
	return line
}

// incompleteText is how every report says which shards a record merged
// with --allow-partial lacks: "shards 1, 3 of 4 missing; the figures are
// those of 2 of 4 shards' load".
func incompleteText(inc *results.Incomplete) string {
	ks := make([]string, len(inc.Missing))
	for i, k := range inc.Missing {
		ks[i] = strconv.Itoa(k)
	}
	what := "shard "
	if len(ks) != 1 {
		what = "shards "
	}
	return fmt.Sprintf("%s%s of %d missing; the figures are those of %d of %d shards' load", what, strings.Join(ks, ", "), inc.Shards,
		max(inc.Shards-len(inc.Missing), 0), inc.Shards)
}

// Columns of the latency table that go, in this order, when it is wider
// than the screen: P90 sits between P50 and P95; the service-time tail and
// the maximum matter less than the latency's percentiles; rates and counts
// are in the workload lines above. The label, ERR %, P95 and P99 stay.
var loadDropOrder = []string{"P90", "SVC P99", "MAX", "SVC P95", "PER S", "P50", "COUNT"}

// writeLatencyTable writes a row per turn index and a footer with all turns,
// whole conversations and session creation. The service-time columns are
// left out when they would repeat the latency (the closed model, where every
// turn is sent when it is due), and columns go in loadDropOrder while the
// table is wider than opts.Width.
func writeLatencyTable(b *bytes.Buffer, load *results.Load, opts TableOptions) error {
	rows := loadRows(load)
	service := showsService(rows)

	header := []string{"", "COUNT", "ERR %", "P50", "P90", "P95", "P99", "MAX"}
	if service {
		header = append(header, "SVC P95", "SVC P99")
	}
	header = append(header, "PER S")
	seconds := measuredSeconds(load)
	row := func(r loadRow) []string {
		return append([]string{r.label}, loadCells(r, load, seconds, service)...)
	}

	var body [][]string
	for _, r := range rows[:len(load.Turns)] {
		body = append(body, row(r))
	}
	// The aggregates go in the footer, one cell of three lines per column,
	// so a rule separates them from the per-turn rows.
	footer := make([][]string, 0, len(header))
	for _, r := range rows[len(load.Turns):] {
		for i, c := range row(r) {
			if i == len(footer) {
				footer = append(footer, nil)
			}
			footer[i] = append(footer[i], c)
		}
	}

	keep := keptColumns(header, body, footer, opts.Width)
	pick := func(cells []string) []string {
		out := make([]string, 0, len(keep))
		for _, i := range keep {
			out = append(out, cells[i])
		}
		return out
	}
	shown := pick(header)
	aligns := make([]tw.Align, len(shown))
	for i := range aligns {
		aligns[i] = tw.AlignRight
	}
	aligns[0] = tw.AlignLeft
	table := newTable(b, aligns, opts.ASCII)
	headerCells := make([]any, len(shown))
	for i, h := range shown {
		headerCells[i] = h
	}
	table.Header(headerCells...)
	for _, cells := range body {
		if err := table.Append(pick(cells)); err != nil {
			return err
		}
	}
	cells := make([]string, 0, len(keep))
	for _, i := range keep {
		cells = append(cells, strings.Join(footer[i], "\n"))
	}
	table.Footer(cells)
	if err := table.Render(); err != nil {
		return err
	}
	service = slices.Contains(shown, "SVC P95") || slices.Contains(shown, "SVC P99")
	if service {
		note := "Latency counts from when a turn was due, so a backed-up generator cannot hide " +
			"waiting (coordinated omission); SVC counts from when it was sent."
		if opts.Width <= 0 || opts.Width >= 80 {
			// The usual two lines, as they read best.
			b.WriteString("Latency counts from when a turn was due, so a backed-up generator cannot hide\n" +
				"waiting (coordinated omission); SVC counts from when it was sent.\n")
		} else {
			for _, line := range textwrap.Lines(note, opts.Width, "") {
				b.WriteString(line + "\n")
			}
		}
	}
	return nil
}

// keptColumns returns the indexes of the columns of the latency table to
// show: all of them when the table fits in width (0: anything fits), else
// all but those loadDropOrder takes away first, as few as make it fit, or
// as many as it names when nothing does.
func keptColumns(header []string, body, footer [][]string, width int) []int {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = twwidth.Width(h)
		for _, cells := range body {
			widths[i] = max(widths[i], twwidth.Width(cells[i]))
		}
		for _, l := range footer[i] {
			widths[i] = max(widths[i], twwidth.Width(l))
		}
	}
	dropped := map[string]bool{}
	kept := func() []int {
		var keep []int
		for i, h := range header {
			if !dropped[h] {
				keep = append(keep, i)
			}
		}
		return keep
	}
	fits := func(keep []int) bool {
		ws := make([]int, len(keep))
		for j, i := range keep {
			ws[j] = widths[i]
		}
		return tableWidth(ws...) <= width
	}
	keep := kept()
	for _, name := range loadDropOrder {
		if width <= 0 || fits(keep) {
			break
		}
		if slices.Contains(header, name) {
			dropped[name] = true
			keep = kept()
		}
	}
	return keep
}

type loadRow struct {
	label string
	stats results.TurnStats
	all   bool // the all-turns row, whose rate is the record's throughput
}

// loadRows are the per-turn rows, then all turns, conversations and sessions.
func loadRows(load *results.Load) []loadRow {
	rows := make([]loadRow, 0, len(load.Turns)+3)
	for i, s := range load.Turns {
		n := s.Index
		if n <= 0 {
			n = i + 1
		}
		rows = append(rows, loadRow{label: "turn " + strconv.Itoa(n), stats: s})
	}
	return append(rows,
		loadRow{label: "all turns", stats: load.Overall, all: true},
		loadRow{label: "conversations", stats: load.Conversation},
		loadRow{label: "sessions", stats: load.Session},
	)
}

// measuredSeconds is the span the record's throughput was measured over, so
// every row's rate is counted over the same time as the all-turns one.
func measuredSeconds(load *results.Load) float64 {
	if load.Throughput > 0 && load.Overall.Count > 0 {
		return float64(load.Overall.Count) / load.Throughput
	}
	return load.DurationMS / 1000
}

// writeThresholds writes a table of every threshold, what was measured and
// whether it held, then a line counting them. Expressions are cut, keeping
// their start, to fit opts.Width.
func writeThresholds(b *bytes.Buffer, ths []results.Threshold, opts TableOptions) error {
	aligns := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignLeft}
	options := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	}
	if opts.ASCII {
		options = append(options, tablewriter.WithSymbols(tw.NewSymbols(tw.StyleASCII)))
	}
	table := tablewriter.NewTable(b, options...)
	table.Header("THRESHOLD", "MEASURED", "RESULT")
	pass, fail, missing := "✓ PASS", "✗ FAIL", "? MISSING"
	if opts.ASCII {
		pass, fail, missing = "PASS", "FAIL", "MISSING"
	}
	type line struct {
		expr, measured, verdict string
		status                  results.Status
	}
	var lines []line
	exprWidth, measuredWidth, verdictWidth := len("THRESHOLD"), len("MEASURED"), len("RESULT")
	passed, failed, absent := 0, 0, 0
	for _, th := range ths {
		l := line{expr: truncateMark(oneLine(th.Expr), maxNameRunes, opts), measured: formatMeasured(th)}
		switch {
		case th.Missing:
			absent++
			l.verdict, l.status = missing, results.Flaky
		case th.Passed:
			passed++
			l.verdict, l.status = pass, results.Passed
		default:
			failed++
			l.verdict, l.status = fail, results.Failed
		}
		exprWidth = max(exprWidth, twwidth.Width(l.expr))
		measuredWidth = max(measuredWidth, twwidth.Width(l.measured))
		verdictWidth = max(verdictWidth, twwidth.Width(l.verdict))
		lines = append(lines, l)
	}
	if opts.Width > 0 {
		exprWidth = max(len("THRESHOLD"), min(exprWidth, opts.Width-tableWidth(measuredWidth, verdictWidth)-3))
	}
	for _, l := range lines {
		row := []string{cut(l.expr, exprWidth, opts), l.measured, colorize(opts, verdictColors[l.status], l.verdict)}
		if err := table.Append(row); err != nil {
			return err
		}
	}
	if err := table.Render(); err != nil {
		return err
	}
	summary := []string{strconv.Itoa(passed) + " passed", strconv.Itoa(failed) + " failed"}
	if absent > 0 {
		summary = append(summary, strconv.Itoa(absent)+" without data")
	}
	b.WriteString("Thresholds: " + strings.Join(summary, ", ") + "\n")
	return nil
}

// writeSample lists, one a line, the conversations the record kept because
// they did not pass, and how many there were in all.
func writeSample(b *bytes.Buffer, run *results.Run, opts TableOptions) {
	var sample []*results.Conversation
	for _, c := range conversations(run) {
		switch c.Status {
		case results.Failed, results.Errored, results.Flaky, results.Unfinished:
			sample = append(sample, c)
		}
	}
	if len(sample) == 0 {
		return
	}
	s := run.Summary
	total := s.Failed + s.Errored + s.Flaky + s.Unfinished
	b.WriteString("\nConversations that did not pass")
	if total > len(sample) {
		fmt.Fprintf(b, " (%d of %d)", len(sample), total)
	}
	b.WriteString(":\n")
	room := maxSampleRunes
	if opts.Width > 0 {
		room = max(min(room, opts.Width-len(sampleIndent)), 1)
	}
	for _, c := range sample {
		label := verdictLabel(c.Status)
		pad := strings.Repeat(" ", max(len(sampleIndent)-3-len(label), 0))
		b.WriteString("  " + paint(opts, c.Status, label) + pad + " " +
			cut(oneLine(c.Suite)+" / "+oneLine(c.Name), room, opts) + "\n")
		if why := sampleReason(c); why != "" {
			b.WriteString(sampleIndent + cut(oneLine(why), room, opts) + "\n")
		}
	}
}

// sampleReason is the first thing that went wrong in c; for an errored
// conversation, the error.
func sampleReason(c *results.Conversation) string {
	if slices.Contains(c.Turns, nil) {
		// A record ReadRecord did not check: report what there is.
		whole := *c
		whole.Turns = slices.DeleteFunc(slices.Clone(c.Turns), func(t *results.Turn) bool { return t == nil })
		c = &whole
	}
	failures := c.Failures()
	if c.Status == results.Errored {
		for _, f := range failures {
			if f.Check == "error" {
				return failureText(f)
			}
		}
	}
	if len(failures) > 0 {
		return failureText(failures[0])
	}
	return c.Reason
}

// formatMeasured prints a threshold's measured value in its unit: latencies
// to three significant digits ("1.83s", "812ms"), error and pass rates as
// percentages ("0.4%"), throughputs per second ("49.8/s"), counts as
// integers ("0").
func formatMeasured(th results.Threshold) string {
	v := th.Measured
	switch {
	case th.Missing || math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case th.Unit == "ms":
		return formatPreciseMS(v)
	case th.Unit != "":
		return formatNumber(v) + " " + oneLine(th.Unit)
	}
	switch thresholdMetric(th.Expr) {
	case "error_rate", "pass_rate":
		return formatPercent(v)
	case "throughput", "achieved_rate":
		return formatNumber(v) + "/s"
	}
	return formatNumber(v)
}

// thresholdMetric is the metric an expression starts with: "error_rate" of
// "error_rate < 1%". The record keeps the expression, not the parsed
// threshold, and only the unit of latencies.
func thresholdMetric(expr string) string {
	expr = strings.TrimSpace(expr)
	end := strings.IndexFunc(expr, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if end < 0 {
		end = len(expr)
	}
	return strings.ToLower(expr[:end])
}

// formatPreciseMS is formatMS with three significant digits, for comparing a
// measured latency with a threshold's bound: "4.21ms", "812ms", "1.83s".
func formatPreciseMS(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0:
		return "-"
	case ms == 0:
		return "0ms"
	case ms < 9.995:
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	case ms < 99.95:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	case ms < 999.5:
		return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
	case ms < 9_995:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	case ms < 59_950:
		return strconv.FormatFloat(ms/1000, 'f', 1, 64) + "s"
	}
	return time.Duration(ms * float64(time.Millisecond)).Round(100 * time.Millisecond).String()
}

// formatPercent prints a fraction as a percentage with up to three
// significant digits: 0.004 is "0.4%", 0.98234 is "98.2%", 1 is "100%".
func formatPercent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	p := f * 100
	if p == 0 {
		return "0%"
	}
	digits := 2 - int(math.Floor(math.Log10(math.Abs(p))))
	digits = min(max(digits, 0), 4)
	s := strconv.FormatFloat(p, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + "%"
}

// formatErrorPercent is a fraction as a percentage with at most two
// decimals, short enough for a table column, and never rounded to zero:
// "0%", "<0.01%", "0.84%", "12.5%".
func formatErrorPercent(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0) || f < 0:
		return "-"
	case f == 0:
		return "0%"
	case f < 0.0001:
		return "<0.01%"
	}
	s := strconv.FormatFloat(f*100, 'f', 2, 64)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".") + "%"
}

// formatNumber prints a count as an integer and anything else with up to
// four significant digits, never with an exponent.
func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	digits := 3 - int(math.Floor(math.Log10(math.Abs(v))))
	s := strconv.FormatFloat(v, 'f', max(digits, 0), 64)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// formatRate is "49.8/s".
func formatRate(r float64) string {
	return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
}

// formatPerSecond is a rate without its unit, for the PER S column.
func formatPerSecond(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// formatSpan prints a configured span as it would be written on the command
// line: "30s", "1m0s", "1.5s".
func formatSpan(ms float64) string {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0 {
		return "-"
	}
	return time.Duration(ms * float64(time.Millisecond)).Round(100 * time.Millisecond).String()
}

// formatSkew prints how far apart two starts were: as formatSpan from a
// second on, and in milliseconds below, where formatSpan's tenths of a
// second would say "0s" of shards that did start apart.
func formatSkew(ms float64) string {
	if !(ms >= 0 && ms < 1000) {
		return formatSpan(ms)
	}
	if ms > 0 && ms < 1 {
		return "<1ms"
	}
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Millisecond).String()
}

// colorize wraps text in an ANSI colour when opts asks for colour.
func colorize(opts TableOptions, code, text string) string {
	if !opts.Color || code == "" {
		return text
	}
	return code + text + "\x1b[0m"
}

// showsService reports whether any row's service latency differs from its
// latency (the open model's lateness), which is when the service columns
// say something.
func showsService(rows []loadRow) bool {
	for _, r := range rows {
		if r.stats.ServiceMS != r.stats.LatencyMS {
			return true
		}
	}
	return false
}

// loadCells are a load row's figures after its label, as the terminal and
// Markdown tables show them: count, error share, latency percentiles (and
// service ones when service), per second. A row whose every sample errored
// shows no latency: 0ms would read as a fast service.
func loadCells(r loadRow, load *results.Load, seconds float64, service bool) []string {
	s := r.stats
	cells := []string{strconv.FormatInt(s.Count, 10)}
	blank := 6
	if service {
		blank += 2
	}
	switch {
	case s.Count <= 0:
		cells = append(cells, slices.Repeat([]string{"-"}, blank)...)
	case s.Count == s.Errors:
		cells = append(cells, formatErrorPercent(1))
		cells = append(cells, slices.Repeat([]string{"-"}, blank-1)...)
	default:
		l := s.LatencyMS
		cells = append(cells,
			formatErrorPercent(float64(s.Errors)/float64(s.Count)),
			formatMS(l.P50), formatMS(l.P90), formatMS(l.P95), formatMS(l.P99), formatMS(l.Max))
		if service {
			cells = append(cells, formatMS(s.ServiceMS.P95), formatMS(s.ServiceMS.P99))
		}
	}
	perSecond := "-"
	switch {
	case r.all && load.Throughput > 0:
		perSecond = formatPerSecond(load.Throughput)
	case seconds > 0 && s.Count > 0:
		perSecond = formatPerSecond(float64(s.Count) / seconds)
	}
	return append(cells, perSecond)
}
