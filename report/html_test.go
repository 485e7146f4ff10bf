package report

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
)

// The hostile texts a bot (or a suite) might send, to be shown as text.
const (
	hostileScript   = `<script>alert(1)</script>`
	hostileImg      = `"><img src=x onerror=alert(2)>`
	hostileTextarea = `</textarea><style>body{display:none}</style>`
)

// htmlRun is the full fixture run compared with a baseline, plus a
// conversation whose every field is hostile and one with an agent turn.
func htmlRun() *results.Run {
	run := fixtureRun()
	run.Conversations = append(run.Conversations,
		&results.Conversation{
			Suite: hostileImg, File: "suites/hostile.yaml", Line: 3,
			Name:   `</script><script>alert("name")</script>`,
			Tags:   []string{`x" onmouseover="alert(4)`, "hostile"},
			Status: results.Failed, Runs: 1, DurationMS: 900,
			Reason: `<iframe src="//evil.test/"></iframe>`,
			Turns: []*results.Turn{
				{Index: 1, User: hostileImg, Reply: hostileScript + hostileTextarea, LatencyMS: 300, Assertions: []results.Assertion{{
					Check: "equals", Message: `expected <b>bold</b>, got ` + hostileScript,
					Expected: `<b>bold</b>`, Actual: hostileTextarea,
				}}},
			},
		},
		&results.Conversation{
			Suite: "refunds", File: "examples/refunds.yaml", Line: 90,
			Name: "agent takes over", Tags: []string{"handoff", "smoke"},
			Status: results.Passed, Runs: 1, PassedRuns: 1, DurationMS: 1500,
			LatencyMS: results.Percentiles{P50: 700, P90: 760, P95: 760, P99: 760, Max: 760},
			Turns: []*results.Turn{
				{Index: 1, Sender: results.SenderUser, User: "I need a person", Reply: "Connecting you to an agent.", Handoff: true, LatencyMS: 700, Assertions: []results.Assertion{{Check: "handoff", Passed: true}}},
				{Index: 2, Sender: results.SenderAgent, User: "Hi, this is Ana from support.", Reply: "Thanks, Ana.", LatencyMS: 760, Assertions: []results.Assertion{{Check: "contains", Passed: true}}},
			},
		},
	)
	run.Summary.Conversations += 2
	run.Summary.Failed++
	run.Summary.Passed++
	run.Conversations[2].RunResults = []results.RunResult{
		{Status: results.Passed, DurationMS: 2900},
		{Status: results.Failed, DurationMS: 2950, Message: "turn 1: handoff: expected a handoff to a human, got none"},
	}
	run.Comparison = &results.Comparison{
		BaselineRunID: "run-2025-01-01-0007", BaselineFile: "baseline/evalrun.json",
		Regressed: []results.Change{
			{Suite: "refunds", Name: "refund with ticket follow-up", Was: results.Passed, Now: results.Failed, Turn: 2, Check: "contains",
				Detail: `contains held in the baseline and fails now: expected the reply to contain "being processed"`},
			{Suite: `billing & <support>`, Name: `invoice <copy> & "quotes"`, Was: results.Passed, Now: results.Errored, Turn: 2, Check: "error",
				Detail: `errored now: toolzz: send-message: 503 <a href="http://evil.test/">upstream</a>`},
		},
		Fixed:        []results.Change{{Suite: "refunds", Name: "simple refund", Was: results.Failed, Now: results.Passed, Turn: 1, Check: "contains", Detail: "contains fails in the baseline and holds now"}},
		New:          []results.Change{{Suite: `billing & <support>`, Name: "awkward replies — 日本語 ünïcödé 🎉\x1b[31m", Now: results.Failed}},
		Removed:      []results.Change{{Suite: "refunds", Name: "old greeting", Was: results.Passed}},
		StillFailing: []results.Change{{Suite: "refunds", Name: "refund policy", Was: results.Failed, Now: results.Failed, Turn: 1, Check: "knowledge"}},
		Unchanged:    3,
		Latency: []results.LatencyChange{
			{Index: 1, Was: results.Percentiles{P50: 800, P95: 1200}, Now: results.Percentiles{P50: 840, P95: 1234.5}, P50Change: 0.05, P95Change: 0.029},
			{Index: 2, Was: results.Percentiles{P50: 1100, P95: 1500}, Now: results.Percentiles{P50: 1900, P95: 2410}, P50Change: 0.727, P95Change: 0.607},
			{Index: 3, Was: results.Percentiles{P50: 1300, P95: 1400}, Now: results.Percentiles{P50: 1000, P95: 1000}, P50Change: -0.231, P95Change: -0.286},
		},
		Notes: []string{`the baseline has suite "legacy", which this run does not`},
	}
	return run
}

