package report

import (
	"bytes"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
)

// partialRun is openLoadRun merged with --allow-partial from shards 0 and
// 2 of 4, which started 1.2 s apart, shard 2 late.
func partialRun() *results.Run {
	run := openLoadRun()
	start := run.StartedAt
	run.Incomplete = &results.Incomplete{Shards: 4, Missing: []int{1, 3}}
	run.Test = &results.Test{
		ID: "t1", Version: "v1.2.0", Start: start, End: start.Add(70 * time.Second), StartSkewMS: 1200,
		Parts: []results.Part{
			{RunID: "a", File: "shard-0.json", Shard: &results.Shard{Index: 0, Count: 4}, Start: start},
			{RunID: "b", File: "shard-2.json", Shard: &results.Shard{Index: 2, Count: 4}, Start: start.Add(1200 * time.Millisecond), LateMS: 300},
		},
	}
	return run
}

// Every report of a partial merge says it is one, and which shards it
// lacks; a whole one says nothing of the kind.
func TestIncompleteMarksEveryReport(t *testing.T) {
	const want = "shards 1, 3 of 4 missing"
	render := map[string]func(*bytes.Buffer, *results.Run) error{
		"table":    func(b *bytes.Buffer, r *results.Run) error { return LoadTable(b, r, TableOptions{}) },
		"markdown": func(b *bytes.Buffer, r *results.Run) error { return Markdown(b, r, MarkdownOptions{}) },
		"html":     func(b *bytes.Buffer, r *results.Run) error { return HTML(b, r) },
		"junit":    func(b *bytes.Buffer, r *results.Run) error { return JUnit(b, r) },
	}
	for name, f := range render {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := f(&b, partialRun()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("the report does not say %q:\n%s", want, b.String())
			}
			b.Reset()
			if err := f(&b, openLoadRun()); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.ToLower(b.String()), "incomplete") {
				t.Errorf("a whole record's report says incomplete:\n%s", b.String())
			}
		})
	}

	var b bytes.Buffer
	if err := LoadTable(&b, partialRun(), TableOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"INCOMPLETE: shards 1, 3 of 4 missing; the figures are those of 2 of 4 shards' load\n",
		"Shards started within 1.2s of each other; shard 2 started 300ms late\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("the table lacks %q:\n%s", line, b.String())
		}
	}
	b.Reset()
	if err := Markdown(&b, partialRun(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if head, _, _ := strings.Cut(b.String(), "\n"); !strings.HasPrefix(head, "### ⚠️ ") && !strings.HasPrefix(head, "### ❌ ") || !strings.Contains(head, "incomplete: 2 shards of 4 missing") {
		t.Errorf("the Markdown verdict does not warn of the missing shards: %q", head)
	}
	b.Reset()
	if err := HTML(&b, partialRun()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<p class="notice warn">Incomplete: shards 1, 3 of 4 missing`) {
		t.Errorf("the HTML page has no notice of the missing shards")
	}
}

// The JUnit of a partial merge has a skipped testcase "shards": CI shows
// it, and it agrees with the exit code, which is the thresholds'.
func TestIncompleteJUnitSkipsShards(t *testing.T) {
	run := partialRun()
	var b bytes.Buffer
	if err := JUnit(&b, run); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Skipped int `xml:"skipped,attr"`
		Suites  []struct {
			Skipped int `xml:"skipped,attr"`
			Cases   []struct {
				Name    string `xml:"name,attr"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	cases := doc.Suites[0].Cases
	last := cases[len(cases)-1]
	if doc.Skipped != 1 || doc.Suites[0].Skipped != 1 || last.Name != "shards" || last.Skipped == nil ||
		last.Skipped.Message != "incomplete: shards 1, 3 of 4 missing; the figures are those of 2 of 4 shards' load" {
		t.Errorf("want a skipped case for the missing shards:\n%s", b.String())
	}
	path := filepath.Join(t.TempDir(), "partial.xml")
	writeReport(t, path, JUnit, run)
	validateSchema(t, path)
}

// A record cut short says how long it really ran.
func TestStoppedRecordSaysHowLongItRan(t *testing.T) {
	run := openLoadRun()
	run.Interrupted = "terminate"
	run.Test = &results.Test{ID: "t1", RanMS: 4200}
	var b bytes.Buffer
	if err := LoadTable(&b, run, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Ran 4.2s of 1m0s (stopped early: terminate)") {
		t.Errorf("the table does not say how long the run ran:\n%s", b.String())
	}
}

// Shards start a few ms apart: the table says how many, not "0s", which
// reads as if they started at once and hides the lateness it names.
func TestSkewsUnderASecondPrintInMS(t *testing.T) {
	for _, c := range []struct {
		skew, late float64
		want       string
	}{
		{12.4, 30, "Shards started within 12ms of each other; shard 2 started 30ms late\n"},
		{12.4, 3, "Shards started within 12ms of each other\n"},
		// Below the jitter every real start has, nothing is said: every
		// shard is a fraction of a millisecond late.
		{0.4, 0.2, ""},
		{1234, 999.6, "Shards started within 1.2s of each other; shard 2 started 1s late\n"},
	} {
		run := partialRun()
		run.Test.StartSkewMS, run.Test.Parts[1].LateMS = c.skew, c.late
		var b bytes.Buffer
		if err := LoadTable(&b, run, TableOptions{}); err != nil {
			t.Fatal(err)
		}
		if c.want == "" && (strings.Contains(b.String(), "Shards started") || strings.Contains(b.String(), " late\n")) ||
			c.want != "" && !strings.Contains(b.String(), c.want) {
			t.Errorf("skew %gms, late %gms: the table does not say %q:\n%s", c.skew, c.late, c.want, b.String())
		}
	}
	var b bytes.Buffer
	run := openLoadRun()
	run.Test = &results.Test{ID: "t1", LateMS: 40}
	if err := LoadTable(&b, run, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Started 40ms after the planned start\n") {
		t.Errorf("a shard's own lateness:\n%s", b.String())
	}
}

// A merge with a stopped shard says, in every report, which shard stopped
// and after how long; the merge itself ran to its end.
func TestStoppedShardOfAMergeInEveryReport(t *testing.T) {
	run := partialRun()
	run.Interrupted = "terminated (SIGTERM)"
	run.Test.Parts[1].Interrupted, run.Test.Parts[1].RanMS = "terminated (SIGTERM)", 4100
	const want = "Shard 2/4 stopped early after 4.1s: terminated (SIGTERM)"
	var b bytes.Buffer
	if err := LoadTable(&b, run, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\n"+want+"\n") || strings.Contains(b.String(), "(stopped early") {
		t.Errorf("the table does not say which shard stopped:\n%s", b.String())
	}
	b.Reset()
	if err := Markdown(&b, run, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(b.String(), "\n")
	if !strings.Contains(b.String(), want) || !strings.Contains(head, "shard 2/4 stopped early") {
		t.Errorf("the Markdown does not say which shard stopped:\n%s", b.String())
	}
	b.Reset()
	if err := HTML(&b, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<p class="notice warn">`+want+`.`) || strings.Contains(b.String(), "The run stopped early") {
		t.Errorf("the HTML does not say which shard stopped")
	}
}
