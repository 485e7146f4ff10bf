package runner

import (
	"context"
	"fmt"
	"github.com/evalrun/evalrun/internal/wait"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evalrun/evalrun/assert"
	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// RunIDKey is the session custom_data key that carries the run id, so test
// traffic can be found and filtered in the service's own tools.
const RunIDKey = "evalrun_run_id"

// run plays the conversation once: open a session, send every turn in order,
// judge each reply, then read and judge the final state.
func (j *job) run(ctx context.Context) *Outcome {
	c := j.conv
	// Turns has room for every turn, so the records never move and a turn
	// is one allocation-free append.
	o := &Outcome{began: time.Now(), Turns: make([]TurnOutcome, 0, len(c.Turns))}
	defer func() { o.Duration = time.Since(o.began) }()

	vars := varsOf(j.suite, c)

	session := providers.Session{
		Contact:    expandMap(c.Session.Contact, vars),
		CustomData: expandMap(c.Session.CustomData, vars),
	}
	if j.suite.Provider.Type == suites.OpenCX {
		if session.CustomData == nil {
			session.CustomData = map[string]any{}
		}
		session.CustomData[RunIDKey] = j.runID
	}
	openCtx, paced := providers.WithPaced(ctx)
	opening := time.Now()
	conv, err := j.provider.Open(openCtx, session)
	o.SessionPaced = paced.Duration()
	o.Session = time.Since(opening) - o.SessionPaced
	if err != nil {
		o.fail(ctx, err, "opening the session")
		return o
	}
	o.SessionID = conv.ID()

	svc, meter := j.servicesFor()
	defer func() { o.Judge = meter.use() }()
	// What the judge reads: every message sent and every reply, in order.
	// Kept only when a judge can be asked: a suite without a judge: section
	// has no judged checks, and load without --judge skips them, so the
	// per-turn cost stays off the load path.
	var history []judge.Message
	keepHistory := j.judge != nil && !j.skipJudged

	failed := false
	for i, turn := range c.Turns {
		if i > 0 && c.ThinkTime > 0 && !wait.Sleep(ctx, c.ThinkTime) {
			o.fail(ctx, ctx.Err(), "before turn "+strconv.Itoa(i+1))
			return o
		}
		text := suites.Expand(turn.User, vars)
		sender := results.SenderUser
		if turn.Sender == suites.SenderAgent {
			sender = results.SenderAgent
		}

		// Time spent waiting for provider.rate_limit is evalrun's pacing,
		// not the bot's latency: it is measured and taken out.
		sendCtx, paced := providers.WithPaced(ctx)
		sent := time.Now()
		reply, err := conv.Send(sendCtx, providers.Message{
			Text:       text,
			CustomData: expandMap(turn.CustomData, vars),
			Agent:      sender == results.SenderAgent,
			TakeOver:   turn.TakeOver,
		})
		wait := paced.Duration()
		latency := time.Since(sent) - wait
		if r, ok := conv.(recordedLatency); ok {
			latency = r.recordedLatency() // a regrade: the run measured it
		}
		o.Turns = append(o.Turns, TurnOutcome{
			Latency: latency,
			Paced:   wait,
			Record: results.Turn{
				Index: i + 1, Sender: sender, User: text, LatencyMS: ms(latency),
				Assertions: []results.Assertion{},
			},
		})
		to := &o.Turns[len(o.Turns)-1]
		tr := &to.Record
		if err != nil {
			to.Errored = true
			tr.Error = err.Error()
			if to.Stopped = o.fail(ctx, err, "turn "+strconv.Itoa(i+1)); to.Stopped {
				// Not the service's failure: say what cut it short.
				tr.Error = "stopped: " + context.Cause(ctx).Error()
			}
			return o
		}
		if o.SessionID == "" {
			o.SessionID = conv.ID()
		}
		// The reply is judged, captured from and recorded as it came:
		// secrets are hidden where output is written, never here, so a
		// token that is also a word of the replies changes no verdict.
		// Kept for the record's Observed unless no record reads it: under
		// load, every reply kept until the play ends is a raw body and
		// its decoded fields held per conversation in flight.
		if !j.skipObserved {
			to.reply = reply
		}
		tr.Reply, tr.Silent = reply.Text, assert.Silent(reply)
		tr.Handoff = reply.Handoff != nil && *reply.Handoff

		obs := assert.NewObservation(reply, latency)
		if keepHistory {
			history = append(history, sentMessage(sender, text))
			obs.Conversation = history[:len(history):len(history)]
			history = append(history, botMessage(reply))
		}
		var checks []assert.Check
		if turn.Expect != nil {
			checks = checksOf(turn.Expect, vars)
		}
		if n := len(checks) + len(turn.Capture); n > 0 {
			tr.Assertions = make([]results.Assertion, 0, n)
		}
		for _, chk := range checks {
			service := judged(chk)
			if service && j.skipJudged {
				continue
			}
			asked := time.Now()
			a, err := assert.Run(ctx, chk, obs, svc)
			if service {
				tr.JudgeMS += ms(time.Since(asked))
			}
			if err != nil {
				// The service a check asked could not give a verdict:
				// that says nothing about the bot, whose reply came and
				// is measured like any other.
				to.CheckErrored = true
				tr.Error = chk.Name() + ": " + err.Error()
				if to.Stopped = o.fail(ctx, err, "turn "+strconv.Itoa(i+1)+": check "+chk.Name()); to.Stopped {
					to.Errored, to.CheckErrored = true, false
					tr.Error = "stopped: " + context.Cause(ctx).Error()
				}
				return o
			}
			to.Failed = to.Failed || !a.Passed
			tr.Assertions = append(tr.Assertions, a)
		}
		for _, capt := range turn.Capture {
			value, err := assert.Capture(capt, obs)
			if err != nil {
				to.Failed = true
				tr.Assertions = append(tr.Assertions, results.Assertion{
					Check: "capture." + capt.Name, Message: err.Error(),
				})
				continue
			}
			vars[capt.Name] = value
		}
		failed = failed || to.Failed
	}

	if c.Final != nil {
		state, err := conv.State(ctx)
		if err != nil {
			o.fail(ctx, err, "final")
			return o
		}
		if !j.skipObserved {
			o.state = state
		}
		var key string
		o.Final, key, err = finalChecks(ctx, c.Final.Expand(vars), state, history, svc, j.skipJudged)
		if err != nil {
			// As for a turn's check: the judge failed, not the bot.
			o.fail(ctx, fmt.Errorf("%s: %w", key, err), "final")
			return o
		}
		for _, a := range o.Final {
			failed = failed || !a.Passed
		}
	}
	o.Status = results.Passed
	if failed {
		o.Status = results.Failed
	}
	return o
}

// compiled holds the checks of every expect without templates, built once:
// checks compile their regexes and JSONPaths, which would otherwise cost a
// load test more than the rest of a turn. Checks are safe for concurrent use.
var compiled sync.Map // *suites.Expect → []assert.Check

// checksOf returns the checks of e with vars filled in. An expect without
// templates expands to itself, so its checks are the same on every play.
func checksOf(e *suites.Expect, vars map[string]string) []assert.Check {
	x := e.Expand(vars)
	if x != e {
		return assert.Turn(x)
	}
	if c, ok := compiled.Load(e); ok {
		return c.([]assert.Check)
	}
	c, _ := compiled.LoadOrStore(e, assert.Turn(e))
	return c.([]assert.Check)
}

// fail ends the run at where: unfinished when the run was being stopped
// (the error is then only the stop itself), errored otherwise. It reports
// whether the run was stopped.
func (o *Outcome) fail(ctx context.Context, err error, where string) (stopped bool) {
	if ctx.Err() != nil {
		o.Status, o.Reason = results.Unfinished, "stopped "+stoppedWhere(where)+": "+context.Cause(ctx).Error()
		return true
	}
	o.Status, o.Reason = results.Errored, where+": "+err.Error()
	return false
}

func stoppedWhere(where string) string {
	switch {
	case strings.HasPrefix(where, "turn "):
		return "during " + where
	case where == "final":
		return "while reading the final state"
	case strings.HasPrefix(where, "before "):
		return where
	}
	return "while " + where
}

// varsOf returns the vars a play of c starts with, which its captures add
// to; a regrade fills the messages from the same.
func varsOf(s *suites.Suite, c *suites.Conversation) map[string]string {
	vars := make(map[string]string, len(s.Vars)+len(c.Vars))
	maps.Copy(vars, s.Vars)
	maps.Copy(vars, c.Vars)
	return vars
}

func expandMap(m map[string]any, vars map[string]string) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out, _ := suites.ExpandValue(m, vars).(map[string]any)
	return out
}
