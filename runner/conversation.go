package runner

import (
	"context"
	"github.com/evalrun/evalrun/internal/wait"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evalrun/evalrun/assert"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// RunIDKey is the session custom_data key that carries the run id, so test
// traffic can be found and filtered in the service's own tools.
const RunIDKey = "evalrun_run_id"

// run plays the conversation once: open a session, send every turn in order,
// judge each reply, then read and judge the final state.
func (j *job) run(ctx context.Context) *outcome {
	o := &outcome{began: time.Now(), turns: []*results.Turn{}}
	defer func() { o.duration = time.Since(o.began) }()
	c := j.conv

	vars := make(map[string]string, len(j.suite.Vars)+len(c.Vars))
	maps.Copy(vars, j.suite.Vars)
	maps.Copy(vars, c.Vars)

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
	o.openPaced = paced.Duration()
	o.open = time.Since(opening) - o.openPaced
	if err != nil {
		o.fail(ctx, err, "opening the session")
		return o
	}
	o.sessionID = conv.ID()

	failed := false
	for i, turn := range c.Turns {
		if i > 0 && c.ThinkTime > 0 && !wait.Sleep(ctx, c.ThinkTime) {
			o.fail(ctx, ctx.Err(), "before turn "+strconv.Itoa(i+1))
			return o
		}
		tr := &results.Turn{Index: i + 1, User: suites.Expand(turn.User, vars), Assertions: []results.Assertion{}}
		o.turns = append(o.turns, tr)

		// Time spent waiting for provider.rate_limit is evalrun's pacing,
		// not the bot's latency: it is measured and taken out.
		sendCtx, paced := providers.WithPaced(ctx)
		sent := time.Now()
		reply, err := conv.Send(sendCtx, providers.Message{
			Text:       tr.User,
			CustomData: expandMap(turn.CustomData, vars),
			Agent:      turn.Sender == suites.SenderAgent,
			TakeOver:   turn.TakeOver,
		})
		latency := time.Since(sent) - paced.Duration()
		o.paced = append(o.paced, paced.Duration())
		tr.LatencyMS = ms(latency)
		if err != nil {
			tr.Error = err.Error()
			o.fail(ctx, err, "turn "+strconv.Itoa(i+1))
			return o
		}
		o.latencies = append(o.latencies, latency)
		if o.sessionID == "" {
			o.sessionID = conv.ID()
		}
		redactReply(reply, j.redact)
		tr.Reply, tr.Silent = reply.Text, reply.Silent
		tr.Handoff = reply.Handoff != nil && *reply.Handoff

		obs := assert.NewObservation(reply, latency)
		if turn.Expect != nil {
			for _, chk := range checksOf(turn.Expect, vars) {
				a := chk.Check(obs)
				failed = failed || !a.Passed
				tr.Assertions = append(tr.Assertions, a)
			}
		}
		for _, capt := range turn.Capture {
			value, err := assert.Capture(capt, obs)
			if err != nil {
				failed = true
				tr.Assertions = append(tr.Assertions, results.Assertion{
					Check: "capture." + capt.Name, Message: err.Error(),
				})
				continue
			}
			vars[capt.Name] = value
		}
	}

	if c.Final != nil {
		state, err := conv.State(ctx)
		if err != nil {
			o.fail(ctx, err, "final")
			return o
		}
		o.final = assert.Final(c.Final.Expand(vars), state)
		for _, a := range o.final {
			failed = failed || !a.Passed
		}
	}
	o.status = results.Passed
	if failed {
		o.status = results.Failed
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

// redactReply hides the provider's secrets in a reply before anything
// judges, captures or records it: a service that echoes credentials back must
// not put them into reports, CI logs or later turns. Providers already scrub
// their errors; a successful reply is the runner's to scrub.
func redactReply(r *providers.Reply, redact *providers.Redactor) {
	r.Text = redact.String(r.Text)
	r.Raw = redact.Bytes(r.Raw)
}

// suiteRedactor removes the token and every value the suite's provider
// section read from the environment.
func suiteRedactor(s *suites.Suite) *providers.Redactor {
	secrets := []string{s.Provider.Token.Value()}
	for _, e := range s.Provider.EnvSecrets {
		secrets = append(secrets, e.Value())
	}
	return providers.NewRedactor(secrets...)
}

// fail ends the run at where: unfinished when the run was being stopped
// (the error is then only the stop itself), errored otherwise.
func (o *outcome) fail(ctx context.Context, err error, where string) {
	if ctx.Err() != nil {
		o.status, o.reason = results.Unfinished, "stopped "+stoppedWhere(where)+": "+context.Cause(ctx).Error()
		return
	}
	o.status, o.reason = results.Errored, where+": "+err.Error()
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

func expandMap(m map[string]any, vars map[string]string) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out, _ := suites.ExpandValue(m, vars).(map[string]any)
	return out
}
