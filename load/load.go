// Package load replays the conversations of suites as load, in an open model
// (new conversations at a target rate) or a closed one (virtual users), and
// records every latency in mergeable HDR histograms.
//
// # Open model
//
// Options.Rate is the rate at the test start, in new conversations per
// second; Options.Stages ramp it linearly from there, one after another, and
// after the last the last target holds. Conversations start until
// Options.Duration (by default the stages' total). The i-th start (0-based)
// is due when the integral of the rate since the test start reaches i — a
// constant rate r has it at i/r — and its due time never depends on when
// earlier starts actually happened, so the schedule does not drift.
//
// With Options.MaxInFlight, a start due while that many conversations are in
// flight waits for one of them to end, then begins late; waiting starts
// queue in order and none is skipped. When the starting window closes (at
// Duration, or when the run is interrupted), the start still waiting for a
// slot and every later one due before the close are dropped: never sent,
// counted in Load.Dropped and Summary.Dropped. An interrupt likewise drops
// starts that were due but not begun because the generator had fallen
// behind. So started + dropped is always the number of starts the schedule
// has due before the close. A start is late (Load.Late) when it begins more
// than LateAfter after its due time.
//
// # Closed model
//
// Options.VUs users each play a conversation, pause Options.ThinkTime, and
// play the next, until Duration. Every user waits for its reply before going
// on, so the closed model measures service time by nature: nothing is
// corrected, and a slow server simply gets fewer conversations.
//
// # Latency and coordinated omission
//
// Every latency is recorded twice, in µs histograms: service time, as Play
// measured it from the actual send, and service time plus the lateness of
// the conversation's start (actual − due; 0 in the closed model), so that in
// the open model a turn counts from when it should have been sent and a
// server that stalls the generator cannot hide the stall. Waits for
// provider.rate_limit earlier in the conversation add to that lateness, in
// the open model only (see recorder.record). Summary.LatencyMS
// holds the corrected percentiles of all turns, Summary.ServiceLatencyMS the
// service ones. There are histograms per turn index, for all turns, for
// whole conversations and for session creation. Only OpenCX sends a request
// to create a session; for Toolzz and http the session metric stays empty.
//
// # What is counted
//
// A turn counts once it has a reply or has errored; a turn cut short by the
// end of the grace period or an interrupt counts nowhere. Errored turns (and
// failed session creations) count in Count and Errors of their metric but
// add no latency: an error's latency (a quick 503, a long timeout) is not the
// time to a reply, and fast failures would make a failing service look fast.
// This is what k6 users get from http_req_duration{expected_response:true};
// the errors are in error_rate instead. Conversation latency covers passed
// and failed conversations; errored ones count in its Errors.
//
// Summary.Conversations is the number started: passed + failed + errored +
// unfinished. Dropped starts are not conversations (nothing was sent) and
// stand apart in Summary.Dropped. PassRate is passed / (passed + failed +
// errored + unfinished): a conversation the grace period cut short did not
// pass. ErrorRate is errored requests (turns and session creations) over
// requests sent. Both are 0 with nothing to divide by.
//
// # Over time
//
// Load.Timeline holds the same counts interval by interval from the test
// start (TimelineInterval, widened to stay within TimelineLimit
// intervals), so that a stall of a few seconds, which the run's
// percentiles average away, shows as intervals in which nothing finished;
// see TimelineInterval for how turns are placed in time and why their
// histograms are coarser.
package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evalrun/evalrun/internal/version"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// Defaults for the zero values of Options.
const (
	DefaultGrace       = 30 * time.Second
	DefaultSampleLimit = 20
)

// LateAfter is how long after its due time a start may begin and still be on
// time: timer and scheduler jitter below it is not lateness worth counting
// (it is still added to the corrected latencies).
const LateAfter = 10 * time.Millisecond

// ErrGraceOver is the cause with which conversations still in flight when the
// grace period ends are cancelled.
var ErrGraceOver = errors.New("load: grace period over")

