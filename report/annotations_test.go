package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

func githubLines(t *testing.T, run *results.Run, opts GitHubOptions) []string {
	t.Helper()
	var b bytes.Buffer
	if err := GitHubAnnotations(&b, run, opts); err != nil {
		t.Fatal(err)
	}
	if b.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// TestGitHubAnnotationsGolden pins the commands for the fixture, which has
// every verdict and the hostile text reports must survive.
func TestGitHubAnnotationsGolden(t *testing.T) {
	var b bytes.Buffer
	if err := GitHubAnnotations(&b, fixtureRun(), GitHubOptions{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "full.github.txt", b.Bytes())
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "::error ") && !strings.HasPrefix(line, "::warning ") {
			t.Errorf("not a workflow command: %q", line)
		}
	}
}

func TestGitHubAnnotationsByVerdict(t *testing.T) {
	conv := func(status results.Status) *results.Conversation {
		return &results.Conversation{
			Suite: "refunds", Name: "asks for the order", File: "./suites/refunds.yaml", Line: 12,
			Status: status, Runs: 1,
			Turns: []*results.Turn{{Index: 2, Assertions: []results.Assertion{
				{Check: "contains", Passed: true},
				{Check: "contains", Message: `expected the reply to contain "order", got "hi"`},
			}}},
		}
	}
	flaky := conv(results.Flaky)
	flaky.Runs, flaky.PassedRuns = 5, 4
	errored := conv(results.Errored)
	errored.Turns = []*results.Turn{{Index: 1, Error: "opencx: send: 503 Service Unavailable"}}
	unfinished := conv(results.Unfinished)
	unfinished.Reason = "the run was interrupted during turn 2"
	twice := conv(results.Failed)
	twice.Final = []results.Assertion{{Check: "final.status", Message: `expected status "closed_resolved", got "open"`}}
	noDetail := conv(results.Failed)
	noDetail.Turns = nil

	const at = "file=suites/refunds.yaml,line=12,"
	cases := []struct {
		name string
		conv *results.Conversation
		want []string // nil: no annotation
	}{
		{"passed", conv(results.Passed), nil},
		{"skipped", conv(results.Skipped), nil},
		{"failed", conv(results.Failed), []string{
			"::error " + at + "title=evalrun%3A refunds / asks for the order failed::turn 2: contains: expected the reply to contain \"order\", got \"hi\""}},
		{"failed twice", twice, []string{
			"::error " + at + "title=evalrun%3A refunds / asks for the order failed::turn 2: contains: expected the reply to contain \"order\", got \"hi\"%0Aand 1 more failure: see the JUnit or Markdown report"}},
		{"failed without a located failure", noDetail, []string{
			"::error " + at + "title=evalrun%3A refunds / asks for the order failed::failed"}},
		{"errored", errored, []string{
			"::error " + at + "title=evalrun%3A refunds / asks for the order errored::turn 1: error: opencx: send: 503 Service Unavailable"}},
		{"unfinished", unfinished, []string{
			"::error " + at + "title=evalrun%3A refunds / asks for the order unfinished::unfinished: the run was interrupted during turn 2"}},
		{"flaky", flaky, []string{
			"::warning " + at + "title=evalrun%3A refunds / asks for the order is flaky::passed 4/5 runs; first failing run: turn 2: contains: expected the reply to contain \"order\", got \"hi\""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := githubLines(t, &results.Run{Conversations: []*results.Conversation{c.conv}}, GitHubOptions{})
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestGitHubAnnotationsEscaping: a suite or a bot cannot end a property or
// the command early, nor start a command of its own on a new line.
func TestGitHubAnnotationsEscaping(t *testing.T) {
	if got, want := escapeData("50% off\r\n::set-env::x"), "50%25 off%0D%0A::set-env::x"; got != want {
		t.Errorf("escapeData = %q, want %q", got, want)
	}
	if got, want := escapeProperty("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae"; got != want {
		t.Errorf("escapeProperty = %q, want %q", got, want)
	}
	if got, want := escapeData("%0A"), "%250A"; got != want {
		t.Errorf("escapeData(%%0A) = %q, want %q: an escape the bot wrote must stay text", got, want)
	}

	run := &results.Run{Conversations: []*results.Conversation{{
		Suite: "a,b: c", Name: "line=9,title=x", File: "suites/we,ird:name.yaml", Line: 3,
		Status: results.Failed, Runs: 1,
		Turns: []*results.Turn{{Index: 1, Assertions: []results.Assertion{
			{Check: "equals", Message: "expected \"x\", got \"100%\n::error file=evil.go,line=1::owned\r\n\x1b[31mred\""},
		}}},
	}}}
	lines := githubLines(t, run, GitHubOptions{})
	if len(lines) != 1 {
		t.Fatalf("want one line, got %d: %q", len(lines), lines)
	}
	want := "::error file=suites/we%2Cird%3Aname.yaml,line=3,title=evalrun%3A a%2Cb%3A c / line=9%2Ctitle=x failed::"
	if !strings.HasPrefix(lines[0], want) {
		t.Errorf("properties not escaped:\n got %s\nwant %s…", lines[0], want)
	}
	if strings.Contains(lines[0], "\x1b") {
		t.Errorf("a terminal escape reached the command: %q", lines[0])
	}
	if msg := lines[0][len(want):]; strings.Contains(msg, "100%\n") || !strings.Contains(msg, "100%25") {
		t.Errorf("message not escaped: %q", msg)
	}
}

// TestGitHubAnnotationsCap: GitHub drops annotations past ten per level and
// step, so the tenth says how many more there are.
func TestGitHubAnnotationsCap(t *testing.T) {
	run := &results.Run{}
	for i := range 25 {
		status := results.Failed
		if i%5 == 0 {
			status = results.Flaky
		}
		run.Conversations = append(run.Conversations, &results.Conversation{
			Suite: "s", Name: fmt.Sprintf("c%02d", i), File: "s.yaml", Line: i + 1, Status: status, Runs: 2, PassedRuns: 1,
		})
	}
	lines := githubLines(t, run, GitHubOptions{})
	var errs, warns []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "::error "):
			errs = append(errs, l)
		case strings.HasPrefix(l, "::warning "):
			warns = append(warns, l)
		default:
			t.Errorf("not a command: %q", l)
		}
	}
	// 20 failed: 9 of them and a count of the other 11; 5 flaky: all of them.
	if len(errs) != MaxGitHubAnnotations || len(warns) != 5 {
		t.Fatalf("got %d errors and %d warnings, want %d and 5:\n%s", len(errs), len(warns), MaxGitHubAnnotations, strings.Join(lines, "\n"))
	}
	if !strings.Contains(errs[8], "c11 failed") {
		t.Errorf("the ninth error is not the ninth failure in run order: %s", errs[8])
	}
	if last := errs[9]; strings.Contains(last, "file=") || !strings.Contains(last, "11 more problems are not annotated") {
		t.Errorf("the last error does not count the rest: %s", last)
	}
	if got := githubLines(t, run, GitHubOptions{Max: 3}); len(got) != 6 || !strings.Contains(got[2], "18 more problems") || !strings.Contains(got[5], "3 more warnings") {
		t.Errorf("Max 3:\n%s", strings.Join(got, "\n"))
	}
}

// TestGitHubAnnotationsBaseline: with a baseline, a conversation that was
// failing already does not fail the build, so it is a warning, unless
// --fail-on any makes it fail the build again.
func TestGitHubAnnotationsBaseline(t *testing.T) {
	run := &results.Run{
		Conversations: []*results.Conversation{
			{Suite: "s", Name: "old", File: "s.yaml", Line: 1, Status: results.Failed, Runs: 1, Reason: "broken"},
			{Suite: "s", Name: "new", File: "s.yaml", Line: 9, Status: results.Failed, Runs: 1, Reason: "broken"},
		},
		Comparison: &results.Comparison{
			StillFailing: []results.Change{{Suite: "s", Name: "old", Was: results.Failed, Now: results.Failed}},
			Regressed:    []results.Change{{Suite: "s", Name: "new", Was: results.Passed, Now: results.Failed}},
		},
	}
	got := githubLines(t, run, GitHubOptions{})
	want := []string{
		"::error file=s.yaml,line=9,title=evalrun%3A s / new failed::broken",
		"::warning file=s.yaml,line=1,title=evalrun%3A s / old still failing::failing in the baseline too, so not a regression: broken",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = githubLines(t, run, GitHubOptions{FailOnAny: true})
	if len(got) != 2 || !strings.HasPrefix(got[0], "::error file=s.yaml,line=1,") || !strings.HasPrefix(got[1], "::error file=s.yaml,line=9,") {
		t.Errorf("with --fail-on any both are errors:\n%s", strings.Join(got, "\n"))
	}
}

// TestGitHubAnnotationsLoad: a load run with thresholds is judged by them,
// not by the conversations it sampled.
func TestGitHubAnnotationsLoad(t *testing.T) {
	sample := []*results.Conversation{{Suite: "s", Name: "c", File: "s.yaml", Line: 4, Status: results.Failed, Runs: 1, Reason: "broken"}}
	run := &results.Run{
		Load: &results.Load{Thresholds: []results.Threshold{
			{Expr: "turn_latency.p95<2s", Measured: 2345, Unit: "ms"},
			{Expr: "error_rate<0.01", Measured: 0.001, Passed: true},
			{Expr: "session.p95<1s", Missing: true},
		}},
		Conversations: sample,
	}
	got := githubLines(t, run, GitHubOptions{})
	want := []string{
		"::error title=evalrun%3A threshold crossed::turn_latency.p95<2s: measured 2.35s",
		"::error title=evalrun%3A threshold without data::session.p95<1s: nothing was measured",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Without thresholds a load run fails on its conversations, as run does.
	got = githubLines(t, &results.Run{Load: &results.Load{}, Conversations: sample}, GitHubOptions{})
	if len(got) != 1 || !strings.HasPrefix(got[0], "::error file=s.yaml,line=4,") {
		t.Errorf("load without thresholds:\n%s", strings.Join(got, "\n"))
	}
}

func TestGitHubAnnotationsNothingToSay(t *testing.T) {
	for name, run := range map[string]*results.Run{"nil": nil, "empty": emptyRun()} {
		if got := githubLines(t, run, GitHubOptions{}); len(got) != 0 {
			t.Errorf("%s: %q", name, got)
		}
	}
}

// TestGitHubAnnotationsRedactFirst: secrets are hidden before escaping, whose
// output ("%25" for "%") a redactor reading the stream would not recognise.
func TestGitHubAnnotationsRedactFirst(t *testing.T) {
	const secret = "tok_50%:off,now"
	run := &results.Run{Conversations: []*results.Conversation{{
		Suite: "s " + secret, Name: "c", File: "s.yaml", Line: 1, Status: results.Failed, Runs: 1,
		Reason: "the bot said " + secret,
	}}}
	redact := func(s string) string { return strings.ReplaceAll(s, secret, "[redacted]") }
	lines := githubLines(t, run, GitHubOptions{Redact: redact})
	if len(lines) != 1 || strings.Contains(lines[0], "tok_50") || strings.Count(lines[0], "[redacted]") != 2 {
		t.Errorf("secret not hidden before escaping: %q", lines)
	}
}
