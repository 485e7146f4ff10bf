package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
)

// --md and --html are written by every command that writes reports: run,
// load, and report and merge from a record.
func TestMarkdownAndHTMLReports(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "gate.yaml")
	if err := os.WriteFile(suite, []byte(gateSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, md, html, verdict string) {
		t.Helper()
		m, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(m), "\n"); !strings.HasPrefix(first, "### ") || !strings.Contains(first, verdict) {
			t.Errorf("markdown starts %q, want a verdict line with %q", first, verdict)
		}
		h, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(h), "<!DOCTYPE html>") || !strings.Contains(string(h), "promises the moon") {
			t.Errorf("html report is not the run's page:\n%.300s", h)
		}
	}

	md, html, js := filepath.Join(dir, "run.md"), filepath.Join(dir, "run.html"), filepath.Join(dir, "run.json")
	if code, _, stderr := inProcess(t, "run", "--no-progress", "--md", md, "--html", html, "--json", js, suite); code != exitFailed {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	check(t, md, html, "1 of 2 conversations")

	md2, html2 := filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html")
	if code, _, stderr := inProcess(t, "report", "--md", md2, "--html", html2, js); code != exitFailed {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	check(t, md2, html2, "1 of 2 conversations")

	lmd, lhtml, ljs := filepath.Join(dir, "load.md"), filepath.Join(dir, "load.html"), filepath.Join(dir, "load.json")
	// How many conversations one user gets through in 200ms depends on the
	// machine, so the verdict may go either way: only the reports count here.
	if code, _, stderr := inProcess(t, "load", "--no-progress", "--vus", "1", "--duration", "200ms", "--md", lmd, "--html", lhtml, "--json", ljs, suite); code != exitOK && code != exitFailed {
		t.Fatalf("load: exit %d\n%s", code, stderr)
	}
	mmd, mhtml := filepath.Join(dir, "merged.md"), filepath.Join(dir, "merged.html")
	if code, _, stderr := inProcess(t, "merge", "--json", filepath.Join(dir, "merged.json"), "--md", mmd, "--html", mhtml, ljs); code != exitOK && code != exitFailed {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	for _, p := range []string{lmd, lhtml, mmd, mhtml} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// Markdown meant for GitHub's step summary may use its 1 MiB; elsewhere it
// keeps to a pull-request comment's 65,536, and a shortened one points at
// the HTML (or JSON) beside it.
func TestMarkdownLimitFollowsTheDestination(t *testing.T) {
	summary := filepath.Join(t.TempDir(), "step_summary")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	r := reportFlags{md: summary, html: "out/report.html", json: "run.json"}
	if got, ok := r.markdown(); !ok || got.MaxBytes != report.MarkdownStepSummaryLimit || got.FullReport != "report.html" {
		t.Errorf("to the step summary: %+v", got)
	}
	if !r.toStepSummary() {
		t.Error("the step summary is not appended to")
	}
	r = reportFlags{md: "comment.md", json: "out/run.json"}
	if got, ok := r.markdown(); !ok || got.MaxBytes != 0 || got.FullReport != "run.json" {
		t.Errorf("to a file: %+v (0 means the comment limit)", got)
	}
	if r.toStepSummary() {
		t.Error("a file of its own is replaced, not appended to")
	}
}

// The step summary's 1 MiB is for the whole step: what earlier commands
// wrote to it comes off the report's budget, and when too little is left
// the report is one line that says where to read it.
func TestMarkdownBudgetShrinksWithTheSummary(t *testing.T) {
	summary := filepath.Join(t.TempDir(), "step_summary")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	r := reportFlags{md: summary, html: "report.html"}
	for _, used := range []int{0, 1000, 300 << 10, report.MarkdownStepSummaryLimit - report.MarkdownMinLimit} {
		if err := os.WriteFile(summary, make([]byte, used), 0o644); err != nil {
			t.Fatal(err)
		}
		got, ok := r.markdown()
		if want := report.MarkdownStepSummaryLimit - used; !ok || got.MaxBytes != want {
			t.Errorf("%d bytes used: limit %d (ok %v), want %d", used, got.MaxBytes, ok, want)
		}
	}
	for _, used := range []int{report.MarkdownStepSummaryLimit - report.MarkdownMinLimit + 1, report.MarkdownStepSummaryLimit, 2 << 20} {
		if err := os.WriteFile(summary, make([]byte, used), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok := r.markdown(); ok {
			t.Errorf("%d bytes used: a report of %d bytes fits no more", used, got.MaxBytes)
		}
		var b strings.Builder
		if err := r.writeMarkdown(&b, &results.Run{Schema: results.Schema}); err != nil {
			t.Fatal(err)
		}
		if strings.Count(b.String(), "\n") > 2 || !strings.Contains(b.String(), "report.html") {
			t.Errorf("%d bytes used: wrote %q, want one line that points at the HTML", used, b.String())
		}
	}
}

// `--md "$GITHUB_STEP_SUMMARY"` adds the report to what the step wrote to
// its summary before, as `>>` would, instead of replacing it.
func TestStepSummaryKeepsWhatWasThere(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "gate.yaml")
	if err := os.WriteFile(suite, []byte(gateSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(dir, "step_summary")
	const before = "## Lint\n\nall clean\n"
	if err := os.WriteFile(summary, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	if code, _, stderr := inProcess(t, "run", "--no-progress", "--md", summary, suite); code != exitFailed {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(string(got), before)
	if !ok {
		t.Fatalf("the summary lost what was there:\n%s", got)
	}
	if !strings.HasPrefix(rest, "### ") || !strings.Contains(rest, "promises the moon") {
		t.Errorf("the report does not follow it:\n%s", rest)
	}
}
