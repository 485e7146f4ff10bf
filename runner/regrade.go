package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evalrun/evalrun/assert"
	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// RegradeOptions says how to judge a record again; the zero value is usable.
type RegradeOptions struct {
	// RunID is the new record's id; "" mints one.
	RunID string
	// File is where the record was read from, for the new record to name.
	File string
	// Concurrency is how many conversations are judged at once, which
	// matters only for checks that ask an outside service. 0 means
	// DefaultConcurrency.
	Concurrency int
	// Redact hides secrets as the record's writer did, so that a message
	// that held one still matches the suite's; nil hides nothing.
	Redact func(string) string
	// Sim configures the simulator started for a judge: base_url "sim".
	Sim SimOptions
}

// RegradeError is Regrade's refusal: the record cannot be judged by these
// suites, because it is not a run record with the replies kept, or because
// its conversations are not the ones the suites play. It names the first
// difference, in the order of the suites.
type RegradeError struct {
	Suite, Name string // the conversation that differs; "" for the record as a whole
	Turn        int    // 1-based turn that differs; 0 when the difference is not a turn's
	Detail      string
}

func (e *RegradeError) Error() string {
	var where string
	if e.Name != "" {
		where = e.Suite + "/" + e.Name + ": "
	}
	if e.Turn > 0 {
		where += "turn " + strconv.Itoa(e.Turn) + ": "
	}
	return where + e.Detail
}

