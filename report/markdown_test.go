package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

// mdPassingRun is a small run where every conversation passed.
func mdPassingRun() *results.Run {
	pass := []results.Assertion{{Check: "contains", Passed: true}}
	conv := func(line int, name string, lat float64) *results.Conversation {
		return &results.Conversation{
			Suite: "refunds", File: "examples/refunds.yaml", Line: line, Name: name,
			Status: results.Passed, Runs: 1, PassedRuns: 1, DurationMS: lat,
			LatencyMS: results.Percentiles{P50: lat, P90: lat, P95: lat, P99: lat, Max: lat},
			Turns:     []*results.Turn{{Index: 1, User: "hello", Reply: "Hi!", LatencyMS: lat, Assertions: pass}},
		}
	}
	return &results.Run{
		Schema: results.Schema, RunID: "run-green",
		StartedAt:  time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC),
		DurationMS: 2400,
		Summary: results.Summary{
			Conversations: 3, Passed: 3, Turns: 3,
			LatencyMS: results.Percentiles{P50: 800, P90: 950, P95: 950, P99: 950, Max: 950},
		},
		Suites: []results.Suite{{Name: "refunds", File: "examples/refunds.yaml", Provider: "opencx"}},
		Conversations: []*results.Conversation{
			conv(3, "greeting", 640), conv(10, "simple refund", 800), conv(20, "goodbye", 950),
		},
	}
}

// mdBaselineRun is a failing run compared with a baseline: one regression
// with the turn and check that changed, a fix, a new and a removed
// conversation, one still failing, notes, and latency per turn index.
func mdBaselineRun() *results.Run {
	run := &results.Run{
		Schema: results.Schema, RunID: "run-pr-17",
		StartedAt:  time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC),
		DurationMS: 8100,
		Summary: results.Summary{
			Conversations: 6, Passed: 3, Failed: 2, Flaky: 1, Turns: 12,
			LatencyMS: results.Percentiles{P50: 910, P90: 1800, P95: 2100, P99: 2400, Max: 2400},
		},
		Suites: []results.Suite{{Name: "refunds", File: "examples/refunds.yaml"}},
		Conversations: []*results.Conversation{
			{
				Suite: "refunds", File: "examples/refunds.yaml", Line: 31, Name: "refund with ticket follow-up",
				Status: results.Failed, Runs: 1,
				Turns: []*results.Turn{
					{Index: 1, User: "I want a refund for ord_42", Reply: "Refund created: TCK-1042.", LatencyMS: 900, Assertions: []results.Assertion{{Check: "contains", Passed: true}}},
					{Index: 2, User: "What is the status of TCK-1042?", Reply: "I don't know which ticket you mean.", LatencyMS: 2100, Assertions: []results.Assertion{{
						Check: "contains", Message: `expected the reply to contain "being processed", got "I don't know which ticket you mean."`,
						Expected: "being processed", Actual: "I don't know which ticket you mean.",
					}}},
				},
			},
			{
				Suite: "refunds", File: "examples/refunds.yaml", Line: 70, Name: "refund policy",
				Status: results.Failed, Runs: 1,
				Turns: []*results.Turn{
					{Index: 1, User: "What is your refund policy?", Reply: "We refund within 30 days.", LatencyMS: 610, Assertions: []results.Assertion{{
						Check: "knowledge", Message: `expected knowledge source "faq", got ["blog"]`, Expected: "faq", Actual: `["blog"]`,
					}}},
				},
			},
			{
				Suite: "refunds", File: "examples/refunds.yaml", Line: 52, Name: "angry customer is handed off",
				Status: results.Flaky, Runs: 5, PassedRuns: 4,
				RunResults: []results.RunResult{
					{Status: results.Passed}, {Status: results.Failed, Message: "turn 1: handoff: expected a handoff to a human, got none"},
					{Status: results.Passed}, {Status: results.Passed}, {Status: results.Passed},
				},
				Turns: []*results.Turn{
					{Index: 1, User: "Third time I ask!", Reply: "Let me check.", LatencyMS: 950, Assertions: []results.Assertion{{Check: "handoff", Message: "expected a handoff to a human, got none"}}},
					{Index: 2, Sender: results.SenderAgent, User: "Hi, I'm Ana from support.", Reply: "", Silent: true, LatencyMS: 300, Assertions: []results.Assertion{{Check: "reply", Passed: true}}},
				},
			},
		},
		Comparison: &results.Comparison{
			BaselineRunID: "abc123", BaselineFile: "baseline/evalrun.json",
			Regressed: []results.Change{{
				Suite: "refunds", Name: "refund with ticket follow-up", Was: results.Passed, Now: results.Failed,
				Turn: 2, Check: "contains", Detail: `turn 2 contained "being processed" before and does not now`,
			}},
			Fixed:        []results.Change{{Suite: "refunds", Name: "order lookup", Was: results.Failed, Now: results.Passed, Turn: 1, Check: "regex", Detail: "turn 1 matches now"}},
			New:          []results.Change{{Suite: "refunds", Name: "goodbye", Now: results.Passed}},
			Removed:      []results.Change{{Suite: "billing", Name: "invoice copy", Was: results.Passed}},
			StillFailing: []results.Change{{Suite: "refunds", Name: "refund policy", Was: results.Failed, Now: results.Failed, Turn: 1, Check: "knowledge"}},
			Unchanged:    2,
			Latency: []results.LatencyChange{
				{Index: 1, Was: results.Percentiles{P50: 700, P95: 900}, Now: results.Percentiles{P50: 900, P95: 950}, P50Change: 0.2857, P95Change: 0.0556},
				{Index: 2, Was: results.Percentiles{P50: 1200, P95: 2400}, Now: results.Percentiles{P50: 1100, P95: 2100}, P50Change: -0.0833, P95Change: -0.125},
			},
			Notes: []string{"suite billing is only in the baseline"},
		},
	}
	return run
}

