package assert

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

func boolp(b bool) *bool            { return &b }
func strp(s string) *string         { return &s }
func text(s string) providers.Reply { return providers.Reply{Text: s} }

// longReply is 212 characters, so that messages cut it.
var longReply = "Sorry, I can only help with questions about orders, refunds and deliveries. " +
	"For anything else, please write to support@example.com and a person from our team will get back to you " +
	"within two working days. Thanks!!"

// checkCase is one expect key against one reply; the expect must give exactly one check.
type checkCase struct {
	name     string
	expect   legacyExpect
	reply    providers.Reply
	nilReply bool
	latency  time.Duration
	// message is the exact failure message; "" means the check must pass.
	message string
}

func runChecks(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks := Turn(lx(&c.expect))
			if len(checks) != 1 {
				t.Fatalf("Turn gave %d checks, want 1", len(checks))
			}
			r := &c.reply
			if c.nilReply {
				r = nil
			}
			a := checks[0].Check(NewObservation(r, c.latency))
			if a.Check != checks[0].Name() {
				t.Errorf("assertion check = %q, want %q", a.Check, checks[0].Name())
			}
			wellFormed(t, a)
			if c.message == "" {
				if !a.Passed {
					t.Fatalf("failed, want pass: %s", a.Message)
				}
				return
			}
			if a.Passed {
				t.Fatalf("passed, want failure %q", c.message)
			}
			if a.Message != c.message {
				t.Errorf("message:\n got %s\nwant %s", a.Message, c.message)
			}
		})
	}
}

// wellFormed checks what every assertion must carry.
func wellFormed(t *testing.T, a results.Assertion) {
	t.Helper()
	if a.Check == "" {
		t.Error("assertion without a check name")
	}
	if a.Passed {
		if a.Message != "" || a.Expected != "" || a.Actual != "" {
			t.Errorf("passing assertion carries %+v", a)
		}
		return
	}
	if a.Message == "" || a.Expected == "" || a.Actual == "" {
		t.Errorf("failing assertion lacks a field: %+v", a)
	}
	for _, s := range []string{a.Message, a.Expected, a.Actual} {
		if strings.ContainsAny(s, "\n\r") {
			t.Errorf("assertion field spans lines: %q", s)
		}
	}
	if len([]rune(a.Expected)) > width+20 || len([]rune(a.Actual)) > width+20 {
		t.Errorf("expected/actual not shortened: %+v", a)
	}
}

func TestContains(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "present", expect: legacyExpect{Contains: []string{"refund"}}, reply: text("Your refund is on its way.")},
		{name: "other case", expect: legacyExpect{Contains: []string{"REFUND"}}, reply: text("Your refund is on its way.")},
		{name: "accented letters", expect: legacyExpect{Contains: []string{"ÇA VA"}}, reply: text("Oui, ça va très bien.")},
		{name: "greek final sigma", expect: legacyExpect{Contains: []string{"ΣΊΣΥΦΟΣ"}}, reply: text("ο σίσυφος")},
		{name: "kelvin sign", expect: legacyExpect{Contains: []string{"5 kelvin"}}, reply: text("about 5 \u212aELVIN")},
		{name: "sharp s capital", expect: legacyExpect{Contains: []string{"straße"}}, reply: text("STRA\u1e9eE")},
		{name: "sharp s is not ss", expect: legacyExpect{Contains: []string{"straße"}}, reply: text("STRASSE"),
			message: `expected the reply to contain "straße", got "STRASSE"`},
		{name: "absent", expect: legacyExpect{Contains: []string{"refund"}}, reply: text("I can't help."),
			message: `expected the reply to contain "refund", got "I can't help."`},
		{name: "absent in a long reply", expect: legacyExpect{Contains: []string{"warranty"}}, reply: text(longReply),
			message: `expected the reply to contain "warranty", got "Sorry, I can only help with questions about orders, refunds and deliveries. For anything else…" (212 chars)`},
		{name: "silent", expect: legacyExpect{Contains: []string{"refund"}}, reply: providers.Reply{Silent: true},
			message: `expected the reply to contain "refund", but the bot said nothing`},
		{name: "blank text", expect: legacyExpect{Contains: []string{"refund"}}, reply: text(" \n "),
			message: `expected the reply to contain "refund", but the bot said nothing`},
		{name: "nil reply", expect: legacyExpect{Contains: []string{"refund"}}, nilReply: true,
			message: `expected the reply to contain "refund", but the bot said nothing`},
	})
}

