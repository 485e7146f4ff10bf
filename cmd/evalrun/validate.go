package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/suites"
)

// validateOptions are what `evalrun validate` checks: it has no flags.
type validateOptions struct {
	paths []string
}

func validateCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	var o validateOptions
	return withFlags(flag.NewFlagSet("validate", flag.ContinueOnError), args, io, "validate PATH...", func(paths []string) (int, error) {
		o.paths = paths
		return o.run(ctx, io)
	})
}

// run loads and checks the suites, and sends nothing.
func (o *validateOptions) run(ctx context.Context, io *term.Streams) (int, error) {
	paths := o.paths
	if len(paths) == 0 {
		return exitUsage, usagef("validate: name at least one suite file or folder")
	}
	// A lint step may run where the secrets are not set (a fork's CI): an
	// unset variable is a warning here, and an error only in run and load.
	warnings := 0
	loaded, err := suites.LoadPathsContext(ctx, paths, suites.Options{
		MissingEnvWarns: true,
		Warn: func(w *suites.Error) {
			warnings++
			fmt.Fprintf(io.Err, "%s: warning: %s\n", w.Pos, w.Msg)
		},
	})
	if err != nil {
		return loadFailed(ctx, err, io.Err), nil
	}
	convs, turns := 0, 0
	for _, s := range loaded {
		convs += len(s.Conversations)
		for _, c := range s.Conversations {
			turns += len(c.Turns)
		}
	}
	fmt.Fprintf(io.Out, "ok: %d %s, %d %s, %d %s",
		len(loaded), plural(len(loaded), "suite"), convs, plural(convs, "conversation"), turns, plural(turns, "turn"))
	if warnings > 0 {
		fmt.Fprintf(io.Out, " (%d %s)", warnings, plural(warnings, "warning"))
	}
	fmt.Fprintln(io.Out)
	return exitOK, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