// Options says what load to generate. Rate or Stages (open model) and VUs
// (closed model) exclude each other.
type Options struct {
	// Rate is the open model's rate of new conversations per second at the
	// start; Stages ramp it from there (see the package comment).
	Rate   float64
	Stages []Stage
	// VUs is the closed model's number of users, each looping over the
	// conversations and pausing ThinkTime between two of them.
	VUs       int
	ThinkTime time.Duration
	// Duration is how long conversations start (open) or users loop
	// (closed). With Stages and no Duration, the stages' total.
	Duration time.Duration
	// Grace is how long after Duration conversations in flight may finish;
	// then they are cancelled and end unfinished. 0 means DefaultGrace, a
	// negative value none.
	Grace time.Duration
	// MaxInFlight caps the conversations in flight in the open model; 0 is
	// no cap.
	MaxInFlight int
	// Slice, set by Shard in the open model, says that this process plays
	// one slice of a larger test's schedule; nil plays all of it.
	Slice *Slice
	// OnTick, when set, is called about once a second while the run lasts,
	// never concurrently, and once more with Done set when it has ended.
	OnTick func(Snapshot)
	// SampleLimit is how many conversations that did not pass the record
	// keeps (status and reason). 0 means DefaultSampleLimit, negative none.
	SampleLimit int
	// RunID is the record's run id; "" takes the Player's RunID() when it has
	// one, or mints one.
	RunID string

	// StartAt, when set, is the planned start (--start-at): Run waits for it
	// before starting anything, so that shards on many machines begin
	// together. One called after it begins at once, and the record says how
	// late (results.Test.LateMS). Clock is the time waited on; nil is the
	// real one.
	StartAt time.Time
	Clock   Clock
	// OnStart, when set, is called once when the load begins, after any wait
	// for StartAt, with the time on Clock.
	OnStart func(at time.Time)
	// Identity names the test in the record (results.Test); nil is
	// Identify(suites, these options, Setup{}). A shard passes the identity
	// of the whole test, which its own options do not describe.
	Identity *Identity
}

// Snapshot is the progress of a run.
type Snapshot struct {
	Elapsed  time.Duration // since the test start
	Duration time.Duration // the starting window (Options.Duration or the stages')
	// TargetRate is the open model's rate due now, AchievedRate the rate
	// conversations began at since the previous snapshot (in the last one,
	// over the starting window); both per second.
	TargetRate   float64
	AchievedRate float64
	InFlight     int
	Started      int
	Late         int
	Dropped      int // counted when the starting window closes
	Turns        int64
	Errors       int64         // session creations and turns that errored
	P95          time.Duration // of all turns so far, from the intended start
	Done         bool          // the run has ended; this is the last snapshot
}

// Player plays conversations for Run; *runner.Player is one. It must be safe
// for concurrent use.
type Player interface {
	// Play plays conversation c of suite s once, stopping when ctx is done,
	// and returns what it measured.
	Play(ctx context.Context, s *suites.Suite, c *suites.Conversation) runner.Outcome
}

var _ Player = (*runner.Player)(nil)

// plan is a validated Options.
type plan struct {
	Options
	open bool
	// pacer is the whole test's schedule, of which this process plays the
	// starts k, k+n, k+2n, …: all of them unsliced (k 0, n 1).
	pacer  Ramp
	k, n   uint64
	window time.Duration // when starts (open) or loops (closed) end
}

// hit is the number on the whole test's schedule of this process's
// start h.
func (p plan) hit(h uint64) uint64 { return p.k + h*p.n }

// pace is Pacer.Pace for this process's start h.
func (p plan) pace(elapsed time.Duration, h uint64) (time.Duration, bool) {
	return p.pacer.Pace(elapsed, p.hit(h))
}

// countDue counts this process's starts from its start from on that are
// due before at: of the whole schedule's starts from p.hit(from) on that
// are, every n-th, beginning with the first.
func (p plan) countDue(from uint64, at time.Duration) int64 {
	whole := uint64(countDue(p.pacer, p.hit(from), at))
	return int64((whole + p.n - 1) / p.n)
}

// rate is the target rate of this process at elapsed: its share of the
// whole's.
func (p plan) rate(elapsed time.Duration) float64 {
	return p.pacer.Rate(elapsed) / float64(p.n)
}

func (o Options) plan() (plan, error) {
	// Validate is the whole rule, the command's too; past it, o is one
	// model with a window that lasts.
	if err := o.Validate(); err != nil {
		return plan{Options: o}, fmt.Errorf("load: %w", err)
	}
	if o.Slice != nil {
		if err := o.Slice.check(o); err != nil {
			return plan{Options: o}, fmt.Errorf("load: %w", err)
		}
	}
	p := plan{Options: o, open: o.open(), n: 1}
	if p.open {
		p.pacer = Ramp{Start: o.Rate, Stages: o.Stages, Duration: o.Duration}
		if sl := o.Slice; sl != nil {
			p.pacer.Start, p.pacer.Stages = sl.Rate, sl.Stages
			p.k, p.n = uint64(sl.K), uint64(sl.N)
		}
		p.window = p.pacer.End()
	} else {
		p.window = o.Duration
	}
	switch {
	case p.Grace == 0:
		p.Grace = DefaultGrace
	case p.Grace < 0:
		p.Grace = 0
	}
	switch {
	case p.SampleLimit == 0:
		p.SampleLimit = DefaultSampleLimit
	case p.SampleLimit < 0:
		p.SampleLimit = 0
	}
	return p, nil
}

