package report

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

// GitHub's limits on a Markdown body. A PR or issue comment may hold 65,536
// characters and a job's step summary 1 MiB. The report measures itself in
// bytes: a UTF-8 byte count is never below the character count, however
// GitHub counts characters (code points or UTF-16 units), so a document
// within MarkdownCommentLimit bytes always fits a comment.
const (
	MarkdownCommentLimit     = 65_536
	MarkdownStepSummaryLimit = 1 << 20
)

// MarkdownMinLimit is the smallest MaxBytes Markdown accepts: room for the
// verdict, the comparison's counts and the note on what was left out.
const MarkdownMinLimit = 2048

// MarkdownOptions controls the Markdown report.
type MarkdownOptions struct {
	// MaxBytes bounds the document's size in bytes. Zero means
	// MarkdownCommentLimit, the stricter of GitHub's limits; a negative
	// value means no bound. A positive value below MarkdownMinLimit is an
	// error.
	MaxBytes int
	// FullReport says where the whole record can be read (a file name such
	// as "evalrun.html", or an https URL to a CI artifact). The note that
	// ends a shortened document points there; when empty it points to the
	// JSON record.
	FullReport string
}

// MarkdownReporter returns the Markdown report, with opts, as a Reporter.
func MarkdownReporter(opts MarkdownOptions) Reporter {
	return ReporterFunc(func(w io.Writer, run *results.Run) error { return Markdown(w, run, opts) })
}

var _ Reporter = MarkdownReporter(MarkdownOptions{})

// Longest texts the Markdown prints, in runes, before the byte budget is
// even considered: a cell stays readable, a transcript's reply stays a
// reply and not a page. The JSON record keeps the whole text.
const (
	mdNameRunes   = 100
	mdCellRunes   = 300
	mdTextRunes   = 2000
	mdLineRunes   = 160 // a transcript line longer than this is wrapped
	mdNoteRunes   = 300
	mdBaseIDRunes = 60
)

// Markdown writes run as GitHub-flavoured Markdown for a step summary or a
// pull-request comment: a one-line verdict, the comparison with a baseline
// when there is one, a table of failures (turn, check, expected, got), the
// transcripts of the conversations that did not pass in collapsed
// <details>, the latency, and for load runs the workload, the per-turn
// latency and the thresholds.
//
// Everything that comes from a bot, a suite or a record is escaped so that
// it reads as the text it is: it cannot end a table cell, open a link or an
// image, emit HTML (our <details> are the only tags in the document),
// mention a GitHub user or team, or close a code block.
//
// When the whole document would exceed the limit, whole items are left out,
// transcripts first and then the tail of the failures, and a closing note
// says what is missing and where to read it. Like Table the output holds
// nothing but the record: the same run renders the same bytes.
func Markdown(w io.Writer, run *results.Run, opts MarkdownOptions) error {
	if run == nil {
		return errors.New("report: markdown: no run")
	}
	limit := opts.MaxBytes
	switch {
	case limit == 0:
		limit = MarkdownCommentLimit
	case limit < 0:
		limit = math.MaxInt
	case limit < MarkdownMinLimit:
		return fmt.Errorf("report: markdown: a limit of %d bytes is too small; it must be at least %d", limit, MarkdownMinLimit)
	}

	doc := markdownDoc(run)
	out, err := doc.fit(limit, opts)
	if err != nil {
		return fmt.Errorf("report: markdown: %w", err)
	}
	_, err = io.WriteString(w, out)
	return err
}

// mdSection is one part of the document: a head written before its first
// item, items that can be left out from the tail, and a foot after the last
// item kept. A section with no item kept is left out whole.
type mdSection struct {
	// priority orders what is kept when space runs out: lower first. The
	// section with priority 0 is the verdict and is always written.
	priority int
	head     string
	items    []string
	foot     string
	// what names an item for the note, singular and plural: "failure",
	// "failures". whole names the section instead when it has one item
	// ("the thresholds").
	what, whats string
	whole       string
}

type mdDoc struct {
	sections []*mdSection
}

// fit renders the sections in document order within limit bytes. It keeps
// items by priority, in order within each section, and stops at the first
// item that does not fit, so that nothing of lower priority is kept while
// something more important was dropped. When anything was left out, it
// appends a note saying what.
func (d *mdDoc) fit(limit int, opts MarkdownOptions) (string, error) {
	full := d.render(nil)
	if len(full) <= limit {
		return full, nil
	}
	order := slices.Clone(d.sections)
	slices.SortStableFunc(order, func(a, b *mdSection) int { return a.priority - b.priority })

	// The note's length depends on what is left out, which depends on the
	// room the note leaves: leave room for the last note and try again
	// until it fits. The budget shrinks every round, so this ends, at
	// worst when not even the verdict fits.
	budget := limit
	for {
		kept := d.choose(order, budget)
		if kept == nil {
			return "", fmt.Errorf("the verdict alone does not fit in %d bytes", limit)
		}
		note := d.note(kept, limit, opts)
		out := d.render(kept) + note
		if len(out) <= limit {
			return out, nil
		}
		budget = min(budget-(len(out)-limit), limit-len(note))
	}
}

