package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

var _ Reporter = ReporterFunc(HTML)

// The page is one file a CI artifact can hold and a browser can open with
// no network: the stylesheet and the filter script are inlined from these
// embedded assets, the plots are SVG drawn here, and a Content-Security-Policy
// forbids every fetch, so even a reply that slipped past escaping could not
// load anything.
//
//go:embed html/report.html.tmpl html/report.css html/filter.js
var htmlAssets embed.FS

var (
	htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"num":  svgNumber,
		"text": displayText,
		"add":  func(a, b float64) float64 { return a + b },
		"half": func(a float64) float64 { return a / 2 },
	}).ParseFS(htmlAssets, "html/report.html.tmpl"))
	htmlCSS    = template.CSS(mustAsset("html/report.css"))
	htmlScript = template.JS(mustAsset("html/filter.js"))
	// htmlCSP allows the one inline script by its hash rather than every
	// inline script, so markup injected through a reply could not run.
	htmlCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
		"script-src 'sha256-" + scriptHash(string(htmlScript)) + "'; base-uri 'none'; form-action 'none'"
)

func mustAsset(name string) string {
	b, err := htmlAssets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func scriptHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// HTML writes run as one self-contained HTML page: the verdict and the
// baseline comparison first, then a list of what went wrong, latency plots
// (and, for load runs, the timeline and thresholds), then every
// conversation's transcript with each turn's checks beside it, filterable by
// verdict, suite and tag. The page loads nothing from anywhere; with scripts
// off it shows everything. Bot and suite text is only ever escaped text.
func HTML(w io.Writer, run *results.Run) error {
	if run == nil {
		return errors.New("report: html: no run")
	}
	page := buildPage(run)
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// htmlPage is everything the template shows, worked out in Go so the
// template only lays it out.
type htmlPage struct {
	CSP    string
	CSS    template.CSS
	Script template.JS

	RunID, Started, Duration string
	Interrupted              string
	StoppedParts             []string // of a merge: which parts stopped early (StoppedParts)
	Incomplete               string   // which shards a partial merge lacks
	Headline                 string
	HeadlineClass            string // "ok", "bad" or "warn"
	Counts                   []countCard
	Facts                    []fact
	Latency                  []fact
	Suites                   []results.Suite

	Comparison *comparisonView
	TurnPlot   *svgChart
	Load       *loadView

	Problems     []problemRow
	MoreProblems int
	Filters      filterView
	Sample       bool // the conversations are a load run's sample
	Convs        []convView
}

// problemRow is one failed check or error, for the list near the top that
// saves scrolling through transcripts to find what went wrong.
type problemRow struct {
	Anchor, Name, Suite, Status string
	Where, Check, Message       string
}

// maxProblems bounds that list; the transcripts below have the rest.
const maxProblems = 200

type countCard struct {
	Label, Status string
	N             int
}

type fact struct{ Label, Value string }

type filterView struct {
	Verdicts []filterOption
	Suites   []filterOption
	Tags     []filterOption
}

type filterOption struct {
	Value, Label string
	N            int
}

func buildPage(run *results.Run) *htmlPage {
	s := run.Summary
	p := &htmlPage{
		CSP:         htmlCSP,
		CSS:         htmlCSS,
		Script:      htmlScript,
		RunID:       run.RunID,
		Duration:    formatMS(run.DurationMS),
		Interrupted: run.Interrupted,
		Suites:      run.Suites,
		Sample:      run.Load != nil,
	}
	if !run.StartedAt.IsZero() {
		p.Started = run.StartedAt.Format(time.RFC3339)
	}
	if run.Incomplete != nil {
		p.Incomplete = incompleteText(run.Incomplete)
	}
	for _, s := range StoppedParts(run.Test) {
		p.StoppedParts = append(p.StoppedParts, strings.ToUpper(s[:1])+s[1:])
	}
	p.Headline, p.HeadlineClass = headline(run)
	p.Counts = []countCard{
		{"conversations", "all", s.Conversations},
		{"passed", string(results.Passed), s.Passed},
		{"failed", string(results.Failed), s.Failed},
		{"errored", string(results.Errored), s.Errored},
		{"flaky", string(results.Flaky), s.Flaky},
		{"skipped", string(results.Skipped), s.Skipped},
		{"unfinished", string(results.Unfinished), s.Unfinished},
	}
	p.Facts = []fact{{"turns", strconv.Itoa(s.Turns)}, {"turn errors", strconv.Itoa(s.TurnErrors)}}
	if s.Turns > s.TurnErrors {
		l := s.LatencyMS
		p.Latency = []fact{{"p50", formatMS(l.P50)}, {"p90", formatMS(l.P90)}, {"p95", formatMS(l.P95)}, {"p99", formatMS(l.P99)}, {"max", formatMS(l.Max)}}
	}

	convs := conversations(run)
	anchors := make(map[string]string, len(convs))
	for i, c := range convs {
		key := c.Suite + "\x00" + c.Name
		if _, ok := anchors[key]; !ok {
			anchors[key] = convID(i)
		}
	}
	changes := map[string]string{}
	if run.Comparison != nil {
		p.Comparison = buildComparison(run.Comparison, anchors)
		for _, g := range p.Comparison.Groups {
			for _, it := range g.Items {
				changes[it.Suite+"\x00"+it.Name] = g.Key
			}
		}
	}

	if run.Load != nil {
		p.Load = buildLoad(run)
		p.TurnPlot = loadTurnPlot(run.Load)
	} else {
		p.TurnPlot = runTurnPlot(convs)
	}

	for i, c := range convs {
		for _, f := range c.Failures() {
			if len(p.Problems) == maxProblems {
				p.MoreProblems++
				continue
			}
			p.Problems = append(p.Problems, problemRow{
				Anchor: convID(i), Name: c.Name, Suite: c.Suite, Status: string(c.Status),
				Where: f.Where(), Check: f.Check, Message: f.Message,
			})
		}
	}
	p.Filters = buildFilters(convs)
	for i, c := range convs {
		p.Convs = append(p.Convs, buildConv(i, c, changes[c.Suite+"\x00"+c.Name]))
	}
	return p
}

// headline is the page's one-line verdict. With a baseline it speaks of
// regressions, which (with errors) are what fail such a build; a load run
// with thresholds speaks of them.
func headline(run *results.Run) (string, string) {
	s := run.Summary
	var parts []string
	class := "ok"
	switch {
	case run.Load != nil && len(run.Load.Thresholds) > 0:
		failed := 0
		for _, th := range run.Load.Thresholds {
			if !th.Passed {
				failed++
			}
		}
		if failed > 0 {
			class = "bad"
			parts = append(parts, strconv.Itoa(failed)+" of "+plural(len(run.Load.Thresholds), "threshold")+" failed")
		} else {
			parts = append(parts, "all "+plural(len(run.Load.Thresholds), "threshold")+" held")
		}
	case run.Comparison != nil:
		c := run.Comparison
		if len(c.Regressed) > 0 || s.Errored > 0 {
			class = "bad"
		}
		if len(c.Regressed) > 0 {
			parts = append(parts, strconv.Itoa(len(c.Regressed))+" regressed")
		} else {
			parts = append(parts, "no regressions")
		}
		if s.Errored > 0 {
			parts = append(parts, strconv.Itoa(s.Errored)+" errored")
		}
		if n := len(c.StillFailing); n > 0 {
			parts = append(parts, strconv.Itoa(n)+" still failing")
		}
		if n := len(c.Fixed); n > 0 {
			parts = append(parts, strconv.Itoa(n)+" fixed")
		}
	case s.Conversations == 0:
		return "No conversations ran", "warn"
	case s.Failed+s.Errored+s.Unfinished > 0:
		class = "bad"
		for _, c := range []struct {
			n    int
			name string
		}{{s.Failed, "failed"}, {s.Errored, "errored"}, {s.Unfinished, "unfinished"}} {
			if c.n > 0 {
				parts = append(parts, strconv.Itoa(c.n)+" "+c.name)
			}
		}
		parts[len(parts)-1] += " of " + plural(s.Conversations, "conversation")
	default:
		parts = append(parts, "all "+plural(s.Passed+s.Flaky, "conversation")+" passed")
		if s.Flaky > 0 {
			parts = append(parts, strconv.Itoa(s.Flaky)+" flaky")
		}
	}
	if inc := run.Incomplete; inc != nil {
		parts = append(parts, "incomplete: "+plural(len(inc.Missing), "shard")+" of "+strconv.Itoa(inc.Shards)+" missing")
	}
	if (run.Interrupted != "" || run.Incomplete != nil) && class == "ok" {
		class = "warn"
	}
	h := strings.Join(parts, " · ")
	return strings.ToUpper(h[:1]) + h[1:], class
}

func convID(i int) string { return "conv-" + strconv.Itoa(i+1) }

// Comparison with a baseline.

type comparisonView struct {
	BaselineRunID, BaselineFile string
	Groups                      []changeGroup
	Unchanged                   int
	Notes                       []string
	Latency                     []latencyChangeView
}

type changeGroup struct {
	Key, Title, Explain string
	Items               []changeItem
}

type changeItem struct {
	Suite, Name, Anchor string
	Was, Now            string // statuses, for colour
	WasLabel, NowLabel  string
	Where, Detail       string
}

type latencyChangeView struct {
	Index                          int
	WasP50, NowP50, WasP95, NowP95 string
	P50Change, P95Change           string
	P50Class, P95Class             string
}

func buildComparison(c *results.Comparison, anchors map[string]string) *comparisonView {
	v := &comparisonView{
		BaselineRunID: c.BaselineRunID,
		BaselineFile:  c.BaselineFile,
		Unchanged:     c.Unchanged,
		Notes:         c.Notes,
	}
	groups := []struct {
		key, title, explain string
		items               []results.Change
	}{
		{"regressed", "Regressed", "passed or flaky in the baseline, failed or errored now", c.Regressed},
		{"still-failing", "Still failing", "failed or errored in both runs", c.StillFailing},
		{"fixed", "Fixed", "failed or errored in the baseline, passing now", c.Fixed},
		{"new", "New", "not in the baseline", c.New},
		{"removed", "Removed", "in the baseline, not in this run", c.Removed},
	}
	for _, g := range groups {
		cg := changeGroup{Key: g.key, Title: g.title, Explain: g.explain}
		for _, ch := range g.items {
			it := changeItem{
				Suite: ch.Suite, Name: ch.Name,
				Was: string(ch.Was), Now: string(ch.Now),
				WasLabel: statusOrDash(ch.Was), NowLabel: statusOrDash(ch.Now),
				Detail: ch.Detail,
			}
			if ch.Now != "" {
				it.Anchor = anchors[ch.Suite+"\x00"+ch.Name]
			}
			var where []string
			if ch.Turn > 0 {
				where = append(where, "turn "+strconv.Itoa(ch.Turn))
			}
			if ch.Check != "" {
				where = append(where, ch.Check)
			}
			it.Where = strings.Join(where, " · ")
			cg.Items = append(cg.Items, it)
		}
		v.Groups = append(v.Groups, cg)
	}
	for _, l := range c.Latency {
		lv := latencyChangeView{
			Index:  l.Index,
			WasP50: formatMS(l.Was.P50), NowP50: formatMS(l.Now.P50),
			WasP95: formatMS(l.Was.P95), NowP95: formatMS(l.Now.P95),
		}
		lv.P50Change, lv.P50Class = relativeChange(l.P50Change)
		lv.P95Change, lv.P95Class = relativeChange(l.P95Change)
		v.Latency = append(v.Latency, lv)
	}
	return v
}

func statusOrDash(s results.Status) string {
	if s == "" {
		return "—"
	}
	return verdictLabel(s)
}

// relativeChange prints a relative latency change and how it reads: more
// than a tenth slower is worth a colour, less is noise.
func relativeChange(f float64) (string, string) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-", "same"
	}
	s := formatPercent(math.Abs(f))
	switch {
	case f > 0.1:
		return "+" + s, "slower"
	case f < -0.1:
		return "−" + s, "faster"
	case f > 0:
		return "+" + s, "same"
	case f < 0:
		return "−" + s, "same"
	}
	return "0%", "same"
}