// mdHostileRun is a run whose bot, suite and messages try every way text can
// break out of its place in Markdown: table pipes and line breaks, HTML
// (including closing our <details>), code fences, headings, links and
// images, mentions, math and bidi overrides.
func mdHostileRun() *results.Run {
	reply := strings.Join([]string{
		"pipe | in | reply",
		"</details>",
		"<script>alert(1)</script>",
		"```",
		"closing fences ```` do nothing",
		"````",
		"# heading",
		"* list item",
		"> quote",
		"| a | b |",
		"|---|---|",
		"cc @org/team and @alice, mail bob@example.com",
		"[link](javascript:alert(1)) ![img](https://x.test/i.png)",
		"$x^2$ ~~strike~~ &amp; <img src=x onerror=alert(1)> **bold** _it_",
		"rtl \u202eevil\u202c text",
	}, "\n")
	return &results.Run{
		Schema: results.Schema, RunID: "run-`hostile`|<b>",
		StartedAt: time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC),
		Summary:   results.Summary{Conversations: 2, Failed: 1, Errored: 1, Turns: 2, TurnErrors: 1, LatencyMS: results.Percentiles{P50: 500, Max: 500}},
		Conversations: []*results.Conversation{
			{
				Suite: "evil | suite <b>bold</b>", File: "suites/evil|.yaml", Line: 1,
				Name:   "</details></summary><script>x</script> @org/team `tick` # [a](b)\nsecond line",
				Status: results.Failed, Runs: 1,
				Turns: []*results.Turn{{
					Index: 1, User: "# heading\n[link](javascript:alert(1))\n![img](https://x.test/i.png)\n@org/team", Reply: reply, LatencyMS: 500,
					Assertions: []results.Assertion{
						{Check: "contains|x", Message: "expected | x\n| y | z |\n</details> @org/team"},
						{Check: "equals", Message: "expected a different reply", Expected: "a|b`c``d", Actual: "`</details>` | @org/team\n| z |"},
					},
				}},
				Final: []results.Assertion{{Check: "final.status", Message: "<script>alert(1)</script>"}},
			},
			{
				Suite: "evil | suite <b>bold</b>", Name: "errored ```", Status: results.Errored, Runs: 1,
				Reason: "http: 500: <html><body>|oops|</body></html>",
				Turns: []*results.Turn{{
					Index: 1, User: "hi", LatencyMS: 30000, Error: "http: 500: <html><body>|oops|</body></html>",
				}},
			},
		},
	}
}

