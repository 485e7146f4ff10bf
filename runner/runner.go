// Package runner schedules the conversations of a set of suites against their
// providers, judges every reply, and returns the record of the run. A check
// that fails is a result, never an error: only a broken setup stops a run.
package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// DefaultConcurrency keeps a run well under the 100 requests a minute that
// OpenCX allows a key, while still overlapping slow replies.
const DefaultConcurrency = 4

// Options says how to run; the zero value is usable.
type Options struct {
	// Concurrency is how many conversations run at once; turns of one
	// conversation always run in order. 0 means DefaultConcurrency.
	Concurrency int
	// BaseURL, when set, replaces every suite's provider.base_url ("sim"
	// included), to point the same suites at another environment.
	BaseURL string
	// RunID tags every session the run creates; "" mints a random one.
	RunID string
	// OnDone, when set, is called once per conversation as its verdict is
	// known, from the goroutine that ran it.
	OnDone func(*results.Conversation)
	// Sim configures the simulator the run starts for base_url "sim".
	Sim SimOptions
	// Repeat, when above 0, runs every conversation that many times,
	// overriding repeat in the suites.
	Repeat int
	// Tags, when set, selects the conversations with at least one of them;
	// Filter, when set, those whose "suite/name" it matches. The others are
	// skipped, with a reason naming the selection.
	Tags   []string
	Filter *regexp.Regexp
	// FailFast stops the run at the first conversation that fails or errors;
	// the rest end unfinished.
	FailFast bool
	// Shard, when its Count is set, runs only the conversations of that
	// shard (see ShardOf) and leaves the others out of the record, which
	// then says which shard it holds. Tags and Filter are checked against
	// every shard's conversations, so a shard that the selection leaves
	// empty is no mistake, and passes.
	Shard Shard
	// FastHTTP sends every request over the fasthttp transport
	// (providers.Config.FastHTTP); evalrun load sets it, for its CPU and
	// memory with thousands of requests in flight.
	FastHTTP bool
	// SkipJudged leaves out the checks that ask an LLM judge or embeddings
	// (judge, similar, final judge): they are not run, and not counted as
	// passed or failed. evalrun load sets it unless
	// --judge, because under load those checks cost money per turn.
	SkipJudged bool
	// SkipObserved (NewPlayer only) keeps no reply past its turn and no
	// final state past the final checks: transcripts then have no
	// Turn.Observed and RecordedState is nil. evalrun load sets it: its
	// records keep only a sample and cannot be regraded, and a reply kept
	// (its raw body, actions and arguments) costs memory for every
	// conversation in flight. Run ignores it, as its records are what
	// regrade reads.
	SkipObserved bool
}

// ErrFailFast is the cause a run stopped by FailFast records.
var ErrFailFast = errors.New("fail-fast: a conversation failed")

// Run runs every conversation of every suite and returns the record. The
// error is non-nil only when the run could not be set up: a provider could
// not be built, the simulator could not start, or the selection leaves
// nothing to run (a *SelectionError, returned before anything is sent).
// Failures and errors of individual conversations are in the record. When ctx is done, Run stops
// promptly and still returns the record: conversations cut short or never
// started are unfinished, with a reason that says so, and Run.Interrupted
// holds the cause (context.Cause of ctx, or ErrFailFast).
func Run(ctx context.Context, ss []*suites.Suite, opts Options) (*results.Run, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if err := opts.Shard.check(); err != nil {
		return nil, err
	}
	if err := opts.checkSelection(ss); err != nil {
		return nil, err
	}
	env := &environment{sim: opts.Sim}
	defer env.close()

	run := &results.Run{
		Schema:        results.Schema,
		RunID:         opts.RunID,
		StartedAt:     time.Now().UTC(),
		Suites:        []results.Suite{},
		Conversations: []*results.Conversation{},
	}
	if opts.Shard.Count > 0 {
		run.Shard = &results.Shard{Index: opts.Shard.Index, Count: opts.Shard.Count}
	}
	started := time.Now()

	var jobs []*job
	var convs []*tally
	for _, s := range ss {
		p, err := env.provider(s, opts.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.File, err)
		}
		var jc *judge.Client
		if !opts.SkipJudged {
			if jc, err = env.judge(s); err != nil {
				return nil, fmt.Errorf("%s: judge: %w", s.File, err)
			}
		}
		run.Suites = append(run.Suites, results.Suite{Name: s.Name, File: s.File, Provider: s.Provider.Type})
		for _, c := range s.Conversations {
			if !opts.Shard.Has(s.Name, c.Name) {
				continue
			}
			t := newTally(s, c, opts.Repeat)
			convs = append(convs, t)
			run.Conversations = append(run.Conversations, t.result)
			if why := opts.deselects(s, c); why != "" && !t.skipped {
				t.skipped = true
				t.result.Status, t.result.Reason = results.Skipped, why
			}
			if t.skipped {
				continue
			}
			for i := 0; i < t.runs; i++ {
				jobs = append(jobs, &job{suite: s, conv: c, provider: p, tally: t, runID: opts.RunID, judge: jc, skipJudged: opts.SkipJudged})
			}
		}
	}

	ctx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for _, j := range jobs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				// Stopped while waiting for a slot: this run never began.
				return nil
			}
			out := j.run(gctx)
			c := j.tally.add(out)
			if c == nil {
				return nil
			}
			if opts.FailFast && (c.Status == results.Failed || c.Status == results.Errored) {
				stopRun(ErrFailFast)
			}
			if opts.OnDone != nil {
				opts.OnDone(c)
			}
			return nil
		})
	}
	_ = g.Wait()

	for _, t := range convs {
		switch {
		case t.skipped:
		case t.left.Load() > 0:
			// The run was stopped before every run of t ended.
			t.stop(ctx)
		default:
			continue // settled, and OnDone told, by its last run
		}
		if opts.OnDone != nil {
			opts.OnDone(t.result)
		}
	}
	// A stop that came once every conversation had ended cut nothing short:
	// the run is complete, and says so.
	if ctx.Err() != nil && slices.ContainsFunc(convs, func(t *tally) bool { return t.result.Status == results.Unfinished }) {
		run.Interrupted = context.Cause(ctx).Error()
	}
	run.DurationMS = ms(time.Since(started))
	summarise(run, ss, convs)
	run.Summary.Judge = env.judgeSummary()
	return run, nil
}

