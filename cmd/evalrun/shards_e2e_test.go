package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestShardProcessesMergeIntoOneRun starts four `load --shard K/4`
// processes of the built binary together behind one --start-at, merges
// their records, and compares the whole with one process running the same
// load: an open model's schedule is exact, and the shards play its starts
// between them, so the counts must agree to the conversation, at a rate
// that divides and at one too low to give each shard the same number.
// Three of the four records are refused as a test, and merged with
// --allow-partial they are marked incomplete.
func TestShardProcessesMergeIntoOneRun(t *testing.T) {
	suite := writeSuite(t, `name: shards-e2e
provider: {type: opencx, base_url: "sim?seed=3"}
conversations:
  - name: refund
    turns:
      - user: I want a refund for order ord_42
        expect: {contains: refund}
      - user: Thanks!
        expect: {reply: true}
`)
	type record struct {
		Summary struct{ Conversations, Passed, Failed, Errored, Turns int }
		Load    struct{ Started, Dropped int }
		Test    *struct {
			ID    string
			Parts []struct {
				RunID string `json:"run_id"`
			}
		}
		Incomplete *struct {
			Shards  int
			Missing []int
		}
	}
	read := func(p string) record {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return r
	}
	// sharded runs workload in one process and in four shards, checks
	// that they agree and that one process started want, and returns the
	// folder of the shards' records and the merged record's path, in dir.
	sharded := func(t *testing.T, dir string, workload []string, want int) (shards, merged string) {
		one := filepath.Join(dir, "one.json")
		if r := evalrun(t, nil, append(append([]string{"load"}, workload...), "--json", one, suite)...); r.code != 0 {
			t.Fatalf("one process: exit %d\n%s", r.code, r.stderr)
		}

		shards = filepath.Join(dir, "shards")
		if err := os.Mkdir(shards, 0o755); err != nil {
			t.Fatal(err)
		}
		// Far enough ahead that four processes have started, and loaded the
		// suite, before it; a slow machine makes a shard late, which its record
		// says, but not wrong.
		at := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)
		var procs []*exec.Cmd
		var logs []*strings.Builder
		for k := range 4 {
			args := append([]string{"load"}, workload...)
			args = append(args, "--shard", strconv.Itoa(k)+"/4", "--test-id", "e2e-shards", "--start-at", at,
				"--json", filepath.Join(shards, "shard-"+strconv.Itoa(k)+".json"), suite)
			cmd := exec.Command(binary, args...)
			cmd.Env = append(os.Environ(), "CI=true")
			var log strings.Builder
			cmd.Stderr = &log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			procs, logs = append(procs, cmd), append(logs, &log)
		}
		for k, cmd := range procs {
			if err := cmd.Wait(); err != nil {
				t.Errorf("shard %d/4: %v\n%s", k, err, logs[k])
			}
		}
		if t.Failed() {
			t.FailNow()
		}

		merged = filepath.Join(dir, "merged.json")
		if r := evalrun(t, nil, "merge", "--expect", "4", "--json", merged, shards); r.code != 0 {
			t.Fatalf("merge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		whole, parts := read(one), read(merged)
		if whole.Summary.Conversations != want || whole.Load.Started != want {
			t.Errorf("one process started %d conversations (%d in the summary), want %d", whole.Load.Started, whole.Summary.Conversations, want)
		}
		if parts.Summary != whole.Summary || parts.Load != whole.Load {
			t.Errorf("four shards merged: summary %+v, load %+v; one process: %+v, %+v", parts.Summary, parts.Load, whole.Summary, whole.Load)
		}
		if parts.Test == nil || parts.Test.ID != "e2e-shards" || len(parts.Test.Parts) != 4 {
			t.Errorf("merged test identity %+v, want id e2e-shards with 4 parts", parts.Test)
		}
		if parts.Incomplete != nil {
			t.Errorf("a complete set is marked incomplete: %+v", parts.Incomplete)
		}
		return shards, merged
	}

	// 3/s for 2s is 6 starts: 2, 2, 1 and 1 of them, not 2 for each shard.
	t.Run("a rate too low to share evenly", func(t *testing.T) {
		sharded(t, t.TempDir(), []string{"--rate", "3", "--duration", "2s", "--grace", "20s", "--no-progress"}, 6)
	})

	dir := t.TempDir() // the parent's: the subtest's goes with it
	var shards, merged string
	if !t.Run("40/s for 2s", func(t *testing.T) {
		shards, merged = sharded(t, dir, []string{"--rate", "40", "--duration", "2s", "--grace", "20s", "--no-progress"}, 80)
	}) {
		return
	}

	// Shard 3 lost: refused as a test, named; merged on purpose, marked.
	if err := os.Remove(filepath.Join(shards, "shard-3.json")); err != nil {
		t.Fatal(err)
	}
	os.Remove(merged)
	r := evalrun(t, nil, "merge", "--json", merged, shards)
	if r.code != exitUsage || !strings.Contains(r.stderr, "shard 3") {
		t.Errorf("merge of 3 of 4 shards: exit %d, want %d naming shard 3:\n%s", r.code, exitUsage, r.stderr)
	}
	if _, err := os.Stat(merged); err == nil {
		t.Error("a refused merge wrote its record")
	}
	r = evalrun(t, nil, "merge", "--allow-partial", "--json", merged, shards)
	if r.code == exitUsage {
		t.Fatalf("merge --allow-partial: exit %d\n%s", r.code, r.stderr)
	}
	if p := read(merged); p.Incomplete == nil || p.Incomplete.Shards != 4 || len(p.Incomplete.Missing) != 1 || p.Incomplete.Missing[0] != 3 {
		t.Errorf("merge --allow-partial of shards 0-2: incomplete = %+v, want 4 shards, 3 missing", p.Incomplete)
	}
}
