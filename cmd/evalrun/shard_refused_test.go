package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// countedSuite writes a suite pointed at a server that counts what it is
// sent, and returns the suite and the count.
func countedSuite(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "not for this test", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return writeSuite(t, `name: counted
provider: {type: opencx, base_url: "`+srv.URL+`"}
conversations:
  - name: one
    turns: [{user: hello}]
`), &hits
}

// A shard without --json keeps no record, and its exit code does not
// judge its slice, so nothing would judge its load: refused before
// anything is sent.
func TestShardWithoutJSONIsRefused(t *testing.T) {
	p, hits := countedSuite(t)
	for _, extra := range [][]string{nil, {"--junit", filepath.Join(t.TempDir(), "j.xml")}, {"--md", filepath.Join(t.TempDir(), "s.md")}} {
		args := append([]string{"load", "--no-progress", "--rate", "20", "--duration", "100ms", "--shard", "0/2"}, extra...)
		code, _, errOut := inProcess(t, append(args, p)...)
		if code != exitUsage || !strings.Contains(errOut, "--shard needs --json FILE") {
			t.Errorf("%v: exit %d, want %d and --shard needs --json FILE:\n%s", extra, code, exitUsage, errOut)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("a refused shard sent %d requests", n)
	}
}
