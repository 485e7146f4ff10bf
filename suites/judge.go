package suites

import (
	"context"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/evalrun/evalrun/checks"
	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/sim"
)

// Judge is a suite's judge: section: the OpenAI-compatible service that the
// judge and similar checks ask. It is the judge's own; --base-url, which
// points the bot's provider at another environment, leaves it alone, because
// the judge is not part of the environment under test.
type Judge struct {
	// BaseURL is the API root chat/completions and embeddings hang from,
	// without a trailing /; SimURL, or "sim?SPEC", is the built-in
	// simulator's /v1.
	BaseURL        string
	Model          string // chat model for judge checks
	EmbeddingModel string // for similar checks
	Token          Secret
	Timeout        time.Duration
	Retries        int
	// RateLimit paces the judge's requests across the run; the zero Rate
	// (the default) means no pacing.
	RateLimit Rate
	// EnvSecrets holds every value the section read from the environment,
	// the token included; none may appear in any output.
	EnvSecrets []Secret
	Pos        Pos

	unread bool // the section could not be read: its checks are not checked against it
}

var judgeKeys = []string{"base_url", "model", "embedding_model", "token", "timeout", "retries", "rate_limit"}

// What each judged check needs of the judge: section, by key.
var judgeNeeds = map[string]string{"judge": "model", "similar": "embedding_model"}

func (l *loader) judgeSection(n *yaml.Node) *Judge {
	j := &Judge{Pos: l.pos(n), Timeout: defaultTimeout, Retries: defaultRetries}
	l.inProvider, l.envSecrets = true, nil
	defer func() { j.EnvSecrets, l.inProvider = l.envSecrets, false }()
	fields, ok := l.mapping(n, "judge", "judge", judgeKeys)
	if !ok {
		j.unread = true
		return j
	}
	f := index(fields)
	for _, fl := range fields {
		if r := l.resolve(fl.val); r.Kind == yaml.ScalarNode && looksLikeTemplate.MatchString(r.Value) {
			l.errorf(fl.val, "judge.%s: templates are not expanded in judge; use ${VAR} to read a value from the environment", fl.name)
		}
		l.refuseBareRefs(fl)
	}
	if v, ok := f["base_url"]; ok {
		if u, ok := l.str(v.val, "judge.base_url"); ok {
			switch {
			case isSim(u):
				if err := CheckBaseURL(u); err != nil {
					l.errorf(v.val, "judge.base_url: %v", err)
				}
				j.BaseURL = u
			case CheckBaseURL(u) == nil:
				j.BaseURL = strings.TrimRight(u, "/")
			default:
				l.errorf(v.val, `judge.base_url: want "sim" or the root of an OpenAI-compatible API such as https://api.openai.com/v1, got %s`, shown(v.val))
			}
		}
		if j.BaseURL == "" {
			j.unread = true
		}
	} else {
		l.errorf(n, `judge: add base_url: the root of an OpenAI-compatible API, such as https://api.openai.com/v1, or "sim" for the built-in simulator`)
		j.unread = true
	}
	for key, dst := range map[string]*string{"model": &j.Model, "embedding_model": &j.EmbeddingModel} {
		v, ok := f[key]
		if !ok {
			continue
		}
		if s, ok := l.str(v.val, "judge."+key); ok {
			if strings.TrimSpace(s) == "" {
				l.errorf(v.val, "judge.%s: must not be empty; leave it out if no check needs it", key)
			} else {
				*dst = s
			}
		}
	}
	if v, ok := f["token"]; ok {
		// The simulator reads no token unless its spec asks for one.
		if spec, isSim := SimSpec(j.BaseURL); isSim {
			if o, err := sim.ParseSpec(spec); err == nil && o.Token == "" {
				l.unneeded = "the built-in simulator does not need it"
			}
		}
		if l.opts.JudgeOff {
			l.unneeded = "judged checks are off (evalrun load without --judge)"
		}
		if tok, vars, ok := l.strVars(v.val, "judge.token"); ok {
			j.Token = NewSecret(tok, vars...)
		}
		l.unneeded = ""
	}
	if v, ok := f["timeout"]; ok {
		j.Timeout, _ = l.duration(v.val, "judge.timeout", true, MaxWait)
	}
	if v, ok := f["retries"]; ok {
		j.Retries, _ = l.integer(v.val, "judge.retries", 0, MaxRetries)
	}
	if v, ok := f["rate_limit"]; ok {
		j.RateLimit, _ = l.rateLimit(v.val)
	}
	return j
}

// checkJudged reports every judged check of s that its judge: section cannot
// answer: there is no section, or it lacks the model the check needs.
func (l *loader) checkJudged(s *Suite) {
	if s.Judge != nil && s.Judge.unread {
		return // its own errors say what is wrong
	}
	check := func(spec Spec) {
		e := spec.Entry()
		if e == nil || !e.Service {
			return
		}
		need := judgeNeeds[e.Name]
		at := &yaml.Node{Line: spec.Pos.Line, Column: spec.Pos.Col}
		switch {
		case s.Judge == nil:
			l.errorf(at, "%s: this check asks an LLM judge, and the suite has no judge: section; add judge: {base_url: ..., %s: ...} (base_url: sim for the built-in simulator)", e.Name, need)
		case need == "model" && s.Judge.Model == "", need == "embedding_model" && s.Judge.EmbeddingModel == "":
			l.errorf(at, "%s: this check needs judge.%s, which the judge: section at line %d does not set", e.Name, need, s.Judge.Pos.Line)
		}
	}
	for _, c := range s.Conversations {
		for _, t := range c.Turns {
			if t.Expect != nil {
				for _, spec := range t.Expect.Specs {
					check(spec)
				}
			}
		}
		if c.Final != nil {
			for _, spec := range c.Final.Specs {
				check(spec)
			}
		}
	}
}