func TestNotContains(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "absent", expect: legacyExpect{NotContains: []string{"I don't know"}}, reply: text("Your refund is on its way.")},
		{name: "present", expect: legacyExpect{NotContains: []string{"i DON'T know"}}, reply: text("Well, I don't know."),
			message: `expected the reply not to contain "i DON'T know", got "Well, I don't know."`},
		{name: "unicode case", expect: legacyExpect{NotContains: []string{"no sé"}}, reply: text("Lo siento, NO SÉ."),
			message: `expected the reply not to contain "no sé", got "Lo siento, NO SÉ."`},
		{name: "present deep in a long reply", expect: legacyExpect{NotContains: []string{"two working days"}}, reply: text(longReply),
			message: `expected the reply not to contain "two working days", got "…and a person from our team will get back to you within two working days. Thanks!!" (212 chars)`},
		{name: "after multibyte folding", expect: legacyExpect{NotContains: []string{"days"}},
			reply:   text(strings.Repeat("\u212a", 60) + " and then " + strings.Repeat("x", 30) + " DAYS " + strings.Repeat("y", 80)),
			message: `expected the reply not to contain "days", got "…and then xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx DAYS yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…" (186 chars)`},
		{name: "silent", expect: legacyExpect{NotContains: []string{"I don't know"}}, reply: providers.Reply{Silent: true},
			message: `expected the reply not to contain "I don't know", but the bot said nothing`},
	})
}

func TestEquals(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "same", expect: legacyExpect{Equals: strp("Hello!")}, reply: text("Hello!")},
		{name: "surrounding white space", expect: legacyExpect{Equals: strp(" Hello!\n")}, reply: text("\n\tHello!  ")},
		{name: "case differs", expect: legacyExpect{Equals: strp("Hello!")}, reply: text("hello!"),
			message: `expected the reply to equal "Hello!", got "hello!" (they differ only in letter case)`},
		{name: "inner white space differs", expect: legacyExpect{Equals: strp("Hello there")}, reply: text("Hello\nthere"),
			message: `expected the reply to equal "Hello there", got "Hello there" (they differ only in white space)`},
		{name: "different", expect: legacyExpect{Equals: strp("Hello!")}, reply: text("Goodbye."),
			message: `expected the reply to equal "Hello!", got "Goodbye."`},
		{name: "silent", expect: legacyExpect{Equals: strp("Hello!")}, reply: providers.Reply{Silent: true, Text: "ignored"},
			message: `expected the reply to equal "Hello!", but the bot said nothing`},
		{name: "blank expected, silent reply", expect: legacyExpect{Equals: strp("")}, reply: providers.Reply{Silent: true}},
	})
}

func TestRegex(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "matches anywhere", expect: legacyExpect{Regex: []string{`TCK-\d+`}}, reply: text("Your ticket is TCK-1234.")},
		{name: "case counts", expect: legacyExpect{Regex: []string{`tck-\d+`}}, reply: text("Your ticket is TCK-1234."),
			message: `expected the reply to match /tck-\d+/, got "Your ticket is TCK-1234."`},
		{name: "inline flag", expect: legacyExpect{Regex: []string{`(?i)tck-\d+`}}, reply: text("Your ticket is TCK-1234.")},
		{name: "no match", expect: legacyExpect{Regex: []string{`TCK-\d+`}}, reply: text("No ticket."),
			message: `expected the reply to match /TCK-\d+/, got "No ticket."`},
		{name: "silent", expect: legacyExpect{Regex: []string{`^$`}}, reply: providers.Reply{Silent: true},
			message: `expected the reply to match /^$/, but the bot said nothing`},
		{name: "invalid after templating", expect: legacyExpect{Regex: []string{`(`}}, reply: text("x"),
			message: "invalid regex /(/: error parsing regexp: missing closing ): `(`"},
	})
}

