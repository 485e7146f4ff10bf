package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
)

const quickstart = "../../examples/quickstart.yaml"

// readRun reads a record the command wrote.
func readRun(t *testing.T, path string) *results.Run {
	t.Helper()
	var r results.Run
	if err := json.Unmarshal([]byte(read(t, path)), &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

func convKeys(r *results.Run) []string {
	var out []string
	for _, c := range r.Conversations {
		out = append(out, c.Suite+"/"+c.Name+"="+string(c.Status))
	}
	return out
}

// TestRunShardsMergeIntoOneRun runs the quickstart whole and as three
// shards, as three CI jobs would, and merges the shards: the merged record
// must have the verdicts and counts of the whole run, percentiles that are
// those of every turn of the shards, and the exit code run gives.
func TestRunShardsMergeIntoOneRun(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.json")
	if code, _, errOut := inProcess(t, "run", "--no-progress", "--json", whole, quickstart); code != exitOK {
		t.Fatalf("whole run: exit %d\n%s", code, errOut)
	}
	var parts []string
	for k := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		code, out, errOut := inProcess(t, "run", "--no-progress", "--shard", fmt.Sprintf("%d/3", k), "--json", p, quickstart)
		if code != exitOK {
			t.Fatalf("shard %d: exit %d\n%s%s", k, code, out, errOut)
		}
		if want := fmt.Sprintf("shard %d/3: ", k); !strings.Contains(errOut, want) || !strings.Contains(errOut, " of 6 conversations") {
			t.Errorf("shard %d: stderr does not say how much of the run it holds:\n%s", k, errOut)
		}
		r := readRun(t, p)
		if r.Shard == nil || *r.Shard != (results.Shard{Index: k, Count: 3}) {
			t.Errorf("shard %d records shard %+v", k, r.Shard)
		}
		for _, c := range r.Conversations {
			if got := runner.ShardOf(c.Suite, c.Name, 3); got != k {
				t.Errorf("shard %d ran %s/%s of shard %d", k, c.Suite, c.Name, got)
			}
		}
		parts = append(parts, p)
	}

	merged, junit := filepath.Join(dir, "merged.json"), filepath.Join(dir, "merged.xml")
	md, html := filepath.Join(dir, "merged.md"), filepath.Join(dir, "merged.html")
	code, out, errOut := inProcess(t, append([]string{"merge", "--json", merged, "--junit", junit, "--md", md, "--html", html}, parts...)...)
	if code != exitOK {
		t.Fatalf("merge: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "refund with ticket follow-up") {
		t.Errorf("merge printed no table of the conversations:\n%s", out)
	}
	m, w := readRun(t, merged), readRun(t, whole)
	if got, want := convKeys(m), convKeys(w); !slices.Equal(got, want) {
		t.Errorf("merged %v\nwhole  %v", got, want)
	}
	mc, wc := m.Summary, w.Summary
	mc.LatencyMS, mc.LatencyHistogram, wc.LatencyMS, wc.LatencyHistogram = results.Percentiles{}, "", results.Percentiles{}, ""
	// The shards' judges add up; their times are their own.
	if mc.Judge == nil || wc.Judge == nil || mc.Judge.Calls != wc.Judge.Calls || mc.Judge.TotalTokens != wc.Judge.TotalTokens {
		t.Errorf("merged judge %+v, whole %+v", mc.Judge, wc.Judge)
	}
	mc.Judge, wc.Judge = nil, nil
	if mc != wc {
		t.Errorf("merged summary %+v\nwhole summary  %+v", mc, wc)
	}
	// Each conversation ran once, so the transcripts hold every latency.
	all := latency.New()
	for _, c := range m.Conversations {
		for _, tu := range c.Turns {
			if tu.Error == "" {
				_ = all.RecordValue(latency.Micros(time.Duration(math.Round(tu.LatencyMS*1000)) * time.Microsecond))
			}
		}
	}
	if all.TotalCount() != int64(m.Summary.Turns-m.Summary.TurnErrors) || m.Summary.LatencyMS != latency.Percentiles(all) {
		t.Errorf("merged percentiles %+v over %d turns; those of every turn: %+v over %d",
			m.Summary.LatencyMS, m.Summary.Turns-m.Summary.TurnErrors, latency.Percentiles(all), all.TotalCount())
	}
	if x := read(t, junit); !strings.Contains(x, `tests="6"`) || !strings.Contains(x, `name="greeting"`) {
		t.Errorf("merged JUnit:\n%s", x)
	}
	if !strings.Contains(read(t, md), "all 6 conversations passed") {
		t.Errorf("the Markdown of the merged record:\n%s", read(t, md))
	}
	if !strings.Contains(read(t, html), "customer asks for a person") {
		t.Error("the HTML of the merged record does not show every conversation")
	}
	if code, out, errOut := inProcess(t, "report", merged); code != exitOK || !strings.Contains(out, "6 conversations") {
		t.Errorf("report of the merged record: exit %d\n%s%s", code, out, errOut)
	}

	// The merged whole compared with a whole run: nothing removed or new.
	cmpRec := filepath.Join(dir, "compared.json")
	code, out, errOut = inProcess(t, append([]string{"merge", "--baseline", whole, "--json", cmpRec}, parts...)...)
	if c := readRun(t, cmpRec).Comparison; code != exitOK || c == nil || c.Unchanged != 6 || len(c.Removed)+len(c.New) != 0 {
		t.Errorf("merge --baseline: exit %d, comparison %+v\n%s%s", code, c, out, errOut)
	}

	// Two of three shards are refused, unless asked for.
	if code, _, errOut := inProcess(t, "merge", "--json", filepath.Join(dir, "two.json"), parts[0], parts[2]); code != exitUsage ||
		!strings.Contains(errOut, "shard 1 is missing from the set of 3") {
		t.Errorf("an incomplete set: exit %d\n%s", code, errOut)
	}
	code, _, errOut = inProcess(t, "merge", "--allow-partial", "--json", filepath.Join(dir, "two.json"), parts[0], parts[2])
	if code != exitOK || !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "shard 1 is missing") {
		t.Errorf("--allow-partial: exit %d\n%s", code, errOut)
	}
}

// TestMergedRunExitsAsTheMergedVerdicts: a shard that passes does not make
// the merge pass when another shard failed, and a shard that runs nothing
// passes.
func TestMergedRunExitsAsTheMergedVerdicts(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "s.yaml")
	var b strings.Builder
	b.WriteString("name: s\nprovider: {type: opencx, base_url: sim}\nconversations:\n")
	// One failing conversation among passing ones; find a shard count
	// where some shard is empty and some passes, to cover both.
	names := []string{"greets", "greets again", "fails"}
	for _, n := range names {
		expect := "hello"
		if n == "fails" {
			expect = "no such words"
		}
		fmt.Fprintf(&b, "  - name: %s\n    turns: [{user: Hello!, expect: {contains: %s}}]\n", n, expect)
	}
	writeFile(t, suite, b.String())
	const n = 4
	var parts []string
	var empty, passing bool
	for k := range n {
		p := filepath.Join(dir, fmt.Sprintf("%d.json", k))
		code, _, errOut := inProcess(t, "run", "--no-progress", "--shard", fmt.Sprintf("%d/%d", k, n), "--json", p, suite)
		r := readRun(t, p)
		wantCode := exitOK
		if slices.ContainsFunc(r.Conversations, func(c *results.Conversation) bool { return c.Status == results.Failed }) {
			wantCode = exitFailed
		}
		if code != wantCode {
			t.Errorf("shard %d: exit %d, want %d\n%s", k, code, wantCode, errOut)
		}
		empty = empty || len(r.Conversations) == 0
		passing = passing || (len(r.Conversations) > 0 && wantCode == exitOK)
		parts = append(parts, p)
	}
	if !empty || !passing {
		t.Fatalf("the split of %v into %d should leave a shard empty and one passing", names, n)
	}
	code, _, errOut := inProcess(t, append([]string{"merge", "--json", filepath.Join(dir, "m.json")}, parts...)...)
	if code != exitFailed {
		t.Errorf("merge of a failing set: exit %d\n%s", code, errOut)
	}
}

func TestShardAndMergeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "run.json")
	if code, _, errOut := inProcess(t, "run", "--no-progress", "--json", rec, quickstart); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	// A load record of nothing, as a hand would write it.
	loadRec := filepath.Join(dir, "load.json")
	writeFile(t, loadRec, strings.Replace(read(t, rec), `"schema"`, `"load": {"model": "closed", "turns": []}, "schema"`, 1))
	for name, tt := range map[string]struct {
		args []string
		want string
	}{
		"K past N":                    {[]string{"run", "--shard", "3/3", quickstart}, "0 <= K < N"},
		"not K/N":                     {[]string{"run", "--shard", "1", quickstart}, "want K/N"},
		"N past the cap":              {[]string{"run", "--shard", "0/4000000000", quickstart}, "want N at most 10000"},
		"run and load records":        {[]string{"merge", "--json", filepath.Join(dir, "m.json"), rec, loadRec}, "merge records of one kind"},
		"load and run records":        {[]string{"merge", "--json", filepath.Join(dir, "m.json"), loadRec, rec}, "merge records of one kind"},
		"a baseline for load records": {[]string{"merge", "--baseline", rec, "--json", filepath.Join(dir, "m.json"), loadRec}, "compare records of `evalrun run`"},
		"thresholds on run records":   {[]string{"merge", "--threshold", "pass_rate>=1", "--json", filepath.Join(dir, "m.json"), rec}, "--threshold gates load records"},
		"the same whole record twice": {[]string{"merge", "--json", filepath.Join(dir, "m.json"), rec, rec}, "both hold run"},
		"a record both input and out": {[]string{"merge", "--json", rec, rec}, "--json"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := inProcess(t, tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d and a message with %q:\n%s", code, exitUsage, tt.want, errOut)
			}
		})
	}
}

