package runner_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		spec string
		want runner.Shard
		ok   bool
	}{
		{"0/1", runner.Shard{Index: 0, Count: 1}, true},
		{"2/3", runner.Shard{Index: 2, Count: 3}, true},
		{" 1 / 4 ", runner.Shard{Index: 1, Count: 4}, true},
		{"3/3", runner.Shard{}, false}, // K counts from 0
		{"-1/3", runner.Shard{}, false},
		{"1/0", runner.Shard{}, false},
		{"1", runner.Shard{}, false},
		{"a/b", runner.Shard{}, false},
		{"", runner.Shard{}, false},
		{"9999/10000", runner.Shard{Index: 9999, Count: 10000}, true},
		{"0/10001", runner.Shard{}, false},
		{"0/4000000000", runner.Shard{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := runner.ParseShard(tt.spec)
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v; want %v, ok %v", tt.spec, got, err, tt.want, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "0 <= K < N") && !strings.Contains(err.Error(), "at most 10000") {
				t.Errorf("the error does not say what is right: %v", err)
			}
		})
	}
}

// TestShardOfIsPinned holds the split to its documented definition (FNV-1a
// 64 of "suite/name", splitmix64's finaliser, then m·n/2⁶⁴): CI jobs of
// different evalrun versions, or a record merged with one from another
// machine, must agree on it. The wanted values were computed apart from this
// code, by a dozen lines of Python written from the doc comment alone.
func TestShardOfIsPinned(t *testing.T) {
	tests := []struct {
		suite, name string
		n, want     int
	}{
		{"quickstart", "greeting", 3, 2},
		{"quickstart", "refund with ticket follow-up", 3, 2},
		{"quickstart", "refund with ticket follow-up", 7, 4},
		{"quickstart", "refund with ticket follow-up", 1000, 666},
		{"quickstart", "angry customer is handed to a human", 3, 0},
		{"refunds", "naïve café", 1000, 770},
		{"refunds", "refund #1", 4, 0},
		{"refunds", "refund #2", 4, 2},
		{"anything", "at all", 1, 0},
	}
	for _, tt := range tests {
		if got := runner.ShardOf(tt.suite, tt.name, tt.n); got != tt.want {
			t.Errorf("ShardOf(%q, %q, %d) = %d, want %d", tt.suite, tt.name, tt.n, got, tt.want)
		}
	}
}

// generated is a set of conversation keys like a real suite set's: a few
// suites, names that differ by a word or a number.
func generated(suitesN, perSuite int) [][2]string {
	var keys [][2]string
	for s := range suitesN {
		for c := range perSuite {
			keys = append(keys, [2]string{fmt.Sprintf("suite-%d", s), fmt.Sprintf("conversation %d about topic %d", c, c%7)})
		}
	}
	return keys
}

func TestEveryConversationIsInExactlyOneShard(t *testing.T) {
	keys := generated(4, 60)
	for n := 1; n <= 8; n++ {
		sizes := make([]int, n)
		for _, k := range keys {
			in := 0
			for i := range n {
				if (runner.Shard{Index: i, Count: n}).Has(k[0], k[1]) {
					in++
					sizes[i]++
				}
			}
			if in != 1 {
				t.Fatalf("N=%d: %s/%s is in %d shards", n, k[0], k[1], in)
			}
		}
		// Not a promise of balance, but a hash that put nothing in a
		// shard of 240 conversations would be a broken one.
		if slices.Contains(sizes, 0) {
			t.Errorf("N=%d: shard sizes %v", n, sizes)
		}
	}
	if !(runner.Shard{}).Has("any", "thing") {
		t.Error("the zero Shard must be the whole run")
	}
}

func TestAddingAConversationMovesOnlyThatOne(t *testing.T) {
	before := generated(3, 40)
	// New conversations, in a new suite and within old ones, before and
	// after the others: position must not matter.
	after := append([][2]string{{"suite-0", "a new first one"}}, before...)
	after = append(after, [2]string{"suite-9", "a new suite"}, [2]string{"suite-1", "conversation 999"})
	for n := 1; n <= 8; n++ {
		was := map[[2]string]int{}
		for _, k := range before {
			was[k] = runner.ShardOf(k[0], k[1], n)
		}
		for _, k := range after {
			if w, ok := was[k]; ok && runner.ShardOf(k[0], k[1], n) != w {
				t.Fatalf("N=%d: adding conversations moved %s/%s from shard %d", n, k[0], k[1], w)
			}
		}
	}
}

