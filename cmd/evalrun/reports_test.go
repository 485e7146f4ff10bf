package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/report"
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
	if got := r.markdown(); got.MaxBytes != report.MarkdownStepSummaryLimit || got.FullReport != "report.html" {
		t.Errorf("to the step summary: %+v", got)
	}
	r = reportFlags{md: "comment.md", json: "out/run.json"}
	if got := r.markdown(); got.MaxBytes != 0 || got.FullReport != "run.json" {
		t.Errorf("to a file: %+v (0 means the comment limit)", got)
	}
}
