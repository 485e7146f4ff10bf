package baseline

import (
	"slices"
	"strings"

	"github.com/evalrun/evalrun/results"
)

// record builds a run record of convs, naming its suites after theirs.
func record(id string, convs ...*results.Conversation) *results.Run {
	r := &results.Run{Schema: results.Schema, RunID: id, Conversations: convs}
	for _, c := range convs {
		if !slices.ContainsFunc(r.Suites, func(s results.Suite) bool { return s.Name == c.Suite }) {
			r.Suites = append(r.Suites, results.Suite{Name: c.Suite, File: c.Suite + ".yaml"})
		}
	}
	return r
}

// conv is a conversation of suite "s" unless name says "suite/name".
func conv(name string, status results.Status, turns ...*results.Turn) *results.Conversation {
	suite := "s"
	if before, after, ok := strings.Cut(name, "/"); ok {
		suite, name = before, after
	}
	for i, t := range turns {
		if t.Index == 0 {
			t.Index = i + 1
		}
	}
	return &results.Conversation{Suite: suite, Name: name, Status: status, Runs: 1, Turns: turns}
}

// turn is an answered turn with the given latency and checks.
func turn(latencyMS float64, checks ...results.Assertion) *results.Turn {
	return &results.Turn{User: "hi", Reply: "hello", LatencyMS: latencyMS, Assertions: checks}
}

func held(check string) results.Assertion { return results.Assertion{Check: check, Passed: true} }

func fails(check, msg string) results.Assertion {
	return results.Assertion{Check: check, Message: msg}
}
