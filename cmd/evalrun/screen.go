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

// fitted is a stream that knows the width text on it is fitted to, so that
// what printEnd writes after the table (the baseline comparison) wraps as
// the table's details do.
type fitted struct {
	io.Writer
	width int
}

// widthOf is the width w was fitted to by printEnd; 0 (no limit) for any
// other writer.
func widthOf(w io.Writer) int {
	if f, ok := w.(fitted); ok {
		return f.width
	}
	return 0
}

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
		if err := after(fitted{w, d.Width}, run); err != nil {
			return fmt.Errorf("print the comparison: %w", err)
		}
	}
	return nil
}
