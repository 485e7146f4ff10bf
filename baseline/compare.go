package baseline

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/evalrun/evalrun/results"
)

// Compare measures now against base, conversation by conversation (see the
// package doc for the buckets), down to the turn and check that changed,
// and compares the latency of every turn index. The result's BaselineFile
// is left for the caller, who knows the file.
//
// A regression, and a conversation still failing, points at the first
// check (or unanswered turn, check "error") that held in the baseline and
// fails now, or else at the first that fails now; a fix at the first
// baseline failure that holds now. Checks are matched by turn index, name
// and rank among the turn's checks of that name; Detail says how the
// baseline stood and quotes the failure's message.
//
// It refuses, rather than return a wrong diff, two records that share no
// conversation (a baseline of other suites), a load record on either side
// (it holds only a sample of conversations), and a corrupt record (see
// Read). A partial overlap is compared, with Notes naming the suites only
// one side has.
func Compare(base, now *results.Run) (*results.Comparison, error) {
	return CompareWith(base, now, Options{})
}

// Options are what CompareWith may be told beyond Compare.
type Options struct {
	// Part says now is one part of a run, such as a shard, and base is
	// the baseline's conversations of that part only. A part may hold no
	// conversation, or only new ones: that is a normal split, not a
	// baseline of other suites, so it is compared (everything in it new)
	// instead of refused. The caller has checked the whole run against
	// the whole baseline already.
	Part bool
}

// CompareWith is Compare as opts say.
func CompareWith(base, now *results.Run, opts Options) (*results.Comparison, error) {
	if base == nil || now == nil {
		return nil, errors.New("baseline: compare: a record is missing")
	}
	for _, side := range []struct {
		what string
		run  *results.Run
	}{{"the baseline", base}, {"this run", now}} {
		if side.run.Load != nil {
			return nil, fmt.Errorf("baseline: %s (run %s) is a load run, which keeps only a sample of its conversations: compare records of evalrun run", side.what, runID(side.run))
		}
		if err := check(side.run); err != nil {
			return nil, fmt.Errorf("baseline: %s (run %s): %w", side.what, runID(side.run), err)
		}
	}
	if len(now.Conversations) == 0 && !opts.Part {
		return nil, fmt.Errorf("baseline: this run (run %s) has no conversations to compare", runID(now))
	}

	was := map[key]*results.Conversation{}
	for _, c := range base.Conversations {
		was[keyOf(c)] = c
	}
	common := 0
	for _, c := range now.Conversations {
		if was[keyOf(c)] != nil {
			common++
		}
	}
	if common == 0 && !opts.Part {
		return nil, fmt.Errorf("baseline: run %s shares no conversation with this run: its suites are %s, this run's are %s; compare with a record of the same suites",
			runID(base), list(suiteNames(base)), list(suiteNames(now)))
	}

	cmp := &results.Comparison{
		BaselineRunID: base.RunID,
		Regressed:     []results.Change{}, Fixed: []results.Change{},
		New: []results.Change{}, Removed: []results.Change{},
		StillFailing: []results.Change{}, NotCompared: []results.Change{},
	}
	seen := map[key]bool{}
	for _, c := range now.Conversations {
		k := keyOf(c)
		seen[k] = true
		b := was[k]
		ch := results.Change{Suite: c.Suite, Name: c.Name, Now: c.Status}
		if b == nil {
			locate(&ch, nil, c)
			cmp.New = append(cmp.New, ch)
			continue
		}
		ch.Was = b.Status
		switch {
		case good(b.Status) && good(c.Status),
			b.Status == results.Skipped && c.Status == results.Skipped:
			cmp.Unchanged++
		case good(b.Status) && bad(c.Status):
			locate(&ch, b, c)
			cmp.Regressed = append(cmp.Regressed, ch)
		case bad(b.Status) && good(c.Status):
			locateFix(&ch, b, c)
			cmp.Fixed = append(cmp.Fixed, ch)
		case bad(b.Status) && bad(c.Status):
			locate(&ch, b, c)
			cmp.StillFailing = append(cmp.StillFailing, ch)
		default:
			why := notCompared(b, c)
			if bad(c.Status) {
				// It fails the build (nothing excuses it): say where.
				locate(&ch, nil, c)
				why = ch.Detail + "; " + why
			}
			ch.Detail = why
			cmp.NotCompared = append(cmp.NotCompared, ch)
		}
	}
	for _, b := range base.Conversations {
		if !seen[keyOf(b)] {
			cmp.Removed = append(cmp.Removed, results.Change{Suite: b.Suite, Name: b.Name, Was: b.Status})
		}
	}
	cmp.Latency = turnLatency(base, now, was)
	cmp.Notes = notes(base, now, cmp)
	return cmp, nil
}

