package outfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chdir makes dir the working directory for the test, so relative
// spellings can be tried.
func chdir(t *testing.T, dir string) {
	t.Helper()
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(old) })
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenAllRefuses(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	write(t, "suite.yaml", "conversations: []\n")
	write(t, "first.yaml", "conversations: []\n")
	write(t, "input.json", "{}")
	write(t, "old.json", "{}")
	must(t, os.Symlink("input.json", "link.json"))
	must(t, os.Link("input.json", "hard.json"))
	must(t, os.Symlink("old.json", "oldlink.json"))
	must(t, os.Link("old.json", "oldhard.json"))
	must(t, os.Mkdir("folder", 0o755))
	inputs := []string{"input.json", filepath.Join(dir, "suite.yaml")}

	for _, tc := range []struct {
		name string
		reqs []Request
		want string
	}{
		{"an input", []Request{{Flag: "--json", Path: "input.json"}}, "which this command reads"},
		{"an input spelt otherwise", []Request{{Flag: "--json", Path: "./sub/../input.json"}}, "which this command reads"},
		{"an input by absolute path", []Request{{Flag: "--json", Path: filepath.Join(dir, "input.json")}}, "which this command reads"},
		{"a symlink to an input", []Request{{Flag: "--json", Path: "link.json"}}, "which this command reads"},
		{"a hard link to an input", []Request{{Flag: "--junit", Path: "hard.json"}}, "which this command reads"},
		{"a suite the shell put there", []Request{{Flag: "--json", Path: "first.yaml"}}, "suite file"},
		{"a suite given as input", []Request{{Flag: "--json", Path: "./suite.yaml"}}, "which this command reads"},
		{"two reports, two spellings", []Request{{Flag: "--junit", Path: "r.out"}, {Flag: "--json", Path: "./r.out"}}, "are the same file"},
		{"two reports, one a symlink", []Request{{Flag: "--junit", Path: "old.json"}, {Flag: "--json", Path: "oldlink.json"}}, "are the same file"},
		{"two reports, one a hard link", []Request{{Flag: "--junit", Path: "old.json"}, {Flag: "--json", Path: "oldhard.json"}}, "are the same file"},
		{"a folder", []Request{{Flag: "--json", Path: "folder"}}, "is a folder"},
		{"a folder that is not there", []Request{{Flag: "--json", Path: "nosuch/r.json"}}, "cannot write there"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "an input spelt otherwise" {
				must(t, os.MkdirAll("sub", 0o755))
				defer os.Remove("sub")
			}
			before := entries(t, dir)
			files, err := OpenAll(tc.reqs, inputs)
			if err == nil {
				for _, f := range files {
					f.Abort()
				}
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.reqs[len(tc.reqs)-1].Flag) {
				t.Errorf("error %q should say %q and name the flag", err, tc.want)
			}
			if got := entries(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
				t.Errorf("a refused request must create nothing: %v, was %v", got, before)
			}
		})
	}
	if content(t, "input.json") != "{}" || content(t, "suite.yaml") != "conversations: []\n" {
		t.Error("an input was changed")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCommitReplacesOnlyWhenComplete(t *testing.T) {
	dir := t.TempDir()
	fresh, old := filepath.Join(dir, "fresh.json"), filepath.Join(dir, "old.json")
	write(t, old, "previous run")
	files, err := OpenAll([]Request{{Flag: "--json", Path: fresh}, {Flag: "--junit", Path: old}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("nothing may be at the path before the report is complete: %v", err)
	}
	if content(t, old) != "previous run" {
		t.Error("an earlier report must stay until the new one is complete")
	}
	must(t, files[0].Commit([]byte("new record")))
	files[1].Abort()
	if content(t, fresh) != "new record" {
		t.Errorf("committed: %q", content(t, fresh))
	}
	if content(t, old) != "previous run" {
		t.Error("an aborted report must leave the earlier file as it was")
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Errorf("temporary files left behind: %v", got)
	}
	// Committing or aborting again changes nothing.
	must(t, files[0].Commit([]byte("again")))
	files[0].Abort()
	if content(t, fresh) != "new record" {
		t.Error("a second Commit must not write")
	}
}

func TestAbortLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	files, err := OpenAll([]Request{{Flag: "--json", Path: filepath.Join(dir, "r.json")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files[0].Abort()
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("a failed run must leave no file: %v", got)
	}
}

func TestCommitThroughASymlinkKeepsTheLink(t *testing.T) {
	dir := t.TempDir()
	real, link := filepath.Join(dir, "run-7.json"), filepath.Join(dir, "latest.json")
	write(t, real, "old")
	must(t, os.Symlink("run-7.json", link))
	files, err := OpenAll([]Request{{Flag: "--json", Path: link}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, files[0].Commit([]byte("new")))
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink must stay a symlink: %v", err)
	}
	if content(t, real) != "new" {
		t.Errorf("the report belongs in the link's target: %q", content(t, real))
	}
}

func TestDevicesAreWrittenInPlace(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skip(err)
	}
	files, err := OpenAll([]Request{{Flag: "--junit", Path: os.DevNull}, {Flag: "--json", Path: os.DevNull}}, nil)
	if err != nil {
		t.Fatalf("two reports to %s lose nothing: %v", os.DevNull, err)
	}
	for _, f := range files {
		must(t, f.Commit([]byte("x")))
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Fatalf("%s must stay a device", os.DevNull)
	}
}

func TestOpenAllStdout(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	files, err := OpenAll([]Request{{Flag: "--junit", Path: "r.xml"}, {Flag: "--json", Path: Stdout}}, []string{"suite.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].IsStdout() || !files[1].IsStdout() {
		t.Fatalf("the files must come in the order asked, the second on stdout: %v", files)
	}
	var out strings.Builder
	for _, f := range files {
		f.SetStdout(&out)
	}
	must(t, files[1].Commit([]byte(`{"a":1}`)))
	must(t, files[0].Commit([]byte("<x/>")))
	if out.String() != `{"a":1}` {
		t.Errorf("stdout got %q", out.String())
	}
	if got := content(t, "r.xml"); got != "<x/>" {
		t.Errorf("the file report got %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("only r.xml should be in the folder, not a file named -: %v", names)
	}
}

func TestOpenAllRefusesTwoReportsOnStdout(t *testing.T) {
	chdir(t, t.TempDir())
	_, err := OpenAll([]Request{{Flag: "--json", Path: Stdout}, {Flag: "--junit", Path: "r.xml"}, {Flag: "--md", Path: Stdout}}, nil)
	if err == nil || !strings.Contains(err.Error(), "--json - and --md - both ask for standard output") {
		t.Fatalf("err = %v", err)
	}
	if names := entries(t, "."); len(names) != 0 {
		t.Errorf("a refusal leaves nothing behind: %v", names)
	}
}

func TestAbortedStdoutReportWritesNothing(t *testing.T) {
	files, err := OpenAll([]Request{{Flag: "--json", Path: Stdout}}, nil)
	must(t, err)
	var out strings.Builder
	files[0].SetStdout(&out)
	files[0].Abort()
	must(t, files[0].Commit([]byte("late")))
	if out.Len() != 0 {
		t.Errorf("an aborted report wrote %q", out.String())
	}
}

// TestRemoveTempsLeavesOnlyCommittedReports is what a second Ctrl-C does:
// one report is in place, another is still being written.
func TestRemoveTempsLeavesOnlyCommittedReports(t *testing.T) {
	t.Cleanup(func() {
		temps.Lock()
		temps.removed = false
		temps.Unlock()
	})
	dir := t.TempDir()
	done, pending := filepath.Join(dir, "done.json"), filepath.Join(dir, "pending.xml")
	write(t, pending, "previous run")
	files, err := OpenAll([]Request{{Flag: "--json", Path: done}, {Flag: "--junit", Path: pending}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, files[0].Commit([]byte("record")))
	if got := entries(t, dir); len(got) != 3 {
		t.Fatalf("want the report, the earlier one and a temporary file: %v", got)
	}

	RemoveTemps()
	if got := entries(t, dir); strings.Join(got, " ") != "done.json pending.xml" {
		t.Errorf("after RemoveTemps: %v, want the two reports only", got)
	}
	if content(t, done) != "record" || content(t, pending) != "previous run" {
		t.Error("RemoveTemps must leave the reports as they were")
	}
	// The report cut off cannot land any more, and no new one can start.
	if err := files[1].Commit([]byte("late")); err == nil || content(t, pending) != "previous run" {
		t.Errorf("a Commit after RemoveTemps: %v, %q", err, content(t, pending))
	}
	if _, err := OpenAll([]Request{{Flag: "--json", Path: filepath.Join(dir, "new.json")}}, nil); err == nil || !strings.Contains(err.Error(), "exiting") {
		t.Errorf("OpenAll after RemoveTemps: %v", err)
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Errorf("left behind: %v", got)
	}
}

// TestCommittedAndAbortedFilesLeaveTheRegistry keeps RemoveTemps from
// touching a name that is no longer its file's.
func TestCommittedAndAbortedFilesLeaveTheRegistry(t *testing.T) {
	dir := t.TempDir()
	files, err := OpenAll([]Request{{Flag: "--json", Path: filepath.Join(dir, "a.json")}, {Flag: "--junit", Path: filepath.Join(dir, "b.xml")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, files[0].Commit([]byte("a")))
	files[1].Abort()
	temps.Lock()
	defer temps.Unlock()
	if len(temps.names) != 0 {
		t.Errorf("still registered: %v", temps.names)
	}
}

// An Append report goes at the end of what the file holds, as GitHub's step
// summary wants (`>> $GITHUB_STEP_SUMMARY`), and only at Commit.
func TestAppendKeepsWhatTheFileHolds(t *testing.T) {
	dir := t.TempDir()
	summary, aborted, fresh := filepath.Join(dir, "summary.md"), filepath.Join(dir, "aborted.md"), filepath.Join(dir, "fresh.md")
	write(t, summary, "## from an earlier command\n")
	write(t, aborted, "kept\n")
	files, err := OpenAll([]Request{
		{Flag: "--md", Path: summary, Append: true},
		{Flag: "--junit", Path: aborted, Append: true},
		{Flag: "--json", Path: fresh, Append: true},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another writer adds to the summary while the run goes on.
	f, err := os.OpenFile(summary, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.WriteString("meanwhile\n")
	must(t, err)
	must(t, f.Close())
	if got := content(t, summary); got != "## from an earlier command\nmeanwhile\n" {
		t.Errorf("before Commit the file holds %q", got)
	}

	must(t, files[0].Commit([]byte("### evalrun\n")))
	files[1].Abort()
	must(t, files[2].Commit([]byte("{}")))
	if got := content(t, summary); got != "## from an earlier command\nmeanwhile\n### evalrun\n" {
		t.Errorf("after Commit the summary holds %q", got)
	}
	if got := content(t, aborted); got != "kept\n" {
		t.Errorf("an aborted append changed the file: %q", got)
	}
	if got := content(t, fresh); got != "{}" {
		t.Errorf("an append to a file not there yet: %q", got)
	}
	if got := entries(t, dir); len(got) != 3 {
		t.Errorf("temporary files left behind: %v", got)
	}
	must(t, files[0].Commit([]byte("again")))
	if strings.Contains(content(t, summary), "again") {
		t.Error("a second Commit must not write")
	}
}

// Appending is no way around the refusals: an input stays an input.
func TestAppendRefusesAsReplacingDoes(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	write(t, "input.json", "{}")
	write(t, "suite.yaml", "conversations: []\n")
	for _, tc := range []struct {
		name string
		reqs []Request
		want string
	}{
		{"an input", []Request{{Flag: "--md", Path: "input.json", Append: true}}, "which this command reads"},
		{"a suite", []Request{{Flag: "--md", Path: "suite.yaml", Append: true}}, "suite file"},
		{"two reports at one file", []Request{{Flag: "--json", Path: "r.md"}, {Flag: "--md", Path: "./r.md", Append: true}}, "are the same file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := OpenAll(tc.reqs, []string{"input.json"})
			if err == nil {
				for _, f := range files {
					f.Abort()
				}
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q should say %q", err, tc.want)
			}
		})
	}
	if content(t, "input.json") != "{}" {
		t.Error("an input was changed")
	}
}