// service marks an entry whose checks ask an outside service.
func service(e *Entry) *Entry {
	e.Service = true
	return e
}

// FinalInput is what a final key that asks a service judges: the
// conversation as the judge reads it, and the state after the last turn.
type FinalInput struct {
	Transcript []judge.Message
	State      *providers.State
}

// finalJudgeEntry is final: {judge: …}, the judge of the whole transcript.
var finalJudgeEntry = func() *Entry {
	e := finalEntry("judge", everyProvider, decodeJudge, expandJudge, func(w checks.JudgeWant, _ *providers.State) results.Assertion {
		return checks.FinalNeedsJudge(w)
	})
	e.Service = true
	e.finalService = func(ctx context.Context, v any, in FinalInput, svc checks.Services) (results.Assertion, error) {
		w, ok := v.(checks.JudgeWant)
		if !ok {
			return checks.InvalidFinal("judge", wrongType[checks.JudgeWant](v)), nil
		}
		return checks.FinalJudge(ctx, w, in.Transcript, svc)
	}
	return e
}()

// CheckFinalContext judges a final spec as CheckFinal does, and a spec whose
// key asks a service (final judge) with svc; an error is that service
// failing, which makes the conversation errored.
func (s Spec) CheckFinalContext(ctx context.Context, in FinalInput, svc checks.Services) (results.Assertion, error) {
	if s.entry != nil && s.entry.finalService != nil {
		return s.entry.finalService(ctx, s.Value, in, svc)
	}
	return s.CheckFinal(in.State), nil
}

// decodeJudge reads a rubric, or {rubric, min_score}.
func decodeJudge(l *loader, n *yaml.Node, label string) (checks.JudgeWant, bool) {
	var w checks.JudgeWant
	r := l.resolve(n)
	if r.Kind != yaml.MappingNode {
		if r.Kind != yaml.ScalarNode {
			l.errorf(n, "%s: want a rubric, or {rubric, min_score}, got %s", label, kindName(r))
			return w, false
		}
		return l.rubric(n, label)
	}
	fields, ok := l.mapping(n, label, label, []string{"rubric", "min_score"})
	if !ok {
		return w, false
	}
	f := index(fields)
	v, has := f["rubric"]
	if !has {
		l.errorf(n, "%s: add rubric: what the reply must do, such as \"apologises and promises a refund\"", label)
		return w, false
	}
	w, good := l.rubric(v.val, label+".rubric")
	if v, ok := f["min_score"]; ok {
		m, ok := l.rate(v.val, label+".min_score")
		w.MinScore, good = m, good && ok
	}
	return w, good
}

func (l *loader) rubric(n *yaml.Node, label string) (checks.JudgeWant, bool) {
	s, ok := l.str(n, label)
	if !ok {
		return checks.JudgeWant{}, false
	}
	if strings.TrimSpace(s) == "" {
		l.errorf(n, "%s: the rubric must not be empty; say what the reply must do", label)
		return checks.JudgeWant{}, false
	}
	l.templates(l.resolve(n), s)
	return checks.JudgeWant{Rubric: s}, true
}

// decodeSimilar reads {to, min}: the text the reply should mean, and the
// least similarity that passes, 0 to 1.
func decodeSimilar(l *loader, n *yaml.Node, label string) (checks.SimilarWant, bool) {
	var w checks.SimilarWant
	if r := l.resolve(n); r.Kind != yaml.MappingNode {
		l.errorf(n, "%s: want {to, min}, such as {to: \"I opened a refund ticket\", min: 0.8}, got %s", label, kindName(r))
		return w, false
	}
	fields, ok := l.mapping(n, label, label, []string{"to", "min"})
	if !ok {
		return w, false
	}
	f := index(fields)
	good := true
	if v, ok := f["to"]; ok {
		s, ok := l.str(v.val, label+".to")
		switch {
		case !ok:
			good = false
		case strings.TrimSpace(s) == "":
			l.errorf(v.val, "%s.to: must not be empty; give the text the reply should mean", label)
			good = false
		default:
			l.templates(l.resolve(v.val), s)
			w.To = s
		}
	} else {
		l.errorf(n, "%s: add to: the text the reply should mean", label)
		good = false
	}
	if v, ok := f["min"]; ok {
		m, ok := l.rate(v.val, label+".min")
		w.Min, good = m, good && ok
	} else {
		l.errorf(n, "%s: add min: the least cosine similarity that passes, from 0 to 1, such as 0.8", label)
		good = false
	}
	return w, good
}

func expandJudge(w checks.JudgeWant, vars map[string]string) checks.JudgeWant {
	w.Rubric = Expand(w.Rubric, vars)
	return w
}

func expandSimilar(w checks.SimilarWant, vars map[string]string) checks.SimilarWant {
	w.To = Expand(w.To, vars)
	return w
}