// play is one conversation to play.
type play struct {
	suite *suites.Suite
	conv  *suites.Conversation
}

// engine runs one load test.
type engine struct {
	plan
	player Player
	plays  []play
	rec    *recorder
	start  time.Time

	// ctx is the plays' context: the caller's, cancelled with ErrGraceOver
	// when the grace period ends.
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // the plays (open) or the users (closed)

	slots                   chan struct{} // MaxInFlight tokens; nil for no cap
	started, late, inFlight atomic.Int64
	dropped                 atomic.Int64 // counted when the starting window closes
}

// Run plays every conversation of ss that is not skipped, round-robin, as
// opts says, and returns the record (see the package comment for what it
// counts). The error is non-nil only for invalid options or nothing to play.
// When ctx is done, Run stops starting conversations, cancels those in
// flight (they end unfinished), and returns the record so far with
// Interrupted set to the cause. With Options.StartAt, Run first waits for
// it; when ctx is done during that wait, it returns no record and an
// error that is ErrNotStarted: nothing was sent, so there is nothing to
// record, and a record of nothing would read as a shard that ran.
func Run(ctx context.Context, p Player, ss []*suites.Suite, opts Options) (*results.Run, error) {
	pl, err := opts.plan()
	if err != nil {
		return nil, err
	}
	e := &engine{plan: pl, player: p}
	for _, s := range ss {
		for _, c := range s.Conversations {
			if c.Skip == "" {
				e.plays = append(e.plays, play{s, c})
			}
		}
	}
	if len(e.plays) == 0 {
		return nil, errors.New("load: no conversation to play: none, or every one is skipped")
	}
	if e.open && e.MaxInFlight > 0 {
		e.slots = make(chan struct{}, e.MaxInFlight)
	}
	runID := opts.RunID
	if id, ok := p.(interface{ RunID() string }); ok && runID == "" {
		runID = id.RunID()
	}
	if runID == "" {
		runID = runner.NewRunID()
	}

	ident := opts.Identity
	if ident == nil {
		id := Identify(ss, opts, Setup{})
		ident = &id
	}
	began, err := opts.waitStart(ctx)
	if err != nil {
		return nil, err
	}

	e.ctx, e.cancel = context.WithCancelCause(ctx)
	defer e.cancel(nil)
	e.start = time.Now()
	if opts.Clock == nil {
		began = e.start
	}
	if opts.OnStart != nil {
		opts.OnStart(began)
	}
	e.rec = newRecorder(pl.SampleLimit, pl.open, e.start)
	startedAt := e.start.UTC()
	var interruptedAt atomic.Int64
	defer context.AfterFunc(ctx, func() { interruptedAt.Store(int64(time.Since(e.start))) })()

	ticks := e.tick()
	if e.open {
		e.dropped.Store(e.schedule(ctx))
	} else {
		e.users(ctx)
	}
	e.wait(ctx)
	wall := time.Since(e.start)
	ticks()

	stoppedAt := time.Duration(interruptedAt.Load())
	if ctx.Err() != nil && (stoppedAt == 0 || stoppedAt > wall) {
		// The AfterFunc has not run yet, or ran after the run had ended:
		// a record must not say it ran longer than it lasted, which
		// report and merge refuse as an edit.
		stoppedAt = wall
	}
	run, err := e.record(ss, runID, startedAt, wall, stoppedAt)
	if err != nil {
		return nil, err
	}
	run.Test = e.test(*ident, began, wall)
	if ctx.Err() != nil {
		run.Interrupted = context.Cause(ctx).Error()
		// At least a microsecond: the field is left out when 0.
		run.Test.RanMS = max(ms(stoppedAt), 0.001)
	}
	if e.OnTick != nil {
		s := e.snapshot(wall)
		s.AchievedRate, s.Done = run.Load.AchievedRate, true
		e.OnTick(s)
	}
	return run, nil
}

// test is the record's identity and times: the load began at began (on
// Options.Clock) and lasted wall, grace period included.
func (e *engine) test(id Identity, began time.Time, wall time.Duration) *results.Test {
	v := version.Get()
	t := &results.Test{
		ID: id.ID, Digest: id.Digest, SuitesDigest: id.SuitesDigest, WorkloadDigest: id.WorkloadDigest, Workload: id.Workload,
		Version: v.Version, Commit: v.Commit,
		Start: began.UTC(), End: began.Add(wall).UTC(),
	}
	if !e.StartAt.IsZero() {
		planned := e.StartAt.UTC()
		t.PlannedStart = &planned
		if late := began.Sub(e.StartAt); late > 0 {
			t.LateMS = ms(late)
		}
	}
	return t
}