// Filters.

func buildFilters(convs []*results.Conversation) filterView {
	var f filterView
	verdicts := map[results.Status]int{}
	suites := map[string]int{}
	tags := map[string]int{}
	var suiteOrder []string
	for _, c := range convs {
		verdicts[c.Status]++
		if suites[c.Suite] == 0 {
			suiteOrder = append(suiteOrder, c.Suite)
		}
		suites[c.Suite]++
		for _, t := range tagTokens(c.Tags) {
			tags[t]++
		}
	}
	known := []results.Status{results.Failed, results.Errored, results.Flaky, results.Unfinished, results.Passed, results.Skipped}
	for _, s := range known {
		if n := verdicts[s]; n > 0 {
			f.Verdicts = append(f.Verdicts, filterOption{Value: string(s), Label: strings.ToLower(verdictLabel(s)), N: n})
			delete(verdicts, s)
		}
	}
	var other []string
	for s := range verdicts {
		other = append(other, string(s))
	}
	sort.Strings(other)
	for _, s := range other {
		f.Verdicts = append(f.Verdicts, filterOption{Value: s, Label: strings.ToLower(verdictLabel(results.Status(s))), N: verdicts[results.Status(s)]})
	}
	for _, s := range suiteOrder {
		f.Suites = append(f.Suites, filterOption{Value: s, Label: s, N: suites[s]})
	}
	var tagNames []string
	for t := range tags {
		tagNames = append(tagNames, t)
	}
	sort.Strings(tagNames)
	for _, t := range tagNames {
		f.Tags = append(f.Tags, filterOption{Value: t, Label: t, N: tags[t]})
	}
	return f
}

