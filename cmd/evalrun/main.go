// Command evalrun runs scripted conversations against customer-support
// chatbots and judges every reply. Each subcommand parses its flags and calls
// the library; only main exits the process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/evalrun/evalrun/internal/outfile"
	"github.com/evalrun/evalrun/internal/term"
)

func main() {
	ctx, stop := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		// The first signal stops sending; the run still writes its reports.
		stop(&signalError{sig})
		// A second one means "now": the reports not yet in place are given
		// up, and their temporary files must not stay beside the paths.
		sig = <-signals
		outfile.RemoveTemps()
		os.Exit((&signalError{sig}).exitCode())
	}()
	os.Exit(Main(ctx, os.Args[1:], term.System()))
}

// signalError is the cause of a run stopped by a signal.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string {
	if e.sig == syscall.SIGTERM {
		return "terminated (SIGTERM)"
	}
	return "interrupted (SIGINT)"
}

// exitCode follows the shell's convention of 128 plus the signal number.
func (e *signalError) exitCode() int {
	if e.sig == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return 128 + int(syscall.SIGINT)
}

// signalCode returns the exit code for a command that ctx's signal stopped,
// and whether one did.
func signalCode(ctx context.Context) (int, bool) {
	var sig *signalError
	if errors.As(context.Cause(ctx), &sig) {
		return sig.exitCode(), true
	}
	return 0, false
}

// loadFailed reports suites that could not be loaded: exit 2 for a bad
// suite, or the signal's code when Ctrl-C stopped the loading.
func loadFailed(ctx context.Context, err error, w io.Writer) int {
	fmt.Fprintln(w, err)
	if code, ok := signalCode(ctx); ok {
		return code
	}
	return exitUsage
}
