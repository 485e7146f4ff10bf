package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
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

// Users or a cap on conversations in flight fewer than the shards are
// refused by every shard, not only by those left without a share: the
// others would load the service for a test that can never be merged.
func TestShardSplitRefusedByEveryShard(t *testing.T) {
	p, hits := countedSuite(t)
	for _, c := range []struct {
		workload []string
		want     string
	}{
		{[]string{"--vus", "3", "--duration", "100ms"}, "3 virtual users cannot be split into 4 shards"},
		{[]string{"--rate", "20", "--duration", "1s", "--max-in-flight", "2"}, "2 conversations in flight (--max-in-flight) cannot be split into 4 shards"},
		// 1/s for 3s starts 3 conversations: a fourth shard would start none.
		{[]string{"--rate", "1", "--duration", "3s"}, "the test starts only 3 conversations, so some shards would start none; run at most 3 shards"},
		{[]string{"--stage", "3s:1", "--duration", "3s"}, "the test starts only 2 conversations"},
		// 400,001 users make shares of 100,001 and 100,000: shards 1 to 3
		// alone would be within one evalrun's bound, for a test that never
		// merges.
		{[]string{"--vus", "400001", "--duration", "100ms"}, "400001 virtual users make shares of up to 100001, and one evalrun runs at most 100000; run at least 5 shards"},
	} {
		for k := range 4 {
			shard := strconv.Itoa(k) + "/4"
			args := append([]string{"load", "--no-progress", "--shard", shard, "--json", filepath.Join(t.TempDir(), "r.json")}, c.workload...)
			code, _, errOut := inProcess(t, append(args, p)...)
			if code != exitUsage || !strings.Contains(errOut, "--shard "+shard+": "+c.want) {
				t.Errorf("%v --shard %s: exit %d, want %d and %q:\n%s", c.workload, shard, code, exitUsage, c.want, errOut)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the refused shards sent %d requests", n)
	}
}