// tagTokens are a conversation's tags as the filter matches them: one
// space-separated attribute holds them all, so spaces inside a tag become
// underscores, and duplicates go.
func tagTokens(tags []string) []string {
	var out []string
	for _, t := range tags {
		tok := strings.Join(strings.Fields(t), "_")
		if tok != "" && !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}

// Conversations.

type convView struct {
	ID, Suite, Name, Location string
	Status, Verdict           string
	Tags                      []string
	TagsAttr                  string
	Change                    string // the comparison group it falls in, if any
	Runs                      string
	Duration, P50, P95        string
	Open                      bool
	Reason                    string
	FailedRuns                []string
	Turns                     []turnView
	Final                     []results.Assertion
	Problems                  int
}

type turnView struct {
	Index          int
	Agent          bool
	User, Reply    string
	Silent         bool
	Handoff        bool
	Latency, Error string
	Checks         []results.Assertion
	Failed         bool
}

func buildConv(i int, c *results.Conversation, change string) convView {
	tags := tagTokens(c.Tags)
	v := convView{
		ID: convID(i), Suite: c.Suite, Name: c.Name, Location: location(c),
		Status: string(c.Status), Verdict: verdictLabel(c.Status),
		Tags: tags, TagsAttr: strings.Join(tags, " "),
		Change: change,
		Reason: c.Reason,
		Final:  c.Final,
	}
	if c.Runs > 1 {
		v.Runs = runsLabel(c) + " runs passed"
	}
	if c.DurationMS > 0 {
		v.Duration = formatMS(c.DurationMS)
	}
	if len(c.Turns) > 0 && c.LatencyMS.Max > 0 {
		v.P50, v.P95 = formatMS(c.LatencyMS.P50), formatMS(c.LatencyMS.P95)
	}
	v.Open = c.Status != results.Passed && c.Status != results.Skipped
	v.Problems = len(c.Failures())
	for n, r := range c.RunResults {
		if r.Status != results.Passed && r.Status != results.Skipped {
			msg := "run " + strconv.Itoa(n+1) + ": " + strings.ToLower(verdictLabel(r.Status))
			if r.Message != "" {
				msg += ": " + r.Message
			}
			v.FailedRuns = append(v.FailedRuns, msg)
		}
	}
	for n, t := range c.Turns {
		if t == nil {
			continue
		}
		tv := turnView{
			Index: t.Index, Agent: t.IsAgent(), User: t.User, Reply: t.Reply,
			Silent: t.Silent, Handoff: t.Handoff, Error: t.Error, Checks: t.Assertions,
		}
		if tv.Index <= 0 {
			tv.Index = n + 1
		}
		if t.Error == "" || t.LatencyMS > 0 {
			tv.Latency = formatMS(t.LatencyMS)
		}
		tv.Failed = t.Error != ""
		for _, a := range t.Assertions {
			if !a.Passed {
				tv.Failed = true
			}
		}
		v.Turns = append(v.Turns, tv)
	}
	return v
}

// displayText makes bot and suite text fit to show: invalid UTF-8 becomes
// U+FFFD and control characters other than line breaks and tabs are shown
// as escapes (so are noncharacters), since a browser would otherwise drop
// them or draw boxes.
// Escaping for HTML is left to html/template.
func displayText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	clean := utf8.ValidString(s)
	if clean {
		for _, r := range s {
			if r != '\n' && r != '\t' && (unicode.IsControl(r) || nonCharacter(r)) {
				clean = false
				break
			}
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\r':
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || nonCharacter(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// nonCharacter reports whether r is one of Unicode's noncharacters, which
// HTML counts as a parse error wherever they appear.
func nonCharacter(r rune) bool {
	return r >= 0xfdd0 && r <= 0xfdef || r&0xfffe == 0xfffe
}

// Load runs.

type loadView struct {
	Workload   []string
	Facts      []fact
	Rows       []loadRowView
	Thresholds []thresholdView
	Timeline   []*svgChart
	NoTimeline bool
}

type loadRowView struct {
	Label, Count, Errors                string
	P50, P90, P95, P99, Max, ServiceP95 string
	Aggregate                           bool
}

type thresholdView struct {
	Expr, Measured string
	Passed         bool
	Missing        bool
}

func buildLoad(run *results.Run) *loadView {
	load := run.Load
	v := &loadView{}
	var b bytes.Buffer
	writeWorkload(&b, run)
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line != "" {
			v.Workload = append(v.Workload, line)
		}
	}
	v.Facts = []fact{
		{"started", strconv.Itoa(load.Started)},
		{"achieved", formatRate(load.AchievedRate)},
		{"throughput", strconv.FormatFloat(load.Throughput, 'f', 1, 64) + " turns/s"},
	}
	if load.Model != "closed" || load.Late > 0 || load.Dropped > 0 {
		v.Facts = append(v.Facts, fact{"late", strconv.Itoa(load.Late)}, fact{"dropped", strconv.Itoa(load.Dropped)})
	}
	if r := run.Summary.ErrorRate; r != nil {
		v.Facts = append(v.Facts, fact{"error rate", formatPercent(*r)})
	}
	if r := run.Summary.PassRate; r != nil {
		v.Facts = append(v.Facts, fact{"pass rate", formatPercent(*r)})
	}
	for i, r := range loadRows(load) {
		s := r.stats
		row := loadRowView{Label: r.label, Count: strconv.FormatInt(s.Count, 10), Aggregate: i >= len(load.Turns)}
		row.Errors = strconv.FormatInt(s.Errors, 10)
		if s.Count > s.Errors {
			l := s.LatencyMS
			row.P50, row.P90, row.P95, row.P99, row.Max = formatMS(l.P50), formatMS(l.P90), formatMS(l.P95), formatMS(l.P99), formatMS(l.Max)
			row.ServiceP95 = formatMS(s.ServiceMS.P95)
		} else {
			row.P50, row.P90, row.P95, row.P99, row.Max, row.ServiceP95 = "-", "-", "-", "-", "-", "-"
		}
		v.Rows = append(v.Rows, row)
	}
	for _, th := range load.Thresholds {
		v.Thresholds = append(v.Thresholds, thresholdView{Expr: th.Expr, Measured: formatMeasured(th), Passed: th.Passed, Missing: th.Missing})
	}
	if len(load.Timeline) > 0 {
		v.Timeline = timelinePlots(load)
	} else {
		v.NoTimeline = true
	}
	return v
}

// Plots. Each is drawn here as plain shapes with coordinates in a fixed
// view box; the page's stylesheet colours them by class, so the template
// needs no knowledge of what a chart shows.

const (
	chartW     = 960.0
	chartH     = 300.0
	plotLeft   = 64.0
	plotRight  = 16.0
	plotTop    = 34.0
	plotBottom = 46.0
)

type svgChart struct {
	ID, Title, Desc string
	W, H            float64
	X, Y, PW, PH    float64 // the plot area
	YTicks, XTicks  []svgTick
	YLabel, XLabel  string
	Bands, Bars     []svgRect
	Lines           []svgLine
	Dots            []svgDot
	Labels          []svgText
	Legend          []svgLegend
	Empty           string // shown instead of data when there is none
}

type svgTick struct {
	Pos   float64
	Label string
}

type svgRect struct {
	X, Y, W, H   float64
	Class, Title string
}

type svgLine struct {
	Points string
	Class  string
	Title  string
}

type svgDot struct {
	X, Y, R      float64
	Class, Title string
}

type svgText struct {
	X, Y        float64
	Text, Class string
	Anchor      string
}

type svgLegend struct {
	X            float64
	Class, Label string
}

func newChart(id, title, desc string) *svgChart {
	return &svgChart{
		ID: id, Title: title, Desc: desc,
		W: chartW, H: chartH,
		X: plotLeft, Y: plotTop, PW: chartW - plotLeft - plotRight, PH: chartH - plotTop - plotBottom,
	}
}

// yOf maps a value on a 0..top axis to the plot's y coordinate.
func (c *svgChart) yOf(v, top float64) float64 {
	if top <= 0 {
		return c.Y + c.PH
	}
	return c.Y + c.PH - math.Min(v/top, 1)*c.PH
}

// yAxis sets nice ticks for values up to peak and returns the axis top.
func (c *svgChart) yAxis(peak float64, label func(float64) string) float64 {
	return c.yAxisStep(peak, 0, label)
}

// yAxisMS is yAxis for latencies in milliseconds: the labels carry as many
// decimals as the step needs, so that each tick reads as its own value.
func (c *svgChart) yAxisMS(peak float64) float64 {
	top, step := axisScale(peak, 0)
	c.addYTicks(top, step, func(v float64) string { return formatTickMS(v, top, step) })
	return top
}

// yAxisStep is yAxis with ticks at least minStep apart: 1 for counts, which
// have no halves.
func (c *svgChart) yAxisStep(peak, minStep float64, label func(float64) string) float64 {
	top, step := axisScale(peak, minStep)
	c.addYTicks(top, step, label)
	return top
}

// axisScale is the top of an axis for values up to peak and the step of
// its ticks, at least minStep.
func axisScale(peak, minStep float64) (top, step float64) {
	step = math.Max(niceStep(peak/4), minStep)
	top = step * math.Ceil(peak/step)
	if top <= 0 {
		top, step = 1, 0.25
	}
	return top, step
}

func (c *svgChart) addYTicks(top, step float64, label func(float64) string) {
	// Multiples of the step rather than a running sum, which drifts.
	for i := 0; float64(i)*step <= top+step/2; i++ {
		v := float64(i) * step
		c.YTicks = append(c.YTicks, svgTick{Pos: c.yOf(v, top), Label: label(v)})
	}
}

// formatTickMS labels a tick at v ms on an axis up to top ms with ticks
// step ms apart: in ms below a second, in seconds from there, with the
// decimals the step has ("0.2ms", "2.5ms", "7.5s"). formatMS rounds to
// whole milliseconds, which on a small axis gives ticks the same label.
func formatTickMS(v, top, step float64) string {
	unit, name := 1.0, "ms"
	if top >= 1000 {
		unit, name = 1000, "s"
	}
	s := strconv.FormatFloat(v/unit, 'f', stepDecimals(step/unit), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + name
}

// stepDecimals is the fewest decimals (up to 9) that write step, and so
// every multiple of it, exactly.
func stepDecimals(step float64) int {
	for d := 0; d < 9; d++ {
		scaled := step * math.Pow(10, float64(d))
		if math.Abs(scaled-math.Round(scaled)) < 1e-6*math.Max(scaled, 1) {
			return d
		}
	}
	return 9
}

// niceStep rounds a raw tick step up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func (c *svgChart) legend(items ...[2]string) {
	x := c.X
	for _, it := range items {
		c.Legend = append(c.Legend, svgLegend{X: x, Class: it[0], Label: it[1]})
		x += 28 + 7.5*float64(utf8.RuneCountInString(it[1])) + 14
	}
}

// svgNumber prints a coordinate with at most one decimal.
func svgNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// maxStripDots is how many turns of one index the plot draws as dots; past
// it they would only blur into a bar.
const maxStripDots = 300

// turnLatency is the distribution of one turn index's latency.
type turnLatency struct {
	Index int
	N     int64
	P     results.Percentiles
}

var percentileSeries = []struct {
	class, label string
	of           func(results.Percentiles) float64
}{
	{"s1", "p50", func(p results.Percentiles) float64 { return p.P50 }},
	{"s2", "p90", func(p results.Percentiles) float64 { return p.P90 }},
	{"s3", "p95", func(p results.Percentiles) float64 { return p.P95 }},
	{"s4", "p99", func(p results.Percentiles) float64 { return p.P99 }},
	{"s5", "max", func(p results.Percentiles) float64 { return p.Max }},
}

// runTurnPlot draws the latency per turn index of a run record, from every
// answered turn of its conversations. Turns that errored are left out: a
// timeout's latency is the timeout, not the bot's.
func runTurnPlot(convs []*results.Conversation) *svgChart {
	samples := map[int][]float64{}
	for _, c := range convs {
		for n, t := range c.Turns {
			if t == nil || t.Error != "" {
				continue
			}
			i := t.Index
			if i <= 0 {
				i = n + 1
			}
			samples[i] = append(samples[i], t.LatencyMS)
		}
	}
	var idx []int
	for i := range samples {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var dist []turnLatency
	for _, i := range idx {
		dist = append(dist, turnLatency{Index: i, N: int64(len(samples[i])), P: percentilesOf(samples[i])})
	}
	return turnPlot(dist, samples)
}

// loadTurnPlot draws a load record's latency per turn index from its
// histograms' percentiles.
func loadTurnPlot(load *results.Load) *svgChart {
	var dist []turnLatency
	for n, s := range load.Turns {
		i := s.Index
		if i <= 0 {
			i = n + 1
		}
		if s.Count > s.Errors {
			dist = append(dist, turnLatency{Index: i, N: s.Count - s.Errors, P: s.LatencyMS})
		}
	}
	return turnPlot(dist, nil)
}

// percentilesOf is the nearest-rank percentiles of xs.
func percentilesOf(xs []float64) results.Percentiles {
	if len(xs) == 0 {
		return results.Percentiles{}
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	at := func(q float64) float64 {
		k := int(math.Ceil(q*float64(len(s)))) - 1
		return s[min(max(k, 0), len(s)-1)]
	}
	return results.Percentiles{P50: at(0.50), P90: at(0.90), P95: at(0.95), P99: at(0.99), P999: at(0.999), Max: s[len(s)-1]}
}

// turnPlot is a group of bars per turn index, p50 to max, with a strip of
// the turns themselves when samples has them.
func turnPlot(dist []turnLatency, samples map[int][]float64) *svgChart {
	c := newChart("plot-turn-latency", "Latency per turn index", "Bars are p50, p90, p95, p99 and max of each turn index's latency; dots are single turns. Turns that errored are left out.")
	c.YLabel = "latency"
	if len(dist) == 0 {
		c.Empty = "No turn was answered, so there is no latency to plot."
		return c
	}
	peak := 0.0
	for _, d := range dist {
		peak = math.Max(peak, d.P.Max)
	}
	top := c.yAxisMS(peak)
	// Each group is the five bars and, when the turns themselves are
	// known and few enough to tell apart, a strip of one dot per turn
	// beside them, so a single slow reply stands out from a slow index.
	strip := 0.0
	for _, d := range dist {
		if n := len(samples[d.Index]); n > 0 && n <= maxStripDots {
			strip = 1
		}
	}
	group := c.PW / float64(len(dist))
	slots := float64(len(percentileSeries)) + 2*strip
	barW := math.Min(group*0.75/slots, 28)
	for gi, d := range dist {
		left := c.X + float64(gi)*group + (group-barW*slots)/2
		for si, s := range percentileSeries {
			v := s.of(d.P)
			y := c.yOf(v, top)
			c.Bars = append(c.Bars, svgRect{
				X: left + float64(si)*barW, Y: y, W: barW - 2, H: c.Y + c.PH - y, Class: s.class,
				Title: "turn " + strconv.Itoa(d.Index) + " " + s.label + ": " + formatMS(v),
			})
		}
		center := c.X + (float64(gi)+0.5)*group
		c.XTicks = append(c.XTicks, svgTick{Pos: center, Label: "turn " + strconv.Itoa(d.Index)})
		c.Labels = append(c.Labels, svgText{X: center, Y: c.Y + c.PH + 34, Text: "n=" + strconv.FormatInt(d.N, 10), Class: "sub", Anchor: "middle"})
		xs := samples[d.Index]
		if len(xs) == 0 || len(xs) > maxStripDots {
			continue
		}
		stripLeft := left + float64(len(percentileSeries))*barW + barW*0.4
		stripW := barW * 1.4
		c.Bands = append(c.Bands, svgRect{X: stripLeft - 2, Y: c.Y, W: stripW + 4, H: c.PH, Class: "strip",
			Title: "turn " + strconv.Itoa(d.Index) + ": " + plural(len(xs), "answered turn")})
		for k, x := range xs {
			// A fixed zigzag rather than random jitter, so equal
			// latencies stay apart and the page is the same every time.
			off := []float64{0.5, 0.15, 0.85, 0.3, 0.7}[k%5]
			c.Dots = append(c.Dots, svgDot{
				X: stripLeft + off*stripW, Y: c.yOf(x, top), R: 3.5, Class: "sample",
				Title: "turn " + strconv.Itoa(d.Index) + ": " + formatMS(x),
			})
		}
	}
	items := make([][2]string, 0, len(percentileSeries)+1)
	for _, s := range percentileSeries {
		items = append(items, [2]string{s.class, s.label})
	}
	if len(c.Dots) > 0 {
		items = append(items, [2]string{"sample", "one turn"})
	}
	c.legend(items...)
	return c
}

// thresholdLine finds the bound of a turn-latency threshold on a
// percentile the timeline plots ("turn_latency.p95<2s"), so the plot can
// draw it; other thresholds are only in the table.
var thresholdLine = regexp.MustCompile(`^\s*turn_latency\.(p50|p95|p99)\s*(?:<|<=)\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)?\s*$`)

// timelinePlots draws a load run over time: latency percentiles, throughput
// and errors, interval by interval. Intervals in which no turn finished are
// shaded on every plot: that is what a freeze looks like, and an aggregate
// would hide it.
func timelinePlots(load *results.Load) []*svgChart {
	width := load.IntervalMS
	if width <= 0 {
		width = 1000
	}
	// merge and the load runner write intervals in order; sorting a copy
	// keeps a hand-edited or foreign record from drawing lines backwards.
	tl := slices.Clone(load.Timeline)
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].StartMS < tl[j].StartMS })
	end := 0.0
	for _, iv := range tl {
		end = math.Max(end, iv.StartMS+width)
	}
	if end <= 0 {
		return nil
	}
	lat := newChart("plot-timeline-latency", "Turn latency over time", "p50, p95 and p99 of the turns that finished in each interval; gaps are intervals with no reply.")
	thr := newChart("plot-timeline-throughput", "Throughput over time", "Turns finished and conversations begun per second, interval by interval.")
	errs := newChart("plot-timeline-errors", "Errors over time", "Turns and session creations that errored, per interval.")
	charts := []*svgChart{lat, thr, errs}

	xOf := func(c *svgChart, ms float64) float64 { return c.X + ms/end*c.PW }
	step := niceStep(end / 1000 / 8)
	for _, c := range charts {
		c.XLabel = "seconds from start"
		for s := 0.0; s*1000 <= end+1e-9; s += step {
			c.XTicks = append(c.XTicks, svgTick{Pos: xOf(c, s*1000), Label: formatNumber(s) + "s"})
		}
	}

	// Freezes: runs of intervals in which nothing finished, between the
	// first and the last interval that had something.
	first, last := -1, -1
	for i, iv := range tl {
		if iv.Turns > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first; i >= 0 && i <= last; {
		if tl[i].Turns > 0 {
			i++
			continue
		}
		j := i
		for j <= last && tl[j].Turns == 0 {
			j++
		}
		from, to := tl[i].StartMS, tl[j-1].StartMS+width
		title := "no turn finished for " + formatSpan(to-from)
		for _, c := range charts {
			c.Bands = append(c.Bands, svgRect{X: xOf(c, from), Y: c.Y, W: xOf(c, to) - xOf(c, from), H: c.PH, Class: "freeze", Title: title})
		}
		lat.Labels = append(lat.Labels, svgText{X: (xOf(lat, from) + xOf(lat, to)) / 2, Y: lat.Y + 14, Text: "no replies " + formatSpan(to-from), Class: "freeze-label", Anchor: "middle"})
		i = j
	}

	// Latency lines, broken where an interval has no latency to show.
	peak := 0.0
	for _, iv := range tl {
		peak = math.Max(peak, iv.LatencyMS.P99)
	}
	var bounds []struct {
		ms    float64
		label string
	}
	for _, th := range load.Thresholds {
		m := thresholdLine.FindStringSubmatch(th.Expr)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		if m[3] == "s" {
			v *= 1000
		}
		bounds = append(bounds, struct {
			ms    float64
			label string
		}{v, th.Expr})
		peak = math.Max(peak, v)
	}
	top := lat.yAxisMS(peak)
	lat.YLabel = "latency"
	// The lines get hues of their own rather than the bars' shades of
	// blue: three lines in one hue cannot be told apart.
	for si, s := range []struct {
		class, label string
		of           func(results.Percentiles) float64
	}{
		{"l50", "p50", percentileSeries[0].of},
		{"l95", "p95", percentileSeries[2].of},
		{"l99", "p99", percentileSeries[3].of},
	} {
		var seg []string
		flush := func() {
			if len(seg) > 1 {
				lat.Lines = append(lat.Lines, svgLine{Points: strings.Join(seg, " "), Class: "line " + s.class, Title: s.label})
			}
			seg = nil
		}
		for _, iv := range tl {
			if iv.Turns == 0 || iv.LatencyMS.Max == 0 {
				// Nothing answered (or everything errored): no latency,
				// which is not the same as a fast one.
				flush()
				continue
			}
			x, y := xOf(lat, iv.StartMS+width/2), lat.yOf(s.of(iv.LatencyMS), top)
			seg = append(seg, svgNumber(x)+","+svgNumber(y))
			// The p99 points carry every number of their interval for a
			// pointer to find; they are drawn faintly, so a lone point
			// between two gaps still shows.
			if si == 2 {
				lat.Dots = append(lat.Dots, svgDot{X: x, Y: y, R: 2.5, Class: "pt " + s.class,
					Title: formatSpan(iv.StartMS) + ": p50 " + formatMS(iv.LatencyMS.P50) + ", p95 " + formatMS(iv.LatencyMS.P95) + ", p99 " + formatMS(iv.LatencyMS.P99) + ", max " + formatMS(iv.LatencyMS.Max) + " (" + plural(int(iv.Turns), "turn") + ")"})
			}
		}
		flush()
	}
	for _, b := range bounds {
		y := lat.yOf(b.ms, top)
		lat.Lines = append(lat.Lines, svgLine{Points: svgNumber(lat.X) + "," + svgNumber(y) + " " + svgNumber(lat.X+lat.PW) + "," + svgNumber(y), Class: "bound", Title: "threshold " + b.label})
		lat.Labels = append(lat.Labels, svgText{X: lat.X + lat.PW - 4, Y: y - 5, Text: b.label, Class: "bound-label", Anchor: "end"})
	}
	lat.legend(withFreeze(lat, [2]string{"l50", "p50"}, [2]string{"l95", "p95"}, [2]string{"l99", "p99"})...)

	// Throughput: bars of turns per second, a line of conversations begun.
	perSecond := 1000 / width
	peak = 0
	for _, iv := range tl {
		peak = math.Max(peak, math.Max(float64(iv.Turns), float64(iv.Started))*perSecond)
	}
	top = thr.yAxis(peak, func(v float64) string { return formatNumber(v) + "/s" })
	thr.YLabel = "per second"
	barW := math.Max(width/end*thr.PW-1, 0.5)
	var started []string
	for _, iv := range tl {
		x := xOf(thr, iv.StartMS)
		rate := float64(iv.Turns) * perSecond
		y := thr.yOf(rate, top)
		thr.Bars = append(thr.Bars, svgRect{X: x, Y: y, W: barW, H: thr.Y + thr.PH - y, Class: "turns",
			Title: formatSpan(iv.StartMS) + ": " + formatNumber(rate) + " turns/s"})
		started = append(started, svgNumber(x+barW/2)+","+svgNumber(thr.yOf(float64(iv.Started)*perSecond, top)))
	}
	thr.Lines = append(thr.Lines, svgLine{Points: strings.Join(started, " "), Class: "line started", Title: "conversations begun per second"})
	thr.legend(withFreeze(thr, [2]string{"turns", "turns finished"}, [2]string{"started", "conversations begun"})...)

	// Errors per interval.
	peak = 0
	for _, iv := range tl {
		peak = math.Max(peak, float64(iv.Errors))
	}
	top = errs.yAxisStep(math.Max(peak, 1), 1, formatNumber)
	errs.YLabel = "errors"
	total := int64(0)
	for _, iv := range tl {
		total += iv.Errors
		if iv.Errors == 0 {
			continue
		}
		x := xOf(errs, iv.StartMS)
		y := errs.yOf(float64(iv.Errors), top)
		errs.Bars = append(errs.Bars, svgRect{X: x, Y: y, W: barW, H: errs.Y + errs.PH - y, Class: "errors",
			Title: formatSpan(iv.StartMS) + ": " + plural(int(iv.Errors), "error")})
	}
	if total == 0 {
		errs.Labels = append(errs.Labels, svgText{X: errs.X + errs.PW/2, Y: errs.Y + errs.PH/2, Text: "no errors", Class: "sub", Anchor: "middle"})
	}
	errs.legend(withFreeze(errs, [2]string{"errors", "errors (" + strconv.FormatInt(total, 10) + " in all)"})...)
	return charts
}

// withFreeze adds the shading's key to a legend when the chart has any.
func withFreeze(c *svgChart, items ...[2]string) [][2]string {
	if len(c.Bands) > 0 {
		items = append(items, [2]string{"freeze", "no turn finished"})
	}
	return items
}