// mdBigRun is the fixture with many more failing conversations, each with a
// long reply, so that its Markdown far exceeds a small limit.
func mdBigRun() *results.Run {
	run := fixtureRun()
	for i := range 40 {
		run.Conversations = append(run.Conversations, &results.Conversation{
			Suite: "bulk", File: "suites/bulk.yaml", Line: 10 + i, Name: fmt.Sprintf("generated case %02d", i),
			Status: results.Failed, Runs: 1,
			Turns: []*results.Turn{{
				Index: 1, User: "question", Reply: strings.Repeat("a long answer ", 40), LatencyMS: 700,
				Assertions: []results.Assertion{{Check: "contains", Message: "expected the reply to mention the order", Expected: "ord_42", Actual: "a long answer a long…"}},
			}},
		})
		run.Summary.Conversations++
		run.Summary.Failed++
		run.Summary.Turns++
	}
	return run
}

func mdRender(t *testing.T, run *results.Run, opts MarkdownOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Markdown(&buf, run, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestMarkdownGolden(t *testing.T) {
	cases := []struct {
		name string
		run  func() *results.Run
		opts MarkdownOptions
	}{
		{"passing", mdPassingRun, MarkdownOptions{}},
		{"failing", fixtureRun, MarkdownOptions{}},
		{"empty", emptyRun, MarkdownOptions{}},
		{"baseline", mdBaselineRun, MarkdownOptions{}},
		{"truncated", mdBigRun, MarkdownOptions{MaxBytes: 5000, FullReport: "https://ci.example/artifacts/evalrun.html"}},
		{"hostile", mdHostileRun, MarkdownOptions{}},
		{"load-open", openLoadRun, MarkdownOptions{}},
		{"load-closed", closedLoadRun, MarkdownOptions{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := mdRender(t, tc.run(), tc.opts)
			checkGolden(t, "md-"+tc.name+".md", []byte(out))
			mdCheckStructure(t, out)
		})
	}
}

func TestMarkdownVerdict(t *testing.T) {
	cases := []struct {
		name string
		run  func() *results.Run
		want string
	}{
		{"all passed", mdPassingRun, "### ✅ all 3 conversations passed\n"},
		{"nothing ran", emptyRun, "### ⚠️ no conversations ran\n"},
		{"failures of several kinds", fixtureRun, "### ❌ 6 of 9 conversations did not pass (3 failed, 2 errored, 1 unfinished), 1 flaky, 1 skipped\n"},
		{"one kind", func() *results.Run {
			r := mdPassingRun()
			r.Summary.Passed, r.Summary.Failed = 1, 2
			return r
		}, "### ❌ 2 of 3 conversations failed\n"},
		{"regression", mdBaselineRun, "### ❌ 2 of 6 conversations failed, 1 flaky, 1 regression against baseline `abc123`, 1 fixed\n"},
		{"failing before too", func() *results.Run {
			r := mdBaselineRun()
			r.Comparison.Regressed = nil
			return r
		}, "### ⚠️ 2 of 6 conversations failed, 1 flaky, no regressions against baseline `abc123`, 1 fixed\n"},
		{"errors fail even with a baseline", func() *results.Run {
			r := mdBaselineRun()
			r.Comparison.Regressed = nil
			r.Summary.Failed, r.Summary.Errored = 1, 1
			return r
		}, "### ❌ 2 of 6 conversations did not pass (1 failed, 1 errored), 1 flaky, no regressions against baseline `abc123`, 1 fixed\n"},
		{"thresholds", openLoadRun, "### ❌ 53 of 2988 conversations did not pass (40 failed, 12 errored, 1 unfinished), 2 of 7 thresholds not met, 1 without data\n"},
		{"thresholds met", func() *results.Run {
			r := closedLoadRun()
			r.Load.Thresholds = []results.Threshold{{Expr: "error_rate<0.01", Passed: true}}
			return r
		}, "### ✅ all 4120 conversations passed, the threshold met\n"},
		{"interrupted", func() *results.Run {
			r := mdPassingRun()
			r.Interrupted = "interrupt"
			return r
		}, "### ❌ all 3 conversations passed, stopped early (interrupt)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := mdRender(t, tc.run(), MarkdownOptions{})
			if first, _, _ := strings.Cut(out, "\n"); first+"\n" != tc.want {
				t.Errorf("verdict\n got %q\nwant %q", first+"\n", tc.want)
			}
		})
	}
}

func TestMarkdownLimits(t *testing.T) {
	t.Run("default is the comment limit", func(t *testing.T) {
		out := mdRender(t, mdHugeRun(), MarkdownOptions{})
		if len(out) > MarkdownCommentLimit {
			t.Errorf("%d bytes, more than the comment limit", len(out))
		}
		if !strings.Contains(out, "[!NOTE]") {
			t.Error("shortened but no note")
		}
	})
	t.Run("step summary limit", func(t *testing.T) {
		out := mdRender(t, mdHugeRun(), MarkdownOptions{MaxBytes: MarkdownStepSummaryLimit})
		if len(out) > MarkdownStepSummaryLimit || len(out) <= MarkdownCommentLimit {
			t.Errorf("%d bytes, want between the two limits", len(out))
		}
	})
	t.Run("negative means no limit", func(t *testing.T) {
		out := mdRender(t, mdHugeRun(), MarkdownOptions{MaxBytes: -1})
		if strings.Contains(out, "[!NOTE]") {
			t.Error("unlimited document was shortened")
		}
	})
	t.Run("too small", func(t *testing.T) {
		var buf bytes.Buffer
		err := Markdown(&buf, fixtureRun(), MarkdownOptions{MaxBytes: 100})
		if err == nil || !strings.Contains(err.Error(), "too small") {
			t.Errorf("err = %v, want a limit that is too small", err)
		}
		if buf.Len() != 0 {
			t.Error("wrote something though it failed")
		}
	})
	t.Run("no run", func(t *testing.T) {
		if err := Markdown(&bytes.Buffer{}, nil, MarkdownOptions{}); err == nil {
			t.Error("no error for a nil run")
		}
	})
	t.Run("fits whole", func(t *testing.T) {
		out := mdRender(t, fixtureRun(), MarkdownOptions{})
		if strings.Contains(out, "[!NOTE]") {
			t.Error("a document within the limit carries a note")
		}
	})
}

// mdHugeRun has so many failing conversations that its Markdown exceeds a
// comment, though not a step summary.
func mdHugeRun() *results.Run {
	run := mdBigRun()
	for range 3 {
		more := mdBigRun()
		run.Conversations = append(run.Conversations, more.Conversations...)
	}
	return run
}

// TestMarkdownTruncation shortens the same run to many limits: every
// result fits, is still well-formed, says what it left out, and gives up
// transcripts before failures.
func TestMarkdownTruncation(t *testing.T) {
	run := mdBigRun()
	full := mdRender(t, run, MarkdownOptions{MaxBytes: -1})
	fullFailures := strings.Count(full, "\n| ❌ failed |")
	for _, limit := range []int{MarkdownMinLimit, 2500, 4000, 6000, 9000, 15000, 30000, len(full) - 1, len(full)} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			out := mdRender(t, run, MarkdownOptions{MaxBytes: limit})
			if len(out) > limit {
				t.Fatalf("%d bytes, over the limit of %d", len(out), limit)
			}
			mdCheckStructure(t, out)
			if limit >= len(full) {
				if out != full {
					t.Error("a limit the document fits in changed it")
				}
				return
			}
			if !strings.Contains(out, "> [!NOTE]\n> This summary was shortened to fit in ") {
				t.Fatal("no note on what was left out")
			}
			if !strings.Contains(out, "Everything is in the JSON record (`--json FILE`).") {
				t.Error("the note does not say where the rest is")
			}
			if strings.Count(out, "\n| ❌ failed |") < fullFailures && strings.Contains(out, "<details>") {
				t.Error("failures were left out while transcripts were kept")
			}
			if !strings.HasPrefix(out, "### ❌ ") {
				t.Error("the verdict is not first")
			}
		})
	}
	t.Run("note counts", func(t *testing.T) {
		out := mdRender(t, run, MarkdownOptions{MaxBytes: 4000})
		kept := strings.Count(out, "\n| ❌ failed |")
		want := fmt.Sprintf("%d more failures", fullFailures-kept)
		if !strings.Contains(out, want) || !strings.Contains(out, "all 47 transcripts") {
			t.Errorf("note does not say %q and all 47 transcripts:\n%s", want, out[strings.Index(out, "[!NOTE]"):])
		}
	})
	t.Run("bytes not runes", func(t *testing.T) {
		// Every name is three bytes a rune: counted in runes the document
		// would overflow a byte limit.
		run := mdBigRun()
		for _, c := range run.Conversations {
			c.Name = strings.Repeat("日本", 30)
		}
		out := mdRender(t, run, MarkdownOptions{MaxBytes: 5000})
		if len(out) > 5000 {
			t.Errorf("%d bytes (%d runes), over 5000", len(out), utf8.RuneCountInString(out))
		}
	})
}

