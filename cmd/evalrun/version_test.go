package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildWith builds evalrun with extra go build flags and returns what its
// `version` prints.
func buildWith(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "evalrun")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("evalrun version: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestVersionStamped: the Dockerfile's -ldflags -X stamps are what
// `evalrun version` prints, the commit with them: an image has no .git.
func TestVersionStamped(t *testing.T) {
	const pkg = "github.com/evalrun/evalrun/internal/version"
	got := buildWith(t, "-buildvcs=false", "-ldflags", "-X "+pkg+".Stamped=v1.2.3 -X "+pkg+".StampedCommit=0123abcd")
	if want := "evalrun v1.2.3 (commit 0123abcd)"; got != want {
		t.Errorf("version prints %q, want %q", got, want)
	}
}

// TestVersionFromVCS: built in a git checkout with VCS stamping (go
// build's default, which this machine's GOFLAGS may turn off), `evalrun
// version` names the commit checked out.
func TestVersionFromVCS(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git work tree (git rev-parse HEAD: %v): nothing to stamp", err)
	}
	commit := strings.TrimSpace(string(head))
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The go command looks for a .git folder; a linked work tree (git
	// worktree add) has a .git file instead, and go build stamps nothing.
	if info, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !info.IsDir() {
		t.Skipf("a linked git work tree (.git is not a folder): the go command does not find its repository")
	}
	got := buildWith(t, "-buildvcs=true")
	if !strings.Contains(got, "(commit "+commit) {
		t.Errorf("version prints %q, want the commit %s", got, commit)
	}
}