// SelectionError is Run's error when Options.Tags or Options.Filter leave no
// conversation to run. A selection that runs nothing is a mistake (a typo in
// a tag, a filter for another suite), and must not pass as a green run; Run
// returns it before anything is sent.
type SelectionError struct {
	Tags   []string // the tags asked for; nil when none were
	Filter string   // the filter asked for; "" when none was
	// Known lists, sorted, every tag the suites' conversations carry.
	Known []string
	// Suites lists every suite as "name (file)", in the order given.
	Suites []string
	// Skipped counts the conversations the selection matched that the
	// suites skip.
	Skipped int
}

func (e *SelectionError) Error() string {
	var asked []string
	if len(e.Tags) > 0 {
		asked = append(asked, "--tags "+strings.Join(e.Tags, ","))
	}
	if e.Filter != "" {
		asked = append(asked, "--filter "+e.Filter)
	}
	msg := strings.Join(asked, " with ") + " selects no conversation to run"
	if e.Skipped > 0 {
		msg += fmt.Sprintf(" (it selects only conversations their suites skip: %d)", e.Skipped)
	}
	known := "none"
	if len(e.Known) > 0 {
		known = strings.Join(e.Known, ", ")
	}
	return msg + "; tags there are: " + known + "; suites there are: " + strings.Join(e.Suites, ", ")
}

// checkSelection returns a *SelectionError when o selects conversations and
// none of them would run. Without a selection, a run of only skipped
// conversations is what the suites ask for, and no error.
func (o Options) checkSelection(ss []*suites.Suite) error {
	if len(o.Tags) == 0 && o.Filter == nil {
		return nil
	}
	e := &SelectionError{Tags: o.Tags}
	if o.Filter != nil {
		e.Filter = o.Filter.String()
	}
	for _, s := range ss {
		e.Suites = append(e.Suites, s.Name+" ("+s.File+")")
		for _, c := range s.Conversations {
			e.Known = append(e.Known, c.Tags...)
			if o.deselects(s, c) != "" {
				continue
			}
			if c.Skip == "" {
				return nil
			}
			e.Skipped++
		}
	}
	slices.Sort(e.Known)
	e.Known = slices.Compact(e.Known)
	return e
}

// deselects returns why --tags or --filter leave c out, or "".
func (o Options) deselects(s *suites.Suite, c *suites.Conversation) string {
	if len(o.Tags) > 0 && !slices.ContainsFunc(c.Tags, func(t string) bool { return slices.Contains(o.Tags, t) }) {
		return "not selected: has none of the tags " + strings.Join(o.Tags, ",")
	}
	if o.Filter != nil && !o.Filter.MatchString(s.Name+"/"+c.Name) {
		return "not selected: " + s.Name + "/" + c.Name + " does not match --filter " + o.Filter.String()
	}
	return ""
}

