//go:build unix

package outfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestNewReportFollowsTheUmaskAndAReplacedOneKeepsItsMode(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	fresh, kept := filepath.Join(dir, "fresh.json"), filepath.Join(dir, "kept.json")
	write(t, kept, "earlier")
	must(t, os.Chmod(kept, 0o640))
	files, err := OpenAll([]Request{{Flag: "--json", Path: fresh}, {Flag: "--junit", Path: kept}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		must(t, f.Commit([]byte("x")))
	}
	for path, want := range map[string]os.FileMode{fresh: 0o600, kept: 0o640} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", filepath.Base(path), fi.Mode().Perm(), want, err)
		}
	}
}