// htmlLoadRun is the open-model load fixture with a second-by-second
// timeline in which the service froze: from 30 s to 32 s no turn finished,
// then the backlog came back at once, slowly.
func htmlLoadRun() *results.Run {
	run := openLoadRun()
	run.Load.IntervalMS = 1000
	for i := 0; i < 60; i++ {
		wobble := float64(i * 37 % 11)
		iv := results.Interval{
			StartMS: float64(i) * 1000,
			Started: int64(50 - i*7%5),
			Turns:   int64(145 + i*13%9),
			Errors:  int64(i * 7 % 3 / 2),
			LatencyMS: results.Percentiles{
				P50: 780 + 6*wobble, P90: 1350 + 10*wobble, P95: 1700 + 15*wobble,
				P99: 2600 + 40*wobble, P999: 3400, Max: 3600 + 30*wobble,
			},
		}
		switch i {
		case 30, 31:
			iv.Turns, iv.Errors, iv.LatencyMS = 0, 0, results.Percentiles{}
		case 32:
			iv.Turns, iv.Errors = 390, 9
			iv.LatencyMS = results.Percentiles{P50: 2450, P90: 3900, P95: 4400, P99: 8200, P999: 9100, Max: 9120}
		case 33:
			iv.Turns, iv.Errors = 210, 4
			iv.LatencyMS = results.Percentiles{P50: 1300, P90: 2200, P95: 2500, P99: 4100, P999: 4500, Max: 4600}
		}
		run.Load.Timeline = append(run.Load.Timeline, iv)
	}
	return run
}

var htmlRuns = []struct {
	name string
	run  func() *results.Run
}{
	{"run", htmlRun},
	{"load", htmlLoadRun},
	{"load-closed", closedLoadRun},
	{"plain", fixtureRun},
	{"empty", emptyRun},
}

func renderHTML(t *testing.T, run *results.Run) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, run); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// htmlNode is an element or a text node of a parsed page.
type htmlNode struct {
	tag   string // "" for text
	attrs []xml.Attr
	text  string
	kids  []*htmlNode
}

func (n *htmlNode) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (n *htmlNode) hasClass(c string) bool {
	v, _ := n.attr("class")
	for _, f := range strings.Fields(v) {
		if f == c {
			return true
		}
	}
	return false
}