// notCompared says why a pair has no comparison, for the Detail of a
// NotCompared change.
func notCompared(b, c *results.Conversation) string {
	verdict := func(x *results.Conversation) string {
		if x.Reason != "" {
			return string(x.Status) + " (" + x.Reason + ")"
		}
		return string(x.Status)
	}
	switch {
	case !judged(b.Status) && !judged(c.Status):
		return "it was " + verdict(b) + " in the baseline and is " + verdict(c) + " now: neither run judged it"
	case !judged(c.Status):
		return "it is " + verdict(c) + " now, so nothing compares with its baseline verdict, " + string(b.Status)
	default:
		return "the baseline has no verdict to compare with: it was " + verdict(b) + " there"
	}
}

func judged(s results.Status) bool { return good(s) || bad(s) }

// notes say what limits the comparison: suites on one side only, a baseline
// most of whose conversations are gone, an interrupted run on either side.
func notes(base, now *results.Run, cmp *results.Comparison) []string {
	var out []string
	inBase, inNow := suiteNames(base), suiteNames(now)
	var onlyBase, onlyNow []string
	for _, s := range inBase {
		if !slices.Contains(inNow, s) {
			onlyBase = append(onlyBase, s)
		}
	}
	for _, s := range inNow {
		if !slices.Contains(inBase, s) {
			onlyNow = append(onlyNow, s)
		}
	}
	if len(onlyBase) > 0 {
		out = append(out, fmt.Sprintf("%s only in the baseline: %s; their conversations are listed as removed", plural(len(onlyBase), "suite is", "suites are"), list(onlyBase)))
	}
	if len(onlyNow) > 0 {
		out = append(out, fmt.Sprintf("%s only in this run: %s; their conversations are listed as new", plural(len(onlyNow), "suite is", "suites are"), list(onlyNow)))
	}
	// A shard, a --tags or --filter selection, or a baseline of a larger
	// suite set leaves most of the baseline out: say so, lest "removed"
	// read as conversations someone deleted.
	if n := len(base.Conversations); 2*len(cmp.Removed) > n {
		out = append(out, fmt.Sprintf("%d of the baseline's %d conversations are not in this run (another selection, a shard, or other suites?): they are listed as removed and not compared", len(cmp.Removed), n))
	}
	if u := count(base, results.Unfinished); base.Interrupted != "" || u > 0 {
		out = append(out, fmt.Sprintf("the baseline run was stopped early (%s): %s no verdict to compare with", orUnknown(base.Interrupted), plural(u, "unfinished conversation has", "unfinished conversations have")))
	}
	if u := count(now, results.Unfinished); now.Interrupted != "" || u > 0 {
		out = append(out, fmt.Sprintf("this run was stopped early (%s): %s, so the comparison is incomplete and cannot pass the build", orUnknown(now.Interrupted), plural(u, "conversation is unfinished", "conversations are unfinished")))
	}
	return out
}

func count(r *results.Run, s results.Status) int {
	n := 0
	for _, c := range r.Conversations {
		if c.Status == s {
			n++
		}
	}
	return n
}

// suiteNames lists a record's suites in order: those it names, then any
// that only its conversations name.
func suiteNames(r *results.Run) []string {
	var out []string
	for _, s := range r.Suites {
		if !slices.Contains(out, s.Name) {
			out = append(out, s.Name)
		}
	}
	for _, c := range r.Conversations {
		if !slices.Contains(out, c.Suite) {
			out = append(out, c.Suite)
		}
	}
	return out
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func orUnknown(s string) string {
	if s == "" {
		return "reason not recorded"
	}
	return s
}