// choose returns how many items of each section fit in budget bytes, or nil
// when not even the verdict fits.
func (d *mdDoc) choose(order []*mdSection, budget int) map[*mdSection]int {
	kept := make(map[*mdSection]int, len(d.sections))
	size := 0
	for _, s := range order {
		if s.priority == 0 {
			size += len(s.head) + len(s.foot)
			for _, it := range s.items {
				size += len(it)
			}
			kept[s] = len(s.items)
		}
	}
	if size > budget {
		return nil
	}
	for _, s := range order {
		if s.priority == 0 {
			continue
		}
		for i, it := range s.items {
			add := len(it)
			if i == 0 {
				add += len(s.head) + len(s.foot)
			}
			if size+add > budget {
				return kept
			}
			size += add
			kept[s] = i + 1
		}
	}
	return kept
}

// render writes the sections, with every item when kept is nil and
// otherwise with kept[s] items of each.
func (d *mdDoc) render(kept map[*mdSection]int) string {
	var b strings.Builder
	for _, s := range d.sections {
		n := len(s.items)
		if kept != nil {
			n = kept[s]
		}
		if n == 0 && s.priority != 0 {
			continue // an empty table or list is left out, head and all
		}
		b.WriteString(s.head)
		for _, it := range s.items[:n] {
			b.WriteString(it)
		}
		b.WriteString(s.foot)
	}
	return b.String()
}

// note says what fit left out and where to read it, or is empty when
// nothing was.
func (d *mdDoc) note(kept map[*mdSection]int, limit int, opts MarkdownOptions) string {
	if kept == nil {
		return ""
	}
	var left []string
	for _, s := range d.sections {
		dropped := len(s.items) - kept[s]
		switch {
		case dropped <= 0:
		case s.whole != "":
			left = append(left, s.whole)
		case kept[s] == 0 && dropped > 1:
			left = append(left, "all "+strconv.Itoa(dropped)+" "+s.whats)
		case kept[s] == 0:
			left = append(left, "the "+s.what)
		case dropped == 1:
			left = append(left, "1 more "+s.what)
		default:
			left = append(left, strconv.Itoa(dropped)+" more "+s.whats)
		}
	}
	if len(left) == 0 {
		return ""
	}
	where := "the JSON record (`--json FILE`)"
	if opts.FullReport != "" {
		where = mdLink(opts.FullReport)
	}
	return "---\n\n> [!NOTE]\n> This summary was shortened to fit in " + mdCount(limit) + " bytes. Left out: " +
		mdJoin(left) + ". Everything is in " + where + ".\n"
}

// mdLink is where the full report is: an https URL as a link, anything else
// as code.
func mdLink(where string) string {
	if strings.HasPrefix(where, "https://") && !strings.ContainsFunc(where, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("<>\"'`\\", r) || unicode.IsControl(r)
	}) {
		return "<" + where + ">"
	}
	return mdCode(where, false)
}

