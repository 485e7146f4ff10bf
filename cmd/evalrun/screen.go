package main

import (
	"fmt"
	"io"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
)

// bindStdout sends a report asked for at "-" to w, the command's standard
// output, and reports whether there is one: nothing else may then be
// written to w.
func (outs outputs) bindStdout(w io.Writer) bool {
	taken := false
	for _, f := range outs.files {
		if f.IsStdout() {
			f.SetStdout(w)
			taken = true
		}
	}
	return taken
}

// tableFunc renders the table a command ends with.
type tableFunc func(w io.Writer, run *results.Run, opts report.TableOptions) error

// printEnd prints what a command shows once its reports are written: the
// table, fitted and coloured for the stream it goes to, then what after
// writes (the baseline comparison; nil for none), or with quiet only the
// summary line. All of it goes to standard output, unless a report took it
// (stdoutTaken), and then to standard error, which is where a person
// reading `evalrun run --json - | jq` looks.
func printEnd(streams *term.Streams, run *results.Run, table tableFunc, after func(io.Writer, *results.Run) error, stdoutTaken, quiet bool) error {
	w, d := streams.Out, streams.OutDisplay()
	if stdoutTaken {
		w, d = streams.Err, streams.ErrDisplay()
	}
	if quiet {
		if _, err := fmt.Fprintln(w, report.SummaryLine(run)); err != nil {
			return fmt.Errorf("print the summary: %w", err)
		}
		return nil
	}
	if err := table(w, run, report.TableOptionsFor(d)); err != nil {
		return fmt.Errorf("print the table: %w", err)
	}
	if after != nil {
		if err := after(w, run); err != nil {
			return fmt.Errorf("print the comparison: %w", err)
		}
	}
	return nil
}