// NewRunID mints the id a run tags its sessions with.
func NewRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// job is one run of one conversation.
type job struct {
	suite    *suites.Suite
	conv     *suites.Conversation
	provider providers.Provider
	tally    *tally
	runID    string
	// judge answers the checks that ask an LLM judge or embeddings (see
	// checks.ServiceCheck); nil when the suite has no judge: section.
	judge *judge.Client
	// skipJudged leaves those checks out (evalrun load without --judge).
	skipJudged bool
	// skipObserved keeps neither the replies nor the final state for the
	// record (Options.SkipObserved).
	skipObserved bool
}

// tally gathers the runs of one conversation into its verdict.
type tally struct {
	mu      sync.Mutex
	runs    int
	minPass float64
	left    atomic.Int32
	outs    []*Outcome // in the order the runs ended
	result  *results.Conversation
	suite   *suites.Suite
	skipped bool // skip in the suite: no run is planned
}

func newTally(s *suites.Suite, c *suites.Conversation, repeat int) *tally {
	runs := max(c.Repeat, 1)
	if repeat > 0 {
		runs = repeat
	}
	t := &tally{runs: runs, minPass: c.MinPassRate, suite: s}
	t.left.Store(int32(runs))
	t.result = &results.Conversation{
		Suite: s.Name, File: s.File, Line: c.Pos.Line, Name: c.Name, Tags: c.Tags,
		Turns: []*results.Turn{},
	}
	if c.Skip != "" {
		t.skipped = true
		t.result.Status = results.Skipped
		t.result.Reason = c.Skip
	}
	return t
}

// add records one run and, when it was the last, settles the verdict and
// returns the finished conversation.
func (t *tally) add(o *Outcome) *results.Conversation {
	t.mu.Lock()
	t.outs = append(t.outs, o)
	t.mu.Unlock()
	if t.left.Add(-1) != 0 {
		return nil
	}
	t.settle()
	return t.result
}

// stop settles a conversation whose runs did not all end because the run was
// stopped. It is unfinished, whatever its finished runs said, so that no
// partial result reads as a verdict; the reason says how far it got.
func (t *tally) stop(ctx context.Context) {
	cause := context.Cause(ctx)
	if len(t.outs) == 0 {
		t.result.Status, t.result.Reason = results.Unfinished, "not started: "+cause.Error()
		return
	}
	t.settle()
	t.result.Status = results.Unfinished
	note := fmt.Sprintf("%s after %d of %d runs (%d passed)", cause, len(t.outs), t.runs, t.result.PassedRuns)
	if t.result.Reason == "" {
		t.result.Reason = note
	} else {
		t.result.Reason += "; " + note
	}
}

// settle derives the conversation's record from the runs that ended. With
// repeats, every run is listed in RunResults (in the order they ended) and
// TotalMS is their time together; the transcript is the first run that did
// not pass, or the last run when all passed.
func (t *tally) settle() {
	c := t.result
	// Derived afresh, so settling twice is harmless.
	c.Runs, c.PassedRuns, c.RunResults = len(t.outs), 0, nil
	var shown *Outcome
	var lat []time.Duration
	var total time.Duration
	var failed, errored, unfinished int
	for _, o := range t.outs {
		total += o.Duration
		for _, tu := range o.Turns {
			if !tu.Errored {
				lat = append(lat, tu.Latency)
			}
		}
		switch o.Status {
		case results.Passed:
			c.PassedRuns++
		case results.Errored:
			errored++
		case results.Unfinished:
			unfinished++
		default:
			failed++
		}
		if shown == nil && o.Status != results.Passed {
			shown = o
		}
		if t.runs > 1 {
			c.RunResults = append(c.RunResults, runResult(o))
		}
	}
	if shown == nil {
		shown = t.outs[len(t.outs)-1]
	}
	c.Turns, c.Final, c.SessionID, c.Reason = shown.Transcript(), shown.Final, shown.SessionID, shown.Reason
	c.State = shown.RecordedState()
	c.DurationMS, c.TotalMS = ms(shown.Duration), ms(total)
	c.LatencyMS = ExactPercentiles(lat)
	c.Judge = judgeUse(t.outs)

	rate := float64(c.PassedRuns) / float64(c.Runs)
	switch {
	case unfinished > 0:
		c.Status = results.Unfinished
	case c.PassedRuns == c.Runs:
		c.Status = results.Passed
	case rate >= t.minPass && c.PassedRuns > 0:
		c.Status = results.Flaky
	case failed == 0 && errored > 0:
		c.Status = results.Errored
	default:
		c.Status = results.Failed
	}
}

// runResult is one run's line of a repeated conversation: its verdict, its
// time, its first failure and all of them.
func runResult(o *Outcome) results.RunResult {
	r := results.RunResult{Status: o.Status, DurationMS: ms(o.Duration)}
	if lines := o.Failures(); len(lines) > 0 {
		r.Message, r.Detail = lines[0], strings.Join(lines, "\n")
	}
	return r
}