// Regrade judges the replies recorded in rec again with the checks of ss,
// without asking any bot, and returns the record of that judging. Every
// check runs as in a run, through assert.Run (so checks that ask a service
// ask it), templates are filled with the vars and the captures re-derived
// from the recorded replies in order, and the verdicts follow the run's
// rules. Latencies are the recorded ones, so max_latency judges what the run
// measured.
//
// The record must have been written by `evalrun run` of the same
// conversations: the same suite and conversation names (of the record's
// shard, when it has one), the same number of turns, and the same messages
// once the templates are filled. Otherwise the error is a *RegradeError that
// names the first difference, and nothing is judged.
//
// What a record does not hold is not invented: a conversation the run
// skipped stays skipped, one that errored or was cut short keeps that
// verdict (its recorded turns judged again), and of a repeated conversation
// only the one recorded run is judged, which the new record's notes say. A
// turn whose recorded body was cut short (results.MaxRecordedBody) cannot
// have its json checks or captures judged again and errors the conversation.
func Regrade(ctx context.Context, rec *results.Run, ss []*suites.Suite, opts RegradeOptions) (*results.Run, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if opts.Redact == nil {
		opts.Redact = func(s string) string { return s }
	}
	pairs, err := matchRecord(rec, ss, opts.Redact)
	if err != nil {
		return nil, err
	}

	run := &results.Run{
		Schema:        results.Schema,
		RunID:         opts.RunID,
		StartedAt:     rec.StartedAt,
		DurationMS:    rec.DurationMS,
		Interrupted:   rec.Interrupted,
		Suites:        []results.Suite{},
		Conversations: []*results.Conversation{},
		Shard:         rec.Shard,
		RegradedFrom:  &results.Regrade{RunID: rec.RunID, File: opts.File, At: time.Now().UTC()},
	}
	for _, s := range ss {
		run.Suites = append(run.Suites, results.Suite{Name: s.Name, File: s.File, Provider: s.Provider.Type})
	}

	// Judged checks ask the suites' judges again, as a run would: the
	// rubric may be what changed.
	env := &environment{sim: opts.Sim}
	defer env.close()
	judges := map[*suites.Suite]*judge.Client{}
	for _, s := range ss {
		jc, err := env.judge(s)
		if err != nil {
			return nil, fmt.Errorf("%s: judge: %w", s.File, err)
		}
		judges[s] = jc
	}

	convs := make([]*tally, len(pairs))
	var jobs []*job
	var replays []*replay
	for i, p := range pairs {
		t := newTally(p.suite, p.conv, 1)
		convs[i] = t
		run.Conversations = append(run.Conversations, t.result)
		if !t.skipped && p.rec.Status == results.Skipped {
			// The run judged nothing of it, so neither can a regrade.
			t.skipped = true
			t.result.Status, t.result.Reason = results.Skipped, p.rec.Reason
		}
		if t.skipped {
			continue
		}
		if p.rec.Runs > 1 {
			run.RegradedFrom.Notes = append(run.RegradedFrom.Notes, fmt.Sprintf(
				"%s/%s ran %d times; the record keeps one run (the first that did not pass, else the last), and only that run was judged again",
				p.suite.Name, p.conv.Name, p.rec.Runs))
		}
		r := &replay{rec: p.rec, conv: p.conv, redact: opts.Redact}
		// Think time paces a bot; there is none to pace.
		conv := *p.conv
		conv.ThinkTime = 0
		replays = append(replays, r)
		jobs = append(jobs, &job{suite: p.suite, conv: &conv, provider: r, tally: t, runID: opts.RunID, judge: judges[p.suite]})
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for i, j := range jobs {
		r := replays[i]
		g.Go(func() error {
			o := j.run(gctx)
			r.settle(o)
			if c := j.tally.add(o); c != nil && c.State != nil {
				// As recorded, so that a cut body stays marked cut.
				c.State = r.rec.State
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("regrade stopped: %w", context.Cause(ctx))
	}
	// The replays agree with the record whenever matchRecord did; a
	// difference found only here is still a difference, never a verdict.
	for _, r := range replays {
		if r.mismatch != nil {
			return nil, r.mismatch
		}
	}

	summarise(run, ss, convs)
	run.Summary.Judge = env.judgeSummary() // what asking the judges again cost
	for i := range run.Suites {
		run.Suites[i].DurationMS = 0
		for _, rs := range rec.Suites {
			if rs.Name == run.Suites[i].Name {
				run.Suites[i].DurationMS = rs.DurationMS
			}
		}
	}
	return run, nil
}

// pair is a conversation of the suites and its record.
type pair struct {
	suite *suites.Suite
	conv  *suites.Conversation
	rec   *results.Conversation
}

// matchRecord pairs every conversation of ss (of rec's shard) with its
// record, and checks that each record holds what the suites would have sent.
func matchRecord(rec *results.Run, ss []*suites.Suite, redact func(string) string) ([]pair, error) {
	if rec.Load != nil {
		return nil, &RegradeError{Detail: "it is a load record, which keeps only a sample of the conversations; regrade judges records of evalrun run"}
	}
	byKey := map[[2]string]*results.Conversation{}
	for _, c := range rec.Conversations {
		k := [2]string{c.Suite, c.Name}
		if byKey[k] != nil {
			return nil, &RegradeError{Suite: c.Suite, Name: c.Name, Detail: "the record holds this conversation twice"}
		}
		byKey[k] = c
		for _, t := range c.Turns {
			if t.Observed == nil && t.Error == "" {
				return nil, &RegradeError{Detail: fmt.Sprintf("the record keeps the reply text but not the rest of the replies "+
					"(%s/%s, turn %d, has no \"observed\"): it was written by an evalrun from before regrade; run the suites again to record them",
					c.Suite, c.Name, t.Index)}
			}
		}
	}
	var shard Shard
	if rec.Shard != nil {
		shard = Shard{Index: rec.Shard.Index, Count: rec.Shard.Count}
	}

	var pairs []pair
	matched := map[*results.Conversation]bool{}
	for _, s := range ss {
		for _, c := range s.Conversations {
			if !shard.Has(s.Name, c.Name) {
				continue
			}
			rc := byKey[[2]string{s.Name, c.Name}]
			if rc == nil {
				detail := fmt.Sprintf("in the suites (%s:%d) but not in the record", s.File, c.Pos.Line)
				if other := unmatchedOf(rec, s.Name, ss); other != "" {
					detail += fmt.Sprintf(", which has %q instead (renamed?)", other)
				}
				return nil, &RegradeError{Suite: s.Name, Name: c.Name, Detail: detail}
			}
			matched[rc] = true
			pairs = append(pairs, pair{suite: s, conv: c, rec: rc})
		}
	}
	for _, rc := range rec.Conversations {
		if !matched[rc] {
			return nil, &RegradeError{Suite: rc.Suite, Name: rc.Name, Detail: "in the record but in none of the suites given"}
		}
	}
	for _, p := range pairs {
		if p.conv.Skip != "" || p.rec.Status == results.Skipped {
			continue
		}
		if err := matchTurns(p, redact); err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

// unmatchedOf returns the first conversation of suite in rec that no suite
// of ss has, or "".
func unmatchedOf(rec *results.Run, suite string, ss []*suites.Suite) string {
	for _, rc := range rec.Conversations {
		if rc.Suite != suite {
			continue
		}
		known := false
		for _, s := range ss {
			for _, c := range s.Conversations {
				known = known || (s.Name == rc.Suite && c.Name == rc.Name)
			}
		}
		if !known {
			return rc.Name
		}
	}
	return ""
}

// completed reports whether the run played c to its end: a verdict on
// every turn and the final checks.
func completed(c *results.Conversation) bool {
	switch c.Status {
	case results.Passed, results.Failed, results.Flaky:
		return true
	}
	return false
}

// matchTurns checks that the record of p holds the turns its conversation
// sends, message by message, with the templates filled as the run filled
// them: captures are taken again from the recorded replies, so a message
// after a capture is compared with what that capture yields now.
func matchTurns(p pair, redact func(string) string) error {
	c, rc := p.conv, p.rec
	differs := func(turn int, format string, a ...any) error {
		return &RegradeError{Suite: p.suite.Name, Name: c.Name, Turn: turn, Detail: fmt.Sprintf(format, a...)}
	}
	if n, m := len(c.Turns), len(rc.Turns); m > n || (completed(rc) && m != n) {
		return differs(0, "the suite has %d turns, the record %d", n, m)
	}
	vars := varsOf(p.suite, c)
	for i, rt := range rc.Turns {
		turn := c.Turns[i]
		if err := sameMessage(turn, rt, vars, redact); err != "" {
			return differs(i+1, "%s", err)
		}
		if rt.Observed == nil || (rt.Observed.RawTruncated && readsBody(turn)) {
			// Nothing after this turn was sent, or it errors here.
			return nil
		}
		obs := assert.NewObservation(recordedReply(rt), 0)
		for _, capt := range turn.Capture {
			if v, err := assert.Capture(capt, obs); err == nil {
				vars[capt.Name] = v
			}
		}
	}
	if completed(rc) && c.Final != nil && rc.State == nil {
		return differs(0, "the suite has final checks, but the record has no final state: the run had none to read")
	}
	return nil
}

// sameMessage says how the message the suite sends at turn differs from
// the recorded one, or "".
func sameMessage(turn *suites.Turn, rt *results.Turn, vars map[string]string, redact func(string) string) string {
	text := redact(suites.Expand(turn.User, vars))
	if text != rt.User {
		return fmt.Sprintf("the suite sends %q, the record has %q", assert.Shorten(text, 100), assert.Shorten(rt.User, 100))
	}
	agent := turn.Sender == suites.SenderAgent
	if rt.Sender != "" && agent != rt.IsAgent() {
		return fmt.Sprintf("the suite's message is from the %s, the record's from the %s", senderName(agent), senderName(rt.IsAgent()))
	}
	return ""
}

func senderName(agent bool) string {
	if agent {
		return "agent"
	}
	return "user"
}

// readsBody reports whether a turn's checks or captures read the raw reply
// body.
func readsBody(turn *suites.Turn) bool {
	for _, c := range turn.Capture {
		if c.JSON != "" {
			return true
		}
	}
	if turn.Expect != nil {
		for _, s := range turn.Expect.Specs {
			if s.Key == "json" {
				return true
			}
		}
	}
	return false
}

// recordedReply is the reply a turn's record keeps.
func recordedReply(rt *results.Turn) *providers.Reply {
	ob := rt.Observed
	r := &providers.Reply{
		Text: rt.Reply, Silent: ob.Silent, MightSolve: ob.MightSolve, FullyCovered: ob.FullyCovered,
		Handoff: ob.Handoff, TransferBot: ob.TransferBot, Knowledge: ob.Knowledge, Mode: ob.Mode,
		Sparse: ob.Sparse, Status: ob.Status,
	}
	if ob.Raw != "" {
		r.Raw = []byte(ob.Raw)
	}
	for _, a := range ob.Actions {
		r.Actions = append(r.Actions, providers.Action{Name: a.Name, Args: a.Args})
	}
	return r
}

// replay plays a recorded conversation back in place of a provider: each
// Send answers with the recorded reply, once the message matches the
// recorded one, and State with the recorded state.
type replay struct {
	rec    *results.Conversation
	conv   *suites.Conversation
	redact func(string) string

	next    int           // the turn Send answers next
	latency time.Duration // of the turn Send answered last
	// ended is set when the play asked for more than the record holds of a
	// conversation the run did not complete: the record's verdict stands.
	ended    bool
	mismatch *RegradeError
}

var (
	_ providers.Provider     = (*replay)(nil)
	_ providers.Conversation = (*replay)(nil)
)

// errEnded stops a play where its record ends.
var errEnded = errors.New("the record ends here")

// recordedLatency is how a conversation tells job.run the latency to judge
// and record, in place of the time its Send took.
type recordedLatency interface{ recordedLatency() time.Duration }

func (r *replay) recordedLatency() time.Duration { return r.latency }

func (r *replay) end() error {
	if completed(r.rec) {
		r.mismatch = &RegradeError{Suite: r.rec.Suite, Name: r.rec.Name, Turn: r.next,
			Detail: "the suite asks for more than the record holds"}
	}
	r.ended = true
	return errEnded
}

func (r *replay) Open(context.Context, providers.Session) (providers.Conversation, error) {
	if len(r.rec.Turns) == 0 && !completed(r.rec) {
		return nil, r.end()
	}
	return r, nil
}

func (r *replay) ID() string { return r.rec.SessionID }

func (r *replay) Send(_ context.Context, m providers.Message) (*providers.Reply, error) {
	i := r.next
	r.next++
	if i >= len(r.rec.Turns) {
		r.latency = 0
		return nil, r.end()
	}
	rt := r.rec.Turns[i]
	r.latency = fromMS(rt.LatencyMS)
	if text := r.redact(m.Text); text != rt.User {
		r.mismatch = &RegradeError{Suite: r.rec.Suite, Name: r.rec.Name, Turn: i + 1,
			Detail: fmt.Sprintf("the suite sends %q, the record has %q", assert.Shorten(text, 100), assert.Shorten(rt.User, 100))}
		return nil, r.mismatch
	}
	ob := rt.Observed
	if ob == nil {
		// The service failed here, and the run stopped.
		r.ended = true
		return nil, errors.New(rt.Error)
	}
	if ob.RawTruncated && readsBody(r.conv.Turns[i]) {
		return nil, fmt.Errorf("cannot judge the json checks and captures again: the record keeps only %d of the reply body's %d bytes",
			len(ob.Raw), ob.RawBytes)
	}
	return recordedReply(rt), nil
}

func (r *replay) State(context.Context) (*providers.State, error) {
	st := r.rec.State
	if st == nil {
		return nil, r.end()
	}
	s := &providers.State{Status: st.Status, Sentiment: st.Sentiment, Closure: st.Closure, Handoff: st.Handoff, CustomData: st.CustomData}
	if st.Raw != "" {
		s.Raw = []byte(st.Raw)
	}
	return s, nil
}

// settle gives o what the record says of the play that the replay could not
// measure: its times, and where the record ended early, its verdict.
func (r *replay) settle(o *Outcome) {
	o.Duration = fromMS(r.rec.DurationMS)
	o.SessionID = r.rec.SessionID
	for i := range o.Turns {
		if i < len(r.rec.Turns) {
			// As recorded, so that a cut body stays marked cut.
			o.Turns[i].Record.Observed = r.rec.Turns[i].Observed
		}
	}
	if !r.ended {
		return
	}
	if len(o.Turns) > len(r.rec.Turns) {
		o.Turns = o.Turns[:len(r.rec.Turns)] // the turn the record does not have
	}
	for i := range o.Turns {
		if strings.HasPrefix(o.Turns[i].Record.Error, "stopped: ") {
			o.Turns[i].Stopped = true
		}
	}
	// The verdict is the recorded run's, and so is its cause: say so, for a
	// cause (a judge outage, say) this regrade may not have met.
	o.Status, o.Reason = r.rec.Status, r.rec.Reason
	if o.Reason != "" {
		o.Reason = "in the recorded run: " + o.Reason
	}
	o.Final = nil
}

// fromMS is a record's milliseconds as a duration, to the microsecond the
// record keeps.
func fromMS(ms float64) time.Duration {
	return time.Duration(math.Round(ms*1000)) * time.Microsecond
}