// schedule starts conversations on the pacer's schedule until it ends, the
// starting window closes or ctx is done, and returns how many it dropped:
// every start due before the window closes that it did not begin. When ctx
// ends the run early, that includes those due after the interrupt: a shard
// stopped half-way (a drained node) did not play its part of the test, and
// its record must not read as if the test had been planned smaller.
func (e *engine) schedule(ctx context.Context) int64 {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	window := time.NewTimer(e.window)
	defer window.Stop()
	for hits := uint64(0); ; hits++ {
		if ctx.Err() != nil {
			return e.countDue(hits, e.window)
		}
		elapsed := time.Since(e.start)
		wait, stop := e.pace(elapsed, hits)
		if stop {
			return 0
		}
		due := elapsed + wait
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return e.countDue(hits, e.window)
			}
		}
		if e.slots != nil {
			select {
			case e.slots <- struct{}{}:
			default:
				select {
				case e.slots <- struct{}{}:
				case <-window.C:
					return e.countDue(hits, e.window)
				case <-ctx.Done():
					return e.countDue(hits, e.window)
				}
			}
		}
		lateness := max(time.Since(e.start)-due, 0)
		if lateness > LateAfter {
			e.late.Add(1)
		}
		e.started.Add(1)
		e.inFlight.Add(1)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			// The whole's number, so that the shards together play the
			// conversations in the whole test's rotation.
			e.play(e.hit(hits), lateness)
			if e.slots != nil {
				<-e.slots
			}
		}()
	}
}

// countDue counts the starts from from on that are due before at. A start
// is due no earlier than the one before it, so the count is found by
// doubling then halving a step: a few dozen calls to Pace for a week at the
// highest rate, where counting one by one would hold up the end of the run
// (and a Ctrl-C) for minutes.
func countDue(p Pacer, from uint64, at time.Duration) int64 {
	due := func(n uint64) bool { // start from+n is due before at
		wait, stop := p.Pace(at, from+n)
		return !stop && wait < 0
	}
	if !due(0) {
		return 0
	}
	lo, hi := uint64(0), uint64(1) // due(lo); hi is not known to be due
	for due(hi) {
		if hi >= 1<<62 {
			return 1 << 62 // a schedule with no end; Validate rules it out
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		if mid := lo + (hi-lo)/2; due(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return int64(lo + 1)
}

// users runs the closed model's users; each stops at the end of the window.
func (e *engine) users(ctx context.Context) {
	over := make(chan struct{})
	t := time.AfterFunc(e.window, func() { close(over) })
	var next atomic.Uint64
	var users sync.WaitGroup
	for range e.VUs {
		e.wg.Add(1)
		users.Add(1)
		go func() {
			defer e.wg.Done()
			defer users.Done()
			for {
				select {
				case <-over:
					return
				case <-ctx.Done():
					return
				default:
				}
				e.started.Add(1)
				e.inFlight.Add(1)
				e.play(next.Add(1)-1, 0)
				if e.ThinkTime > 0 && !pause(ctx, over, e.ThinkTime) {
					return
				}
			}
		}()
	}
	go func() {
		users.Wait()
		t.Stop()
	}()
}

// pause waits d, and says false when the window closed or ctx ended first.
func pause(ctx context.Context, over <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-over:
	case <-ctx.Done():
	}
	return false
}

// play plays conversation number i and records it.
func (e *engine) play(i uint64, lateness time.Duration) {
	p := e.plays[i%uint64(len(e.plays))]
	began := time.Now()
	o := e.player.Play(e.ctx, p.suite, p.conv)
	e.rec.record(p.suite, p.conv, &o, lateness, began, time.Now())
	e.inFlight.Add(-1)
}

// wait waits for the conversations in flight until the grace period ends,
// then cancels them and waits for them to return.
func (e *engine) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(max(e.window+e.Grace-time.Since(e.start), 0))
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
		e.cancel(ErrGraceOver)
	case <-ctx.Done():
	}
	<-done
}

