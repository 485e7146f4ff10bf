package runner

import (
	"fmt"
	"net"
	"net/url"
	"time"

	"golang.org/x/time/rate"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/providers/httpbot"
	"github.com/evalrun/evalrun/providers/opencx"
	"github.com/evalrun/evalrun/providers/toolzz"
	"github.com/evalrun/evalrun/sim"
	"github.com/evalrun/evalrun/suites"
)

// SimOptions configures the in-process simulator started for base_url "sim".
type SimOptions = sim.Options

// environment owns what a run sets up for its suites: the providers and the
// in-process simulators they ask for, one per distinct spec ("sim" shares
// one; "sim?shape=legacy" gets its own).
type environment struct {
	sim  SimOptions // for a plain "sim"
	sims map[string]*sim.Running
	// fastHTTP sets providers.Config.FastHTTP for every provider.
	fastHTTP bool

	// limiters holds one limiter per service and credential: a rate limit
	// is the service's per key, so every suite using that key shares it.
	limiters map[limiterKey]*rate.Limiter

	// judges holds one client per distinct judge: section (see judgeKey),
	// judgeOrder the same in the order they were made, for the summary.
	judges     map[judgeKey]*judge.Client
	judgeOrder []*judge.Client
}

type limiterKey struct{ typ, baseURL, token string }

// provider builds the provider a suite names, pointed at override when set.
func (e *environment) provider(s *suites.Suite, override string) (providers.Provider, error) {
	pc := s.Provider
	cfg := providers.Config{
		BaseURL:   pc.BaseURL,
		Token:     pc.Token.Value(),
		TokenVars: pc.Token.Vars,
		Secrets:   envSecretValues(pc.EnvSecrets),
		BotID:     pc.BotID,
		Timeout:   pc.Timeout,
		Retries:   pc.Retries,
		Headers:   pc.Headers,
		MaxBody:   pc.MaxBody,
		FastHTTP:  e.fastHTTP,

		PollInterval: pc.PollInterval,
		ReplyTimeout: pc.ReplyTimeout,
	}
	if override != "" {
		cfg.BaseURL = override
	}
	pace := pc.RateLimit
	if spec, ok := suites.SimSpec(cfg.BaseURL); ok {
		url, err := e.simURL(spec)
		if err != nil {
			return nil, err
		}
		cfg.BaseURL = url
	}
	if !pc.RateLimitSet && isLoopback(cfg.BaseURL) {
		// The type's default protects a real service's quota; the
		// simulator, or a mock on this machine, has none.
		pace = suites.Rate{}
	}
	cfg.Limiter = e.limiter(limiterKey{pc.Type, cfg.BaseURL, cfg.Token}, pace)
	switch pc.Type {
	case suites.OpenCX:
		return opencx.New(cfg), nil
	case suites.Toolzz:
		return toolzz.New(cfg), nil
	case suites.HTTP:
		if pc.HTTP == nil {
			return nil, fmt.Errorf("provider type http has no request/response spec")
		}
		return httpbot.New(cfg, *pc.HTTP, s.Vars), nil
	}
	return nil, fmt.Errorf("provider type %q is not supported", pc.Type)
}

// limiter returns the shared limiter for key, or nil for no pacing. The
// strictest rate any suite names for a key holds; requests are spread evenly
// (a burst of one), which is what keeps a run under a per-minute quota.
func (e *environment) limiter(key limiterKey, r suites.Rate) *rate.Limiter {
	if r.IsZero() {
		return nil
	}
	limit := rate.Every(r.Per / time.Duration(r.N))
	if l, ok := e.limiters[key]; ok {
		// Suites sharing a service and key share its quota: the stricter
		// of their rate limits holds.
		if limit < l.Limit() {
			l.SetLimit(limit)
		}
		return l
	}
	if e.limiters == nil {
		e.limiters = map[limiterKey]*rate.Limiter{}
	}
	l := rate.NewLimiter(limit, 1)
	e.limiters[key] = l
	return l
}

// simURL starts, or reuses, the simulator for spec and returns its URL.
func (e *environment) simURL(spec string) (string, error) {
	if r, ok := e.sims[spec]; ok {
		return r.URL(), nil
	}
	opts := e.sim
	if spec != "" {
		var err error
		if opts, err = sim.ParseSpec(spec); err != nil {
			return "", err
		}
	}
	r, err := sim.Start("127.0.0.1:0", opts)
	if err != nil {
		return "", fmt.Errorf("start the built-in simulator: %w", err)
	}
	if e.sims == nil {
		e.sims = map[string]*sim.Running{}
	}
	e.sims[spec] = r
	return r.URL(), nil
}

func (e *environment) close() {
	for _, r := range e.sims {
		_ = r.Close()
	}
}

// isLoopback reports whether rawURL points at this machine.
func isLoopback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envSecretValues(ss []suites.Secret) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Value()
	}
	return out
}
