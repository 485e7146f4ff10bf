package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/results"
)

// ofTest makes a record written by writeShard one of test id.
func ofTest(id string) func(*results.Run) {
	return func(r *results.Run) { r.Test.ID = id }
}

// runIDs lists the run ids a merged load record holds.
func runIDs(t *testing.T, path string) string {
	t.Helper()
	return strings.Join(readRun(t, path).Load.Shards, " ")
}

// With --test-id, a directory's records of other tests are skipped and
// said so once; a record of another test named on its own is refused.
func TestMergeTestIDSkipsOtherTests(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	old0 := writeShard(t, dir, "old-0.json", base, 0, 2, 0, ofTest("old"))
	writeShard(t, dir, "old-1.json", base, 1, 2, 0, ofTest("old"))
	writeShard(t, dir, "other.json", base, 0, 1, 0, ofTest("another"))
	s0 := writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
	out := filepath.Join(t.TempDir(), "m.json")

	code, stdout, stderr := inProcess(t, "merge", "--test-id", "t1", "--expect", "2", "--json", out, dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if got, want := runIDs(t, out), "run-0-s0.json run-1-s1.json"; got != want {
		t.Errorf("merged %s, want %s", got, want)
	}
	if want := "evalrun: merge: skipping 3 records of other tests than --test-id t1: another (1), old (2)\n"; !strings.Contains(stderr, want) || strings.Count(stderr, "skipping") != 1 {
		t.Errorf("stderr:\n%s\nwant the line\n%s", stderr, want)
	}

	code, _, stderr = inProcess(t, "merge", "--test-id", "t1", "--json", out, s0, old0)
	if want := "merge: " + old0 + " is a record of test old, not of --test-id t1"; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("a named record of another test: exit %d, want 2 and %q\n%s", code, want, stderr)
	}
	code, _, stderr = inProcess(t, "merge", "--test-id", "Not_an_id", "--json", out, dir)
	if code != exitUsage || !strings.Contains(stderr, `merge: --test-id "Not_an_id"`) {
		t.Errorf("a bad --test-id: exit %d\n%s", code, stderr)
	}
	// Nothing of the test in the directory.
	code, _, stderr = inProcess(t, "merge", "--test-id", "t9", "--json", out, dir)
	if code != exitUsage || !strings.Contains(stderr, "no records to merge in "+dir+": each was skipped") {
		t.Errorf("no record of the test: exit %d\n%s", code, stderr)
	}
}

// The README recipe run again into the same directory: the previous
// test's whole set is there before the new shards write theirs. --wait
// with --test-id waits for the new test's records; it used to merge the
// old set at once.
func TestMergeWaitSkipsAnEarlierTestsRecords(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "old-0.json", base, 0, 2, 0, ofTest("old"))
	writeShard(t, dir, "old-1.json", base, 1, 2, 0, ofTest("old"))
	clock := &pollClock{now: mergeStart}
	clock.tick = func(round int) {
		switch round {
		case 2:
			writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
		case 3:
			writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
		}
	}
	out := filepath.Join(t.TempDir(), "m.json")
	o := &mergeOptions{reports: reportFlags{json: out}, testID: "t1", expect: 2, wait: time.Minute, paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, stdout, stderr := term.Test()
	if code, err := o.run(context.Background(), streams); code != exitOK || err != nil {
		t.Fatalf("exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if len(clock.slept) != 3 {
		t.Errorf("merged after %d polls, want 3", len(clock.slept))
	}
	if got, want := runIDs(t, out), "run-0-s0.json run-1-s1.json"; got != want {
		t.Errorf("merged %s, want %s", got, want)
	}
	want := "evalrun: merge: skipping 2 records of other tests than --test-id t1: old (2)\n" +
		"evalrun: merge: waiting for the first record (1m0s left)\n" +
		"evalrun: merge: waiting for shard 1 of 2 (58s left)\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr:\n%s\nwant\n%s", got, want)
	}
}

