package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fSetPipeSize is Linux's F_SETPIPE_SZ, which the syscall package lacks.
const fSetPipeSize = 1031

// TestSecondSignalLeavesNoTemporaryFile stops a run with SIGINT and, while
// it writes its reports, sends a second one. To catch it between reports
// without timing, the JUnit report goes to a FIFO that nobody reads, with a
// buffer smaller than the report: evalrun writes it first and blocks there,
// its JSON report still a temporary file beside r.json, until the second
// signal. That file must be gone once evalrun exits.
func TestSecondSignalLeavesNoTemporaryFile(t *testing.T) {
	arrived := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chat/sessions" {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"s1"}`))
			return
		}
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	defer srv.Close()
	var suite strings.Builder
	suite.WriteString("provider: {type: opencx, base_url: " + srv.URL + ", timeout: 60s, retries: 0}\nconversations:\n")
	for i := 0; i < 60; i++ {
		// Sixty unfinished conversations with long names make a JUnit
		// report well over the FIFO's 4 KiB.
		fmt.Fprintf(&suite, "  - {name: conversation %02d %s, turns: [{user: hi}]}\n", i, strings.Repeat("n", 80))
	}
	p := writeSuite(t, suite.String())
	dir := t.TempDir()
	fifo, js := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	// Opened without blocking, so that evalrun's open for writing finds a
	// reader; it is never read.
	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, reader.Fd(), fSetPipeSize, 4096); errno != 0 {
		t.Skip("cannot shrink the FIFO's buffer:", errno)
	}

	cmd := exec.Command(binary, "run", "-c", "1", "--junit", fifo, "--json", js, p)
	cmd.Env = append(os.Environ(), "CI=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // a no-op once it has exited
	lines := make(chan string, 64)
	var seen strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("evalrun never sent a turn")
	}
	cmd.Process.Signal(syscall.SIGINT)
	stopped := time.After(20 * time.Second)
	for !strings.Contains(seen.String(), "stopped early") {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("evalrun closed stderr before saying it stopped:\n%s", seen.String())
			}
			seen.WriteString(line + "\n")
		case <-stopped:
			t.Fatalf("evalrun did not say it stopped early:\n%s", seen.String())
		}
	}
	// The JSON report is written after the JUnit one, which cannot be
	// finished while nobody reads the FIFO.
	if temps := tempFiles(t, dir); len(temps) != 1 {
		t.Fatalf("want the JSON report's temporary file while the JUnit one blocks, got %v", temps)
	}

	cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for range lines { // keep draining stderr so that evalrun can exit
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("evalrun did not exit after the second SIGINT")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130", err)
	}
	if temps := tempFiles(t, dir); len(temps) != 0 {
		t.Errorf("temporary files left beside the reports: %v", temps)
	}
	if _, err := os.Stat(js); !os.IsNotExist(err) {
		t.Errorf("the JSON report was never finished, yet %s is there: %v", js, err)
	}
}

// tempFiles lists the report temporary files in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".tmp") {
			out = append(out, e.Name())
		}
	}
	return out
}