// mdJoin is "a", "a and b", "a, b and c".
func mdJoin(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// mdCount is a count with thousands separators: "65,536".
func mdCount(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// markdownDoc lays the run out as sections, in the order they are read.
func markdownDoc(run *results.Run) *mdDoc {
	convs := conversations(run)
	var notPassing []*results.Conversation
	for _, c := range convs {
		if mdShowsTranscript(c.Status) {
			notPassing = append(notPassing, c)
		}
	}

	d := &mdDoc{}
	add := func(s *mdSection) { d.sections = append(d.sections, s) }

	add(&mdSection{priority: 0, head: mdVerdict(run) + mdContext(run) + mdComparisonHead(run.Comparison)})
	if cmp := run.Comparison; cmp != nil {
		add(mdComparisonNotes(cmp))
		add(mdChanges(cmp))
		add(mdLatencyChanges(cmp))
	}
	add(mdFailures(run, notPassing))
	add(mdTranscripts(notPassing))
	if run.Load == nil {
		add(mdLatency(run))
	} else {
		add(mdLoad(run))
		add(mdThresholds(run.Load.Thresholds))
	}
	return d
}

func mdShowsTranscript(s results.Status) bool {
	switch s {
	case results.Failed, results.Errored, results.Flaky, results.Unfinished:
		return true
	}
	return false
}

// mdVerdict is the first line: a heading with one sign and what the run
// came to, the way the exit code judges it. With a baseline only
// regressions and errors fail the build; conversations that failed before
// too are counted but marked as such.
func mdVerdict(run *results.Run) string {
	s := run.Summary
	cmp := run.Comparison
	bad := s.Failed + s.Errored + s.Unfinished
	ran := s.Conversations - s.Skipped

	var thresholds, thresholdsFailed, thresholdsMissing int
	if run.Load != nil {
		for _, th := range run.Load.Thresholds {
			thresholds++
			switch {
			case th.Missing:
				thresholdsMissing++
			case !th.Passed:
				thresholdsFailed++
			}
		}
	}

	var parts []string
	switch {
	case s.Conversations == 0:
		parts = append(parts, "no conversations ran")
	case bad == 0 && ran == 0:
		parts = append(parts, "all "+plural(s.Conversations, "conversation")+" skipped")
	case bad == 0 && ran == 1:
		parts = append(parts, "the 1 conversation passed")
	case bad == 0:
		parts = append(parts, "all "+strconv.Itoa(ran)+" conversations passed")
	default:
		var counts, names []string
		for _, k := range []struct {
			n    int
			name string
		}{{s.Failed, "failed"}, {s.Errored, "errored"}, {s.Unfinished, "unfinished"}} {
			if k.n > 0 {
				counts = append(counts, strconv.Itoa(k.n)+" "+k.name)
				names = append(names, k.name)
			}
		}
		head := strconv.Itoa(bad) + " of " + plural(s.Conversations, "conversation")
		if len(names) == 1 {
			head += " " + names[0] // "2 of 6 conversations failed"
		} else {
			head += " did not pass (" + strings.Join(counts, ", ") + ")"
		}
		parts = append(parts, head)
	}
	if s.Flaky > 0 {
		parts = append(parts, strconv.Itoa(s.Flaky)+" flaky")
	}
	if s.Skipped > 0 && ran > 0 {
		parts = append(parts, strconv.Itoa(s.Skipped)+" skipped")
	}
	switch {
	case thresholdsFailed > 0:
		parts = append(parts, strconv.Itoa(thresholdsFailed)+" of "+plural(thresholds, "threshold")+" not met")
	case thresholds == 1 && thresholdsMissing == 0:
		parts = append(parts, "the threshold met")
	case thresholds > 0 && thresholdsMissing == 0:
		parts = append(parts, "all "+strconv.Itoa(thresholds)+" thresholds met")
	}
	if thresholdsMissing > 0 {
		parts = append(parts, strconv.Itoa(thresholdsMissing)+" without data")
	}
	if cmp != nil {
		base := "baseline " + mdCode(truncate(cmp.BaselineRunID, mdBaseIDRunes), false)
		if cmp.BaselineRunID == "" {
			base = "the baseline"
		}
		switch n := len(cmp.Regressed); n {
		case 0:
			parts = append(parts, "no regressions against "+base)
		case 1:
			parts = append(parts, "1 regression against "+base)
		default:
			parts = append(parts, strconv.Itoa(n)+" regressions against "+base)
		}
		if n := len(cmp.Fixed); n > 0 {
			parts = append(parts, strconv.Itoa(n)+" fixed")
		}
	}
	var stopped []string
	if run.Test != nil {
		for _, p := range run.Test.Parts {
			if p.Interrupted != "" {
				stopped = append(stopped, PartName(p))
			}
		}
	}
	switch {
	case len(stopped) > 0:
		// A merge: which parts stopped (the workload lines say when and
		// why); the merge itself ran to its end.
		parts = append(parts, mdText(truncate(strings.Join(stopped, ", "), mdNameRunes))+" stopped early")
	case run.Interrupted != "":
		parts = append(parts, "stopped early ("+mdText(truncate(run.Interrupted, mdNameRunes))+")")
	}
	if inc := run.Incomplete; inc != nil {
		parts = append(parts, "incomplete: "+plural(len(inc.Missing), "shard")+" of "+strconv.Itoa(inc.Shards)+" missing")
	}

	failing := bad > 0 || thresholdsFailed > 0 || run.Interrupted != ""
	if cmp != nil {
		// The baseline decides: what failed before as well does not fail
		// the build, a regression or an error does.
		failing = len(cmp.Regressed) > 0 || s.Errored > 0 || s.Unfinished > 0 ||
			thresholdsFailed > 0 || run.Interrupted != ""
	}
	sign := "✅"
	switch {
	case failing:
		sign = "❌"
	case s.Conversations == 0, bad > 0, s.Flaky > 0, thresholdsMissing > 0, run.Incomplete != nil:
		// Nothing to judge, only failures the baseline already had, flaky
		// passes, thresholds without data or a merge short of shards: not
		// a failure, but not a clean pass either.
		sign = "⚠️"
	}
	return "### " + sign + " " + strings.Join(parts, ", ") + "\n\n"
}

// mdContext is the line under the verdict: which run, when, how long, how
// much.
func mdContext(run *results.Run) string {
	var bits []string
	if run.RunID != "" {
		bits = append(bits, "Run "+mdCode(truncate(run.RunID, mdBaseIDRunes), false))
	}
	if !run.StartedAt.IsZero() {
		bits = append(bits, "started "+run.StartedAt.UTC().Format("2006-01-02 15:04:05")+" UTC")
	}
	if run.DurationMS > 0 {
		bits = append(bits, "took "+formatMS(run.DurationMS))
	}
	if n := len(run.Suites); n > 0 {
		bits = append(bits, plural(n, "suite"))
	}
	s := run.Summary
	if s.Turns > 0 {
		turns := plural(s.Turns, "turn")
		if s.TurnErrors > 0 {
			turns += " (" + strconv.Itoa(s.TurnErrors) + " errored)"
		}
		bits = append(bits, turns)
	}
	if len(bits) == 0 {
		return ""
	}
	return strings.Join(bits, " · ") + "\n\n"
}

// mdComparisonHead is the comparison's heading and its counts: part of
// the verdict, so that the counts are there however little else fits.
func mdComparisonHead(cmp *results.Comparison) string {
	if cmp == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("#### Compared with baseline")
	if cmp.BaselineRunID != "" {
		b.WriteString(" " + mdCode(truncate(cmp.BaselineRunID, mdBaseIDRunes), false))
	}
	if cmp.BaselineFile != "" {
		b.WriteString(" (" + mdCode(truncate(cmp.BaselineFile, mdNameRunes), false) + ")")
	}
	b.WriteString("\n\n")
	counts := []string{
		strconv.Itoa(len(cmp.Regressed)) + " regressed",
		strconv.Itoa(len(cmp.Fixed)) + " fixed",
		strconv.Itoa(len(cmp.New)) + " new",
		strconv.Itoa(len(cmp.Removed)) + " removed",
		strconv.Itoa(len(cmp.StillFailing)) + " still failing",
		strconv.Itoa(cmp.Unchanged) + " unchanged",
	}
	b.WriteString(strings.Join(counts, " · ") + "\n\n")
	return b.String()
}

// mdComparisonNotes lists what limits the comparison, one note an item.
func mdComparisonNotes(cmp *results.Comparison) *mdSection {
	s := &mdSection{priority: 1, what: "comparison note", whats: "comparison notes", foot: "\n"}
	for _, n := range cmp.Notes {
		s.items = append(s.items, "- "+mdText(truncate(n, mdNoteRunes))+"\n")
	}
	return s
}

// mdChanges is a table of every conversation whose verdict changed, and of
// those still failing: regressions first, as they are what fails the build.
func mdChanges(cmp *results.Comparison) *mdSection {
	s := &mdSection{
		priority: 1, what: "baseline change", whats: "baseline changes",
		head: mdTableHead([]string{"Change", "Suite", "Conversation", "Was → now", "Turn", "Check", "Detail"},
			"lllllll"),
		foot: "\n",
	}
	groups := []struct {
		label   string
		changes []results.Change
	}{
		{"❌ regressed", cmp.Regressed},
		{"✅ fixed", cmp.Fixed},
		{"🆕 new", cmp.New},
		{"➖ removed", cmp.Removed},
		{"🔁 still failing", cmp.StillFailing},
	}
	for _, g := range groups {
		for _, ch := range g.changes {
			turn := ""
			if ch.Turn > 0 {
				turn = strconv.Itoa(ch.Turn)
			} else if ch.Check != "" {
				turn = "final"
			}
			s.items = append(s.items, mdRow(
				g.label,
				mdCell(ch.Suite, mdNameRunes),
				mdCell(ch.Name, mdNameRunes),
				mdStatusWord(ch.Was)+" → "+mdStatusWord(ch.Now),
				turn,
				mdCode(truncate(ch.Check, mdNameRunes), true),
				mdCell(ch.Detail, mdCellRunes),
			))
		}
	}
	return s
}

// mdStatusWord is a verdict in lower case, or "—" for none (a conversation
// new in this run, or gone from it).
func mdStatusWord(s results.Status) string {
	if s == "" {
		return "—"
	}
	return mdCell(strings.ToLower(verdictLabel(s)), mdNameRunes)
}

// mdLatencyChanges compares latency turn index by turn index.
func mdLatencyChanges(cmp *results.Comparison) *mdSection {
	s := &mdSection{
		priority: 3, what: "latency comparison row", whats: "latency comparison rows",
		head: "**Latency per turn, baseline → now**\n\n" +
			mdTableHead([]string{"Turn", "p50", "Change", "p95", "Change"}, "rrrrr"),
		foot: "\n",
	}
	for _, l := range cmp.Latency {
		s.items = append(s.items, mdRow(
			strconv.Itoa(l.Index),
			formatMS(l.Was.P50)+" → "+formatMS(l.Now.P50),
			mdChange(l.P50Change),
			formatMS(l.Was.P95)+" → "+formatMS(l.Now.P95),
			mdChange(l.P95Change),
		))
	}
	return s
}

// mdChange is a relative change with its sign: "+25%", "−8.3%", "0%";
// slowdowns of a fifth or more are bold so they stand out in the column.
func mdChange(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	p := formatPercent(math.Abs(f))
	switch {
	case p == "0%":
		return p
	case f >= 0.2:
		return "**+" + p + "**"
	case f > 0:
		return "+" + p
	}
	return "−" + p
}

// mdFailures is a table with a row per failed check or error, conversation
// by conversation. In a load run the record holds only a sample, and the
// heading says so.
func mdFailures(run *results.Run, notPassing []*results.Conversation) *mdSection {
	title := "#### Failures\n\n"
	if run.Load != nil {
		s := run.Summary
		total := s.Failed + s.Errored + s.Flaky + s.Unfinished
		if total > len(notPassing) {
			title = "#### Failures (a sample: " + strconv.Itoa(len(notPassing)) + " of " +
				strconv.Itoa(total) + " conversations that did not pass)\n\n"
		}
	}
	type row struct {
		verdict, suite, name string
		f                    mdFailure
	}
	var rows []row
	values := false
	for _, c := range notPassing {
		name := mdCell(c.Name, mdNameRunes)
		if loc := location(c); loc != "" {
			name += " " + mdCode(truncate(loc, mdNameRunes), true)
		}
		verdict := mdStatusSign(c.Status) + " " + mdStatusWord(c.Status)
		if c.Runs > 1 {
			verdict += " " + runsLabel(c)
		}
		for _, f := range mdFailuresOf(c) {
			rows = append(rows, row{verdict, mdCell(c.Suite, mdNameRunes), name, f})
			values = values || f.values
		}
	}
	// Records whose checks carry no expected and actual values (older
	// ones) get one column with the message instead of an Expected column
	// that is empty throughout.
	cols := []string{"Verdict", "Suite", "Conversation", "Turn", "Check", "What went wrong"}
	if values {
		cols = []string{"Verdict", "Suite", "Conversation", "Turn", "Check", "Expected", "Got"}
	}
	s := &mdSection{
		priority: 6, what: "failure", whats: "failures",
		head: title + mdTableHead(cols, ""),
		foot: "\n",
	}
	for _, r := range rows {
		cells := []string{r.verdict, r.suite, r.name, r.f.where, mdCode(truncate(r.f.check, mdNameRunes), true)}
		if values {
			cells = append(cells, r.f.expected)
		}
		s.items = append(s.items, mdRow(append(cells, r.f.got)...))
	}
	return s
}

// mdFailure is one row of the failures table, its cells already escaped.
// got is the actual value when the check recorded one, and otherwise the
// message; values says whether the check recorded either value.
type mdFailure struct {
	where, check, expected, got string
	values                      bool
}

// mdFailuresOf lists what went wrong in c in the order of
// results.Conversation.Failures, with the expected and actual values the
// assertions carry; a conversation with nothing recorded gets one row with
// its reason.
func mdFailuresOf(c *results.Conversation) []mdFailure {
	var out []mdFailure
	assertion := func(where string, a results.Assertion) mdFailure {
		f := mdFailure{where: where, check: a.Check, values: a.Expected != "" || a.Actual != ""}
		if a.Expected != "" {
			f.expected = mdCode(truncate(a.Expected, mdCellRunes), true)
		}
		if a.Actual != "" {
			f.got = mdCode(truncate(a.Actual, mdCellRunes), true)
		} else {
			f.got = mdCell(a.Message, mdCellRunes)
		}
		return f
	}
	turnError := false
	for _, t := range c.Turns {
		if t == nil {
			continue
		}
		where := strconv.Itoa(t.Index)
		for _, a := range t.Assertions {
			if !a.Passed {
				out = append(out, assertion(where, a))
			}
		}
		if t.Error != "" {
			turnError = true
			out = append(out, mdFailure{where: where, check: "error", got: mdCell(t.Error, mdCellRunes)})
		}
	}
	if c.Status == results.Errored && c.Reason != "" && !turnError {
		out = append(out, mdFailure{where: "—", check: "error", got: mdCell(c.Reason, mdCellRunes)})
	}
	for _, a := range c.Final {
		if !a.Passed {
			out = append(out, assertion("final", a))
		}
	}
	if len(out) == 0 {
		why := c.Reason
		if why == "" {
			why = "no failed check was recorded"
		}
		out = append(out, mdFailure{where: "—", got: mdCell(why, mdCellRunes)})
	}
	return out
}

// mdStatusSign is the sign a verdict is shown with.
func mdStatusSign(s results.Status) string {
	switch s {
	case results.Passed:
		return "✅"
	case results.Failed:
		return "❌"
	case results.Errored:
		return "💥"
	case results.Flaky:
		return "⚠️"
	case results.Skipped:
		return "⏭️"
	case results.Unfinished:
		return "⏹️"
	}
	return "❔"
}

// mdTranscripts has one collapsed transcript per conversation that did not
// pass.
func mdTranscripts(notPassing []*results.Conversation) *mdSection {
	s := &mdSection{
		priority: 7, what: "transcript", whats: "transcripts",
		head: "#### Transcripts\n\n",
	}
	for _, c := range notPassing {
		s.items = append(s.items, mdTranscript(c))
	}
	return s
}

// mdTranscript is one conversation inside <details>. The summary line is
// raw HTML, so its text is HTML-escaped; the body is Markdown, with what
// the user and the bot said in fenced code blocks that nothing they said
// can close.
func mdTranscript(c *results.Conversation) string {
	var b strings.Builder
	b.WriteString("<details>\n<summary>" + mdStatusSign(c.Status) + " " + mdHTML(verdictLabel(c.Status)) + " " +
		mdHTML(truncate(c.Suite, mdNameRunes)) + " / " + mdHTML(truncate(c.Name, mdNameRunes)) +
		" (" + plural(len(c.Turns), "turn") + ")</summary>\n\n")

	var about []string
	if loc := location(c); loc != "" {
		about = append(about, mdCode(truncate(loc, mdNameRunes), false))
	}
	if c.SessionID != "" {
		about = append(about, "session "+mdCode(truncate(c.SessionID, mdNameRunes), false))
	}
	if c.Runs > 1 {
		runs := "passed " + runsLabel(c) + " runs"
		if c.PassedRuns < c.Runs {
			runs += "; this is the first failing run"
		}
		about = append(about, runs)
	}
	if c.DurationMS > 0 {
		about = append(about, formatMS(c.DurationMS))
	}
	if len(about) > 0 {
		b.WriteString(strings.Join(about, " · ") + "\n\n")
	}
	mdRunResults(&b, c.RunResults)
	if c.Reason != "" && !mdTurnSaid(c, c.Reason) {
		b.WriteString("**Reason:** " + mdText(truncate(c.Reason, mdCellRunes)) + "\n\n")
	}

	for _, t := range c.Turns {
		if t == nil {
			continue
		}
		sender := "user"
		if t.IsAgent() {
			sender = "human agent"
		}
		if t.User == "" {
			b.WriteString("**Turn " + strconv.Itoa(t.Index) + "** · " + sender + " · *no text*\n\n")
		} else {
			b.WriteString("**Turn " + strconv.Itoa(t.Index) + "** · " + sender + "\n\n")
			b.WriteString(mdFence(t.User))
		}
		reply := "**Reply**"
		if t.LatencyMS > 0 {
			reply += " · " + formatMS(t.LatencyMS)
		}
		if t.Handoff {
			reply += " · handed off to a human"
		}
		switch {
		case t.Silent:
			b.WriteString(reply + " · *no reply*\n\n")
		case t.Reply == "" && t.Error != "":
			b.WriteString(reply + " · *none*\n\n")
		case t.Reply == "":
			// Load records keep no text; an empty reply reads the same.
			b.WriteString(reply + " · *no text*\n\n")
		default:
			b.WriteString(reply + "\n\n")
			b.WriteString(mdFence(t.Reply))
		}
		if t.Error != "" {
			b.WriteString("💥 **Error:** " + mdText(truncate(t.Error, mdCellRunes)) + "\n\n")
		}
		mdChecks(&b, t.Assertions)
	}
	if len(c.Final) > 0 {
		b.WriteString("**Final checks**\n\n")
		mdChecks(&b, c.Final)
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

// mdRunResults lists the runs of a repeated conversation that did not
// pass, with the first thing that went wrong in each, so a flaky
// conversation shows every way it failed and not only the run shown below.
func mdRunResults(b *strings.Builder, runs []results.RunResult) {
	var lines []string
	for _, r := range runs {
		if r.Status == results.Passed {
			continue
		}
		// Runs are recorded in the order they ended, not started, so they
		// are not numbered.
		line := "- " + mdStatusSign(r.Status) + " " + mdStatusWord(r.Status)
		if r.Message != "" {
			line += ": " + mdText(truncate(r.Message, mdCellRunes))
		}
		lines = append(lines, line+"\n")
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("**Runs that did not pass**\n\n" + strings.Join(lines, "") + "\n")
}

// mdTurnSaid reports whether one of c's turns carries the error text, so a
// conversation's reason is not written twice.
func mdTurnSaid(c *results.Conversation, text string) bool {
	for _, t := range c.Turns {
		if t != nil && t.Error == text {
			return true
		}
	}
	return false
}

// mdChecks lists checks, one a line, with what was wrong for each that
// failed.
func mdChecks(b *strings.Builder, checks []results.Assertion) {
	if len(checks) == 0 {
		return
	}
	for _, a := range checks {
		if a.Passed {
			b.WriteString("- ✅ " + mdCode(truncate(a.Check, mdNameRunes), false) + "\n")
			continue
		}
		line := "- ❌ " + mdCode(truncate(a.Check, mdNameRunes), false)
		if a.Message != "" {
			line += ": " + mdText(truncate(a.Message, mdCellRunes))
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n")
}

// mdLatency is the latency over every answered turn of the run.
func mdLatency(run *results.Run) *mdSection {
	s := run.Summary
	head := "#### Latency\n\n"
	answered := s.Turns - s.TurnErrors
	if s.Turns == 0 {
		return &mdSection{priority: 4} // nothing was asked: nothing to say
	}
	if answered <= 0 {
		return &mdSection{priority: 4, whole: "the latency", head: head,
			items: []string{"No turn was answered, so there is no latency to show.\n\n"}}
	}
	return &mdSection{
		priority: 4, whole: "the latency",
		head: head + mdTableHead([]string{"", "Turns", "p50", "p90", "p95", "p99", "max"}, "lrrrrrr"),
		items: []string{mdRow("all answered turns", strconv.Itoa(answered),
			formatMS(s.LatencyMS.P50), formatMS(s.LatencyMS.P90), formatMS(s.LatencyMS.P95),
			formatMS(s.LatencyMS.P99), formatMS(s.LatencyMS.Max))},
		foot: "\n",
	}
}

// mdLoad is a load run's workload and its latency per turn index, then
// over all turns, whole conversations and session creation, as the
// terminal's load table has them.
func mdLoad(run *results.Run) *mdSection {
	load := run.Load
	var work bytes.Buffer
	writeWorkload(&work, run)
	var head strings.Builder
	head.WriteString("#### Load\n\n")
	lines := strings.Split(strings.TrimRight(work.String(), "\n"), "\n")
	for i, l := range lines {
		head.WriteString(mdText(l))
		if i < len(lines)-1 {
			head.WriteString("<br>")
		}
		head.WriteString("\n")
	}
	head.WriteString("\n")

	rows := loadRows(load)
	service := showsService(rows)
	cols := []string{"", "Count", "Err %", "p50", "p90", "p95", "p99", "max"}
	if service {
		cols = append(cols, "svc p95", "svc p99")
	}
	cols = append(cols, "per s")
	head.WriteString(mdTableHead(cols, "l"+strings.Repeat("r", len(cols)-1)))

	seconds := measuredSeconds(load)
	var table strings.Builder
	for i, r := range rows {
		label := mdText(r.label)
		if i >= len(load.Turns) {
			label = "**" + label + "**"
		}
		table.WriteString(mdRow(append([]string{label}, loadCells(r, load, seconds, service)...)...))
	}
	table.WriteString("\n")
	if service {
		table.WriteString("Latency counts from when a turn was due, so a backed-up load generator cannot hide " +
			"waiting (coordinated omission); *svc* counts from when it was sent.\n\n")
	}
	return &mdSection{priority: 5, whole: "the load latency table", head: head.String(), items: []string{table.String()}}
}

// mdThresholds is a table of a load run's thresholds and what was
// measured for each.
func mdThresholds(ths []results.Threshold) *mdSection {
	if len(ths) == 0 {
		return &mdSection{priority: 2}
	}
	var b strings.Builder
	b.WriteString("#### Thresholds\n\n")
	b.WriteString(mdTableHead([]string{"Threshold", "Measured", "Result"}, "lrl"))
	passed, failed, missing := 0, 0, 0
	for _, th := range ths {
		var verdict string
		switch {
		case th.Missing:
			missing++
			verdict = "❔ no data"
		case th.Passed:
			passed++
			verdict = "✅ met"
		default:
			failed++
			verdict = "❌ not met"
		}
		b.WriteString(mdRow(mdCode(truncate(th.Expr, mdNameRunes), true), mdCell(formatMeasured(th), mdNameRunes), verdict))
	}
	summary := strconv.Itoa(passed) + " met, " + strconv.Itoa(failed) + " not met"
	if missing > 0 {
		summary += ", " + strconv.Itoa(missing) + " without data"
	}
	b.WriteString("\n" + summary + "\n\n")
	return &mdSection{priority: 2, whole: "the thresholds", items: []string{b.String()}}
}

// mdTableHead is a table's header row and its delimiter row; align has an
// 'l' or 'r' per column.
func mdTableHead(cols []string, align string) string {
	var delim []string
	for i := range cols {
		if i < len(align) && align[i] == 'r' {
			delim = append(delim, "--:")
		} else {
			delim = append(delim, "---")
		}
	}
	return mdRow(cols...) + "|" + strings.Join(delim, "|") + "|\n"
}

// mdRow is a table row of cells already escaped.
func mdRow(cells ...string) string {
	return "| " + strings.Join(cells, " | ") + " |\n"
}

// Escaping.
//
// Text from outside (bot replies, user turns, names, messages, errors) is
// written in one of four ways:
//   - mdText and mdCell: inline Markdown, with every character that could
//     start markup backslash-escaped, so it renders as itself;
//   - mdCode: a code span, for values and check names;
//   - mdFence: a fenced code block, for what the user and the bot said;
//   - mdHTML: HTML-escaped, for the <summary> line, which GitHub reads as
//     raw HTML rather than Markdown.
// All of them first pass it through mdClean, and all but the code forms
// break @mentions (inside code GitHub does not link them).

// mdSpecial are the characters escaped in inline text: those that open
// emphasis, code, links and images, HTML and entities, tables,
// strikethrough, math and headings. A backslash may escape any ASCII
// punctuation in CommonMark, so escaping more than needed is harmless.
const mdSpecial = "\\`*_[]<>&|~$#"

// mdText makes s safe inline Markdown on one line.
func mdText(s string) string { return mdEscape(mdClean(s), " ") }

// mdCell makes s safe inside a table cell, cut to n runes, with line breaks
// kept as <br>.
func mdCell(s string, n int) string {
	return mdEscape(truncate(mdClean(s), n), "<br>")
}

// mdEscape backslash-escapes mdSpecial, replaces line breaks with br, and
// breaks @mentions.
func mdEscape(s, br string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	s = strings.Trim(s, "\n")
	prev := rune(-1)
	for i, r := range s {
		switch {
		case r == '\n':
			if prev != '\n' { // blank lines collapse into one break
				b.WriteString(br)
			}
		case r == '_' && mdIntraword(s, i, prev):
			// Between letters or digits GFM never reads _ as emphasis;
			// leaving it keeps snake_case names readable.
			b.WriteRune(r)
		case strings.ContainsRune(mdSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '@':
			b.WriteRune(r)
			if mdMentionAt(s, i, prev) {
				b.WriteRune(mdZWJ)
			}
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// mdIntraword reports whether the character at s[i], after prev, has a
// letter or digit on both sides.
func mdIntraword(s string, i int, prev rune) bool {
	next, _ := utf8.DecodeRuneInString(s[i+1:])
	alnum := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	return prev >= 0 && alnum(prev) && alnum(next)
}

// mdZWJ, written after the @ of what GitHub would read as a mention, keeps it
// from linking the name and notifying its owner. It is invisible and does
// not break the name across lines.
const mdZWJ = '\u200d'

// mdMentionAt reports whether the @ at s[i] would be read as a mention: one
// not inside a word (so not an e-mail address), followed by a name.
func mdMentionAt(s string, i int, prev rune) bool {
	if prev >= 0 && mdNameChar(prev) {
		return false
	}
	next, _ := utf8.DecodeRuneInString(s[i+1:])
	return mdNameChar(next)
}

func mdNameChar(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// mdCode is s as a code span on one line, fenced with more backticks than
// it holds in a row. In a table cell its pipes are escaped too: GFM splits
// cells before it sees code spans; and a value with a backslash before a
// pipe is written as escaped text instead.
func mdCode(s string, cell bool) string {
	if s == "" {
		return ""
	}
	s = strings.Join(strings.Fields(strings.ReplaceAll(mdClean(s), "\n", " ")), " ")
	if s == "" {
		return ""
	}
	if cell && strings.Contains(s, `\|`) {
		// Renderers disagree on whether the pipe in \\| ends a cell
		// (cmark-gfm says no, others count the backslashes), and a code
		// span cannot escape its backslash; as escaped text the value reads
		// the same everywhere.
		return mdEscape(s, " ")
	}
	fence := strings.Repeat("`", mdLongestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return fence + s + fence
}

// mdFence is s as a fenced code block, cut to mdTextRunes and with lines
// longer than mdLineRunes wrapped, so a reply is readable without scrolling
// sideways. The fence is longer than any run of backticks in s, so nothing
// in s can close it.
func mdFence(s string) string {
	s = mdClean(s)
	more := utf8.RuneCountInString(s) - mdTextRunes
	if more > 0 {
		s = truncate(s, mdTextRunes)
	}
	s = mdWrapLines(strings.TrimRight(s, "\n"), mdLineRunes)
	fence := strings.Repeat("`", max(3, mdLongestRun(s, '`')+1))
	out := fence + "text\n" + s + "\n" + fence + "\n\n"
	if more > 0 {
		out += "*… " + plural(more, "more character") + " in the JSON record*\n\n"
	}
	return out
}

// mdWrapLines breaks every line of s longer than n runes, at the last space
// before the limit when there is one.
func mdWrapLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	var out []string
	for _, l := range lines {
		for utf8.RuneCountInString(l) > n {
			cut, count, space := 0, 0, -1
			for i, r := range l {
				if count == n {
					cut = i
					break
				}
				if r == ' ' {
					space = i
				}
				count++
			}
			if space > 0 {
				out = append(out, strings.TrimRight(l[:space], " "))
				l = l[space+1:]
			} else {
				out = append(out, l[:cut])
				l = l[cut:]
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// mdLongestRun is the length of the longest run of c in s.
func mdLongestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// mdHTML makes s safe as the text of an HTML element on one line: HTML
// specials become entities, and @mentions are broken.
func mdHTML(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(mdClean(s), "\n", " ")), " ")
	var b strings.Builder
	prev := rune(-1)
	for i, r := range s {
		b.WriteRune(r)
		if r == '@' && mdMentionAt(s, i, prev) {
			b.WriteRune(mdZWJ)
		}
		prev = r
	}
	return html.EscapeString(b.String())
}

// mdClean keeps line breaks (as "\n") and makes the rest of s printable:
// tabs become spaces, other control characters and the invisible
// characters that reorder text (bidi overrides) are shown escaped, and
// bytes that are not UTF-8 become U+FFFD.
func mdClean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte('\n')
		case r == '\t':
			b.WriteString("    ")
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || mdIsBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdIsBidi reports the characters that change the direction text is
// shown in, with which a reply could make its own text read differently
// from what it is.
func mdIsBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}
