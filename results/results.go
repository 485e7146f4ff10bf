// Package results is the record of a run: what every conversation did and how
// it was judged. The runner produces it, reports read it, and its JSON form
// (schema evalrun/v1) is the contract scripts build on.
package results

import (
	"strconv"
	"time"
)

// Schema names the JSON layout of a Run.
const Schema = "evalrun/v1"

// Status is a conversation's verdict.
type Status string

const (
	Passed  Status = "passed"  // every check held
	Failed  Status = "failed"  // a check did not hold
	Errored Status = "errored" // the bot could not be asked: the service failed
	Flaky   Status = "flaky"   // repeated runs disagreed but met min_pass_rate
	Skipped Status = "skipped" // not run: skip in the suite, or not selected
	// Unfinished conversations were cut short, or never started, because
	// the run was interrupted (Ctrl-C, SIGTERM, --fail-fast).
	Unfinished Status = "unfinished"
)

// Run is the whole record of one `evalrun run`.
type Run struct {
	Schema     string    `json:"schema"`
	RunID      string    `json:"run_id"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	// Interrupted says why the run stopped early ("interrupt", "terminate",
	// "fail-fast"); empty when it ran to the end.
	Interrupted   string          `json:"interrupted,omitempty"`
	Summary       Summary         `json:"summary"`
	Suites        []Suite         `json:"suites"`
	Conversations []*Conversation `json:"conversations"`
}

// Summary counts verdicts and aggregates latency over every turn of the run.
type Summary struct {
	Conversations int         `json:"conversations"`
	Passed        int         `json:"passed"`
	Failed        int         `json:"failed"`
	Errored       int         `json:"errored"`
	Flaky         int         `json:"flaky"`
	Skipped       int         `json:"skipped"`
	Unfinished    int         `json:"unfinished"`
	Turns         int         `json:"turns"`
	TurnErrors    int         `json:"turn_errors"`
	LatencyMS     Percentiles `json:"latency_ms"`
}

// Percentiles of a latency distribution, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Suite identifies one suite file of the run.
type Suite struct {
	Name     string `json:"name"`
	File     string `json:"file"`
	Provider string `json:"provider"`
	// DurationMS is the wall time from the suite's first conversation
	// starting to its last one ending.
	DurationMS float64 `json:"duration_ms"`
}

// Conversation is the verdict and transcript of one scripted conversation.
// With repeats, Turns and Final are those of the first failing run, or of the
// last run when none failed.
type Conversation struct {
	Suite      string      `json:"suite"`
	File       string      `json:"file"`
	Line       int         `json:"line"`
	Name       string      `json:"name"`
	Tags       []string    `json:"tags,omitempty"`
	Status     Status      `json:"status"`
	Reason     string      `json:"reason,omitempty"` // why skipped, or the error that stopped it
	Runs       int         `json:"runs"`
	PassedRuns int         `json:"passed_runs"`
	SessionID  string      `json:"session_id,omitempty"`
	DurationMS float64     `json:"duration_ms"`
	LatencyMS  Percentiles `json:"latency_ms"` // over this conversation's turns
	Turns      []*Turn     `json:"turns"`
	Final      []Assertion `json:"final,omitempty"`
}

// Turn is one exchange: what the user said, what came back, how it was judged.
type Turn struct {
	Index      int         `json:"index"` // 1-based, as reports print it
	User       string      `json:"user"`
	Reply      string      `json:"reply"`
	Silent     bool        `json:"silent,omitempty"`  // the bot said nothing
	Handoff    bool        `json:"handoff,omitempty"` // the reply handed the chat to a human
	LatencyMS  float64     `json:"latency_ms"`
	Error      string      `json:"error,omitempty"` // the service failure that ended the conversation here
	Assertions []Assertion `json:"assertions"`
}

// Assertion is the outcome of one check.
type Assertion struct {
	Check    string `json:"check"`
	Passed   bool   `json:"passed"`
	Message  string `json:"message,omitempty"`  // on failure, a sentence saying what was wrong
	Expected string `json:"expected,omitempty"` // what the suite asked for, shortened
	Actual   string `json:"actual,omitempty"`   // what came back, shortened
}

// Failure is one failed check, or the error, located in a conversation.
type Failure struct {
	Turn    int    // 1-based turn; 0 for final checks and conversation-level errors
	Check   string // "contains", "final.status", or "error"
	Message string
}

// Where returns "turn N" or "final" for messages.
func (f Failure) Where() string {
	if f.Turn > 0 {
		return "turn " + strconv.Itoa(f.Turn)
	}
	if f.Check == "error" {
		return "conversation"
	}
	return "final"
}

// Failures lists what went wrong in c, in order: turn checks, the error that
// stopped it, then final checks.
func (c *Conversation) Failures() []Failure {
	var out []Failure
	for _, t := range c.Turns {
		for _, a := range t.Assertions {
			if !a.Passed {
				out = append(out, Failure{Turn: t.Index, Check: a.Check, Message: a.Message})
			}
		}
		if t.Error != "" {
			out = append(out, Failure{Turn: t.Index, Check: "error", Message: t.Error})
		}
	}
	if c.Status == Errored && c.Reason != "" && !turnHasError(c.Turns) {
		out = append(out, Failure{Check: "error", Message: c.Reason})
	}
	for _, a := range c.Final {
		if !a.Passed {
			out = append(out, Failure{Check: a.Check, Message: a.Message})
		}
	}
	return out
}

func turnHasError(turns []*Turn) bool {
	for _, t := range turns {
		if t.Error != "" {
			return true
		}
	}
	return false
}
