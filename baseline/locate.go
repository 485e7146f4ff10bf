package baseline

import (
	"strconv"

	"github.com/evalrun/evalrun/results"
)

// item is one thing a conversation was judged on: a check of a turn, whether
// a turn was answered (check "error"), whether the conversation could be had
// at all (turn 0, check "error"), or a final check (turn 0).
type item struct {
	at     spot
	passed bool
	msg    string
}

// spot matches an item across two runs: the turn, the check, and which of
// the turn's checks of that name it is (a list-valued key such as contains
// gives one check per entry). Matching by name rather than by position keeps
// a check added to a turn from shifting every check after it.
type spot struct {
	turn  int
	check string
	nth   int
}

// items lists what c was judged on, in the order Conversation.Failures uses:
// turns (their checks, then whether they were answered), the conversation's
// own error, then final checks.
func items(c *results.Conversation) []item {
	var out []item
	turnError := false
	for i, t := range c.Turns {
		idx := turnIndex(t, i)
		nth := map[string]int{}
		for _, a := range t.Assertions {
			out = append(out, item{spot{idx, a.Check, nth[a.Check]}, a.Passed, a.Message})
			nth[a.Check]++
		}
		out = append(out, item{spot{idx, "error", 0}, t.Error == "", t.Error})
		turnError = turnError || t.Error != ""
	}
	convError := c.Status == results.Errored && !turnError
	why := c.Reason
	if convError && why == "" {
		why = "no reason recorded"
	}
	out = append(out, item{spot{0, "error", 0}, !convError, why})
	nth := map[string]int{}
	for _, a := range c.Final {
		out = append(out, item{spot{0, a.Check, nth[a.Check]}, a.Passed, a.Message})
		nth[a.Check]++
	}
	return out
}

// turnIndex is a turn's 1-based index; records that lack it count by
// position.
func turnIndex(t *results.Turn, i int) int {
	if t.Index > 0 {
		return t.Index
	}
	return i + 1
}

func index(its []item) map[spot]item {
	m := make(map[spot]item, len(its))
	for _, it := range its {
		m[it.at] = it
	}
	return m
}

// locate points ch at what fails in c (now) and, when b (the baseline) is
// known, prefers the first check that held in b and fails in c: that is what
// changed. Failing that, it names the first failure of c and says how b
// stood on it.
func locate(ch *results.Change, b, c *results.Conversation) {
	var before map[spot]item
	if b != nil {
		before = index(items(b))
	}
	var first *item
	for _, it := range items(c) {
		if it.passed {
			continue
		}
		if was, ok := before[it.at]; ok && was.passed {
			set(ch, it, failsNow(it, heldThen))
			return
		}
		if first == nil {
			first = &it
		}
	}
	if first == nil {
		ch.Detail = c.Reason
		return
	}
	was, ok := before[first.at]
	switch {
	case b == nil:
		set(ch, *first, failsNow(*first, unknownThen))
	case !ok:
		set(ch, *first, failsNow(*first, absentThen))
	case !was.passed && b.Status == results.Flaky:
		set(ch, *first, failsNow(*first, failedFlakyThen))
	default:
		set(ch, *first, failsNow(*first, failedThen))
	}
}

// locateFix points ch at the first thing that failed in b (the baseline) and
// holds in c (now).
func locateFix(ch *results.Change, b, c *results.Conversation) {
	now := index(items(c))
	var first *item
	for _, it := range items(b) {
		if it.passed {
			continue
		}
		if is, ok := now[it.at]; ok && is.passed {
			set(ch, it, holdsNow(it))
			return
		}
		if first == nil {
			first = &it
		}
	}
	if first == nil {
		ch.Detail = "it " + string(b.Status) + " in the baseline"
		if b.Reason != "" {
			ch.Detail += ": " + b.Reason
		}
		return
	}
	how := "is not checked now"
	if _, ok := now[first.at]; ok {
		how = "still fails in some runs now, which pass often enough"
	}
	set(ch, *first, where(first.at)+first.at.check+" failed in the baseline and "+how+": "+first.msg)
}

func set(ch *results.Change, it item, detail string) {
	ch.Turn, ch.Check, ch.Detail = it.at.turn, it.at.check, detail
}

// where prefixes a sentence with the turn, as reports print it.
func where(at spot) string {
	if at.turn > 0 {
		return "turn " + strconv.Itoa(at.turn) + ": "
	}
	return ""
}

// then is how the baseline stood on a failure of the current run.
type then int

const (
	unknownThen     then = iota // no baseline: a new conversation
	heldThen                    // it held
	absentThen                  // the baseline has no such check, or did not reach the turn
	failedThen                  // it failed too
	failedFlakyThen             // it failed in the failing run of a flaky baseline
)

// failsNow is the sentence for a failure of the current run.
func failsNow(it item, how then) string {
	isErr := it.at.check == "error"
	var note string
	switch how {
	case heldThen:
		note = " (it held in the baseline)"
		if isErr {
			note = " (it answered in the baseline)"
		}
	case absentThen:
		note = " (it was not checked in the baseline)"
		if isErr {
			note = " (the baseline did not get this far)"
		}
	case failedThen:
		note = " (as in the baseline)"
	case failedFlakyThen:
		note = " (as in the baseline's failing run)"
	}
	if isErr {
		return where(it.at) + "the bot could not be asked" + note + ": " + it.msg
	}
	return where(it.at) + it.at.check + " fails" + note + ": " + it.msg
}

// holdsNow is the sentence for a baseline failure that the current run no
// longer has.
func holdsNow(it item) string {
	if it.at.check == "error" {
		return where(it.at) + "the bot answers now; in the baseline it could not be asked: " + it.msg
	}
	return where(it.at) + it.at.check + " holds now; in the baseline it failed: " + it.msg
}
