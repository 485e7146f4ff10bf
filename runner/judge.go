package runner

import (
	"context"
	"sync"
	"time"

	"github.com/evalrun/evalrun/assert"
	"github.com/evalrun/evalrun/checks"
	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/sim"
	"github.com/evalrun/evalrun/suites"
)

// judgeKey tells apart the judge: sections that need a client of their own.
// Suites whose sections agree share one client, and so its cache and its
// counts; clients of one service and token share a limiter whatever their
// rate_limit (the stricter holds), as providers do.
type judgeKey struct {
	baseURL, model, embeddingModel, token string
	timeout                               time.Duration
	retries                               int
	rate                                  suites.Rate
}

// judge returns the client for the suite's judge: section, building it the
// first time a section like it is seen; nil when the suite has none. The
// section's base_url is the judge's own: Options.BaseURL (--base-url) points
// the bot elsewhere and leaves the judge where the suite put it.
func (e *environment) judge(s *suites.Suite) (*judge.Client, error) {
	jc := s.Judge
	if jc == nil {
		return nil, nil
	}
	base := jc.BaseURL
	if spec, ok := suites.SimSpec(base); ok {
		url, err := e.simURL(spec)
		if err != nil {
			return nil, err
		}
		base = url + sim.OpenAIPath
	}
	key := judgeKey{base, jc.Model, jc.EmbeddingModel, jc.Token.Value(), jc.Timeout, jc.Retries, jc.RateLimit}
	if c, ok := e.judges[key]; ok {
		return c, nil
	}
	c := judge.New(judge.Config{
		BaseURL:        base,
		Model:          jc.Model,
		EmbeddingModel: jc.EmbeddingModel,
		Token:          key.token,
		TokenVars:      jc.Token.Vars,
		Secrets:        envSecretValues(jc.EnvSecrets),
		Timeout:        jc.Timeout,
		Retries:        jc.Retries,
		Limiter:        e.limiter(limiterKey{"judge", base, key.token}, jc.RateLimit),
	})
	if e.judges == nil {
		e.judges = map[judgeKey]*judge.Client{}
	}
	e.judges[key] = c
	e.judgeOrder = append(e.judgeOrder, c)
	return c, nil
}

// judgeSummary adds up what every judge client of the run spent; nil when
// no check asked one.
func (e *environment) judgeSummary() *results.JudgeSummary {
	if len(e.judgeOrder) == 0 {
		return nil
	}
	var sum results.JudgeSummary
	for _, c := range e.judgeOrder {
		st := c.Stats()
		sum = sum.Add(results.JudgeSummary{
			Calls:            st.JudgeCalls + st.EmbedCalls,
			Cached:           st.Cached,
			Failed:           st.Failed,
			PromptTokens:     st.Usage.PromptTokens,
			CompletionTokens: st.Usage.CompletionTokens,
			TotalTokens:      st.Usage.TotalTokens,
			DurationMS:       ms(st.Time),
		})
	}
	if sum.Calls == 0 && sum.Cached == 0 {
		return nil // a judge: section that no check asked
	}
	return &sum
}

// judgeMeter is the checks.Judge one play of a conversation hands its
// checks: the run's client, counting what this play's checks spent. A play
// runs its checks one at a time, but the mutex keeps that from being a
// requirement.
type judgeMeter struct {
	c  *judge.Client
	mu sync.Mutex
	u  results.JudgeUse
}

var _ checks.Judge = (*judgeMeter)(nil)

func (m *judgeMeter) Judge(ctx context.Context, req judge.Request) (judge.Verdict, error) {
	start := time.Now()
	v, err := m.c.Judge(ctx, req)
	m.add(v.Usage.TotalTokens, time.Since(start))
	return v, err
}

func (m *judgeMeter) Similar(ctx context.Context, reply, expected string) (judge.Similarity, error) {
	start := time.Now()
	s, err := m.c.Similar(ctx, reply, expected)
	m.add(s.Usage.TotalTokens, time.Since(start))
	return s, err
}

func (m *judgeMeter) add(tokens int, d time.Duration) {
	m.mu.Lock()
	m.u.Checks++
	m.u.Tokens += tokens
	m.u.DurationMS += ms(d)
	m.mu.Unlock()
}

// use returns what the play's checks have spent so far.
func (m *judgeMeter) use() results.JudgeUse {
	if m == nil {
		return results.JudgeUse{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.u
}

// services returns the services one play's checks get, and the meter that
// counts their judge's use (nil without a judge).
func (j *job) servicesFor() (checks.Services, *judgeMeter) {
	if j.judge == nil {
		return checks.Services{}, nil
	}
	m := &judgeMeter{c: j.judge}
	return checks.Services{Judge: m}, m
}

// judged reports whether c asks a service for its verdict; a play that
// leaves judged checks out (a load test without --judge) skips it.
func judged(c assert.Check) bool {
	_, ok := c.(checks.ServiceCheck)
	return ok
}

// sentMessage is one message of a turn as a judge reads it.
func sentMessage(sender, text string) judge.Message {
	role := judge.RoleUser
	if sender == results.SenderAgent {
		role = judge.RoleAgent
	}
	return judge.Message{Role: role, Text: text}
}

// botMessage is the bot's reply as a judge reads it: "" when it said nothing.
func botMessage(r *providers.Reply) judge.Message {
	if assert.Silent(r) {
		return judge.Message{Role: judge.RoleBot}
	}
	return judge.Message{Role: judge.RoleBot, Text: r.Text}
}

// finalChecks judges the final mapping f: the state keys against st, the
// final judge against the whole transcript. skipJudged leaves the judged
// keys out. An error is a service that gave no verdict, with the key it
// was asked for.
func finalChecks(ctx context.Context, f *suites.Final, st *providers.State, transcript []judge.Message, svc checks.Services, skipJudged bool) ([]results.Assertion, string, error) {
	if st == nil {
		st = &providers.State{}
	}
	in := suites.FinalInput{Transcript: transcript, State: st}
	out := make([]results.Assertion, 0, len(f.Specs))
	for _, spec := range f.Specs {
		if skipJudged && spec.Entry() != nil && spec.Entry().Service {
			continue
		}
		a, err := spec.CheckFinalContext(ctx, in, svc)
		if err != nil {
			return out, "final." + spec.Key, err
		}
		out = append(out, a)
	}
	return out, "", nil
}

// judgeUse adds up what the judged checks of a conversation's runs spent;
// nil when none asked the judge.
func judgeUse(outs []*Outcome) *results.JudgeUse {
	var u results.JudgeUse
	for _, o := range outs {
		u.Checks += o.Judge.Checks
		u.Tokens += o.Judge.Tokens
		u.DurationMS += o.Judge.DurationMS
	}
	if u.Checks == 0 {
		return nil
	}
	return &u
}
