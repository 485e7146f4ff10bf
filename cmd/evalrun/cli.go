package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/evalrun/evalrun/internal/version"
	"io"
	"regexp"
	"strings"

	"github.com/evalrun/evalrun/internal/suggest"
	"github.com/evalrun/evalrun/internal/term"
)

// Exit codes are part of the contract CI pipelines build on.
const (
	exitOK      = 0 // everything passed
	exitFailed  = 1 // a conversation failed or errored
	exitUsage   = 2 // bad usage or an invalid suite: nothing was sent
	exitTrouble = 1 // the run could not complete for another reason
)

const usage = `evalrun tests customer-support chatbots with scripted conversations.

Usage:
  evalrun run [flags] PATH...       run suites (files or folders of *.yaml)
  evalrun load [flags] PATH...      load-test: replay the suites at a rate or with virtual users
  evalrun merge --json OUT PATH...  merge load records or run records, such as --shard parts
  evalrun report FILE.json          print the table of a record again (--junit, --json to convert)
  evalrun regrade FILE.json PATH... judge a run's recorded replies again with the suites' checks
  evalrun validate PATH...          check suites without sending anything
  evalrun sim [flags]               serve the built-in OpenCX/Toolzz simulator
  evalrun k8s manifests [flags]     render the Kubernetes Jobs of a load test split across machines
  evalrun version                   print the version

Run 'evalrun COMMAND -h' for the flags of a command.
`

// usageError is bad usage: it exits 2 and prints the command's help hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// commands are the subcommands Main knows, for suggestions.
var commands = []string{"run", "load", "merge", "report", "regrade", "validate", "sim", "k8s", "version", "help"}

// Main runs the command line args and returns the process exit code.
func Main(ctx context.Context, args []string, io *term.Streams) int {
	if len(args) == 0 {
		fmt.Fprint(io.Err, usage)
		return exitUsage
	}
	var code int
	var err error
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		code, err = runCmd(ctx, rest, io)
	case "validate":
		code, err = validateCmd(ctx, rest, io)
	case "sim":
		code, err = simCmd(ctx, rest, io)
	case "load":
		code, err = loadCmd(ctx, rest, io)
	case "merge":
		code, err = mergeCmd(ctx, rest, io)
	case "report":
		code, err = reportCmd(rest, io)
	case "regrade":
		code, err = regradeCmd(ctx, rest, io)
	case "k8s":
		code, err = k8sCmd(ctx, rest, io)
	case "version", "--version":
		fmt.Fprintln(io.Out, "evalrun", versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(io.Out, usage)
		return exitOK
	default:
		msg := fmt.Sprintf("unknown command %q", cmd)
		if guess := suggest.Nearest(cmd, commands); guess != "" {
			msg += " (did you mean " + guess + "?)"
		}
		err = &usageError{msg}
		cmd = ""
	}
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			// Point to the help that lists what was wrong: the command's
			// own flags, or the list of commands.
			hint := "Run 'evalrun --help' for usage."
			if cmd != "" {
				hint = fmt.Sprintf("Run 'evalrun %s -h' for the flags of %s.", cmd, cmd)
			}
			fmt.Fprintf(io.Err, "evalrun: %v\n%s\n", err, hint)
			return exitUsage
		}
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(io.Err, "evalrun: %v\n", err)
		if code == exitOK {
			code = exitTrouble
		}
	}
	return code
}

func versionString() string { return version.Get().String() }

// parseArgs parses fs from args, allowing flags after positional arguments
// (`evalrun run suites/ --junit out.xml`), and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %s", fs.Name(), flagError(fs, err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// Go's flag package words its errors for Go programs ("flag provided but
// not defined: -jnuit"); these patterns recognise them so flagError can say
// it the way evalrun's help and users write flags. Anything unrecognised is
// passed through unchanged.
var (
	undefinedFlagRE = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	needsValueRE    = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	badValueRE      = regexp.MustCompile(`^invalid value (".*") for flag -+([^:]*): (.*)$`)
	badBoolRE       = regexp.MustCompile(`^invalid boolean value (".*") for -+([^:]*): (.*)$`)
)

// flagError rewrites an error of fs.Parse: flags as --name (-c for one
// letter), and for an unknown flag the nearest defined one.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if m := undefinedFlagRE.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		out := "unknown flag " + flagName(m[1])
		if guess := suggest.Nearest(m[1], names); guess != "" {
			out += " (did you mean " + flagName(guess) + "?)"
		}
		return out
	}
	if m := needsValueRE.FindStringSubmatch(msg); m != nil {
		return flagName(m[1]) + " needs a value"
	}
	if m := badBoolRE.FindStringSubmatch(msg); m != nil {
		return flagName(m[2]) + ": invalid value " + m[1] + ": want true or false"
	}
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		return flagName(m[2]) + ": invalid value " + m[1] + ": " + m[3]
	}
	return msg
}

// flagName is how help and messages spell a flag: -c, --junit.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// printHelp writes a flag set's usage to w; -h lands here.
func printHelp(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "Usage: evalrun %s\n\nFlags:\n", synopsis)
	fs.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		typ, help := flag.UnquoteUsage(f)
		if typ != "" {
			name += " " + typ
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "0s" {
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %s\n      %s\n", name, strings.ReplaceAll(help, "\n", "\n      "))
	})
}

// withFlags parses args into fs and hands the positional arguments to run:
// every command that takes paths starts this way. -h prints the command's
// help (synopsis and flags) and ends it.
func withFlags(fs *flag.FlagSet, args []string, io *term.Streams, synopsis string, run func(paths []string) (int, error)) (int, error) {
	paths, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(io.Out, fs, synopsis)
		return exitOK, err
	}
	if err != nil {
		return exitUsage, err
	}
	return run(paths)
}
