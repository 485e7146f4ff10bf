// Package results is the record of a run: what every conversation did and how
// it was judged. The runner produces it, reports read it, and its JSON form
// (schema evalrun/v1) is the contract scripts build on.
package results

import (
	"strconv"
	"strings"
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
	// Load is set for `evalrun load` runs: the workload, the exact latency
	// histograms, and the thresholds. In a load run Conversations holds only
	// a sample (those that did not pass, up to a limit), not every one.
	Load *Load `json:"load,omitempty"`
	// Comparison is set when the run was compared with a baseline record
	// (--baseline): what regressed, what was fixed, what is new or gone.
	Comparison *Comparison `json:"comparison,omitempty"`
	// Shard is set for `run --shard K/N`: the record holds only the
	// conversations of shard K, and leaves the others out.
	Shard *Shard `json:"shard,omitempty"`
	// Merged lists the records `evalrun merge` combined into this one of
	// `evalrun run` records, each by its run id and shard.
	Merged []MergedRun `json:"merged,omitempty"`
	// RegradedFrom is set on a record `evalrun regrade` made: the replies
	// are those of the recorded run it names, judged again by the suites'
	// checks of now, without asking the bot.
	RegradedFrom *Regrade `json:"regraded_from,omitempty"`
	// Test says which load test the record belongs to, so that merge can
	// tell a complete set of shards from a mix. Set by `evalrun load` (a
	// shard or a whole run) and kept, with the parts' times, by merge.
	Test *Test `json:"test,omitempty"`
	// Incomplete is set on a record merged with --allow-partial from fewer
	// parts than the test has: its figures are those of a part of the load.
	Incomplete *Incomplete `json:"incomplete,omitempty"`
}

// Test is the identity of one load test and the times of one record of it.
// Shards of one test share ID, Digest and Version; each has its own
// Start and End. A load record's shard is Run.Shard (nil for a whole run).
type Test struct {
	// ID names the test: --test-id, or derived from the digest and the
	// planned start, so that shards started alike agree on it.
	ID string `json:"id"`
	// Digest is "sha256:" and the hex digest of SuitesDigest and
	// WorkloadDigest together: one value to compare.
	Digest string `json:"digest"`
	// SuitesDigest covers the content of the suite files and the data
	// files they read, by suite name, whatever the paths; WorkloadDigest
	// the whole test's workload (before --shard took a part), base URL and
	// the options that change what is sent.
	SuitesDigest   string `json:"suites_digest"`
	WorkloadDigest string `json:"workload_digest"`
	// Workload is the whole test's workload in words, e.g. "open 40/s for
	// 5m0s"; for people, Digest is for comparing.
	Workload string `json:"workload,omitempty"`
	// Version and Commit are the evalrun that wrote the record, from its
	// build information ("dev" and "" when it has none).
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// PlannedStart is --start-at, when given; Start is when the load really
	// began and End when the run ended (after the grace period). LateMS is
	// Start - PlannedStart when that is positive.
	PlannedStart *time.Time `json:"planned_start,omitempty"`
	Start        time.Time  `json:"start"`
	End          time.Time  `json:"end"`
	LateMS       float64    `json:"late_ms,omitempty"`
	// RanMS is set on a record whose run was cut short (SIGTERM, a drained
	// node): how long it really ran. The starts it never made are counted
	// in Load.Dropped (open model).
	RanMS float64 `json:"ran_ms,omitempty"`
	// Parts lists, on a merged record, every record merged: run id, shard,
	// start, end and lateness, in shard order.
	Parts []Part `json:"parts,omitempty"`
	// StartSkewMS is, on a merged record, the latest part's Start minus the
	// earliest's.
	StartSkewMS float64 `json:"start_skew_ms,omitempty"`
}

