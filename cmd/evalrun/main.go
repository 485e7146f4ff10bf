// Command evalrun runs scripted conversations against customer-support
// chatbots and judges every reply. Each subcommand parses its flags and calls
// the library; only main exits the process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/evalrun/evalrun/internal/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], term.System())
	stop()
	os.Exit(code)
}