// tick calls OnTick about once a second until the returned func is called.
func (e *engine) tick() (stop func()) {
	if e.OnTick == nil {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last time.Duration
		var lastStarted int64
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			now := time.Since(e.start)
			s := e.snapshot(now)
			started := e.started.Load()
			if dt := now - last; dt > 0 {
				s.AchievedRate = float64(started-lastStarted) / dt.Seconds()
			}
			last, lastStarted = now, started
			e.OnTick(s)
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

func (e *engine) snapshot(elapsed time.Duration) Snapshot {
	turns, errs, p95 := e.rec.progress()
	s := Snapshot{
		Elapsed: elapsed, Duration: e.window,
		InFlight: int(e.inFlight.Load()), Started: int(e.started.Load()), Late: int(e.late.Load()), Dropped: int(e.dropped.Load()),
		Turns: turns, Errors: errs, P95: p95,
	}
	if e.open {
		s.TargetRate = e.rate(elapsed)
	}
	return s
}

// record builds the run's record from what was recorded.
func (e *engine) record(ss []*suites.Suite, runID string, startedAt time.Time, wall, interruptedAt time.Duration) (*results.Run, error) {
	r := e.rec
	r.mu.Lock()
	defer r.mu.Unlock()

	run := &results.Run{
		Schema: results.Schema, RunID: runID, StartedAt: startedAt, DurationMS: ms(wall),
		Suites: []results.Suite{}, Conversations: append([]*results.Conversation{}, r.sample...),
	}
	for _, s := range ss {
		rs := results.Suite{Name: s.Name, File: s.File, Provider: s.Provider.Type}
		if sp := r.spans[s]; sp != nil {
			rs.DurationMS = ms(sp.last.Sub(sp.first))
		}
		run.Suites = append(run.Suites, rs)
	}

	l := &results.Load{
		Model: "closed", Rate: e.Rate, VUs: e.VUs,
		DurationMS: ms(e.window), GraceMS: ms(e.Grace), ThinkTimeMS: ms(e.ThinkTime), MaxInFlight: e.MaxInFlight,
		Started: int(e.started.Load()), Late: int(e.late.Load()), Dropped: int(e.dropped.Load()),
		Turns: []results.TurnStats{},
	}
	if e.open {
		l.Model = "open"
		l.TargetRate = float64(e.countDue(0, e.window)) / e.window.Seconds()
	}
	for _, s := range e.Stages {
		l.Stages = append(l.Stages, results.Stage{DurationMS: ms(s.Duration), Target: s.Target})
	}
	window := e.window
	if interruptedAt > 0 {
		window = min(window, interruptedAt)
	}
	if window > 0 {
		l.AchievedRate = float64(l.Started) / window.Seconds()
	}
	if wall > 0 {
		l.Throughput = float64(r.overall.count) / wall.Seconds()
	}

	var errs []error
	for i, m := range r.turns {
		ts, err := Stats(i+1, m.count, m.errors, m.co, m.service)
		errs = append(errs, err)
		l.Turns = append(l.Turns, ts)
	}
	for _, x := range []struct {
		to *results.TurnStats
		m  *metric
	}{{&l.Overall, r.overall}, {&l.Conversation, r.conversation}, {&l.Session, r.session}} {
		var err error
		*x.to, err = Stats(0, x.m.count, x.m.errors, x.m.co, x.m.service)
		errs = append(errs, err)
	}
	var err error
	l.IntervalMS, l.Timeline, err = r.timeline.record(wall)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	run.Load = l

	s := &run.Summary
	s.Passed, s.Failed, s.Errored, s.Unfinished = r.passed, r.failed, r.errored, r.unfinished
	summarise(run)
	return run, nil
}

// summarise fills the summary's totals and rates from its verdict counts
// and run.Load.
func summarise(run *results.Run) {
	s, l := &run.Summary, run.Load
	s.Conversations = s.Passed + s.Failed + s.Errored + s.Flaky + s.Skipped + s.Unfinished
	s.Turns, s.TurnErrors = int(l.Overall.Count), int(l.Overall.Errors)
	s.LatencyMS = l.Overall.LatencyMS
	service := l.Overall.ServiceMS
	s.ServiceLatencyMS = &service
	dropped := l.Dropped
	s.Dropped = &dropped
	// The error rate is over every request that asks the service for
	// something: turns, and session creations where the provider makes one.
	// A service that cannot even open sessions must not read as error-free.
	var errorRate, passRate float64
	if requests := l.Overall.Count + l.Session.Count; requests > 0 {
		errorRate = float64(l.Overall.Errors+l.Session.Errors) / float64(requests)
	}
	if started := s.Passed + s.Failed + s.Errored + s.Unfinished; started > 0 {
		passRate = float64(s.Passed) / float64(started)
	}
	s.ErrorRate, s.PassRate = &errorRate, &passRate
}
