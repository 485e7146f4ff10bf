package checks

import (
	"strings"
	"testing"

	"github.com/evalrun/evalrun/providers"
)

// everydayCase is one check against one reply; message "" means it must pass.
type everydayCase struct {
	name    string
	check   Check
	reply   *providers.Reply
	message string
}

func runEveryday(t *testing.T, cases []everydayCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.check.Check(NewObservation(c.reply, 0))
			if a.Check != c.check.Name() {
				t.Errorf("assertion named %q, check %q", a.Check, c.check.Name())
			}
			if c.message == "" {
				if !a.Passed {
					t.Fatalf("failed, want pass: %s", a.Message)
				}
				if a.Message != "" || a.Expected != "" || a.Actual != "" {
					t.Errorf("passing assertion carries %+v", a)
				}
				return
			}
			if a.Passed {
				t.Fatalf("passed, want failure %q", c.message)
			}
			if a.Message != c.message {
				t.Errorf("message:\n got %s\nwant %s", a.Message, c.message)
			}
			if a.Expected == "" || a.Actual == "" || strings.ContainsAny(a.Message+a.Expected+a.Actual, "\r\n") {
				t.Errorf("failing assertion is not well formed: %+v", a)
			}
		})
	}
}

func reply(text string) *providers.Reply { return &providers.Reply{Text: text} }

func TestContainsAny(t *testing.T) {
	runEveryday(t, []everydayCase{
		{"first", ContainsAny([]string{"refund", "return"}), reply("Your refund is on its way."), ""},
		{"second", ContainsAny([]string{"refund", "return"}), reply("Start a return here."), ""},
		{"other case", ContainsAny([]string{"REFUND"}), reply("your refund"), ""},
		{"accented other case", ContainsAny([]string{"ÇA"}), reply("ça va"), ""},
		{"none", ContainsAny([]string{"refund", "return"}), reply("Hello!"),
			`expected the reply to contain one of "refund", "return", got "Hello!"`},
		{"silent", ContainsAny([]string{"refund"}), &providers.Reply{Silent: true},
			`expected the reply to contain one of "refund", but the bot said nothing`},
		{"nil reply", ContainsAny([]string{"refund"}), nil,
			`expected the reply to contain one of "refund", but the bot said nothing`},
	})
}

func TestNotRegex(t *testing.T) {
	runEveryday(t, []everydayCase{
		{"no match", NotRegex(`(?i)error \d+`), reply("All good."), ""},
		{"match", NotRegex(`(?i)error \d+`), reply("Sorry, Error 500 happened."),
			`expected the reply not to match /(?i)error \d+/, but it matched "Error 500" in "Sorry, Error 500 happened."`},
		{"match in a long reply", NotRegex(`support@\S+`), reply(longReply),
			`expected the reply not to match /support@\S+/, but it matched "support@example.com" in "…For anything else, please write to support@example.com and a person from our team will get…" (212 chars)`},
		{"silent", NotRegex(`x`), &providers.Reply{Text: "  "},
			`expected the reply not to match /x/, but the bot said nothing`},
		{"invalid after templating", NotRegex(`(`), reply("x"),
			"invalid regex /(/: error parsing regexp: missing closing ): `(`"},
	})
}

func TestLength(t *testing.T) {
	both := LengthBounds{Min: 3, Max: 5}
	runEveryday(t, []everydayCase{
		{"within", Length(both), reply("abcd"), ""},
		{"at min", Length(both), reply("abc"), ""},
		{"at max", Length(both), reply("abcde"), ""},
		{"white space around does not count", Length(both), reply("  abc \n"), ""},
		{"characters, not bytes", Length(both), reply("ação!"), ""},
		{"too short", Length(both), reply("ab"),
			`expected a reply of between 3 and 5 characters, got 2 characters: "ab"`},
		{"too long", Length(both), reply("abcdef"),
			`expected a reply of between 3 and 5 characters, got 6 characters: "abcdef"`},
		{"min only", Length(LengthBounds{Min: 1, Max: -1}), reply(longReply), ""},
		{"max only", Length(LengthBounds{Min: -1, Max: 200}), reply(longReply),
			`expected a reply of at most 200 characters, got 212 characters: "Sorry, I can only help with questions about orders, refunds and deliveries. For anything else…" (212 chars)`},
		{"one character", Length(LengthBounds{Min: 2, Max: -1}), reply("a"),
			`expected a reply of at least 2 characters, got 1 character: "a"`},
		{"silent", Length(LengthBounds{Min: -1, Max: 10}), &providers.Reply{Silent: true},
			`expected a reply of at most 10 characters, but the bot said nothing`},
	})
}

