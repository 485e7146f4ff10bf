package runner

import (
	"fmt"
	"sync"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/providers/opencx"
	"github.com/evalrun/evalrun/providers/toolzz"
	"github.com/evalrun/evalrun/sim"
	"github.com/evalrun/evalrun/suites"
)

// SimOptions configures the in-process simulator started for base_url "sim".
type SimOptions = sim.Options

// environment owns what a run sets up for its suites: the providers and, when
// a suite asks for it, one in-process simulator shared by all of them.
type environment struct {
	sim     SimOptions
	once    sync.Once
	running *sim.Running
	simErr  error
}

// provider builds the provider a suite names, pointed at override when set.
func (e *environment) provider(s *suites.Suite, override string) (providers.Provider, error) {
	pc := s.Provider
	cfg := providers.Config{
		BaseURL:   pc.BaseURL,
		Token:     pc.Token.Value(),
		TokenVars: pc.Token.Vars,
		BotID:     pc.BotID,
		Timeout:   pc.Timeout,
		Retries:   pc.Retries,
		Headers:   pc.Headers,
		MaxBody:   pc.MaxBody,
	}
	if override != "" {
		cfg.BaseURL = override
	}
	if cfg.BaseURL == suites.SimURL {
		url, err := e.simURL()
		if err != nil {
			return nil, err
		}
		cfg.BaseURL = url
	}
	switch pc.Type {
	case suites.OpenCX:
		return opencx.New(cfg), nil
	case suites.Toolzz:
		return toolzz.New(cfg), nil
	}
	return nil, fmt.Errorf("provider type %q is not supported", pc.Type)
}

func (e *environment) simURL() (string, error) {
	e.once.Do(func() {
		e.running, e.simErr = sim.Start("127.0.0.1:0", e.sim)
		if e.simErr != nil {
			e.simErr = fmt.Errorf("start the built-in simulator: %w", e.simErr)
		}
	})
	if e.simErr != nil {
		return "", e.simErr
	}
	return e.running.URL(), nil
}

func (e *environment) close() {
	if e.running != nil {
		_ = e.running.Close()
	}
}