// TestShardAgainstAWholeBaseline: a shard is compared with its own part of
// a whole run's record; the other shards' conversations are not "removed".
func TestShardAgainstAWholeBaseline(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if code, _, errOut := inProcess(t, "run", "--no-progress", "--json", base, quickstart); code != exitOK {
		t.Fatalf("baseline run: exit %d\n%s", code, errOut)
	}
	// A shard that holds something to compare: the first conversation's.
	first := readRun(t, base).Conversations[0]
	k := runner.ShardOf(first.Suite, first.Name, 3)
	rec := filepath.Join(dir, "shard.json")
	code, _, errOut := inProcess(t, "run", "--no-progress", "--shard", fmt.Sprintf("%d/3", k), "--baseline", base, "--json", rec, quickstart)
	if code != exitOK {
		t.Fatalf("shard with a baseline: exit %d\n%s", code, errOut)
	}
	r := readRun(t, rec)
	c := r.Comparison
	if c == nil {
		t.Fatal("no comparison in the record")
	}
	if len(c.Removed) != 0 || len(c.New) != 0 || c.Unchanged != len(r.Conversations) || len(r.Conversations) == 0 {
		t.Errorf("removed %v, new %v, unchanged %d of %d conversations", c.Removed, c.New, c.Unchanged, len(r.Conversations))
	}
	if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, fmt.Sprintf("shard %d/3 only", k)) }) {
		t.Errorf("the notes do not say the comparison is of one shard: %q", c.Notes)
	}
}

// TestShardsWithNothingToCompareUnderABaseline: a shard the split leaves
// empty, or one that holds only conversations newer than the baseline, has
// nothing in common with its part of the baseline. That is a normal part
// of a split: it passes and writes its record, everything in it new.
func TestShardsWithNothingToCompareUnderABaseline(t *testing.T) {
	dir := t.TempDir()
	const head = "name: s\nprovider: {type: opencx, base_url: sim}\nconversations:\n"
	const greeting = "  - name: greeting\n    turns: [{user: Hello!, expect: {contains: hello}}]\n"
	newer := []string{"new one", "new two"}
	old := filepath.Join(dir, "old.yaml")
	writeFile(t, old, head+greeting)
	now := filepath.Join(dir, "now.yaml")
	text := head + greeting
	for _, n := range newer {
		text += fmt.Sprintf("  - name: %s\n    turns: [{user: Hello!, expect: {contains: hello}}]\n", n)
	}
	writeFile(t, now, text)
	base := filepath.Join(dir, "base.json")
	if code, _, errOut := inProcess(t, "run", "--no-progress", "--json", base, old); code != exitOK {
		t.Fatalf("baseline run: exit %d\n%s", code, errOut)
	}

	// A split with an empty shard and a shard of new conversations only.
	var n, empty, onlyNew int
	for n = 2; n <= 50; n++ {
		empty, onlyNew = -1, -1
		g := runner.ShardOf("s", "greeting", n)
		sizes := make([]int, n)
		for _, name := range newer {
			sizes[runner.ShardOf("s", name, n)]++
		}
		for k := range n {
			switch {
			case k != g && sizes[k] == 0:
				empty = k
			case k != g && sizes[k] > 0:
				onlyNew = k
			}
		}
		if empty >= 0 && onlyNew >= 0 {
			break
		}
	}
	if empty < 0 || onlyNew < 0 {
		t.Fatal("no split of the suite leaves a shard empty and one of new conversations only")
	}
	for what, k := range map[string]int{"an empty shard": empty, "a shard of new conversations": onlyNew} {
		t.Run(what, func(t *testing.T) {
			rec := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
			code, _, errOut := inProcess(t, "run", "--no-progress", "--shard", fmt.Sprintf("%d/%d", k, n), "--baseline", base, "--json", rec, now)
			if code != exitOK {
				t.Fatalf("exit %d, want 0\n%s", code, errOut)
			}
			r := readRun(t, rec)
			if r.Comparison != nil && len(r.Comparison.New) != len(r.Conversations) {
				t.Errorf("new %v, want every one of the %d conversations", r.Comparison.New, len(r.Conversations))
			}
		})
	}
}
