package report

import (
	"strings"
	"time"

	"github.com/evalrun/evalrun/results"
)

// fixtureRun is a hand-built run covering every verdict, two suite files,
// repeats, final checks, silence, handoff and the text bots send that
// reports must survive: XML specials, control characters, bad UTF-8, long
// and multi-line replies, and unicode.
func fixtureRun() *results.Run {
	pass := func(check string) results.Assertion { return results.Assertion{Check: check, Passed: true} }
	fail := func(check, msg string) results.Assertion {
		return results.Assertion{Check: check, Message: msg}
	}
	longReply := strings.Repeat("Refunds take 5–7 business days to reach your card. ", 100)

	convs := []*results.Conversation{
		{
			Suite: "refunds", File: "examples/refunds.yaml", Line: 14,
			Name: "simple refund", Tags: []string{"smoke"},
			Status: results.Passed, Runs: 1, PassedRuns: 1,
			SessionID: "9b2f6c1e-0000-4000-8000-000000000001", DurationMS: 1730.4,
			LatencyMS: results.Percentiles{P50: 840, P90: 890, P95: 890, P99: 890, Max: 890},
			Turns: []*results.Turn{
				{Index: 1, User: "I want a refund for order ord_42", Reply: "Sure, I can help with a refund for ord_42.", LatencyMS: 840, Assertions: []results.Assertion{pass("contains")}},
				{Index: 2, User: "Thanks", Reply: "You're welcome!", LatencyMS: 890, Assertions: []results.Assertion{pass("not_contains")}},
			},
		},
		{
			Suite: "refunds", File: "examples/refunds.yaml", Line: 31,
			Name: "refund with ticket follow-up", Tags: []string{"refunds", "smoke"},
			Status: results.Failed, Runs: 1, PassedRuns: 0,
			SessionID: "9b2f6c1e-0000-4000-8000-000000000002", DurationMS: 4210.25,
			LatencyMS: results.Percentiles{P50: 1180, P90: 2410, P95: 2410, P99: 2410, Max: 2410},
			Turns: []*results.Turn{
				{Index: 1, User: "I want a refund for order ord_42", Reply: "Refund created: TCK-1042.", LatencyMS: 1180, Assertions: []results.Assertion{pass("contains"), pass("regex")}},
				{Index: 2, User: "What is the status of ticket TCK-1042?", Reply: "I don't know which ticket you mean.", LatencyMS: 2410, Assertions: []results.Assertion{
					fail("contains", `expected the reply to contain "being processed", got "I don't know which ticket you mean."`),
					fail("not_contains", `expected the reply not to contain "I don't know", got "I don't know which ticket you mean."`),
					pass("max_latency"),
				}},
			},
			Final: []results.Assertion{
				fail("final.status", `expected status "closed_resolved", got "open"`),
				pass("final.sentiment"),
			},
		},
		{
			Suite: "refunds", File: "examples/refunds.yaml", Line: 52,
			Name:   "angry customer is handed off",
			Status: results.Flaky, Runs: 20, PassedRuns: 17,
			DurationMS: 2950, LatencyMS: results.Percentiles{P50: 950, P90: 1900, P95: 1900, P99: 1900, Max: 1900},
			Turns: []*results.Turn{
				{Index: 1, User: "This is the third time I ask!!!", Reply: "I understand, let me check.", LatencyMS: 950, Assertions: []results.Assertion{fail("handoff", "expected a handoff to a human, got none")}},
				{Index: 2, User: "Get me a human.", Silent: true, Handoff: true, LatencyMS: 1900, Assertions: []results.Assertion{pass("reply")}},
			},
		},
		{
			Suite: "refunds", File: "examples/refunds.yaml", Line: 70,
			Name:   "refund policy",
			Status: results.Failed, Runs: 5, PassedRuns: 2,
			DurationMS: 610, LatencyMS: results.Percentiles{P50: 610, P90: 610, P95: 610, P99: 610, Max: 610},
			Turns: []*results.Turn{
				{Index: 1, User: "What is your refund policy?", Reply: "We refund within 30 days.", LatencyMS: 610, Assertions: []results.Assertion{fail("knowledge", `expected knowledge source "faq", got ["blog"]`)}},
			},
		},
		{
			Suite: `billing & <support>`, File: "suites/billing.yaml", Line: 9,
			Name:   `invoice <copy> & "quotes"`,
			Status: results.Errored, Runs: 1, Reason: "toolzz: send-message: 503 Service Unavailable: {\"error\":\"upstream <timeout>\"}",
			DurationMS: 31000.5, LatencyMS: results.Percentiles{P50: 420, P90: 30000, P95: 30000, P99: 30000, Max: 30000},
			Turns: []*results.Turn{
				{Index: 1, User: "Send me a copy of invoice <INV-7> & the receipt", Reply: "Here it is: <a href=\"https://x.test/?a=1&b=2\">INV-7</a> ]]>", LatencyMS: 420, Assertions: []results.Assertion{pass("contains")}},
				{Index: 2, User: "And the one from March?", LatencyMS: 30000, Error: "toolzz: send-message: 503 Service Unavailable: {\"error\":\"upstream <timeout>\"}", Assertions: nil},
			},
		},
		{
			Suite: `billing & <support>`, File: "suites/billing.yaml", Line: 27,
			Name:   "session never opened",
			Status: results.Errored, Runs: 1,
			Reason: "opencx: create session: dial tcp 127.0.0.1:1: connect: connection refused",
		},
		{
			Suite: `billing & <support>`, File: "suites/billing.yaml", Line: 40,
			Name:   "skipped for now",
			Status: results.Skipped, Reason: "skip: waiting on BOT-12",
		},
		{
			Suite: `billing & <support>`, File: "suites/billing.yaml", Line: 44,
			Name:   "cut short by Ctrl-C",
			Status: results.Unfinished, Runs: 1, Reason: "the run was interrupted during turn 2",
			Turns: []*results.Turn{
				{Index: 1, User: "hello", Reply: "Hi!", LatencyMS: 100, Assertions: []results.Assertion{pass("contains")}},
			},
		},
		{
			Suite: `billing & <support>`, File: "suites/billing.yaml", Line: 48,
			Name:   "awkward replies — 日本語 ünïcödé 🎉\x1b[31m",
			Status: results.Failed, Runs: 1,
			DurationMS: 5123.456, LatencyMS: results.Percentiles{P50: 1234.5, P90: 2200, P95: 2200, P99: 2200, Max: 2200},
			Turns: []*results.Turn{
				{Index: 1, User: "Say something odd", Reply: "nul\x00 bell\x07 vt\x0b esc\x1b[31mred\x1b[0m bad\xffbyte nonchar\uFFFE end", LatencyMS: 1234.5, Assertions: []results.Assertion{
					fail("equals", "expected the reply to equal \"plain\", got \"nul\x00 bell\x07 vt\x0b esc\x1b[31mred\x1b[0m…\""),
				}},
				{Index: 2, User: "Now on\r\nseveral\nlines\tplease", Reply: "line one\r\nline two\n\n  indented line\r", LatencyMS: 2200, Assertions: []results.Assertion{pass("contains")}},
				{Index: 3, User: "And a long one", Reply: longReply, LatencyMS: 1000, Assertions: []results.Assertion{
					fail("max_latency", "expected a reply within 500ms, took 1s"),
				}},
			},
		},
	}

	return &results.Run{
		Schema:     results.Schema,
		RunID:      "run-2025-01-02-0001",
		StartedAt:  time.Date(2025, 1, 2, 15, 4, 5, 0, time.FixedZone("BRT", -3*3600)),
		DurationMS: 45678.9012,
		Summary: results.Summary{
			Conversations: 9, Passed: 1, Failed: 3, Errored: 2, Flaky: 1, Skipped: 1, Unfinished: 1,
			Turns: 11, TurnErrors: 1,
			LatencyMS: results.Percentiles{P50: 950, P90: 2410, P95: 30000, P99: 30000, Max: 30000},
		},
		Suites: []results.Suite{
			{Name: "refunds", File: "examples/refunds.yaml", Provider: "opencx", DurationMS: 9500.1234},
			{Name: `billing & <support>`, File: "suites/billing.yaml", Provider: "toolzz", DurationMS: 36123.4},
		},
		Conversations: convs,
	}
}

// emptyRun is a run where nothing was selected.
func emptyRun() *results.Run {
	return &results.Run{
		Schema:    results.Schema,
		RunID:     "run-empty",
		StartedAt: time.Date(2025, 1, 2, 18, 4, 5, 0, time.UTC),
	}
}