func TestReplyKey(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "replied", expect: legacyExpect{Reply: boolp(true)}, reply: text("Hi")},
		{name: "silent when a reply was expected", expect: legacyExpect{Reply: boolp(true)}, reply: providers.Reply{Silent: true},
			message: "expected the bot to reply, but it said nothing"},
		{name: "blank when a reply was expected", expect: legacyExpect{Reply: boolp(true)}, reply: text("  "),
			message: "expected the bot to reply, but it said nothing"},
		{name: "silent", expect: legacyExpect{Reply: boolp(false)}, reply: providers.Reply{Silent: true}},
		{name: "blank", expect: legacyExpect{Reply: boolp(false)}, reply: text("\n")},
		{name: "spoke when silence was expected", expect: legacyExpect{Reply: boolp(false)}, reply: text("An agent will\njoin shortly."),
			message: `expected the bot to stay silent, got "An agent will join shortly."`},
	})
}

func TestFlags(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "might_solve true", expect: legacyExpect{MightSolve: boolp(true)}, reply: providers.Reply{MightSolve: boolp(true)}},
		{name: "might_solve false", expect: legacyExpect{MightSolve: boolp(false)}, reply: providers.Reply{MightSolve: boolp(false)}},
		{name: "might_solve differs", expect: legacyExpect{MightSolve: boolp(true)}, reply: providers.Reply{MightSolve: boolp(false)},
			message: "expected might_solve to be true, got false"},
		{name: "might_solve not reported", expect: legacyExpect{MightSolve: boolp(false)}, reply: text("hi"),
			message: "expected might_solve to be false, but it was not reported by this reply"},
		{name: "fully_covered", expect: legacyExpect{FullyCovered: boolp(false)}, reply: providers.Reply{FullyCovered: boolp(false)}},
		{name: "fully_covered differs", expect: legacyExpect{FullyCovered: boolp(false)}, reply: providers.Reply{FullyCovered: boolp(true)},
			message: "expected fully_covered to be false, got true"},
		{name: "fully_covered not reported", expect: legacyExpect{FullyCovered: boolp(true)}, reply: providers.Reply{MightSolve: boolp(true)},
			message: "expected fully_covered to be true, but it was not reported by this reply"},
		{name: "handoff", expect: legacyExpect{Handoff: boolp(true)}, reply: providers.Reply{Handoff: boolp(true)}},
		{name: "handoff differs", expect: legacyExpect{Handoff: boolp(false)}, reply: providers.Reply{Handoff: boolp(true)},
			message: "expected handoff to be false, got true"},
		{name: "handoff not reported", expect: legacyExpect{Handoff: boolp(false)}, reply: text("hi"),
			message: "expected handoff to be false, but it was not reported by this reply"},
	})
}

func TestTransferBot(t *testing.T) {
	const id = "7d2c1a9e-8f1b-4c1e-9a1d-2b3c4d5e6f70"
	runChecks(t, []checkCase{
		{name: "same bot", expect: legacyExpect{TransferBot: strp(id)}, reply: providers.Reply{TransferBot: id}},
		{name: "same bot, other case", expect: legacyExpect{TransferBot: strp(strings.ToUpper(id))}, reply: providers.Reply{TransferBot: id}},
		{name: "other bot", expect: legacyExpect{TransferBot: strp(id)}, reply: providers.Reply{TransferBot: "b0b"},
			message: `expected a transfer to bot "` + id + `", got a transfer to bot "b0b"`},
		{name: "no transfer", expect: legacyExpect{TransferBot: strp(id)}, reply: text("hi"),
			message: `expected a transfer to bot "` + id + `", but there was no transfer`},
	})
}