func TestJSONCompare(t *testing.T) {
	body := &providers.Reply{Text: "ok", Raw: []byte(`{"count": 42.0, "n": 7, "id": "TCK-42", "big": 9007199254740993,
		"status": "open", "items": [{"id": 1}, {"id": 2}], "nothing": null, "obj": {"a": 1}}`)}
	op := func(path string, ops ...JSONOp) Check { return JSONCompare(path, ops) }
	runEveryday(t, []everydayCase{
		{"gt", op("$.count", JSONOp{OpGt, 41}), body, ""},
		{"gt fails on equal", op("$.count", JSONOp{OpGt, 42}), body,
			"expected $.count to be greater than 42, got 42.0"},
		{"gte", op("$.count", JSONOp{OpGte, 42}), body, ""},
		{"lt", op("$.n", JSONOp{OpLt, 7.5}), body, ""},
		{"lte fails", op("$.n", JSONOp{OpLte, 6}), body, "expected $.n to be at most 6, got 7"},
		{"range", op("$.n", JSONOp{OpGte, 1}, JSONOp{OpLt, 10}), body, ""},
		{"range names the bound that fails", op("$.n", JSONOp{OpGte, 1}, JSONOp{OpLt, 5}), body,
			"expected $.n to be less than 5, got 7"},
		{"large integers compare exactly", op("$.big", JSONOp{OpGt, 9007199254740992}), body, ""},
		{"a string is not a number", op("$.id", JSONOp{OpGt, 1}), body,
			`expected $.id to be greater than 1, got "TCK-42" (a string)`},
		{"ne", op("$.status", JSONOp{OpNe, "closed"}), body, ""},
		{"ne fails", op("$.status", JSONOp{OpNe, "open"}), body, `expected $.status to be other than "open", got "open"`},
		{"ne a string against a number", op("$.n", JSONOp{OpNe, "7"}), body, ""},
		{"in", op("$.status", JSONOp{OpIn, []any{"open", "pending"}}), body, ""},
		{"in numbers", op("$.count", JSONOp{OpIn, []any{41, 42}}), body, ""},
		{"in fails", op("$.status", JSONOp{OpIn, []any{"closed", "pending"}}), body,
			`expected $.status to be one of ["closed","pending"], got "open"`},
		{"exists", op("$.nothing", JSONOp{OpExists, true}), body, ""},
		{"exists fails", op("$.missing", JSONOp{OpExists, true}), body,
			"expected $.missing to be present, but the path selected nothing"},
		{"exists false", op("$.missing", JSONOp{OpExists, false}), body, ""},
		{"exists false fails", op("$.obj", JSONOp{OpExists, false}), body,
			`expected $.obj to be absent, got {"a":1}`},
		{"regex", op("$.id", JSONOp{OpRegex, `^TCK-\d+$`}), body, ""},
		{"regex fails", op("$.id", JSONOp{OpRegex, `^INC-`}), body,
			`expected $.id to be a string matching /^INC-/, got "TCK-42"`},
		{"regex on a number", op("$.n", JSONOp{OpRegex, `7`}), body,
			`expected $.n to be a string matching /7/, got 7 (a number)`},
		{"nothing selected", op("$.missing", JSONOp{OpGt, 1}), body,
			"expected $.missing to be greater than 1, but the path selected nothing"},
		{"several nodes", op("$.items[*].id", JSONOp{OpGt, 0}), body,
			"expected $.items[*].id to be greater than 0, got 2 nodes: [1,2]"},
		{"in a list of lists", op("$.items[*].id", JSONOp{OpIn, []any{[]any{1, 2}}}), body, ""},
		{"not JSON", op("$.a", JSONOp{OpExists, true}), &providers.Reply{Text: "hi", Raw: []byte("<html>")},
			"expected $.a to be present, but the reply body is not JSON (invalid character '<' looking for beginning of value)"},
		{"invalid regex after templating", op("$.id", JSONOp{OpRegex, `(`}), body,
			"cannot check $.id to be a string matching /(/: error parsing regexp: missing closing ): `(`"},
	})
}