// Part is one record a merged load record was made from.
type Part struct {
	RunID  string    `json:"run_id"`
	File   string    `json:"file,omitempty"`
	Shard  *Shard    `json:"shard,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	LateMS float64   `json:"late_ms,omitempty"`
	// Interrupted is the part's Run.Interrupted, and RanMS its
	// Test.RanMS: how long it ran when it was stopped early.
	Interrupted string  `json:"interrupted,omitempty"`
	RanMS       float64 `json:"ran_ms,omitempty"`
}

// Incomplete says which parts of a test a merged record lacks.
type Incomplete struct {
	Shards  int   `json:"shards"`  // N, the parts the test has
	Missing []int `json:"missing"` // the shard indices not merged, K from 0
}

// Regrade names the record a regraded run was judged from.
type Regrade struct {
	RunID string `json:"run_id"`
	File  string `json:"file,omitempty"`
	// At is when the record was judged again.
	At time.Time `json:"at"`
	// Notes say what the regrade could not do as the run did, such as a
	// repeated conversation of which the record keeps one run.
	Notes []string `json:"notes,omitempty"`
}

// Shard is part Index (from 0) of Count of a sharded run's conversations.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// MergedRun is one of the records a merged run record was made from.
type MergedRun struct {
	RunID string `json:"run_id"`
	Shard *Shard `json:"shard,omitempty"`
}

// Comparison is a run measured against an earlier record of the same suites,
// conversation by conversation (key: suite name and conversation name).
type Comparison struct {
	BaselineRunID string `json:"baseline_run_id"`
	BaselineFile  string `json:"baseline_file,omitempty"`
	// Regressed conversations passed (or were flaky) before and failed or
	// errored now. They fail a build that has a baseline, as do errors,
	// unfinished conversations and failures the baseline never judged
	// (package baseline, Gate, has the rule).
	Regressed    []Change `json:"regressed"`
	Fixed        []Change `json:"fixed"`         // failed or errored before, passed or flaky now
	New          []Change `json:"new"`           // not in the baseline
	Removed      []Change `json:"removed"`       // in the baseline, not in this run
	StillFailing []Change `json:"still_failing"` // failed or errored in both
	// NotCompared conversations are in both runs, but one side has no
	// verdict on the bot: skipped or unfinished (and not skipped in both).
	NotCompared []Change `json:"not_compared"`
	Unchanged   int      `json:"unchanged"` // passing (passed or flaky) in both, or skipped in both
	// Latency compares the turns at each index, over every conversation
	// both runs have.
	Latency []LatencyChange `json:"latency,omitempty"`
	// Notes say what limits the comparison: a baseline from another
	// evalrun schema, suites only one side has.
	Notes []string `json:"notes,omitempty"`
}

// Change is one conversation's verdict then and now.
type Change struct {
	Suite string `json:"suite"`
	Name  string `json:"name"`
	Was   Status `json:"was"` // "" for a new conversation
	Now   Status `json:"now"` // "" for a removed one
	// Turn and Check locate what changed: the first turn whose checks
	// differ (0 for final checks or none), and the check.
	Turn   int    `json:"turn,omitempty"`
	Check  string `json:"check,omitempty"`
	Detail string `json:"detail,omitempty"` // a sentence: what held then and fails now, or the reverse
}

// LatencyChange compares the latency of the turns at one index.
type LatencyChange struct {
	Index int         `json:"index"` // 1-based turn index
	Was   Percentiles `json:"was_ms"`
	Now   Percentiles `json:"now_ms"`
	// P50Change and P95Change are relative: (now - was) / was; 0.25 is 25% slower.
	P50Change float64 `json:"p50_change"`
	P95Change float64 `json:"p95_change"`
}

// Summary counts verdicts and aggregates latency over every turn of the run.
//
// Turns counts the turns the service answered or failed; a turn cut short
// by an interrupt or --fail-fast is neither and is left out, as are its
// requests from TurnErrors. LatencyMS is over the Turns − TurnErrors answered
// turns. Percentiles of nothing are all zero: Turns == TurnErrors says there
// was nothing to measure, and readers show that as absent rather than 0 ms.
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
	// LatencyHistogram holds the latencies LatencyMS is read from (encoded
	// as TurnStats.Histogram), so that merge adds runs up exactly. Run
	// records only; a load record's histograms are in its Load section.
	LatencyHistogram string `json:"latency_histogram,omitempty"`

	// Load runs only. LatencyMS then counts from when each turn should have
	// been sent (open model), ServiceLatencyMS from when it was.
	ServiceLatencyMS *Percentiles `json:"service_latency_ms,omitempty"`
	Dropped          *int         `json:"dropped,omitempty"`
	ErrorRate        *float64     `json:"error_rate,omitempty"` // errored requests (turns, session creations) / requests
	PassRate         *float64     `json:"pass_rate,omitempty"`  // passed conversations / finished conversations

	// Judge is what the judged checks cost; nil when no suite has a judge
	// that was used.
	Judge *JudgeSummary `json:"judge,omitempty"`
}

// Percentiles of a latency distribution, in milliseconds. The percentiles
// of an empty set are all zero; the record says elsewhere how many samples
// there were (Summary: Turns − TurnErrors; TurnStats: Count − Errors).
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
}

// Load is the record of a load run.
type Load struct {
	Model        string   `json:"model"` // "open" (arrival rate) or "closed" (virtual users)
	Rate         float64  `json:"rate,omitempty"`
	Stages       []Stage  `json:"stages,omitempty"`
	VUs          int      `json:"vus,omitempty"`
	DurationMS   float64  `json:"duration_ms"`
	GraceMS      float64  `json:"grace_ms"`
	ThinkTimeMS  float64  `json:"think_time_ms,omitempty"`
	MaxInFlight  int      `json:"max_in_flight,omitempty"`
	Shards       []string `json:"shards,omitempty"` // run ids merged into this record
	Started      int      `json:"started"`          // conversations begun
	Late         int      `json:"late"`             // begun after their intended start (open model)
	Dropped      int      `json:"dropped"`          // scheduled but never begun
	TargetRate   float64  `json:"target_rate,omitempty"`
	AchievedRate float64  `json:"achieved_rate"` // conversations begun per second
	// Throughput is finished turns per second over the measured duration.
	Throughput float64 `json:"throughput"`

	Turns []TurnStats `json:"turns"` // per turn index, 1-based, then nothing else
	// Overall, Conversation and Session aggregate all turns, whole
	// conversations and session creation.
	Overall      TurnStats `json:"overall"`
	Conversation TurnStats `json:"conversation"`
	Session      TurnStats `json:"session"`

	Thresholds []Threshold `json:"thresholds,omitempty"`

	// IntervalMS is the width of each Timeline entry; Timeline is the run
	// second by second (or coarser, so that it stays bounded), for plots
	// that show a freeze an aggregate would hide.
	IntervalMS float64    `json:"interval_ms,omitempty"`
	Timeline   []Interval `json:"timeline,omitempty"`
}

// Interval is one slice of a load run's timeline: conversations counted by
// when they began, turns and errors by when the reply or the error came.
type Interval struct {
	StartMS   float64     `json:"start_ms"` // from the run's start
	Started   int64       `json:"started"`  // conversations begun
	Turns     int64       `json:"turns"`    // turns finished
	Errors    int64       `json:"errors"`   // turns and session creations that errored
	LatencyMS Percentiles `json:"latency_ms"`
	// Histogram holds the interval's turn latencies, encoded like
	// TurnStats.Histogram but at 2 significant digits (each latency at the
	// top of its coarse bucket), so merge combines timelines exactly and a
	// day's timeline stays within a few MB.
	Histogram string `json:"histogram,omitempty"`
}

// Stage is one leg of a ramp: reach Target conversations per second,
// linearly, over DurationMS.
type Stage struct {
	DurationMS float64 `json:"duration_ms"`
	Target     float64 `json:"target"`
}

// TurnStats describes one latency metric. The histograms are HdrHistogram
// V2 compressed encodings (base64) of microseconds, so records from several
// machines can be merged exactly and reported again.
type TurnStats struct {
	Index     int         `json:"index,omitempty"` // turn index for per-turn stats
	Count     int64       `json:"count"`
	Errors    int64       `json:"errors"`
	LatencyMS Percentiles `json:"latency_ms"`
	// ServiceMS counts from the actual send; LatencyMS from the intended one.
	ServiceMS Percentiles `json:"service_latency_ms"`
	Histogram string      `json:"histogram"`
	Service   string      `json:"service_histogram"`
}

// Threshold is one pass/fail criterion and what was measured for it.
type Threshold struct {
	Expr     string  `json:"expr"`
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit,omitempty"` // "ms" for latencies, "" for rates and counts
	Passed   bool    `json:"passed"`
	Missing  bool    `json:"missing,omitempty"` // the metric had no data
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
	// TotalMS is the time of every run together; DurationMS is the shown
	// run's. Equal when the conversation ran once.
	TotalMS float64 `json:"total_ms,omitempty"`
	// RunResults has one entry per run that ended, in the order they
	// ended, when the conversation is repeated (more than one run planned,
	// even if an interrupt let fewer end); reports use it to show each
	// failed run of a flaky conversation.
	RunResults []RunResult `json:"run_results,omitempty"`
	// State is the conversation's state as the service reported it after
	// the last turn, for final checks; set when the run read it (the
	// conversation had final checks and got that far).
	State *State `json:"state,omitempty"`
	// Judge is what the conversation's judged checks cost, over all its
	// runs; nil when it has none.
	Judge *JudgeUse `json:"judge,omitempty"`
}