// mdManyChangesRun is mdBaselineRun with hundreds of notes and changes, so the
// comparison itself must be shortened.
func mdManyChangesRun() *results.Run {
	run := mdBaselineRun()
	cmp := run.Comparison
	for i := range 300 {
		cmp.Notes = append(cmp.Notes, fmt.Sprintf("suite s%03d is only in the baseline <b>|</b>", i))
		cmp.StillFailing = append(cmp.StillFailing, results.Change{
			Suite: "bulk", Name: fmt.Sprintf("case %03d", i), Was: results.Failed, Now: results.Failed, Turn: 1, Check: "contains",
		})
	}
	return run
}

// TestMarkdownShortenedRuns shortens every kind of run to several limits:
// each result fits, is well-formed, keeps the verdict and says what it left
// out.
func TestMarkdownShortenedRuns(t *testing.T) {
	runs := []struct {
		name string
		run  func() *results.Run
	}{
		{"failing", fixtureRun}, {"baseline", mdBaselineRun}, {"many changes", mdManyChangesRun},
		{"hostile", mdHostileRun}, {"load", openLoadRun}, {"huge", mdHugeRun},
	}
	for _, r := range runs {
		full := mdRender(t, r.run(), MarkdownOptions{MaxBytes: -1})
		verdict, _, _ := strings.Cut(full, "\n")
		for _, limit := range []int{MarkdownMinLimit, 3000, 5000, 10000, MarkdownCommentLimit} {
			t.Run(fmt.Sprint(r.name, " ", limit), func(t *testing.T) {
				out := mdRender(t, r.run(), MarkdownOptions{MaxBytes: limit, FullReport: "out/evalrun.html"})
				if len(out) > limit {
					t.Fatalf("%d bytes, over the limit of %d", len(out), limit)
				}
				mdCheckStructure(t, out)
				if !strings.HasPrefix(out, verdict+"\n") {
					t.Error("the verdict is not the first line")
				}
				shortened := len(full) > limit
				if noted := strings.Contains(out, "Everything is in `out/evalrun.html`."); noted != shortened {
					t.Errorf("%d bytes in full, limit %d, but note present = %v", len(full), limit, noted)
				}
			})
		}
	}
}

