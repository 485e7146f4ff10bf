package main

import (
	"strings"
	"testing"

	"github.com/evalrun/evalrun/internal/suggest"
)

// Flag errors are written the way users type flags (--junit, not Go's
// -junit), suggest the flag they probably meant, and point to the
// command's own help, not the top-level one.
func TestFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // lines of stderr, in order
	}{
		{
			name: "misspelt long flag",
			args: []string{"run", "--jnuit", "out.xml", "x.yaml"},
			want: []string{"evalrun: run: unknown flag --jnuit (did you mean --junit?)", "Run 'evalrun run -h' for the flags of run."},
		},
		{
			name: "single dash",
			args: []string{"run", "-fail-fats", "x.yaml"},
			want: []string{"evalrun: run: unknown flag --fail-fats (did you mean --fail-fast?)", "Run 'evalrun run -h' for the flags of run."},
		},
		{
			name: "after the paths",
			args: []string{"run", "x.yaml", "--no-progres"},
			want: []string{"evalrun: run: unknown flag --no-progres (did you mean --no-progress?)"},
		},
		{
			name: "a prefix of one flag",
			args: []string{"load", "--thresh", "error_rate<0.1", "x.yaml"},
			want: []string{"evalrun: load: unknown flag --thresh (did you mean --threshold?)", "Run 'evalrun load -h' for the flags of load."},
		},
		{
			name: "nothing close",
			args: []string{"validate", "--zzzzzzzz", "x.yaml"},
			want: []string{"evalrun: validate: unknown flag --zzzzzzzz", "Run 'evalrun validate -h' for the flags of validate."},
		},
		{
			name: "value missing",
			args: []string{"run", "x.yaml", "--junit"},
			want: []string{"evalrun: run: --junit needs a value", "Run 'evalrun run -h' for the flags of run."},
		},
		{
			name: "bad value",
			args: []string{"run", "--concurrency", "many", "x.yaml"},
			want: []string{`evalrun: run: --concurrency: invalid value "many": parse error`},
		},
		{
			name: "short flag keeps one dash",
			args: []string{"run", "-c", "x", "x.yaml"},
			want: []string{`evalrun: run: -c: invalid value "x": parse error`},
		},
		{
			name: "bad boolean",
			args: []string{"run", "--fail-fast=sometimes", "x.yaml"},
			want: []string{`evalrun: run: --fail-fast: invalid value "sometimes": want true or false`},
		},
		{
			name: "other checks point to the command's help too",
			args: []string{"run"},
			want: []string{"evalrun: run: name at least one suite file or folder", "Run 'evalrun run -h' for the flags of run."},
		},
		{
			name: "unknown command",
			args: []string{"rnu", "x.yaml"},
			want: []string{`evalrun: unknown command "rnu" (did you mean run?)`, "Run 'evalrun --help' for usage."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := inProcess(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			rest := stderr
			for _, line := range tt.want {
				i := strings.Index(rest, line+"\n")
				if i < 0 {
					t.Fatalf("stderr lacks the line %q (in order):\n%s", line, stderr)
				}
				rest = rest[i+len(line):]
			}
			if strings.Contains(stderr, "flag provided but not defined") || strings.Contains(stderr, "for flag -") {
				t.Errorf("Go's flag wording leaked:\n%s", stderr)
			}
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	for _, args := range [][]string{{"run", "-h"}, {"load", "--help"}, {"validate", "-h"}} {
		code, stdout, stderr := inProcess(t, args...)
		if code != exitOK || !strings.Contains(stdout, "Usage: evalrun "+args[0]) || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"c", "concurrency", "junit", "json", "no-progress", "fail-fast", "filter"}
	for in, want := range map[string]string{
		"jnuit":       "junit",
		"junti":       "junit",
		"jsno":        "json",
		"concurency":  "concurrency",
		"conc":        "concurrency",
		"fail":        "fail-fast",
		"x":           "",
		"progress":    "no-progress",
		"fitler":      "filter",
		"zzzzzzzz":    "",
		"no-progress": "no-progress",
		// Since the guess is internal/suggest's, as for suite keys, '_' for
		// '-' and case are slips too.
		"no_progress": "no-progress",
		"JSON":        "json",
	} {
		if got := suggest.Nearest(in, names); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}