// Without --test-id, records of two tests in a directory are waited past
// too: the new shards' records replace the old ones of the same names.
func TestMergeWaitPastTwoTestsInADirectory(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	writeShard(t, dir, "s1.json", base, 1, 2, 0, ofTest("old"))
	clock := &pollClock{now: mergeStart}
	clock.tick = func(round int) {
		if round == 2 {
			writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
		}
	}
	out := filepath.Join(t.TempDir(), "m.json")
	o := &mergeOptions{reports: reportFlags{json: out}, expect: 2, wait: time.Minute, paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, stdout, stderr := term.Test()
	if code, err := o.run(context.Background(), streams); code != exitOK || err != nil || len(clock.slept) != 2 {
		t.Fatalf("exit %d, %v after %d polls\n%s%s", code, err, len(clock.slept), stdout, stderr)
	}
	if want := "evalrun: merge: waiting for the records of one test (found tests t1, old; give --test-id to merge one) (1m0s left)\n"; stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", stderr, want)
	}
	// Still two tests when the wait is over: refused as such.
	writeShard(t, dir, "s1.json", base, 1, 2, 0, ofTest("old"))
	o = &mergeOptions{reports: reportFlags{json: out}, expect: 2, wait: 2 * time.Second, paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, _, _ = term.Test()
	if code, err := o.run(context.Background(), streams); code != exitUsage || err == nil || !strings.Contains(err.Error(), `are records of different tests: "t1" and "old"`) {
		t.Errorf("exit %d, %v", code, err)
	}
}

// A record copied into place by something that does not rename it whole
// (a plain cp, NFS) is read half-written at first: --wait waits for it to
// be whole, and names it if it never is.
func TestMergeWaitsForATruncatedRecord(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	s1 := writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
	whole := read(t, s1)
	half := func() {
		if err := os.WriteFile(s1, []byte(whole[:len(whole)/2]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	half()
	clock := &pollClock{now: mergeStart}
	clock.tick = func(round int) {
		if round == 2 {
			writeFile(t, s1, whole)
		}
	}
	out := filepath.Join(t.TempDir(), "m.json")
	o := &mergeOptions{reports: reportFlags{json: out}, expect: 2, wait: time.Minute, paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, stdout, stderr := term.Test()
	if code, err := o.run(context.Background(), streams); code != exitOK || err != nil || len(clock.slept) != 2 {
		t.Fatalf("exit %d, %v after %d polls\n%s%s", code, err, len(clock.slept), stdout, stderr)
	}
	if want := "evalrun: merge: waiting for shard 1 of 2 and " + s1 + " to be readable as a record (1m0s left)\n"; stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", stderr, want)
	}
	if got := runIDs(t, out); got != "run-0-s0.json run-1-s1.json" {
		t.Errorf("merged %s", got)
	}

	// Named on its own, and never whole: refused when the wait is over.
	half()
	o = &mergeOptions{reports: reportFlags{json: out}, wait: 3 * time.Second, paths: []string{filepath.Join(dir, "s0.json"), s1}, now: clock.Now, sleep: clock.Sleep}
	streams, _, _ = term.Test()
	code, err := o.run(context.Background(), streams)
	if want := "merge: after waiting 3s, " + s1 + ": not an evalrun JSON record"; code != exitUsage || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("exit %d, %v\nwant %q", code, err, want)
	}
}

// A directory's earlier merge under another name than --json (merged.json
// kept as merged-1.json, say) is skipped with a note: merged with its own
// shards it would be refused as counting them twice, and while waiting it
// made the set look whole. Named, it merges as before.
func TestMergeSkipsAnEarlierMergeInADirectory(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
	earlier := filepath.Join(dir, "merged-1.json")
	if code, _, stderr := inProcess(t, "merge", "--json", earlier, dir); code != exitOK {
		t.Fatalf("first merge: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "m.json")
	code, stdout, stderr := inProcess(t, "merge", "--expect", "2", "--json", out, dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if want := "evalrun: merge: skipping " + earlier + ": an earlier merge's record, which merged with its own shards would count them twice; name it to merge it\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr:\n%s\nwant\n%s", stderr, want)
	}
	if got := runIDs(t, out); got != "run-0-s0.json run-1-s1.json" {
		t.Errorf("merged %s", got)
	}
	if code, _, stderr := inProcess(t, "merge", "--json", out, earlier); code != exitOK {
		t.Errorf("the earlier merge named: exit %d\n%s", code, stderr)
	}

	// Waiting, the earlier merge does not stand for the shards it holds.
	if err := os.Remove(filepath.Join(dir, "s1.json")); err != nil {
		t.Fatal(err)
	}
	clock := &pollClock{now: mergeStart}
	clock.tick = func(round int) {
		if round == 2 {
			writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
		}
	}
	o := &mergeOptions{reports: reportFlags{json: out}, expect: 2, wait: time.Minute, paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, stdout2, stderr2 := term.Test()
	if code, err := o.run(context.Background(), streams); code != exitOK || err != nil || len(clock.slept) != 2 {
		t.Fatalf("exit %d, %v after %d polls\n%s%s", code, err, len(clock.slept), stdout2, stderr2)
	}
	if !strings.Contains(stderr2.String(), "waiting for shard 1 of 2 (1m0s left)") || strings.Count(stderr2.String(), "skipping") != 1 {
		t.Errorf("stderr:\n%s", stderr2)
	}
}

// While nothing changes, --wait says it is still waiting every 30 s, so a
// log shows the merge is alive; a change is said at once.
func TestMergeWaitSaysItIsStillWaiting(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 4, 0, nil)
	writeShard(t, dir, "s1.json", base, 1, 4, 0, nil)
	clock := &pollClock{now: mergeStart}
	clock.tick = func(round int) {
		switch round {
		case 45:
			writeShard(t, dir, "s2.json", base, 2, 4, 0, nil)
		case 80:
			writeShard(t, dir, "s3.json", base, 3, 4, 0, nil)
		}
	}
	out := filepath.Join(t.TempDir(), "m.json")
	o := &mergeOptions{reports: reportFlags{json: out}, expect: 4, wait: 10 * time.Minute, paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, stdout, stderr := term.Test()
	if code, err := o.run(context.Background(), streams); code != exitOK || err != nil || len(clock.slept) != 80 {
		t.Fatalf("exit %d, %v after %d polls\n%s%s", code, err, len(clock.slept), stdout, stderr)
	}
	want := "evalrun: merge: waiting for shards 2, 3 of 4 (10m0s left)\n" +
		"evalrun: merge: still waiting for shards 2, 3 of 4 (9m30s left)\n" +
		"evalrun: merge: waiting for shard 3 of 4 (9m15s left)\n" +
		"evalrun: merge: still waiting for shard 3 of 4 (8m45s left)\n"
	if got := stderr.String(); !strings.HasPrefix(got, want) || strings.Count(got, "waiting") != 4 {
		t.Errorf("stderr:\n%s\nwant it to start\n%s", got, want)
	}
}