// TestMarkdownHostile checks that nothing a bot says escapes its place: our
// <details> open and close in pairs, every table row has its table's
// cells, no HTML tag but ours is left unescaped, and no mention survives.
func TestMarkdownHostile(t *testing.T) {
	out := mdRender(t, mdHostileRun(), MarkdownOptions{})
	scan := mdCheckStructure(t, out)
	if scan.details != 2 {
		t.Errorf("%d <details>, want one per conversation that did not pass (2)", scan.details)
	}
	if !strings.Contains(out, "@\u200dorg/team") {
		t.Error("mention not broken")
	}
	if !strings.Contains(out, "bob@example.com") {
		t.Error("an e-mail address was changed")
	}
	if strings.Contains(out, "\u202e") {
		t.Error("bidi override left in")
	}
	// The bot's own "</details>" line is inside the fenced reply: the
	// fence opens before it and closes after everything the bot said.
	fenced := regexp.MustCompile("(?s)\n(`{5,})text\npipe \\| in \\| reply\n</details>\n.*?\n(`{5,})\n")
	if m := fenced.FindStringSubmatch(out); m == nil || m[1] != m[2] {
		t.Error("the hostile reply is not in one fence longer than its own backtick runs")
	}
}

func TestMarkdownEscape(t *testing.T) {
	cases := []struct {
		name, in string
		fn       func(string) string
		want     string
	}{
		{"text specials", "a|b *c* _d_ `e` [f](g) <h> &i; ~~j~~ $k$ #l \\m", mdText,
			`a\|b \*c\* \_d\_ \` + "`" + `e\` + "`" + ` \[f\](g) \<h\> \&i; \~\~j\~\~ \$k\$ \#l \\m`},
		{"text line breaks", "one\ntwo\r\nthree\rfour", mdText, "one two three four"},
		{"text mention", "@alice (@org/team) a@b.c", mdText, "@\u200dalice (@\u200dorg/team) a@b.c"},
		{"text controls", "a\x00b\x1b[31mc\td\u202e", mdText, `a\\x00b\\x1b\[31mc    d\\u202e`},
		{"cell", "a | b\n\n\nc", func(s string) string { return mdCell(s, 100) }, `a \| b<br>c`},
		{"cell cut", strings.Repeat("x", 20) + "|", func(s string) string { return mdCell(s, 10) }, "xxxxxxxxx…"},
		{"code", "a`b", func(s string) string { return mdCode(s, false) }, "``a`b``"},
		{"code edge ticks", "`a`", func(s string) string { return mdCode(s, false) }, "`` `a` ``"},
		{"code in cell", "a|b\nc", func(s string) string { return mdCode(s, true) }, "`a\\|b c`"},
		{"code empty", "", func(s string) string { return mdCode(s, true) }, ""},
		{"code in cell with a backslash before a pipe", `a\|b`, func(s string) string { return mdCode(s, true) }, `a\\\|b`},
		{"html", `</summary> "x" & @bob`, mdHTML, "&lt;/summary&gt; &#34;x&#34; &amp; @\u200dbob"},
		{"fence", "a\n```\nb", mdFence, "````text\na\n```\nb\n````\n\n"},
		{"fence plain", "hi", mdFence, "```text\nhi\n```\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.fn(tc.in); got != tc.want {
				t.Errorf("\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMarkdownWrapLines(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "abc def", 10, "abc def"},
		{"at a space", "aaa bbb ccc", 8, "aaa bbb\nccc"},
		{"no space", "abcdefghij", 4, "abcd\nefgh\nij"},
		{"runes", "日本語日本語", 4, "日本語日\n本語"},
		{"keeps lines", "a\n\nb", 4, "a\n\nb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mdWrapLines(tc.in, tc.n); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// mdScanResult is what mdCheckStructure found.
type mdScanResult struct {
	details int // <details> blocks, each closed
}

// mdCheckStructure reads out the way a GFM renderer would as far as
// escaping matters, and fails t on anything out of place: a <details> not
// closed or closed twice, a tag other than ours outside code, a table row
// with more or fewer cells than its header, a mention, an unclosed fence.
func mdCheckStructure(t *testing.T, out string) mdScanResult {
	t.Helper()
	var res mdScanResult
	open := false
	fence := ""
	columns := 0
	for n, line := range strings.Split(out, "\n") {
		where := fmt.Sprintf("line %d %q", n+1, line)
		if fence != "" {
			// A fence closes at a line of at least as many backticks and
			// nothing else but spaces.
			if trimmed := strings.TrimRight(strings.TrimLeft(line, " "), " "); len(trimmed) >= len(fence) &&
				strings.Trim(trimmed, "`") == "" && len(line)-len(strings.TrimLeft(line, " ")) <= 3 {
				if trimmed != fence {
					t.Errorf("%s: closes a fence of %d backticks", where, len(fence))
				}
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			fence = line
			if end := strings.IndexFunc(line, func(r rune) bool { return r != '`' }); end >= 0 {
				fence = line[:end]
			}
			continue
		}
		if strings.HasPrefix(strings.TrimLeft(line, " "), "~~~") {
			t.Errorf("%s: a tilde fence", where)
		}
		switch {
		case line == "<details>":
			if open {
				t.Errorf("%s: <details> inside <details>", where)
			}
			open = true
			res.details++
			continue
		case line == "</details>":
			if !open {
				t.Errorf("%s: </details> without <details>", where)
			}
			open = false
			continue
		case strings.HasPrefix(line, "<summary>"):
			inner, ok := strings.CutSuffix(strings.TrimPrefix(line, "<summary>"), "</summary>")
			if !ok || !open || strings.ContainsAny(inner, "<>") {
				t.Errorf("%s: a summary that is not ours or not escaped", where)
			}
			if mdMentioned(inner) {
				t.Errorf("%s: a mention", where)
			}
			continue
		}
		text := mdStripCode(t, where, line)
		if bad := mdUnescapedTag(text); bad != "" {
			t.Errorf("%s: unescaped %q", where, bad)
		}
		if mdMentioned(text) {
			t.Errorf("%s: a mention", where)
		}
		if strings.HasPrefix(line, "|") {
			cells := mdCountCells(line)
			if columns == 0 {
				columns = cells
			} else if cells != columns {
				t.Errorf("%s: %d cells in a table of %d columns", where, cells, columns)
			}
		} else {
			columns = 0
		}
	}
	if open {
		t.Error("a <details> is never closed")
	}
	if fence != "" {
		t.Error("a code fence is never closed")
	}
	return res
}

// mdCountCells counts a table row's cells: the pipes not escaped with a
// backslash, less one. GFM splits cells on these before anything else.
func mdCountCells(line string) int {
	pipes := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			pipes++
		}
	}
	return pipes - 1
}

// mdStripCode removes backslash escapes and code spans from a line, leaving
// the text GFM would read markup in.
func mdStripCode(t *testing.T, where, line string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
			b.WriteString("_")
		case '`':
			run := 1
			for i+run < len(line) && line[i+run] == '`' {
				run++
			}
			delim := line[i : i+run]
			end := -1
			for j := i + run; j < len(line); {
				k := strings.Index(line[j:], delim)
				if k < 0 {
					break
				}
				k += j
				if k+run < len(line) && line[k+run] == '`' || line[k-1] == '`' {
					j = k + 1
					continue
				}
				end = k
				break
			}
			if end < 0 {
				t.Errorf("%s: an unclosed code span", where)
				return b.String()
			}
			b.WriteString("CODE")
			i = end + run - 1
		default:
			b.WriteByte(line[i])
		}
	}
	return b.String()
}

var mdTagPattern = regexp.MustCompile(`</?[A-Za-z][^>]*>?|&[#A-Za-z0-9]+;`)

// mdUnescapedTag returns the first HTML tag or entity in text other than the
// <br> line breaks inside table cells and the autolink to the full report.
func mdUnescapedTag(text string) string {
	for _, m := range mdTagPattern.FindAllString(text, -1) {
		if m != "<br>" && !strings.HasPrefix(m, "<https://") {
			return m
		}
	}
	return ""
}

var mdMentionPattern = regexp.MustCompile(`(^|[^A-Za-z0-9])@[A-Za-z0-9]`)

func mdMentioned(text string) bool { return mdMentionPattern.MatchString(text) }

// FuzzMarkdownText puts arbitrary text where a bot, a suite and a check
// put theirs, and checks that the document keeps its structure and its
// limit whatever the text is.
func FuzzMarkdownText(f *testing.F) {
	hostile := mdHostileRun().Conversations[0]
	f.Add(hostile.Name, hostile.Turns[0].Reply, hostile.Turns[0].Assertions[0].Message, "a|b`c")
	f.Add("plain", "```\n</details>\n````", "@org/team", "`")
	f.Add("", "", "", "")
	f.Add("\\", "\\`\\|\\", "\\<br>", "| x |")
	f.Add("n", "r", "m", `a\|b \\| c`)
	f.Fuzz(func(t *testing.T, name, reply, message, actual string) {
		run := mdFuzzRun(name, reply, message, actual)
		for _, limit := range []int{-1, MarkdownMinLimit} {
			var buf bytes.Buffer
			if err := Markdown(&buf, run, MarkdownOptions{MaxBytes: limit}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if limit > 0 && len(out) > limit {
				t.Fatalf("%d bytes, over %d", len(out), limit)
			}
			mdCheckStructure(t, out)
		}
	})
}

// mdFuzzRun is a failed conversation with the given texts in every place a
// bot, a suite or a check puts text.
func mdFuzzRun(name, reply, message, actual string) *results.Run {
	return &results.Run{
		Summary: results.Summary{Conversations: 1, Failed: 1, Turns: 1},
		Conversations: []*results.Conversation{{
			Suite: name, Name: name, Status: results.Failed, Reason: message,
			Turns: []*results.Turn{{
				Index: 1, User: reply, Reply: reply,
				Assertions: []results.Assertion{{Check: name, Message: message, Expected: actual, Actual: actual}},
				Error:      message,
			}},
			Final: []results.Assertion{{Check: actual, Message: reply}},
		}},
	}
}
