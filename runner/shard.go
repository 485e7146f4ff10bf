package runner

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"strconv"
	"strings"

	"github.com/evalrun/evalrun/suites"
)

// Shard is part Index of Count of a run's conversations, for running one
// suite set as Count parallel CI jobs and merging their records after. The
// zero value (Count 0) is the whole run.
//
// A conversation's shard depends on nothing but its key, the suite name and
// the conversation name joined by "/": see ShardOf. So every conversation is
// in exactly one shard, every job computes the same split without talking to
// the others, and adding, removing or reordering conversations moves none
// but those added or removed.
type Shard struct {
	Index int // K, from 0, as Kubernetes' JOB_COMPLETION_INDEX counts
	Count int // N
}

// ParseShard reads "K/N" with 0 <= K < N <= suites.MaxShards, the
// convention of `load --shard`.
func ParseShard(spec string) (Shard, error) {
	ks, ns, ok := strings.Cut(spec, "/")
	k, errK := strconv.Atoi(strings.TrimSpace(ks))
	n, errN := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || errK != nil || errN != nil || n < 1 || k < 0 || k >= n {
		return Shard{}, fmt.Errorf("--shard %q: want K/N with 0 <= K < N, such as 0/4 (Kubernetes' JOB_COMPLETION_INDEX is 0-based)", spec)
	}
	if n > suites.MaxShards {
		return Shard{}, fmt.Errorf("--shard %q: want N at most %d", spec, suites.MaxShards)
	}
	return Shard{Index: k, Count: n}, nil
}

func (s Shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Has reports whether the conversation named conversation, of the suite
// named suite, is in s. Every conversation is in the whole run (Count 0).
func (s Shard) Has(suite, conversation string) bool {
	return s.Count <= 0 || ShardOf(suite, conversation, s.Count) == s.Index
}

// check says what is wrong with a shard no spec could have given.
func (s Shard) check() error {
	if s.Count < 0 || s.Count > suites.MaxShards || (s.Count > 0 && (s.Index < 0 || s.Index >= s.Count)) {
		return fmt.Errorf("runner: shard %d/%d: want 0 <= K < N <= %d", s.Index, s.Count, suites.MaxShards)
	}
	return nil
}

// ShardOf returns the shard, from 0 to n-1, that the conversation belongs to
// when a run is split n ways: m·n / 2⁶⁴, rounded down, where h is the 64-bit
// FNV-1a hash of the UTF-8 bytes of suite + "/" + conversation and m is h
// through splitmix64's finaliser:
//
//	m = (h ^ h>>30) · 0xbf58476d1ce4e5b9
//	m = (m ^ m>>27) · 0x94d049bb133111eb
//	m =  m ^ m>>31
//
// (products mod 2⁶⁴, shifts logical). Both steps are fixed by their
// definitions, so the split is the same on every machine and in every
// version of evalrun. FNV-1a alone is not enough: its last byte barely
// reaches the high bits, so names that differ only at the end, as data rows
// do ("refund #1", "refund #2"), would crowd into a few shards. The
// finaliser spreads every input bit over all 64.
func ShardOf(suite, conversation string, n int) int {
	if n <= 1 {
		return 0
	}
	f := fnv.New64a()
	f.Write([]byte(suite))
	f.Write([]byte{'/'})
	f.Write([]byte(conversation))
	hi, _ := bits.Mul64(mix64(f.Sum64()), uint64(n))
	return int(hi)
}

// mix64 is the finaliser of splitmix64 (Steele, Lea and Flood, 2014).
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
