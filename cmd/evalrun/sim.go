package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/sim"
)

func simCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	fs, cfg := simFlags()
	rest, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(io.Out, fs, "sim [flags]")
		return exitOK, err
	}
	if err != nil {
		return exitUsage, err
	}
	if len(rest) > 0 {
		return exitUsage, usagef("sim: unexpected argument %q", rest[0])
	}
	opts, err := cfg.options()
	if err != nil {
		return exitUsage, usagef("%v", err)
	}
	srv, err := sim.Start(cfg.addr, opts)
	if err != nil {
		return exitTrouble, fmt.Errorf("sim: %w", err)
	}
	with := ""
	if shown := cfg.shown(); shown != "" {
		with = " with " + shown
	}
	fmt.Fprintf(io.Err, "evalrun sim: serving the OpenCX and Toolzz APIs on %s and an OpenAI-compatible judge on %s%s (Ctrl-C to stop)\n", srv.URL(), srv.OpenAIURL(), with)
	<-ctx.Done()
	return exitOK, srv.Close()
}

// simConfig is what the sim command's flags say. Every flag but --addr is a
// parameter of a simulator spec; they are joined to --spec and read by
// sim.ParseSpec, so that flags and suites' "sim?…" base URLs agree.
type simConfig struct {
	addr   string
	spec   string
	params [][2]string // key and value, in the order given
}

func simFlags() (*flag.FlagSet, *simConfig) {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	cfg := &simConfig{}
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT`")
	param := func(name, key, usage string) {
		fs.Func(name, usage, func(v string) error {
			cfg.params = append(cfg.params, [2]string{key, v})
			return nil
		})
	}
	param("token", "token", "require this bearer `TOKEN` (default: accept any)")
	param("latency", "latency", "delay every API reply: a `DIST`, either a duration (300ms),\nuniform:MIN:MAX (uniform:100ms:500ms) or lognormal:MEDIAN:SIGMA (lognormal:200ms:0.5)")
	param("fault", "fault", "inject a fault into a share of API requests, as `KIND:RATE` (503:0.1);\nKIND is 500, 502, 503, 429, drop, malformed, oversize or hang; repeatable")
	param("retry-after", "retry_after", "`SECONDS` in the Retry-After of 429s (default 1); when set, 503s carry it too")
	fs.BoolFunc("retry-after-date", "send Retry-After as an HTTP date instead of seconds", func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		cfg.params = append(cfg.params, [2]string{"retry_after_date", strconv.FormatBool(b)})
		return nil
	})
	fs.BoolFunc("admin", "serve GET /sim/stats (handling times of API requests), POST /sim/stats/reset\nand POST /sim/freeze?for=2s (hold API requests for 2s)", func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		cfg.params = append(cfg.params, [2]string{"admin", strconv.FormatBool(b)})
		return nil
	})
	param("oversize-bytes", "oversize_bytes", "`SIZE` of oversize replies, e.g. 512KiB (default 11MiB)")
	param("shape", "shape", "`SHAPE` of OpenCX send replies: flat, data, legacy or id-only (default flat)")
	param("history-delay", "history_delay", "show the AI's answers in the history only this `DURATION` after the send")
	param("history-ids", "history_ids", "`IDS` of OpenCX history items: same (as the send's message id), none or unrelated (default same)")
	param("flaky", "flaky", "`PROBABILITY` that the bot answers with its fallback text instead of its rule")
	param("judge-shape", "judge_shape", "how the judge writes its verdict: `SHAPE` bare (default), fenced (in a Markdown code fence)\nor prose (inside a sentence, which evalrun refuses)")
	param("seed", "seed", "`N` seeds latency, faults and flakiness, for reproducible runs")
	param("idle", "idle", "forget a session this `DURATION` after a request last used it (default 10m), or never")
	fs.StringVar(&cfg.spec, "spec", "", "the flags above but --addr as one `SPEC`, as after \"sim?\" in a base_url:\nlatency=lognormal:200ms:0.5&fault=503:0.1&shape=id-only&seed=7")
	return fs, cfg
}

// joined is the spec that --spec and the other flags make together; escape
// writes the flags' values.
func (c *simConfig) joined(escape func(string) string) string {
	var parts []string
	if c.spec != "" {
		parts = append(parts, strings.TrimPrefix(c.spec, "sim?"))
	}
	for _, p := range c.params {
		parts = append(parts, p[0]+"="+escape(p[1]))
	}
	return strings.Join(parts, "&")
}

func (c *simConfig) options() (sim.Options, error) {
	return sim.ParseSpec(c.joined(url.QueryEscape))
}

// shown is the spec without its token, to say how the simulator behaves.
func (c *simConfig) shown() string {
	var keep []string
	for part := range strings.SplitSeq(c.joined(func(v string) string { return v }), "&") {
		if part != "" && !strings.HasPrefix(part, "token=") {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, "&")
}
