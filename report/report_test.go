package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/internal/outfile"
	"github.com/evalrun/evalrun/results"
)

func TestFormatMS(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0ms"},
		{0.4, "<1ms"},
		{1, "1ms"},
		{839.6, "840ms"},
		{999.4, "999ms"},
		{999.6, "1.0s"},
		{1234.5, "1.2s"},
		{59_900, "59.9s"},
		{59_960, "1m0s"},
		{125_000, "2m5s"},
		{-1, "-"},
	}
	for _, tt := range tests {
		if got := formatMS(tt.ms); got != tt.want {
			t.Errorf("formatMS(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestJUnitTime(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0.000"},
		{1, "0.001"},
		{1234.5678, "1.235"},
		{1e13, "10000000000.000"}, // never an exponent
		{-5, "0.000"},
	}
	for _, tt := range tests {
		if got := junitTime(tt.ms); got != tt.want {
			t.Errorf("junitTime(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello, 世界", "hello, 世界"},
		{"line breaks and tabs", "a\r\nb\tc", "a  b c"},
		{"escape sequence", "\x1b[31mred", `\x1b[31mred`},
		{"C1 control", "a\u0085b", `a\u0085b`},
		{"bad UTF-8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneLine(tt.in); got != tt.want {
				t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"one too long", 11, "one too lo…"},
		{"日本語のテキスト", 4, "日本語…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestXMLText(t *testing.T) {
	in := "ok\t\n\r \x00\x01\x08\x0b\x0c\x1b\x7f \uFFFE\uFFFF bad\xff end 🎉"
	want := "ok\t\n\r \x7f  bad\uFFFD end 🎉"
	if got := xmlText(in); got != want {
		t.Errorf("xmlText(%q) = %q, want %q", in, got, want)
	}
}

func TestTable(t *testing.T) {
	render := func(t *testing.T, run *results.Run, opts TableOptions) string {
		t.Helper()
		var buf bytes.Buffer
		if err := Table(&buf, run, opts); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}

	t.Run("no colour unless asked", func(t *testing.T) {
		if out := render(t, fixtureRun(), TableOptions{}); strings.Contains(out, "\x1b") {
			t.Error("plain table contains an escape character")
		}
		if out := render(t, fixtureRun(), TableOptions{Color: true}); !strings.Contains(out, "\x1b[31mFAILED\x1b[0m") {
			t.Error("coloured table does not paint FAILED red")
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		if a, b := render(t, fixtureRun(), TableOptions{}), render(t, fixtureRun(), TableOptions{}); a != b {
			t.Error("two renderings of the same run differ")
		}
	})

	t.Run("runs column only with repeats", func(t *testing.T) {
		run := fixtureRun()
		if out := render(t, run, TableOptions{}); !strings.Contains(out, "RUNS") || !strings.Contains(out, "17/20") {
			t.Error("repeated conversations but no RUNS column with 17/20")
		}
		for _, c := range run.Conversations {
			c.Runs, c.PassedRuns = 1, 1
		}
		if out := render(t, run, TableOptions{}); strings.Contains(out, "RUNS") {
			t.Error("RUNS column shown though nothing was repeated")
		}
	})

	t.Run("details only for what went wrong", func(t *testing.T) {
		out := render(t, fixtureRun(), TableOptions{})
		for _, want := range []string{
			"FAILED refunds / refund with ticket follow-up  (examples/refunds.yaml:31)\n",
			"  turn 2  contains: expected the reply to contain \"being processed\"",
			"  final   final.status: expected status \"closed_resolved\", got \"open\"\n",
			"ERRORED billing & <support> / session never opened  (suites/billing.yaml:27)\n  conversation  error: opencx: create session",
			"FLAKY refunds / angry customer is handed off",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q", want)
			}
		}
		for _, unwanted := range []string{"PASSED refunds / simple refund", "SKIPPED billing"} {
			if strings.Contains(out, unwanted) {
				t.Errorf("table details include %q", unwanted)
			}
		}

		run := fixtureRun()
		run.Conversations = run.Conversations[:1] // only the passing one
		if out := render(t, run, TableOptions{}); strings.Contains(out, "turn ") {
			t.Errorf("all passed, yet details were printed:\n%s", out)
		}
	})

	t.Run("long names are shortened to fit a width, and only then", func(t *testing.T) {
		run := fixtureRun()
		run.Conversations[0].Name = strings.Repeat("very long name ", 10)
		out := render(t, run, TableOptions{Width: 100})
		if want := "│ very long name very long name very… "; !strings.Contains(out, want) {
			t.Errorf("long name not cut to %q:\n%s", want, out)
		}
		out = render(t, run, TableOptions{})
		if want := strings.TrimSpace(strings.Repeat("very long name ", 10)) + " │"; !strings.Contains(out, want) {
			t.Errorf("without a width the name stays whole:\n%s", out)
		}
	})

	t.Run("nil run", func(t *testing.T) {
		if err := Table(io.Discard, nil, TableOptions{}); err == nil {
			t.Error("no error for a nil run")
		}
	})
}

func TestJUnitStructure(t *testing.T) {
	var buf bytes.Buffer
	if err := JUnit(&buf, fixtureRun()); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			File  string `xml:"file,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name      string   `xml:"name,attr"`
				Classname string   `xml:"classname,attr"`
				File      string   `xml:"file,attr"`
				Line      int      `xml:"line,attr"`
				Failure   *outcome `xml:"failure"`
				Error     *outcome `xml:"error"`
				Skipped   *outcome `xml:"skipped"`
				SystemOut string   `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v", err)
	}
	// The unfinished conversation counts as an error, not a skip.
	if doc.Tests != 9 || doc.Failures != 3 || doc.Errors != 3 || doc.Skipped != 1 {
		t.Errorf("testsuites counts tests=%d failures=%d errors=%d skipped=%d, want 9/3/3/1",
			doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "refunds" || doc.Suites[1].Name != "billing & <support>" {
		t.Fatalf("suites not one per suite in run order: %+v", doc.Suites)
	}
	if s := doc.Suites[1]; s.File != "suites/billing.yaml" || s.Tests != 5 {
		t.Errorf("billing suite file=%q tests=%d", s.File, s.Tests)
	}

	failed := doc.Suites[0].Cases[1]
	if failed.Classname != "refunds" || failed.File != "examples/refunds.yaml" || failed.Line != 31 {
		t.Errorf("testcase classname=%q file=%q line=%d", failed.Classname, failed.File, failed.Line)
	}
	if failed.Failure == nil {
		t.Fatal("failed conversation has no <failure>")
	}
	if !strings.HasPrefix(failed.Failure.Message, "turn 2: contains: ") || failed.Failure.Type != "contains" {
		t.Errorf("failure message=%q type=%q", failed.Failure.Message, failed.Failure.Type)
	}
	for _, want := range []string{"turn 2  not_contains:", "final   final.status:", "user: What is the status of ticket TCK-1042?", "bot:  I don't know"} {
		if !strings.Contains(failed.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, failed.Failure.Text)
		}
	}

	if flaky := doc.Suites[0].Cases[2]; flaky.Failure != nil || flaky.Error != nil || !strings.Contains(flaky.SystemOut, "passed 17/20 runs (85%)") {
		t.Errorf("flaky case must pass and note its pass rate, got %+v", flaky)
	}
	errored := doc.Suites[1].Cases[0]
	if errored.Error == nil || errored.Error.Type != "error" || !strings.Contains(errored.Error.Message, "503 Service Unavailable") {
		t.Errorf("errored case: %+v", errored.Error)
	}
	if !strings.Contains(errored.Error.Text, `bot:  Here it is: <a href="https://x.test/?a=1&b=2">INV-7</a> ]]>`) {
		t.Errorf("errored transcript lost the reply's XML specials:\n%s", errored.Error.Text)
	}
	if skipped := doc.Suites[1].Cases[2]; skipped.Skipped == nil || skipped.Skipped.Message != "skip: waiting on BOT-12" {
		t.Errorf("skipped case: %+v", skipped.Skipped)
	}
	if cut := doc.Suites[1].Cases[3]; cut.Skipped != nil || cut.Error == nil || cut.Error.Type != "unfinished" ||
		cut.Error.Message != "unfinished: the run was interrupted during turn 2" || !strings.Contains(cut.Error.Text, "user: hello") {
		t.Errorf("unfinished case must be an error with its reason and transcript: %+v", cut)
	}
	awkward := doc.Suites[1].Cases[4]
	if !strings.Contains(awkward.Failure.Text, "… (1101 more characters)\n") {
		t.Errorf("long reply not shortened:\n%s", awkward.Failure.Text)
	}
}

func TestJUnitKeepsUnlistedSuites(t *testing.T) {
	run := fixtureRun()
	run.Suites = run.Suites[:1] // billing.yaml's conversations now name no listed suite
	var buf bytes.Buffer
	if err := JUnit(&buf, run); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name string `xml:"name,attr"`
			File string `xml:"file,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 9 || len(doc.Suites) != 2 || doc.Suites[1].File != "suites/billing.yaml" {
		t.Errorf("conversations of an unlisted suite were dropped: %+v", doc)
	}
}

func TestJSON(t *testing.T) {
	run := fixtureRun()
	run.Schema = ""
	var buf bytes.Buffer
	if err := JSON(&buf, run); err != nil {
		t.Fatal(err)
	}
	if run.Conversations[5].Turns != nil || run.Conversations[4].Turns[1].Assertions != nil {
		t.Fatal("JSON modified the run it was given")
	}

	var raw struct {
		Schema        string `json:"schema"`
		Conversations []struct {
			Turns []struct {
				Assertions json.RawMessage `json:"assertions"`
			} `json:"turns"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Schema != results.Schema {
		t.Errorf("schema = %q, want %q", raw.Schema, results.Schema)
	}
	if got := string(raw.Conversations[4].Turns[1].Assertions); got != "[]" {
		t.Errorf("empty assertions encoded as %s, want []", got)
	}
	if !strings.Contains(buf.String(), `"turns": []`) {
		t.Error("a conversation without turns does not encode them as []")
	}
	if strings.Contains(buf.String(), "null") {
		t.Error("JSON contains null")
	}

	var back results.Run
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	want := fixtureRun()
	if !back.StartedAt.Equal(want.StartedAt) {
		t.Errorf("started_at = %v, want %v", back.StartedAt, want.StartedAt)
	}
	back.StartedAt = want.StartedAt
	// Compare what survives the round trip, once nil and empty lists agree.
	for _, rs := range []*results.Run{&back, want} {
		for _, c := range rs.Conversations {
			if len(c.Turns) == 0 {
				c.Turns = nil
			}
			for _, tr := range c.Turns {
				if len(tr.Assertions) == 0 {
					tr.Assertions = nil
				}
				tr.Reply = strings.ToValidUTF8(tr.Reply, "\uFFFD")
			}
			for i := range c.Final {
				c.Final[i].Message = strings.ToValidUTF8(c.Final[i].Message, "\uFFFD")
			}
		}
	}
	if !reflect.DeepEqual(&back, want) {
		t.Error("the JSON report does not round-trip to the same run")
	}
}

// writeReport writes r's report of run to path the way the commands do,
// through internal/outfile, for the tools (xmllint, a browser, junitparser)
// that read a file.
func writeReport(t *testing.T, path string, r ReporterFunc, run *results.Run) {
	t.Helper()
	var buf bytes.Buffer
	if err := r(&buf, run); err != nil {
		t.Fatal(err)
	}
	files, err := outfile.OpenAll([]outfile.Request{{Flag: "--report", Path: path}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := files[0].Commit(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}
