package runner

import (
	"context"
	"time"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// Player plays single conversations for callers that schedule them
// themselves, as load tests do. It builds each suite's provider once, starts
// the simulators the suites ask for, and shares pacing like Run. It is safe
// for concurrent use; Close releases what it started.
type Player struct {
	env          *environment
	providers    map[*suites.Suite]providers.Provider
	judges       map[*suites.Suite]*judge.Client
	skipJudged   bool
	skipObserved bool
	runID        string
}

// NewPlayer prepares the providers of ss, and their judges unless
// opts.SkipJudged. Of opts it uses BaseURL, RunID, Sim, FastHTTP, SkipJudged
// and SkipObserved.
func NewPlayer(ss []*suites.Suite, opts Options) (*Player, error) {
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	p := &Player{env: &environment{sim: opts.Sim, fastHTTP: opts.FastHTTP}, providers: map[*suites.Suite]providers.Provider{},
		judges: map[*suites.Suite]*judge.Client{}, skipJudged: opts.SkipJudged, skipObserved: opts.SkipObserved, runID: opts.RunID}
	for _, s := range ss {
		prov, err := p.env.provider(s, opts.BaseURL)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.providers[s] = prov
		if opts.SkipJudged {
			continue
		}
		jc, err := p.env.judge(s)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.judges[s] = jc
	}
	return p, nil
}

// JudgeSummary returns what the judged checks of every play so far cost;
// nil when no suite has a judge or they are skipped.
func (p *Player) JudgeSummary() *results.JudgeSummary { return p.env.judgeSummary() }

// RunID returns the id every session of this player carries.
func (p *Player) RunID() string { return p.runID }

// Close stops the simulators the player started.
func (p *Player) Close() { p.env.close() }

// Outcome is what one play of a conversation measured and judged: the one
// record of a run of a conversation, which Run folds into its verdicts and
// Player hands to load tests. A play that passed carries the same records as
// one that did not, because building them is part of judging it: explaining
// a failure costs nothing more than the judging did.
type Outcome struct {
	Status    results.Status // passed, failed, errored or unfinished
	Reason    string         // why it errored or stopped, located ("turn 2: …")
	SessionID string         // the service's id of the conversation, when it gave one
	Session   time.Duration  // opening the session (0 for providers that send nothing to open)
	// SessionPaced is how long opening the session waited for
	// provider.rate_limit before its requests; Session leaves it out.
	SessionPaced time.Duration
	// Turns holds one entry per turn that was sent, in order. When the
	// play was stopped during a turn, that turn is the last and Stopped.
	Turns []TurnOutcome
	// Final holds the assertions of the final checks, when the play got
	// that far and the conversation has any.
	Final    []results.Assertion
	Duration time.Duration // the whole conversation, session and final state included
	// Judge is what the play's judged checks spent; Duration includes
	// their time, the turns' Latency never does.
	Judge results.JudgeUse

	began time.Time
	// state is what the final checks judged; Transcript and RecordedState
	// turn it and the replies into record fields only when a record is
	// made. Both are nil under Options.SkipObserved, so that a load test's
	// plays do not hold them while in flight.
	state *providers.State
}

// TurnOutcome is one turn's measurement and its record.
type TurnOutcome struct {
	Latency time.Duration // from sending the message to having the reply
	Paced   time.Duration // waited for provider.rate_limit before its requests; Latency leaves it out
	// Errored says the turn got no reply; Latency is then how long the
	// attempt took. Either the service failed, or (Stopped) the play was
	// stopped during the turn.
	Errored bool
	// Stopped marks a turn cut short by the stop: neither a measurement
	// of the service nor a service error, so summaries count it as neither.
	Stopped bool
	Failed  bool // a check or capture of this turn did not hold
	// CheckErrored says the bot answered but a service a check asked (the
	// judge) could not give a verdict: the conversation is errored, and
	// Latency still measures the bot, which did not fail.
	CheckErrored bool
	// Record is the turn as a transcript shows it: what was sent, what came
	// back and every assertion on it.
	Record results.Turn

	reply *providers.Reply // as it came, for Record.Observed; nil under Options.SkipObserved
}

// Transcript returns the records of the turns sent, for a
// results.Conversation, each with what the service returned besides the text
// (Turn.Observed), which it fills in the first time. They point into o,
// which must not change after.
func (o *Outcome) Transcript() []*results.Turn {
	out := make([]*results.Turn, len(o.Turns))
	for i := range o.Turns {
		t := &o.Turns[i]
		if t.reply != nil && t.Record.Observed == nil {
			t.Record.Observed = observed(t.reply)
		}
		out[i] = &t.Record
	}
	return out
}

// RecordedState returns the final state the play read, as a record keeps
// it; nil when it read none.
func (o *Outcome) RecordedState() *results.State {
	s := o.state
	if s == nil {
		return nil
	}
	return &results.State{
		Status: s.Status, Sentiment: s.Sentiment, Closure: s.Closure, Handoff: s.Handoff,
		CustomData: s.CustomData, Body: results.KeepBody(s.Raw),
	}
}

func observed(r *providers.Reply) *results.Observed {
	ob := &results.Observed{
		Silent: r.Silent, MightSolve: r.MightSolve, FullyCovered: r.FullyCovered, Handoff: r.Handoff,
		TransferBot: r.TransferBot, Knowledge: r.Knowledge, Mode: r.Mode, Sparse: r.Sparse,
		Status: r.Status, Body: results.KeepBody(r.Raw),
	}
	if len(r.Actions) > 0 {
		ob.Actions = make([]results.Action, len(r.Actions))
		for i, a := range r.Actions {
			ob.Actions[i] = results.Action{Name: a.Name, Args: a.Args}
		}
	}
	return ob
}

// Failures says what went wrong in the play, one located line each, in the
// order it happened: the checks of the turns that did not hold ("turn 2:
// contains: expected …"), the error or stop that ended the play ("turn 3:
// opencx: send: …", "stopped during turn 2: interrupt"), then the final
// checks ("final.status: expected …"). It is empty for a play that passed.
func (o *Outcome) Failures() []string {
	var out []string
	for i := range o.Turns {
		t := &o.Turns[i].Record
		for _, a := range t.Assertions {
			if !a.Passed {
				out = append(out, results.Failure{Turn: t.Index, Check: a.Check, Message: a.Message}.String())
			}
		}
	}
	if o.Reason != "" {
		out = append(out, o.Reason)
	}
	for _, a := range o.Final {
		if !a.Passed {
			out = append(out, results.Failure{Check: a.Check, Message: a.Message}.String())
		}
	}
	return out
}

// Play runs conversation c of suite s (which must be one NewPlayer was given) once.
func (p *Player) Play(ctx context.Context, s *suites.Suite, c *suites.Conversation) Outcome {
	j := &job{suite: s, conv: c, provider: p.providers[s], runID: p.runID, judge: p.judges[s],
		skipJudged: p.skipJudged, skipObserved: p.skipObserved}
	return *j.run(ctx)
}