// MaxRecordedBody caps the bytes of a reply or state body a record keeps, so
// that a bot answering megabytes does not make a record of gigabytes.
const MaxRecordedBody = 64 << 10

// Body is a reply or state body as the record keeps it: the text as
// received, cut after MaxRecordedBody bytes. A JSON string rather than
// embedded JSON, so that a body that is not JSON, or one a secret was hidden
// in, keeps the record readable.
type Body struct {
	Raw string `json:"raw,omitempty"`
	// RawBytes is the whole body's length when Raw was cut short
	// (RawTruncated); nothing that reads the body can be judged again then.
	RawTruncated bool `json:"raw_truncated,omitempty"`
	RawBytes     int  `json:"raw_bytes,omitempty"`
}

// KeepBody returns raw as a record keeps it.
func KeepBody(raw []byte) Body {
	if len(raw) <= MaxRecordedBody {
		return Body{Raw: string(raw)}
	}
	cut := MaxRecordedBody
	// Cut on a character's start, so the kept text stays valid UTF-8.
	for cut > MaxRecordedBody-4 && raw[cut]&0xC0 == 0x80 {
		cut--
	}
	return Body{Raw: string(raw[:cut]), RawTruncated: true, RawBytes: len(raw)}
}

// Observed is what the service returned for a turn besides the reply text
// (Turn.Reply), as checks and captures read it: enough to judge the turn
// again without asking the bot. Pointers are nil when the reply did not
// report the field, which checks tell apart from false.
type Observed struct {
	Silent       bool     `json:"silent,omitempty"` // the service said the bot stayed silent
	MightSolve   *bool    `json:"might_solve,omitempty"`
	FullyCovered *bool    `json:"fully_covered,omitempty"`
	Handoff      *bool    `json:"handoff,omitempty"`
	TransferBot  string   `json:"transfer_bot,omitempty"`
	Actions      []Action `json:"actions,omitempty"`
	Knowledge    []string `json:"knowledge,omitempty"`
	Mode         string   `json:"mode,omitempty"`
	// Sparse marks a reply shape that reports only text: no actions,
	// knowledge or mode were reported, which is not the same as none.
	Sparse bool `json:"sparse,omitempty"`
	Status int  `json:"status,omitempty"` // the reply's HTTP status
	Body
}