// shardSuite has conversations of every verdict, against the simulator.
const shardSuite = `
name: shards
provider: {type: opencx, base_url: sim, retries: 0}
conversations:
  - name: greeting
    turns: [{user: Hello!, expect: {contains: hello}}]
  - name: refund
    turns:
      - {user: I would like a refund please., expect: {contains: order}}
      - {user: "It is ord_42.", expect: {regex: "TCK-\\d+"}}
  - name: wrong on purpose
    turns: [{user: Hello!, expect: {contains: nothing like this}}]
  - name: the service fails
    turns: [{user: "hello [sim fault=500]"}]
  - name: skipped in the suite
    skip: not today
    turns: [{user: Hello!}]
  - name: shipping
    turns: [{user: "Where is my parcel?"}, {user: thanks}]
  - name: twice
    repeat: 2
    turns: [{user: Hello!}, {user: thanks}]
---
name: other
provider: {type: toolzz, base_url: sim, bot_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6}
conversations:
  - name: billing
    turns: [{user: I have a billing question}]
  - name: person
    turns: [{user: I want to talk to a person}]
  - name: hello
    turns: [{user: Hello!}]
`

func keysOf(r *results.Run) [][2]string {
	var out [][2]string
	for _, c := range r.Conversations {
		out = append(out, [2]string{c.Suite, c.Name})
	}
	return out
}

func TestRunShardRunsOnlyItsConversations(t *testing.T) {
	ss := load(t, shardSuite)
	whole := run(t, ss, runner.Options{})
	if whole.Shard != nil {
		t.Errorf("an unsharded run records shard %+v", whole.Shard)
	}
	const n = 3
	var union [][2]string
	for k := range n {
		r := run(t, ss, runner.Options{Shard: runner.Shard{Index: k, Count: n}})
		if r.Shard == nil || *r.Shard != (results.Shard{Index: k, Count: n}) {
			t.Fatalf("shard %d/%d records shard %+v", k, n, r.Shard)
		}
		if len(r.Suites) != len(whole.Suites) {
			t.Errorf("shard %d lists suites %v, want every suite of the run", k, r.Suites)
		}
		if r.Summary.Conversations != len(r.Conversations) {
			t.Errorf("shard %d: summary counts %d conversations, the record has %d", k, r.Summary.Conversations, len(r.Conversations))
		}
		for _, key := range keysOf(r) {
			if got := runner.ShardOf(key[0], key[1], n); got != k {
				t.Errorf("shard %d ran %s/%s, which is in shard %d", k, key[0], key[1], got)
			}
		}
		union = append(union, keysOf(r)...)
	}
	want := keysOf(whole)
	slices.SortFunc(union, compareKeys)
	slices.SortFunc(want, compareKeys)
	if !slices.Equal(union, want) {
		t.Errorf("the shards ran %v together, the whole run %v", union, want)
	}
}

// TestAShardWithNothingToRunPasses: a shard that no conversation hashes
// into is a normal part of a split, not a selection that matches nothing.
func TestAShardWithNothingToRunPasses(t *testing.T) {
	ss := load(t, "provider: {type: opencx, base_url: sim}\nconversations:\n  - name: greeting\n    tags: [smoke]\n    turns: [{user: Hello!}]\n")
	empty := runner.Shard{Index: 1 - runner.ShardOf(ss[0].Name, "greeting", 2), Count: 2}
	for _, opts := range []runner.Options{{Shard: empty}, {Shard: empty, Tags: []string{"smoke"}}} {
		r := run(t, ss, opts)
		if len(r.Conversations) != 0 || r.Summary != (results.Summary{LatencyHistogram: r.Summary.LatencyHistogram}) {
			t.Errorf("tags %v: the empty shard recorded %d conversations, summary %+v", opts.Tags, len(r.Conversations), r.Summary)
		}
	}
	// A tag typo is still a mistake, in every shard.
	if _, err := runner.Run(t.Context(), ss, runner.Options{Shard: empty, Tags: []string{"smokee"}}); err == nil {
		t.Error("a selection that matches nothing in any shard must still be an error")
	}
}

func compareKeys(a, b [2]string) int {
	return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1])
}

// TestShardsOfNumberedNamesBalance: data rows give names that differ only
// in their last characters ("refund #1", "refund #2", ...), so the split
// must depend on every byte of the key. The input is fixed, so the result
// is too; ±30% is far wider than a good hash strays over 1000 names.
func TestShardsOfNumberedNamesBalance(t *testing.T) {
	for _, pattern := range []string{"refund #%d", "ord_%d", "refund from a file #%d"} {
		const names = 1000
		for n := 2; n <= 8; n++ {
			sizes := make([]int, n)
			for i := 1; i <= names; i++ {
				sizes[runner.ShardOf("refunds", fmt.Sprintf(pattern, i), n)]++
			}
			want := float64(names) / float64(n)
			for _, got := range sizes {
				if float64(got) < 0.7*want || float64(got) > 1.3*want {
					t.Errorf("%q, N=%d: shard sizes %v, want each within 30%% of %.0f", pattern, n, sizes, want)
					break
				}
			}
		}
	}
	// A handful of rows must not all land in one shard either.
	sizes := make([]int, 4)
	for i := 1; i <= 9; i++ {
		sizes[runner.ShardOf("refunds", fmt.Sprintf("refund #%d", i), 4)]++
	}
	if slices.Max(sizes) == 9 {
		t.Errorf("9 numbered rows over 4 shards: %v", sizes)
	}
}
