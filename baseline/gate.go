package baseline

import (
	"github.com/evalrun/evalrun/results"
)

// Gate reports whether run fails the build, and why, one reason a line
// ("2 conversations regressed"). With c (the comparison of run with a
// baseline) and !failOnAny, only what the baseline does not excuse fails it,
// as the package doc says; with failOnAny, or without a comparison, any
// failed, errored or unfinished conversation does.
//
// c must be Compare's result for run. Gate judges conversations only; a
// signal's own exit code and load thresholds are the caller's.
func Gate(c *results.Comparison, run *results.Run, failOnAny bool) (fail bool, reasons []string) {
	if run == nil {
		return true, []string{"there is no record of the run"}
	}
	excused := map[key]bool{}
	if c != nil && !failOnAny {
		for _, ch := range c.StillFailing {
			excused[key{ch.Suite, ch.Name}] = true
		}
	}
	var failed, errored, unfinished int
	for _, conv := range run.Conversations {
		if conv == nil {
			continue
		}
		switch conv.Status {
		case results.Failed:
			if !excused[keyOf(conv)] {
				failed++
			}
		case results.Errored:
			errored++
		case results.Unfinished:
			unfinished++
		}
	}

	if c != nil && !failOnAny {
		if n := len(c.Regressed); n > 0 {
			reasons = append(reasons, plural(n, "conversation regressed", "conversations regressed"))
		}
		// Failures other than regressions and the excused are those the
		// baseline has no verdict on.
		if n := failed - regressedFailed(c); n > 0 {
			reasons = append(reasons, plural(n, "conversation fails that the baseline did not judge (new, or skipped or unfinished there)", "conversations fail that the baseline did not judge (new, or skipped or unfinished there)"))
		}
	} else if failed > 0 {
		reasons = append(reasons, plural(failed, "conversation failed", "conversations failed"))
	}
	if errored > 0 {
		reasons = append(reasons, plural(errored, "conversation errored", "conversations errored"))
	}
	if unfinished > 0 {
		reasons = append(reasons, plural(unfinished, "conversation is unfinished", "conversations are unfinished"))
	}
	return len(reasons) > 0, reasons
}

// regressedFailed counts the regressions that are failures now (the rest
// errored, and are counted as errors).
func regressedFailed(c *results.Comparison) int {
	n := 0
	for _, ch := range c.Regressed {
		if ch.Now == results.Failed {
			n++
		}
	}
	return n
}