// Action is one action the bot called, with its arguments.
type Action struct {
	Name string         `json:"name"`
	Args map[string]any `json:"args,omitempty"`
}

// State is a conversation's final state as the record keeps it; empty
// strings and nil mean the service did not report the field.
type State struct {
	Status     string         `json:"status,omitempty"`
	Sentiment  string         `json:"sentiment,omitempty"`
	Closure    string         `json:"closure,omitempty"`
	Handoff    *bool          `json:"handoff,omitempty"`
	CustomData map[string]any `json:"custom_data,omitempty"`
	Body
}

// RunResult is the verdict of one run of a repeated conversation.
type RunResult struct {
	Status     Status  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	// Message is the run's first failure, located ("turn 2: contains: …"),
	// or why it errored; Detail lists every failure, one a line.
	Message string `json:"message,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Turn is one exchange: what the user said, what came back, how it was judged.
type Turn struct {
	Index int `json:"index"` // 1-based, as reports print it
	// Sender is who wrote User: SenderUser (the contact) or SenderAgent (a
	// human agent, an agent: turn). Records from before the field read as "".
	Sender    string  `json:"sender,omitempty"`
	User      string  `json:"user"`
	Reply     string  `json:"reply"`
	Silent    bool    `json:"silent,omitempty"`  // the bot said nothing
	Handoff   bool    `json:"handoff,omitempty"` // the reply handed the chat to a human
	LatencyMS float64 `json:"latency_ms"`
	// JudgeMS is how long the turn's judged checks took; LatencyMS never
	// includes it.
	JudgeMS float64 `json:"judge_ms,omitempty"`
	// Error is the service failure that ended the conversation here, or
	// "stopped: …" when the run was stopped while the turn waited for its
	// reply.
	Error      string      `json:"error,omitempty"`
	Assertions []Assertion `json:"assertions"`
	// Observed is the rest of the reply, for evalrun regrade; nil when no
	// reply came, and in records from before the field.
	Observed *Observed `json:"observed,omitempty"`
}

// Turn senders.
const (
	SenderUser  = "user"
	SenderAgent = "agent"
)

// IsAgent reports whether a human agent, not the user, wrote the turn.
func (t *Turn) IsAgent() bool { return t.Sender == SenderAgent }

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

// String is the failure on one line, located: "turn 2: contains: …", or
// "final.status: …" for a final check, whose name says where it is.
func (f Failure) String() string {
	where := f.Where()
	if strings.HasPrefix(f.Check, where+".") {
		return f.Check + ": " + f.Message
	}
	return where + ": " + f.Check + ": " + f.Message
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
