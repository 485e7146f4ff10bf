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
	out = append(out, item{spot{0, "error", 0}, !convError, c.Reason})
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
	var then map[spot]item
	if b != nil {
		then = index(items(b))
	}
	var first *item
	for _, it := range items(c) {
		if it.passed {
			continue
		}
		if was, ok := then[it.at]; ok && was.passed {
			set(ch, it, failsNow(it, "it held in the baseline"))
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
	was, ok := then[first.at]
	switch {
	case b == nil:
		set(ch, *first, failsNow(*first, ""))
	case !ok:
		set(ch, *first, failsNow(*first, "it was not checked in the baseline"))
	case !was.passed && b.Status == results.Flaky:
		set(ch, *first, failsNow(*first, "as in the baseline's failing run"))
	default:
		set(ch, *first, failsNow(*first, "as in the baseline"))
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
		ch.Detail = "it " + string(b.Status) + " in the baseline: " + b.Reason
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

// failsNow is the sentence for a failure of the current run; how, if not
// empty, says how the baseline stood on it.
func failsNow(it item, how string) string {
	if how != "" {
		how = " (" + how + ")"
	}
	if it.at.check == "error" {
		return where(it.at) + "the bot could not be asked" + how + ": " + it.msg
	}
	return where(it.at) + it.at.check + " fails" + how + ": " + it.msg
}

// holdsNow is the sentence for a baseline failure that the current run no
// longer has.
func holdsNow(it item) string {
	if it.at.check == "error" {
		return where(it.at) + "the bot answers now; in the baseline it could not be asked: " + it.msg
	}
	return where(it.at) + it.at.check + " holds now; in the baseline it failed: " + it.msg
}
