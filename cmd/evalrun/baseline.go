package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/evalrun/evalrun/baseline"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// Values of --fail-on.
const (
	failOnRegressions = "regressions" // with --baseline: regressions, errors and unexcused failures
	failOnAny         = "any"         // any failed, errored or unfinished conversation
)

// gateFlags registers --baseline and --fail-on, which every command that
// judges a run record takes alike.
func gateFlags(fs *flag.FlagSet, baseline, failOn *string) {
	fs.StringVar(baseline, "baseline", "", "compare with the earlier JSON record in `FILE`: only regressions and errors fail the build")
	fs.StringVar(failOn, "fail-on", "", "with --baseline, what fails the build: \"regressions\" (the default) or \"any\" failure")
}

// gate is the --baseline and --fail-on of a command: the record to compare
// with, and the rule that turns the comparison into an exit code.
type gate struct {
	path string
	base *results.Run // nil without --baseline
	any  bool
}

// newGate reads the baseline at path ("" for none) and checks --fail-on.
// Both are usage errors, found before anything is sent.
func newGate(cmd, path, failOn string) (*gate, error) {
	g := &gate{path: path}
	switch failOn {
	case "", failOnRegressions:
	case failOnAny:
		g.any = true
	default:
		return nil, usagef("%s: --fail-on: want %q or %q, got %q", cmd, failOnRegressions, failOnAny, failOn)
	}
	if path == "" {
		return g, nil
	}
	base, err := baseline.Read(path)
	if err != nil {
		return nil, usagef("%s: --baseline: %v", cmd, err)
	}
	g.base = base
	return g, nil
}

// inputs lists the baseline among the files the command reads, so that no
// report may overwrite it.
func (g *gate) inputs() []string {
	if g.path == "" {
		return nil
	}
	return []string{g.path}
}

// precheck refuses, before anything is sent, a baseline that cannot be
// compared with the loaded suites, such as one of other suites: what a run
// of them will hold is known by name already.
func (g *gate) precheck(cmd string, loaded []*suites.Suite) error {
	if g.base == nil {
		return nil
	}
	planned := &results.Run{Schema: results.Schema, RunID: "planned"}
	for _, s := range loaded {
		for _, c := range s.Conversations {
			planned.Conversations = append(planned.Conversations, &results.Conversation{
				Suite: s.Name, Name: c.Name, Status: results.Skipped, Turns: []*results.Turn{},
			})
		}
	}
	if _, err := baseline.Compare(g.base, planned); err != nil {
		return usagef("%s: --baseline %s: %v", cmd, g.path, err)
	}
	return nil
}

// compare fills run.Comparison. It fails only on a record Compare refuses.
func (g *gate) compare(run *results.Run) error {
	if g.base == nil {
		return nil
	}
	base, note, opts := g.base, "", baseline.Options{}
	if sh := run.Shard; sh != nil {
		// The other shards' conversations were not run here, not removed.
		// precheck tied the suites to the whole baseline, so a shard with
		// nothing in common with its part is new conversations, or none.
		base = inShard(g.base, runner.Shard{Index: sh.Index, Count: sh.Count})
		note = fmt.Sprintf("compared with the baseline's conversations of shard %d/%d only", sh.Index, sh.Count)
		opts.Part = true
	}
	c, err := baseline.CompareWith(base, run, opts)
	if err != nil {
		return err
	}
	if note != "" {
		c.Notes = append(c.Notes, note)
	}
	c.BaselineFile = g.path
	run.Comparison = c
	return nil
}

// inShard is a copy of r with only the conversations of shard sh.
func inShard(r *results.Run, sh runner.Shard) *results.Run {
	out := *r
	out.Conversations = []*results.Conversation{}
	for _, c := range r.Conversations {
		if sh.Has(c.Suite, c.Name) {
			out.Conversations = append(out.Conversations, c)
		}
	}
	return &out
}

// text prints the comparison after the table, and why the build fails.
func (g *gate) text(w io.Writer, run *results.Run) error {
	if run.Comparison == nil {
		return nil
	}
	if err := baseline.WriteText(w, run.Comparison, widthOf(w)); err != nil {
		return err
	}
	if fail, reasons := baseline.Gate(run.Comparison, run, g.any); fail {
		for _, r := range reasons {
			if _, err := fmt.Fprintf(w, "fails the build: %s\n", r); err != nil {
				return err
			}
		}
	}
	return nil
}

// code is the exit code of a run's verdicts under the gate: the plain rule
// (verdictCode) without a comparison or with --fail-on any.
func (g *gate) code(run *results.Run) int {
	if run.Comparison == nil {
		return verdictCode(run)
	}
	if fail, _ := baseline.Gate(run.Comparison, run, g.any); fail {
		return exitFailed
	}
	return exitOK
}