func TestAction(t *testing.T) {
	calls := []providers.Action{
		{Name: "lookup_order", Args: map[string]any{"id": "ord_42"}},
		{Name: "create_refund_ticket", Args: map[string]any{
			"order_id": "ord_42",
			"amount":   float64(42),
			"count":    json.Number("3.0"),
			"meta":     map[string]any{"channel": "web", "lang": "en"},
			"tags":     []any{"a", "b"},
			"note":     nil,
		}},
	}
	withCalls := providers.Reply{Text: "done", Actions: calls}
	act := func(name string, args map[string]any) legacyExpect {
		return legacyExpect{Actions: []suites.ActionExpect{{Name: name, Args: args}}}
	}
	const called = `the bot called: lookup_order {"id":"ord_42"}; create_refund_ticket {"amount":42,"count":3.0,"meta":{"channel":"web","lang":"en"},"note":null,"order_id":"ord_42","tags":["a","b"]}`
	runChecks(t, []checkCase{
		{name: "name only", expect: act("create_refund_ticket", nil), reply: withCalls},
		{name: "args subset", expect: act("create_refund_ticket", map[string]any{"order_id": "ord_42"}), reply: withCalls},
		{name: "yaml int equals json float", expect: act("create_refund_ticket", map[string]any{"amount": 42, "count": 3}), reply: withCalls},
		{name: "nested map subset", expect: act("create_refund_ticket", map[string]any{"meta": map[string]any{"lang": "en"}}), reply: withCalls},
		{name: "list exact", expect: act("create_refund_ticket", map[string]any{"tags": []any{"a", "b"}}), reply: withCalls},
		{name: "null arg", expect: act("create_refund_ticket", map[string]any{"note": nil}), reply: withCalls},
		{name: "not called", expect: act("cancel_order", nil), reply: withCalls,
			message: `expected a call to action "cancel_order", but ` + called},
		{name: "no actions at all", expect: act("cancel_order", nil), reply: text("hi"),
			message: `expected a call to action "cancel_order", but the bot called no actions`},
		{name: "arg differs", expect: act("create_refund_ticket", map[string]any{"order_id": "ord_41"}), reply: withCalls,
			message: `expected a call to action "create_refund_ticket" with args {"order_id":"ord_41"}, but no call matched (order_id: expected "ord_41", got "ord_42"); ` + called},
		{name: "string never equals number", expect: act("create_refund_ticket", map[string]any{"amount": "42"}), reply: withCalls,
			message: `expected a call to action "create_refund_ticket" with args {"amount":"42"}, but no call matched (amount: expected "42" (a string), got 42 (a number)); ` + called},
		{name: "number never equals string", expect: act("lookup_order", map[string]any{"id": 42}), reply: withCalls,
			message: `expected a call to action "lookup_order" with args {"id":42}, but no call matched (id: expected 42 (a number), got "ord_42" (a string)); ` + called},
		{name: "arg missing", expect: act("lookup_order", map[string]any{"email": "a@b.c"}), reply: withCalls,
			message: `expected a call to action "lookup_order" with args {"email":"a@b.c"}, but no call matched (email: missing); ` + called},
		{name: "nested value differs", expect: act("create_refund_ticket", map[string]any{"meta": map[string]any{"lang": "pt"}}), reply: withCalls,
			message: `expected a call to action "create_refund_ticket" with args {"meta":{"lang":"pt"}}, but no call matched (meta.lang: expected "pt", got "en"); ` + called},
		{name: "list is not a subset", expect: act("create_refund_ticket", map[string]any{"tags": []any{"a"}}), reply: withCalls,
			message: `expected a call to action "create_refund_ticket" with args {"tags":["a"]}, but no call matched (tags: expected 1 item, got 2); ` + called},
	})
}

func TestActionMatchesAnyCallOfTheName(t *testing.T) {
	r := &providers.Reply{Text: "ok", Actions: []providers.Action{
		{Name: "notify", Args: map[string]any{"to": "ana"}},
		{Name: "notify", Args: map[string]any{"to": "bob"}},
	}}
	e := &legacyExpect{Actions: []suites.ActionExpect{{Name: "notify", Args: map[string]any{"to": "bob"}}}}
	if a := Turn(lx(e))[0].Check(NewObservation(r, 0)); !a.Passed {
		t.Fatalf("the second call should match: %s", a.Message)
	}
}

func TestKnowledge(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "used", expect: legacyExpect{Knowledge: []string{"faq"}}, reply: providers.Reply{Knowledge: []string{"pricing", "FAQ"}}},
		{name: "not used", expect: legacyExpect{Knowledge: []string{"faq"}}, reply: providers.Reply{Knowledge: []string{"pricing", "shipping"}},
			message: `expected knowledge source "faq" to be used, but the reply used "pricing", "shipping"`},
		{name: "whole names only", expect: legacyExpect{Knowledge: []string{"faq"}}, reply: providers.Reply{Knowledge: []string{"faq-old"}},
			message: `expected knowledge source "faq" to be used, but the reply used "faq-old"`},
		{name: "none used", expect: legacyExpect{Knowledge: []string{"faq"}}, reply: text("hi"),
			message: `expected knowledge source "faq" to be used, but the reply used no knowledge sources`},
	})
}

