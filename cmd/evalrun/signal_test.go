package main

import (
	"bytes"
	"encoding/json"
	"errors"
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

// TestSignalStopsTheRunAndWritesReports sends SIGINT (and SIGTERM) to a real
// evalrun whose bot never answers: it must stop sending within 2 seconds,
// write every report with the cut-short conversations marked unfinished, and
// exit 130 (143 for SIGTERM).
func TestSignalStopsTheRunAndWritesReports(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		word string
	}{
		{syscall.SIGINT, 130, "interrupted (SIGINT)"},
		{syscall.SIGTERM, 143, "terminated (SIGTERM)"},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			arrived := make(chan struct{}, 16)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/chat/sessions" {
					w.WriteHeader(http.StatusCreated)
					w.Write([]byte(`{"id":"s1"}`))
					return
				}
				// Read the body: only then does the server notice the client
				// hanging up, which ends the wait below.
				io.Copy(io.Discard, r.Body)
				arrived <- struct{}{}
				select { // hang until the client gives up, bounded for safety
				case <-r.Context().Done():
				case <-time.After(20 * time.Second):
				}
			}))
			defer srv.Close()
			p := writeSuite(t, "provider: {type: opencx, base_url: "+srv.URL+", timeout: 60s, retries: 0}\nconversations:\n"+
				"  - {name: first, turns: [{user: hi}, {user: again}]}\n"+
				"  - {name: second, turns: [{user: hi}]}\n  - {name: third, turns: [{user: hi}]}\n")
			dir := t.TempDir()
			junit, js := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json")

			cmd := exec.Command(binary, "run", "-c", "1", "--junit", junit, "--json", js, p)
			cmd.Env = append(os.Environ(), "CI=true")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatal("evalrun never sent a turn")
			}
			sent := time.Now()
			cmd.Process.Signal(tc.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				t.Fatal("evalrun did not stop within 5s of the signal")
			}
			if took := time.Since(sent); took > 2*time.Second {
				t.Errorf("evalrun took %v to stop after %s; the bound is 2s", took, tc.sig)
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Fatalf("exit %v, want %d\nstderr: %s", err, tc.code, errb.String())
			}

			var run struct {
				Interrupted   string `json:"interrupted"`
				Summary       struct{ Unfinished, Conversations int }
				Conversations []struct {
					Name, Status, Reason string
				}
			}
			if err := json.Unmarshal([]byte(read(t, js)), &run); err != nil {
				t.Fatalf("JSON report after %s: %v", tc.sig, err)
			}
			if run.Interrupted != tc.word || run.Summary.Unfinished != 3 {
				t.Errorf("interrupted %q, summary %+v", run.Interrupted, run.Summary)
			}
			if c := run.Conversations[0]; c.Status != "unfinished" || !strings.Contains(c.Reason, "during turn 1") {
				t.Errorf("the conversation in flight: %+v", c)
			}
			validateJUnit(t, junit)
			if !strings.Contains(read(t, junit), "unfinished: ") {
				t.Error("the JUnit report does not mark the unfinished conversations")
			}
			if !strings.Contains(out.String(), "UNFINISHED") {
				t.Errorf("the table does not show unfinished conversations:\n%s", out.String())
			}
		})
	}
}
