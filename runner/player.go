package runner

import (
	"context"
	"time"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// Player plays single conversations for callers that schedule them
// themselves, as load tests do. It builds each suite's provider once, starts
// the simulators the suites ask for, and shares pacing like Run. It is safe
// for concurrent use; Close releases what it started.
type Player struct {
	env       *environment
	providers map[*suites.Suite]providers.Provider
	redactors map[*suites.Suite]*providers.Redactor
	runID     string
}

// NewPlayer prepares the providers of ss. Of opts it uses BaseURL, RunID, Sim
// and FastHTTP.
func NewPlayer(ss []*suites.Suite, opts Options) (*Player, error) {
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	p := &Player{env: &environment{sim: opts.Sim, fastHTTP: opts.FastHTTP}, providers: map[*suites.Suite]providers.Provider{},
		redactors: map[*suites.Suite]*providers.Redactor{}, runID: opts.RunID}
	for _, s := range ss {
		prov, err := p.env.provider(s, opts.BaseURL)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.providers[s] = prov
		p.redactors[s] = suiteRedactor(s)
	}
	return p, nil
}

// RunID returns the id every session of this player carries.
func (p *Player) RunID() string { return p.runID }

// Close stops the simulators the player started.
func (p *Player) Close() { p.env.close() }

// Outcome is what one play of a conversation measured.
type Outcome struct {
	Status  results.Status // passed, failed, errored or unfinished
	Reason  string         // why it errored or stopped
	Session time.Duration  // opening the session (0 for providers that send nothing to open)
	// SessionPaced is how long opening the session waited for
	// provider.rate_limit before its requests; Session leaves it out.
	SessionPaced time.Duration
	// Turns holds one entry per turn that was sent, in order.
	Turns    []TurnOutcome
	Duration time.Duration // the whole conversation, session and final state included
}

// TurnOutcome is one turn's measurement.
type TurnOutcome struct {
	Latency time.Duration // from sending the message to having the reply
	Paced   time.Duration // waited for provider.rate_limit before its requests; Latency leaves it out
	Errored bool          // the service failed; Latency is then how long the attempt took
	Failed  bool          // a check of this turn did not hold
}

// Play runs conversation c of suite s (which must be one NewPlayer was given) once.
func (p *Player) Play(ctx context.Context, s *suites.Suite, c *suites.Conversation) Outcome {
	j := &job{suite: s, conv: c, provider: p.providers[s], runID: p.runID, redact: p.redactors[s]}
	o := j.run(ctx)
	out := Outcome{Status: o.status, Reason: o.reason, Session: o.open, SessionPaced: o.openPaced, Duration: o.duration, Turns: make([]TurnOutcome, len(o.turns))}
	for i, t := range o.turns {
		to := TurnOutcome{Latency: time.Duration(t.LatencyMS * float64(time.Millisecond)), Paced: o.paced[i], Errored: t.Error != ""}
		for _, a := range t.Assertions {
			if !a.Passed {
				to.Failed = true
				break
			}
		}
		out.Turns[i] = to
	}
	return out
}
