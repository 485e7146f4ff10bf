//go:build unix

package suites

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadRefusesNamedPipe: opening a FIFO for reading blocks until a writer
// comes, so a FIFO among the suites must be refused without being opened.
func TestLoadRefusesNamedPipe(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(tinySuite), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	want := fifo + ": cannot read: a named pipe, not a regular file; a suite must be a regular file"
	for _, paths := range [][]string{{fifo}, {dir}} {
		done := make(chan error, 1)
		go func() {
			_, err := LoadPaths(paths, Options{})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || err.Error() != want {
				t.Errorf("LoadPaths(%v) error:\n%v\nwant:\n%s", paths, err, want)
			}
		case <-time.After(10 * time.Second):
			// Free the blocked reader so the test binary can exit.
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			t.Fatalf("LoadPaths(%v) still blocked after 10s: it opened the named pipe", paths)
		}
	}
}

// TestDataRefusesNamedPipe: a conversation's data file is read the way a
// suite is, so a FIFO there is refused without being opened too.
func TestDataRefusesNamedPipe(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "suite.yaml")
	suite := "provider: {type: opencx, base_url: sim}\nconversations:\n  - {name: a, data: rows.csv, turns: [{user: hi}]}\n"
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "rows.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	want := path + ":3:21: data: cannot read " + fifo + ": a named pipe, not a regular file; a data file must be a regular file (the path is relative to the suite's folder)"
	done := make(chan error, 1)
	go func() {
		_, err := Load(path, Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != want {
			t.Errorf("Load error:\n%v\nwant:\n%s", err, want)
		}
	case <-time.After(10 * time.Second):
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("Load still blocked after 10s: it opened the named pipe")
	}
}
