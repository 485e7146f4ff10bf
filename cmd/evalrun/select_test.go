package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/internal/term"
)

// TestASelectionThatRunsNothingExitsTwo runs the command in-process: tags or
// a filter that select nothing exit 2 with a message naming the tags and the
// suites there are, and leave no report behind.
func TestASelectionThatRunsNothingExitsTwo(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(suite, []byte(`name: shop
provider: {type: opencx, base_url: sim}
conversations:
  - name: greeting
    tags: [smoke]
    turns: [{user: hello}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--tags", "smoek"},
		{"--filter", "^nothing/"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "run.json")
			streams, stdout, stderr := term.Test()
			code := Main(context.Background(), append(append([]string{"run", "--no-progress", "--json", report}, args...), suite), streams)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitUsage, stdout, stderr)
			}
			for _, want := range []string{args[0] + " " + args[1], "selects no conversation", "tags there are: smoke", "suites there are: shop (" + suite + ")"} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr)
				}
			}
			if _, err := os.Stat(report); !os.IsNotExist(err) {
				t.Errorf("a run of nothing left a report: %v", err)
			}
		})
	}
	// The same selection that matches runs, and passes.
	streams, stdout, stderr := term.Test()
	if code := Main(context.Background(), []string{"run", "--no-progress", "--tags", "smoke", suite}, streams); code != exitOK {
		t.Errorf("--tags smoke: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