func TestMode(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "same", expect: legacyExpect{Mode: strp("refunds")}, reply: providers.Reply{Mode: "refunds"}},
		{name: "other case", expect: legacyExpect{Mode: strp("Refunds")}, reply: providers.Reply{Mode: "refunds"}},
		{name: "other mode", expect: legacyExpect{Mode: strp("refunds")}, reply: providers.Reply{Mode: "billing"},
			message: `expected mode "refunds", got "billing"`},
		{name: "no mode", expect: legacyExpect{Mode: strp("refunds")}, reply: text("hi"),
			message: `expected mode "refunds", but no mode was reported`},
	})
}

func TestMaxLatency(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "under", expect: legacyExpect{MaxLatency: 5 * time.Second}, latency: 1200 * time.Millisecond},
		{name: "exactly", expect: legacyExpect{MaxLatency: 5 * time.Second}, latency: 5 * time.Second},
		{name: "over", expect: legacyExpect{MaxLatency: 5 * time.Second}, latency: 7234567891,
			message: "expected a reply within 5s, took 7.23s"},
		{name: "barely over", expect: legacyExpect{MaxLatency: 5 * time.Second}, latency: 5004 * time.Millisecond,
			message: "expected a reply within 5s, took 5.004s"},
		{name: "milliseconds", expect: legacyExpect{MaxLatency: 500 * time.Millisecond}, latency: 734567 * time.Microsecond,
			message: "expected a reply within 500ms, took 735ms"},
		{name: "minutes", expect: legacyExpect{MaxLatency: time.Minute}, latency: 123456 * time.Millisecond,
			message: "expected a reply within 1m0s, took 2m3s"},
	})
}

func TestTurnOrderAndItems(t *testing.T) {
	e := &legacyExpect{
		Contains:   []string{"a", "b"},
		Regex:      []string{"x"},
		MightSolve: boolp(true),
		MaxLatency: time.Second,
		Keys:       []suites.Key{{Name: "regex"}, {Name: "contains"}, {Name: "might_solve"}},
	}
	var got []string
	for _, c := range Turn(lx(e)) {
		got = append(got, c.Name())
	}
	// max_latency is set but missing from Keys: it follows the written keys.
	want := "regex contains contains might_solve max_latency"
	if strings.Join(got, " ") != want {
		t.Errorf("order = %v, want %s", got, want)
	}
	if Turn(nil) != nil {
		t.Error("Turn(nil) should give no checks")
	}
}

func TestTurnUnknownKeyFails(t *testing.T) {
	checks := Turn(lx(&legacyExpect{Keys: []suites.Key{{Name: "contain"}}}))
	if len(checks) != 1 {
		t.Fatalf("got %d checks", len(checks))
	}
	a := checks[0].Check(NewObservation(&providers.Reply{Text: "x"}, 0))
	wellFormed(t, a)
	if a.Passed || a.Message != `evalrun has no check named "contain"` {
		t.Errorf("got %+v", a)
	}
}

func TestTurnItemsFailSeparately(t *testing.T) {
	e := &legacyExpect{Contains: []string{"refund", "ticket"}, Keys: []suites.Key{{Name: "contains"}}}
	o := NewObservation(&providers.Reply{Text: "Your refund is done."}, 0)
	checks := Turn(lx(e))
	if len(checks) != 2 {
		t.Fatalf("got %d checks", len(checks))
	}
	if a := checks[0].Check(o); !a.Passed {
		t.Errorf("first item: %s", a.Message)
	}
	if a := checks[1].Check(o); a.Passed || a.Expected != "ticket" {
		t.Errorf("second item: %+v", a)
	}
}

func TestSparseRepliesDoNotReportDetails(t *testing.T) {
	sparse := providers.Reply{Text: "Your refund is on its way", Sparse: true}
	runChecks(t, []checkCase{
		{name: "action", expect: legacyExpect{Actions: []suites.ActionExpect{{Name: "create_refund_ticket"}}}, reply: sparse,
			message: `expected action "create_refund_ticket", but this reply's shape reports no actions: it was not reported by this reply`},
		{name: "knowledge", expect: legacyExpect{Knowledge: []string{"faq"}}, reply: sparse,
			message: `expected knowledge "faq", but this reply's shape reports no knowledge sources: it was not reported by this reply`},
		{name: "mode", expect: legacyExpect{Mode: strp("refunds")}, reply: sparse,
			message: `expected mode "refunds", but this reply's shape reports no mode: it was not reported by this reply`},
		{name: "text checks still work", expect: legacyExpect{Contains: []string{"refund"}}, reply: sparse},
	})
}