// all returns the elements under n (n included) that match.
func (n *htmlNode) all(match func(*htmlNode) bool) []*htmlNode {
	var out []*htmlNode
	var walk func(*htmlNode)
	walk = func(m *htmlNode) {
		if m.tag != "" && match(m) {
			out = append(out, m)
		}
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return out
}

func (n *htmlNode) byTag(tag string) []*htmlNode {
	return n.all(func(m *htmlNode) bool { return m.tag == tag })
}

func (n *htmlNode) byClass(tag, class string) []*htmlNode {
	return n.all(func(m *htmlNode) bool { return (tag == "" || m.tag == tag) && m.hasClass(class) })
}

func (n *htmlNode) byID(id string) *htmlNode {
	found := n.all(func(m *htmlNode) bool { v, _ := m.attr("id"); return v == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

// words is n's text as a reader sees it: elements' texts apart, runs of
// white space as one space.
func words(n *htmlNode) string {
	var b strings.Builder
	var walk func(*htmlNode)
	walk = func(m *htmlNode) {
		if m.tag != "" {
			b.WriteByte(' ')
		}
		b.WriteString(m.text)
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func (n *htmlNode) textContent() string {
	var b strings.Builder
	var walk func(*htmlNode)
	walk = func(m *htmlNode) {
		b.WriteString(m.text)
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}

var rawTextElement = regexp.MustCompile(`(?s)(<(script|style)\b[^>]*>)(.*?)(</(script|style)>)`)

// parseHTML reads the page into a tree. The module has no HTML parser, and
// the page is ours, so encoding/xml in its lenient HTML mode does: void
// elements close themselves, HTML entities decode, attributes may lack
// values. Script and style bodies are raw text in HTML, so they are lifted
// out first and put back as the elements' text.
func parseHTML(t *testing.T, page []byte) *htmlNode {
	t.Helper()
	var raw []string
	masked := rawTextElement.ReplaceAllFunc(page, func(m []byte) []byte {
		sub := rawTextElement.FindSubmatch(m)
		raw = append(raw, string(sub[3]))
		return []byte(string(sub[1]) + "@raw" + strconv.Itoa(len(raw)-1) + "@" + string(sub[4]))
	})
	d := xml.NewDecoder(bytes.NewReader(masked))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &htmlNode{tag: "#document"}
	stack := []*htmlNode{root}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("page does not parse: %v", err)
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &htmlNode{tag: strings.ToLower(tok.Name.Local), attrs: tok.Attr}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 1 {
				t.Fatalf("page closes </%s> it never opened", tok.Name.Local)
			}
			if got := strings.ToLower(tok.Name.Local); got != top.tag {
				t.Fatalf("page closes </%s> inside <%s>", got, top.tag)
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			text := string(tok)
			if top.tag == "script" || top.tag == "style" {
				if i, err := strconv.Atoi(strings.Trim(text, "@raw")); err == nil && i < len(raw) {
					text = raw[i]
				}
			}
			top.kids = append(top.kids, &htmlNode{text: text})
		}
	}
	if len(stack) != 1 {
		t.Fatalf("page leaves <%s> open", stack[len(stack)-1].tag)
	}
	return root
}

func TestHTMLNoRun(t *testing.T) {
	if err := HTML(io.Discard, nil); err == nil {
		t.Error("HTML(nil) did not fail")
	}
}

// TestHTMLStructure checks what a reader relies on: the verdict and counts,
// the baseline comparison, a section per conversation carrying what the
// filters match on, each turn with its checks, and the plots.
func TestHTMLStructure(t *testing.T) {
	run := htmlRun()
	doc := parseHTML(t, renderHTML(t, run))

	if h := doc.byID("verdict"); h == nil || !strings.Contains(h.textContent(), "2 regressed") || !h.hasClass("bad") {
		t.Errorf("headline should say 2 regressed, in red: %+v", h)
	}
	summary := doc.byID("summary")
	if summary == nil {
		t.Fatal("no #summary section")
	}
	counts := map[string]string{}
	for _, li := range summary.byClass("li", "count") {
		k, _ := li.attr("data-count")
		counts[k] = strings.TrimSpace(li.byClass("span", "n")[0].textContent())
	}
	want := map[string]int{"all": 11, "passed": 2, "failed": 4, "errored": 2, "flaky": 1, "skipped": 1, "unfinished": 1}
	for k, n := range want {
		if counts[k] != strconv.Itoa(n) {
			t.Errorf("summary count %s = %q, want %d", k, counts[k], n)
		}
	}

	cmp := doc.byID("comparison")
	if cmp == nil {
		t.Fatal("no #comparison section")
	}
	if firstElement(doc.byTag("main")[0]) != summary {
		t.Error("the summary is not the first section")
	}
	for key, n := range map[string]int{"regressed": 2, "still-failing": 1, "fixed": 1, "new": 1, "removed": 1} {
		g := cmp.byID("change-" + key)
		if g == nil {
			t.Errorf("no change group %s", key)
			continue
		}
		if rows := g.byTag("tbody")[0].byTag("tr"); len(rows) != n {
			t.Errorf("change group %s has %d rows, want %d", key, len(rows), n)
		}
	}
	reg := cmp.byID("change-regressed").byTag("tbody")[0].byTag("tr")[0]
	if txt := reg.textContent(); !strings.Contains(txt, "turn 2 · contains") || !strings.Contains(txt, "being processed") {
		t.Errorf("regression row lacks turn, check or detail: %q", txt)
	}
	if a := reg.byTag("a"); len(a) != 1 {
		t.Error("regression row does not link to its conversation")
	} else if href, _ := a[0].attr("href"); doc.byID(strings.TrimPrefix(href, "#")) == nil {
		t.Errorf("regression links to %s, which is not on the page", href)
	}
	if rows := cmp.byClass("table", "latency-changes")[0].byTag("tbody")[0].byTag("tr"); len(rows) != 3 {
		t.Errorf("latency changes: %d rows, want 3", len(rows))
	} else if slower := rows[1].byClass("td", "slower"); len(slower) != 2 {
		t.Errorf("turn 2 got 73%% slower, not marked slower: %q", rows[1].textContent())
	}

	nFailures := 0
	for _, c := range run.Conversations {
		nFailures += len(c.Failures())
	}
	if p := doc.byID("problems"); p == nil {
		t.Error("no list of what went wrong")
	} else if rows := p.byTag("tbody")[0].byTag("tr"); len(rows) != nFailures {
		t.Errorf("%d rows in what went wrong, want one per failure (%d)", len(rows), nFailures)
	} else {
		for _, r := range rows {
			href, _ := r.byTag("a")[0].attr("href")
			if doc.byID(strings.TrimPrefix(href, "#")) == nil {
				t.Errorf("what went wrong links to %s, which is not on the page", href)
			}
		}
	}

	convs := doc.byClass("article", "conv")
	if len(convs) != len(run.Conversations) {
		t.Fatalf("%d conversation sections, want %d", len(convs), len(run.Conversations))
	}
	for i, c := range run.Conversations {
		art := convs[i]
		if v, _ := art.attr("data-verdict"); v != string(c.Status) {
			t.Errorf("%s: data-verdict=%q, want %q", c.Name, v, c.Status)
		}
		if v, _ := art.attr("data-suite"); v != c.Suite {
			t.Errorf("%s: data-suite=%q, want %q", c.Name, v, c.Suite)
		}
		if v, ok := art.attr("data-tags"); !ok || v != strings.Join(tagTokens(c.Tags), " ") {
			t.Errorf("%s: data-tags=%q", c.Name, v)
		}
		turns := art.byClass("div", "turn")
		nFinal := 0
		if len(c.Final) > 0 {
			nFinal = 1
		}
		if len(turns) != len(c.Turns)+nFinal {
			t.Errorf("%s: %d turn blocks, want %d turns and %d final", c.Name, len(turns), len(c.Turns), nFinal)
			continue
		}
		for j, turn := range c.Turns {
			checks := turns[j].byClass("li", "check")
			if len(turn.Assertions) == 0 {
				if len(checks) != 1 || !checks[0].hasClass("none") {
					t.Errorf("%s turn %d: want a 'no checks' line", c.Name, turn.Index)
				}
				continue
			}
			if len(checks) != len(turn.Assertions) {
				t.Errorf("%s turn %d: %d checks shown, want %d", c.Name, turn.Index, len(checks), len(turn.Assertions))
				continue
			}
			for k, a := range turn.Assertions {
				if a.Passed != checks[k].hasClass("pass") || a.Passed == checks[k].hasClass("fail") {
					t.Errorf("%s turn %d check %s: pass=%v not shown", c.Name, turn.Index, a.Check, a.Passed)
				}
				if a.Message != "" && !strings.Contains(checks[k].textContent(), displayText(a.Message)) {
					t.Errorf("%s turn %d check %s: message missing", c.Name, turn.Index, a.Check)
				}
			}
			if turn.Error != "" && !strings.Contains(turns[j].textContent(), displayText(turn.Error)) {
				t.Errorf("%s turn %d: error not shown", c.Name, turn.Index)
			}
		}
		if nFinal == 1 && len(turns[len(turns)-1].byClass("li", "check")) != len(c.Final) {
			t.Errorf("%s: final checks not all shown", c.Name)
		}
		if c.Reason != "" && !strings.Contains(art.textContent(), displayText(c.Reason)) {
			t.Errorf("%s: reason not shown", c.Name)
		}
	}
	agent := convs[len(convs)-1].byClass("div", "msg")
	if len(agent) < 3 || !agent[2].hasClass("agent") {
		t.Error("an agent's turn is not marked as the agent's")
	}
	flaky := convs[2]
	if runs := flaky.byClass("ul", "runs"); len(runs) != 1 || !strings.Contains(runs[0].textContent(), "run 2: failed") {
		t.Error("the flaky conversation does not list its failed run")
	}

	// Without scripts, nothing may start hidden but the filter bar.
	for _, el := range doc.all(func(n *htmlNode) bool { _, ok := n.attr("hidden"); return ok }) {
		if id, _ := el.attr("id"); id != "filters" {
			t.Errorf("<%s id=%q> starts hidden; without scripts it would never show", el.tag, id)
		}
	}
	filters := doc.byID("filters")
	if filters == nil {
		t.Fatal("no filter bar")
	}
	if _, hidden := filters.attr("hidden"); !hidden {
		t.Error("the filter bar must start hidden, for pages opened without scripts")
	}
	if n := len(filters.byTag("select")); n != 2 {
		t.Errorf("%d filter selects, want suite and tag", n)
	}

	plot := doc.byID("plot-turn-latency")
	if plot == nil || len(plot.byTag("svg")) != 1 {
		t.Fatal("no latency plot")
	}
	if bars := plot.byClass("rect", "bar"); len(bars) != 3*5 {
		t.Errorf("latency plot: %d bars, want 5 per turn index for 3 indexes", len(bars))
	}
	if dots := plot.byClass("circle", "sample"); len(dots) != 15 {
		t.Errorf("latency plot: %d dots, want one per answered turn (15)", len(dots))
	}
}

// shapes are the plot's shapes of a class, not the legend's keys.
func shapes(plot *htmlNode, tag, class string) []*htmlNode {
	var out []*htmlNode
	for _, s := range plot.byClass(tag, class) {
		if !s.hasClass("key") {
			out = append(out, s)
		}
	}
	return out
}

func firstElement(n *htmlNode) *htmlNode {
	for _, k := range n.kids {
		if k.tag != "" {
			return k
		}
	}
	return nil
}

// TestHTMLLoad checks a load record's page: thresholds, and the timeline
// plots showing the freeze.
func TestHTMLLoad(t *testing.T) {
	run := htmlLoadRun()
	doc := parseHTML(t, renderHTML(t, run))
	if h := doc.byID("verdict"); h == nil || !strings.Contains(h.textContent(), "3 of 7 thresholds failed") {
		t.Errorf("headline should count failed thresholds: %q", h.textContent())
	}
	load := doc.byID("load")
	if load == nil {
		t.Fatal("no #load section")
	}
	rows := load.byClass("table", "thresholds")[0].byTag("tbody")[0].byTag("tr")
	if len(rows) != len(run.Load.Thresholds) {
		t.Fatalf("%d threshold rows, want %d", len(rows), len(run.Load.Thresholds))
	}
	for i, th := range run.Load.Thresholds {
		class := "failed"
		switch {
		case th.Missing:
			class = "missing"
		case th.Passed:
			class = "passed"
		}
		if !rows[i].hasClass(class) {
			t.Errorf("threshold %s not shown as %s", th.Expr, class)
		}
	}
	for _, id := range []string{"plot-turn-latency", "plot-timeline-latency", "plot-timeline-throughput", "plot-timeline-errors"} {
		p := doc.byID(id)
		if p == nil || len(p.byTag("svg")) != 1 {
			t.Errorf("no %s plot", id)
			continue
		}
		if id == "plot-turn-latency" {
			continue
		}
		bands := shapes(p, "rect", "freeze")
		if len(bands) != 1 || !strings.Contains(bands[0].textContent(), "no turn finished for 2s") {
			t.Errorf("%s does not shade the 2s freeze", id)
		}
	}
	lat := doc.byID("plot-timeline-latency")
	// Each percentile line breaks at the freeze: two segments each.
	for _, class := range []string{"l50", "l95", "l99"} {
		n := 0
		for _, l := range lat.byClass("polyline", "line") {
			if l.hasClass(class) {
				n++
			}
		}
		if n != 2 {
			t.Errorf("latency line %s has %d segments, want 2 around the freeze", class, n)
		}
	}
	if b := lat.byClass("polyline", "bound"); len(b) != 1 {
		t.Errorf("%d threshold lines on the latency timeline, want 1 (turn_latency.p95<2s)", len(b))
	}
	if bars := shapes(doc.byID("plot-timeline-throughput"), "rect", "turns"); len(bars) != 60 {
		t.Errorf("%d throughput bars, want one per interval", len(bars))
	}
	if len(doc.byClass("article", "conv")) != len(run.Conversations) {
		t.Error("the sampled conversations are not all shown")
	}

	// A steady run shades nothing: the band means a freeze, not a quiet
	// start or end.
	steady := closedLoadRun()
	steady.Load.IntervalMS = 1000
	for i := 0; i < 10; i++ {
		iv := results.Interval{StartMS: float64(i) * 1000, Started: 30, Turns: 60, LatencyMS: pct(400, 600, 700, 900, 1200)}
		if i == 0 || i == 9 {
			iv.Turns, iv.LatencyMS = 0, results.Percentiles{}
		}
		steady.Load.Timeline = append(steady.Load.Timeline, iv)
	}
	doc = parseHTML(t, renderHTML(t, steady))
	if p := doc.byID("plot-timeline-latency"); p == nil {
		t.Error("no timeline plot for a steady run")
	} else if n := len(doc.byClass("rect", "freeze")); n > 0 {
		t.Errorf("a steady run's timeline shades %d freezes", n)
	}

	// Without a timeline the page says so rather than drawing nothing.
	doc = parseHTML(t, renderHTML(t, openLoadRun()))
	if doc.byID("plot-timeline-latency") != nil || !strings.Contains(doc.byID("load").textContent(), "no timeline") {
		t.Error("a record without a timeline should say it has none")
	}
}

// TestHTMLSelfContained checks that the page needs nothing but itself: no
// address outside it in any attribute, no stylesheet import or url() but
// data:, no elements that fetch, and a policy that forbids fetching.
func TestHTMLSelfContained(t *testing.T) {
	urlAttrs := map[string]bool{
		"href": true, "src": true, "srcset": true, "action": true, "formaction": true, "poster": true,
		"data": true, "background": true, "cite": true, "manifest": true, "ping": true, "longdesc": true,
		"codebase": true, "archive": true, "profile": true, "icon": true, "usemap": true,
	}
	fetching := map[string]bool{"link": true, "iframe": true, "frame": true, "object": true, "embed": true,
		"base": true, "audio": true, "video": true, "source": true, "track": true, "image": true, "use": true, "feimage": true}
	cssURL := regexp.MustCompile(`(?i)url\(\s*['"]?([^'")\s]*)`)
	local := func(v string) bool {
		v = strings.TrimSpace(v)
		return strings.HasPrefix(v, "#") || strings.HasPrefix(strings.ToLower(v), "data:")
	}
	for _, tc := range htmlRuns {
		t.Run(tc.name, func(t *testing.T) {
			page := renderHTML(t, tc.run())
			doc := parseHTML(t, page)
			for _, el := range doc.all(func(*htmlNode) bool { return true }) {
				if fetching[el.tag] {
					t.Errorf("<%s> can fetch", el.tag)
				}
				for _, a := range el.attrs {
					name := strings.ToLower(a.Name.Local)
					if urlAttrs[name] && !local(a.Value) {
						t.Errorf("<%s %s=%q> points outside the page", el.tag, name, a.Value)
					}
					if strings.HasPrefix(name, "on") {
						t.Errorf("<%s> has an event handler %s", el.tag, name)
					}
					if name == "http-equiv" && strings.EqualFold(a.Value, "refresh") {
						t.Error("the page redirects itself")
					}
				}
				if el.tag == "script" {
					if _, ok := el.attr("src"); ok {
						t.Error("a script is loaded from elsewhere")
					}
				}
			}
			// CSS lives in <style> and style attributes; check the page
			// whole, which covers both and anything else.
			if bytes.Contains(bytes.ToLower(page), []byte("@import")) {
				t.Error("the page imports a stylesheet")
			}
			for _, m := range cssURL.FindAllSubmatch(page, -1) {
				if !local(string(m[1])) {
					t.Errorf("url(%s) points outside the page", m[1])
				}
			}
			var csp string
			for _, m := range doc.byTag("meta") {
				if v, _ := m.attr("http-equiv"); strings.EqualFold(v, "Content-Security-Policy") {
					csp, _ = m.attr("content")
				}
			}
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "img-src data:") {
				t.Errorf("content security policy %q does not forbid fetching", csp)
			}
			scripts := doc.byTag("script")
			if len(scripts) != 1 {
				t.Fatalf("%d scripts, want the one filter script", len(scripts))
			}
			if want := "'sha256-" + scriptHash(scripts[0].textContent()) + "'"; !strings.Contains(csp, "script-src "+want) {
				t.Errorf("the policy allows scripts %q, not the page's script %s", csp, want)
			}
		})
	}
}

// TestHTMLHostile checks that markup in bot and suite text stays text.
func TestHTMLHostile(t *testing.T) {
	page := renderHTML(t, htmlRun())
	doc := parseHTML(t, page)
	if n := len(doc.byTag("script")); n != 1 {
		t.Errorf("%d <script> elements, want only the page's own", n)
	}
	if n := len(doc.byTag("style")); n != 1 {
		t.Errorf("%d <style> elements, want only the page's own", n)
	}
	for _, tag := range []string{"img", "iframe", "b", "textarea"} {
		if n := len(doc.byTag(tag)); n > 0 {
			t.Errorf("bot text made %d <%s> elements", n, tag)
		}
	}
	for _, a := range doc.byTag("a") {
		if href, _ := a.attr("href"); strings.Contains(href, "evil") {
			t.Errorf("bot text made a link to %s", href)
		}
	}
	var art *htmlNode
	for _, c := range doc.byClass("article", "conv") {
		if v, _ := c.attr("data-suite"); v == hostileImg {
			art = c
		}
	}
	if art == nil {
		t.Fatal("the hostile conversation's suite did not survive as an attribute value")
	}
	if v, _ := art.attr("data-tags"); v != `x"_onmouseover="alert(4) hostile` {
		t.Errorf("hostile tag became data-tags=%q", v)
	}
	texts := art.byClass("div", "text")
	if len(texts) != 2 || texts[0].textContent() != hostileImg || texts[1].textContent() != hostileScript+hostileTextarea {
		t.Errorf("hostile messages not shown as written (%d text blocks)", len(texts))
	}
	if name := art.byClass("span", "name")[0].textContent(); name != `</script><script>alert("name")</script>` {
		t.Errorf("hostile name shown as %q", name)
	}
	kv := art.byClass("div", "kv")
	if len(kv) != 2 || !strings.Contains(kv[0].textContent(), "<b>bold</b>") || !strings.Contains(kv[1].textContent(), "</textarea>") {
		t.Error("hostile expected and actual not shown as text")
	}
	if bytes.Contains(page, []byte("<img")) || bytes.Contains(page, []byte("<script>alert")) {
		t.Error("raw hostile markup in the page")
	}
}

func TestDisplayText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello <b>", "hello <b>"},
		{"line breaks kept", "a\r\nb\nc\td\re", "a\nb\nc\td\ne"},
		{"controls shown", "nul\x00 esc\x1b[31m del\x7f", `nul\x00 esc\x1b[31m del\x7f`},
		{"c1 control", "a\u0085b", `a\u0085b`},
		{"noncharacters", "a\ufffe b\ufdd0 c\U0001ffff", `a\ufffe b\ufdd0 c\u1ffff`},
		{"bad utf-8", "bad\xffbyte", "bad\uFFFDbyte"},
		{"unicode", "日本語 🎉", "日本語 🎉"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := displayText(tc.in); got != tc.want {
				t.Errorf("displayText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestHTMLOutline keeps a golden outline of each page: its sections,
// conversations, turns, checks and plot shapes, without the stylesheet,
// script and coordinates, so a change in structure shows in review.
func TestHTMLOutline(t *testing.T) {
	for _, tc := range htmlRuns {
		t.Run(tc.name, func(t *testing.T) {
			doc := parseHTML(t, renderHTML(t, tc.run()))
			checkGolden(t, "html-"+tc.name+".outline.txt", []byte(outline(doc)))
		})
	}
}

// outline prints the elements that carry an id, a data- attribute or a
// heading, indented by nesting; an <svg> as counts of its shapes.
func outline(doc *htmlNode) string {
	var b strings.Builder
	var walk func(n *htmlNode, depth int)
	walk = func(n *htmlNode, depth int) {
		if n.tag == "svg" {
			shapes := map[string]int{}
			for _, s := range n.all(func(m *htmlNode) bool { return m != n }) {
				cls, _ := s.attr("class")
				shapes[s.tag+"."+strings.Fields(cls + " -")[0]]++
			}
			var keys []string
			for k := range shapes {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fmt.Fprintf(&b, "%ssvg", strings.Repeat("  ", depth))
			for _, k := range keys {
				fmt.Fprintf(&b, " %s=%d", k, shapes[k])
			}
			b.WriteString("\n")
			return
		}
		show := false
		var parts []string
		if n.tag != "" && n.tag != "#document" {
			label := n.tag
			if id, ok := n.attr("id"); ok {
				label += "#" + id
				show = true
			}
			for _, a := range n.attrs {
				if strings.HasPrefix(a.Name.Local, "data-") {
					parts = append(parts, fmt.Sprintf("%s=%q", a.Name.Local, a.Value))
					show = true
				}
			}
			switch n.tag {
			case "h1", "h2", "h3", "summary", "title":
				parts = append(parts, fmt.Sprintf("%q", words(n)))
				show = true
			}
			if n.hasClass("check") {
				parts = append(parts, fmt.Sprintf("%q", words(n)))
			}
			if show {
				fmt.Fprintf(&b, "%s%s %s\n", strings.Repeat("  ", depth), label, strings.Join(parts, " "))
			}
		}
		if n.tag == "summary" || n.tag == "title" || n.tag == "script" || n.tag == "style" {
			return
		}
		next := depth
		if show {
			next++
		}
		for _, k := range n.kids {
			walk(k, next)
		}
	}
	walk(doc, 0)
	return b.String()
}

// chromiumPath returns a Chromium to drive headless, or skips t.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium not installed: the HTML report was not opened in a browser (apt-get install -y chromium)")
	return ""
}

// chromium runs a headless Chromium on args and returns what it printed.
func chromium(t *testing.T, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleTrouble finds what the page logged that means it broke: script
// errors, and loads the policy refused.
var consoleTrouble = regexp.MustCompile(`(?i)(uncaught|content security policy|refused to|net::err_)[^\n]*`)

// TestHTMLBrowser opens the pages in headless Chromium: the script must run
// under the page's own policy (the hash must match), the filters must act
// on an address's #filter? part, nothing may be refused or throw, and a
// screenshot must come out. (Chromium's --dump-dom prints nothing with
// scripts off, so what a page without scripts shows is checked on the
// markup, in TestHTMLStructure.) EVALRUN_HTML_SHOTS=DIR keeps the screenshots
// and pages there, for people to look at.
func TestHTMLBrowser(t *testing.T) {
	bin := chromiumPath(t)
	dir := t.TempDir()
	if keep := os.Getenv("EVALRUN_HTML_SHOTS"); keep != "" {
		dir = keep
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		run    func() *results.Run
		filter string
	}{
		{"run", htmlRun, "verdict=failed,errored&suite=refunds"},
		{"load", htmlLoadRun, "verdict=errored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := tc.run()
			path, err := filepath.Abs(filepath.Join(dir, "html-"+tc.name+".html"))
			if err != nil {
				t.Fatal(err)
			}
			writeReport(t, path, HTML, run)
			url := "file://" + path

			dom, logs := chromium(t, bin, "--dump-dom", url)
			if m := consoleTrouble.FindAllString(logs, -1); len(m) > 0 {
				t.Errorf("the browser reported trouble:\n%s", strings.Join(m, "\n"))
			}
			if !strings.Contains(dom, `data-filters="ready"`) {
				t.Fatalf("the filter script did not run (blocked by the policy, or it failed):\n%.2000s", dom)
			}
			if want := fmt.Sprintf(`data-shown="%d"`, len(run.Conversations)); !strings.Contains(dom, want) {
				t.Errorf("unfiltered, the page should show every conversation (%s)", want)
			}
			if strings.Contains(dom, `<form id="filters" class="filters" hidden`) {
				t.Error("the script did not reveal the filter bar")
			}
			if n := strings.Count(dom, "<script"); n != 1 {
				t.Errorf("the browser's DOM has %d scripts, want 1", n)
			}
			if strings.Contains(dom, "<img") || strings.Contains(dom, "<iframe") {
				t.Error("bot text became elements in the browser")
			}

			// Filtered by the address: only the matching conversations show.
			dom, _ = chromium(t, bin, "--dump-dom", url+"#filter?"+tc.filter)
			want := 0
			q := strings.Split(tc.filter, "&")
			verdicts := strings.TrimPrefix(q[0], "verdict=")
			for _, c := range run.Conversations {
				ok := strings.Contains(","+verdicts+",", ","+string(c.Status)+",")
				if len(q) > 1 {
					ok = ok && c.Suite == strings.TrimPrefix(q[1], "suite=")
				}
				if ok {
					want++
				}
			}
			if !strings.Contains(dom, fmt.Sprintf(`data-shown="%d"`, want)) {
				t.Errorf("filtered by %s, want %d conversations shown; the page says %s", tc.filter, want, regexp.MustCompile(`data-shown="\d+"`).FindString(dom))
			}
			hidden := regexp.MustCompile(`<article [^>]*hidden`).FindAllString(dom, -1)
			if len(hidden) != len(run.Conversations)-want {
				t.Errorf("%d conversations hidden, want %d", len(hidden), len(run.Conversations)-want)
			}

			shot := filepath.Join(dir, "html-"+tc.name+".png")
			chromium(t, bin, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars", url)
			f, err := os.Open(shot)
			if err != nil {
				t.Fatalf("no screenshot: %v", err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("screenshot is not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
				t.Errorf("screenshot is %v, want 1280x2000", b)
			}
		})
	}
}

// Latency axes used formatMS, which rounds to whole milliseconds: steps of
// 2.5 ms read "0ms 3ms 5ms 8ms 10ms", a sub-millisecond chart "<1ms" on
// every tick. Each label must read back as its tick's value.
func TestLatencyAxisLabels(t *testing.T) {
	for _, c := range []struct {
		peak float64
		want []string
	}{
		{0.3, []string{"0ms", "0.1ms", "0.2ms", "0.3ms"}},
		{0.75, []string{"0ms", "0.2ms", "0.4ms", "0.6ms", "0.8ms"}},
		{10, []string{"0ms", "2.5ms", "5ms", "7.5ms", "10ms"}},
		{2500, []string{"0s", "1s", "2s", "3s"}},
		{9000, []string{"0s", "2.5s", "5s", "7.5s", "10s"}},
		{70_000, []string{"0s", "20s", "40s", "60s", "80s"}},
		{0, []string{"0ms", "0.25ms", "0.5ms", "0.75ms", "1ms"}},
	} {
		ch := newChart("x", "x", "x")
		top := ch.yAxisMS(c.peak)
		var got []string
		seen := map[string]bool{}
		for i, tick := range ch.YTicks {
			got = append(got, tick.Label)
			if seen[tick.Label] {
				t.Errorf("peak %v: label %q twice", c.peak, tick.Label)
			}
			seen[tick.Label] = true
			// The label, read back, is the tick's value.
			v := top * float64(i) / float64(len(ch.YTicks)-1)
			num, unit := tick.Label, 1.0
			if n, ok := strings.CutSuffix(num, "ms"); ok {
				num = n
			} else {
				num, unit = strings.TrimSuffix(num, "s"), 1000
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || math.Abs(f*unit-v) > 1e-9*math.Max(v, 1) {
				t.Errorf("peak %v: tick %d at %v ms is labelled %q", c.peak, i, v, tick.Label)
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("peak %v: labels %q, want %q", c.peak, got, c.want)
		}
	}
}
