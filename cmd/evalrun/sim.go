package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/sim"
)

func simCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT`")
	token := fs.String("token", "", "require this bearer token (default: accept any)")
	latency := fs.Duration("latency", 0, "delay every reply by this long")
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
	if *latency < 0 {
		return exitUsage, usagef("sim: --latency must not be negative")
	}
	srv, err := sim.Start(*addr, sim.Options{Token: *token, Latency: *latency})
	if err != nil {
		return exitTrouble, fmt.Errorf("sim: %w", err)
	}
	fmt.Fprintf(io.Err, "evalrun sim: serving the OpenCX and Toolzz APIs on %s (Ctrl-C to stop)\n", srv.URL())
	<-ctx.Done()
	return exitOK, srv.Close()
}
