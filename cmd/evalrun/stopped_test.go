package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
)

// A shard that SIGTERM stops half-way (a drained node) writes a record that
// says so: interrupted, how long it ran, and every start of its part it
// never made counted as dropped. It exits 143, whatever its thresholds.
func TestStoppedShardRecordsWhatItDidNotPlay(t *testing.T) {
	p, arrived := heldSuite(t)
	js := filepath.Join(t.TempDir(), "shard.json")
	// 20/s for 100s split in 2: this shard's part is 1000 starts.
	lo := &loadFlags{
		set: map[string]bool{"rate": true, "duration": true, "grace": true}, rate: 20, duration: 100 * time.Second, grace: time.Second,
		shard: "0/2", thresholds: repeated{"dropped==0"}, noProgress: true, paths: []string{p}, reports: reportFlags{json: js},
	}
	ctx, stop := context.WithCancelCause(context.Background())
	s, _, errOut := term.Test()
	type exit struct {
		code int
		err  error
	}
	done := make(chan exit, 1)
	go func() {
		code, err := lo.run(ctx, s)
		done <- exit{code, err}
	}()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the shard never sent a turn")
	}
	stop(&signalError{syscall.SIGTERM})
	e := <-done
	if e.err != nil || e.code != 143 {
		t.Fatalf("exit %d, %v; want 143\n%s", e.code, e.err, errOut)
	}
	r := readFullRun(t, js)
	l := r.Load
	if r.Interrupted != "terminated (SIGTERM)" || r.Test == nil || r.Test.RanMS <= 0 || r.Test.RanMS > r.DurationMS {
		t.Errorf("interrupted %q, test %+v, duration %gms", r.Interrupted, r.Test, r.DurationMS)
	}
	if l.Started < 1 || l.Started+l.Dropped != 1000 || *r.Summary.Dropped != l.Dropped {
		t.Errorf("started %d + dropped %d (summary %d), want the 1000 of the shard's part", l.Started, l.Dropped, *r.Summary.Dropped)
	}
	if len(l.Thresholds) != 1 || l.Thresholds[0].Passed || !strings.Contains(errOut.String(), "stopped early") {
		t.Errorf("thresholds %+v; stderr:\n%s", l.Thresholds, errOut)
	}
}

// heldSuite writes a suite of one conversation against a server that opens
// sessions at once and holds every turn until the client goes away (or
// 30 s), and returns it with a channel that gets a value when a turn
// arrives: a run that has sent something, and is still running, to stop.
func heldSuite(t *testing.T) (path string, arrived <-chan struct{}) {
	t.Helper()
	turns := make(chan struct{}, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/chat/sessions" {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"s1"}`))
			return
		}
		select {
		case turns <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return writeSuite(t, "provider: {type: opencx, base_url: "+srv.URL+", timeout: 60s, retries: 0}\nconversations:\n  - {name: held, turns: [{user: hi}]}\n"), turns
}
