package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
)

// Workloads no process can play are refused (exit 2) before anything is
// sent, whether a flag or a suite's load: section asks for them, and within
// a time bound: none of them starts a schedule.
func TestLoadOutOfBoundsIsRefused(t *testing.T) {
	srv, sent := countingServer(t, 201, `{"id":"x"}`)
	suite := func(section string) string {
		return writeSuite(t, fmt.Sprintf(`name: b
provider: {type: opencx, base_url: %q, token: t}
conversations:
  - name: one
    turns:
      - user: hello
%s`, srv.URL, section))
	}
	plain := suite("")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"--rate Inf", []string{"--rate", "Inf", "--duration", "1s", plain}, "--rate +Inf: want a number"},
		{"--rate NaN", []string{"--rate", "NaN", "--duration", "1s", plain}, "--rate NaN: want a number"},
		{"--rate 1e12", []string{"--rate", "1e12", "--duration", "1s", plain}, "--rate 1e+12: want at most 100000"},
		{"--rate -3", []string{"--rate", "-3", "--duration", "1s", plain}, "--rate -3: want at least 0"},
		{"--stage target 1e12", []string{"--stage", "1s:1e12", plain}, "--stage"},
		{"--stage target Inf", []string{"--stage", "1s:Inf", plain}, "--stage"},
		{"--stage target NaN", []string{"--stage", "1s:NaN", plain}, "--stage"},
		{"--duration absurd", []string{"--rate", "1", "--duration", "1000000h", plain}, "--duration 1000000h0m0s: want at most 168h0m0s"},
		{"--vus huge", []string{"--vus", "1000000000", "--duration", "1s", plain}, "--vus 1000000000: want at most 100000"},
		{"--max-in-flight huge", []string{"--rate", "1", "--duration", "1s", "--max-in-flight", "1000000000", plain}, "--max-in-flight 1000000000: want at most 100000"},
		{"--grace huge", []string{"--rate", "1", "--duration", "1s", "--grace", "1000h", plain}, "--grace 1000h0m0s: want at most 24h0m0s"},
		{"--think-time huge", []string{"--vus", "1", "--duration", "1s", "--think-time", "1000h", plain}, "--think-time 1000h0m0s: want at most 24h0m0s"},
		// Per process: the shard's part is what is bounded.
		{"--shard keeps the bound per process", []string{"--rate", "300000", "--duration", "1s", "--shard", "0/2", plain}, "--rate 150000 (this shard's part): want at most 100000"},
		// A suite's values pass through the same rule (the loader may refuse
		// them first, with its own position): only the exit code is asked.
		{"load.rate 1e12", []string{suite("load: {rate: 1e12, duration: 1s}\n")}, ""},
		{"load.vus huge", []string{suite("load: {vus: 1000000000, duration: 1s}\n")}, ""},
		{"load.duration absurd", []string{suite("load: {rate: 1, duration: 1000000h}\n")}, ""},
		{"load.stages 1e12", []string{suite("load: {stages: [\"1s:1e12\"]}\n")}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			io, out, errOut := term.Test()
			code := Main(ctx, append([]string{"load", "--no-progress"}, c.args...), io)
			if ctx.Err() != nil {
				t.Fatal("the refusal took the whole time bound")
			}
			if code != exitUsage || !strings.Contains(errOut.String(), c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q\n%s", code, errOut.String(), c.want, out.String())
			}
			if n := sent.Load(); n != 0 {
				t.Errorf("%d requests sent before the refusal", n)
			}
		})
	}
}

// TestLoadBoundsNameEveryFlag: with several flags out of bounds, each line
// names its flag, never the suite key Validate knows it by.
func TestLoadBoundsNameEveryFlag(t *testing.T) {
	suite := writeSuite(t, `name: b
provider: {type: opencx, base_url: "http://127.0.0.1:1", token: tttt}
conversations:
  - name: one
    turns:
      - user: hello
`)
	code, _, stderr := inProcess(t, "load", "--no-progress", "--rate", "NaN", "--duration", "1s",
		"--max-in-flight", "1000000000", "--grace", "1000h", suite)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitUsage, stderr)
	}
	for _, want := range []string{"--rate NaN: want a number", "\n--max-in-flight 1000000000: want at most", "\n--grace 1000h0m0s: want at most"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "max_in_flight") {
		t.Errorf("stderr %q names the suite key", stderr)
	}
}
