package assert

import (
	"strings"
	"testing"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

// openCXBody is a flat OpenCX send reply, with a duplicated key at the end.
const openCXBody = `{
  "success": true,
  "code": "ok",
  "autopilotResponse": {
    "type": "text",
    "value": {"content": "Refund TCK-1234 created"},
    "mightSolveUserIssue": true,
    "didExitMode": false,
    "debugInfo": {
      "actionCalls": [{"action": {"name": "create_refund_ticket"}, "arguments": {"order_id": "ord_42", "amount": 42.0}}],
      "knowledge": [{"source": "faq"}, {"source": "pricing"}]
    },
    "mode": {"slug": "refunds", "name": "Refunds"}
  },
  "count": 42.0,
  "id": "42",
  "nothing": null,
  "items": [{"id": 1, "sku": "A"}, {"id": 2, "sku": "B"}],
  "one": [{"id": 7}],
  "dup": 1,
  "dup": 2
}`

func jsonExpect(path string, want any) legacyExpect {
	return legacyExpect{JSON: []suites.JSONExpect{{Path: path, Want: want}}}
}

func TestJSON(t *testing.T) {
	body := providers.Reply{Text: "Refund TCK-1234 created", Raw: []byte(openCXBody)}
	runChecks(t, []checkCase{
		{name: "bool", expect: jsonExpect("$.autopilotResponse.didExitMode", false), reply: body},
		{name: "bool differs", expect: jsonExpect("$.autopilotResponse.didExitMode", true), reply: body,
			message: "expected $.autopilotResponse.didExitMode to be true, got false"},
		{name: "string", expect: jsonExpect("$.autopilotResponse.mode.slug", "refunds"), reply: body},
		{name: "member named like a function", expect: jsonExpect("$.autopilotResponse.value.content", "Refund TCK-1234 created"), reply: body},
		{name: "member named like a function in a filter", expect: jsonExpect("$.items[?@.sku == 'B'].id", 2), reply: body},
		{name: "yaml int equals json float", expect: jsonExpect("$.count", 42), reply: body},
		{name: "yaml float equals json float", expect: jsonExpect("$.count", 42.0), reply: body},
		{name: "number differs", expect: jsonExpect("$.count", 41.5), reply: body,
			message: "expected $.count to be 41.5, got 42.0"},
		{name: "number is not a string", expect: jsonExpect("$.count", "42"), reply: body,
			message: `expected $.count to be "42" (a string), got 42.0 (a number)`},
		{name: "string is not a number", expect: jsonExpect("$.id", 42), reply: body,
			message: `expected $.id to be 42 (a number), got "42" (a string)`},
		{name: "null", expect: jsonExpect("$.nothing", nil), reply: body},
		{name: "null is not the string null", expect: jsonExpect("$.nothing", "null"), reply: body,
			message: `expected $.nothing to be "null" (a string), got null (null)`},
		{name: "object equal", expect: jsonExpect("$.autopilotResponse.mode", map[string]any{"slug": "refunds", "name": "Refunds"}), reply: body},
		{name: "object value differs", expect: jsonExpect("$.autopilotResponse.mode", map[string]any{"slug": "billing", "name": "Refunds"}), reply: body,
			message: `expected $.autopilotResponse.mode to be {"name":"Refunds","slug":"billing"}, got {"slug":"refunds","name":"Refunds"} (slug: expected "billing", got "refunds")`},
		{name: "object has more keys", expect: jsonExpect("$.autopilotResponse.mode", map[string]any{"slug": "refunds"}), reply: body,
			message: `expected $.autopilotResponse.mode to be {"slug":"refunds"}, got {"slug":"refunds","name":"Refunds"} (unexpected key "name")`},
		{name: "several nodes as a list", expect: jsonExpect("$.items[*].id", []any{1, 2}), reply: body},
		{name: "several nodes differ", expect: jsonExpect("$.items[*].sku", []any{"A", "C"}), reply: body,
			message: `expected $.items[*].sku to be ["A","C"], got 2 nodes: ["A","B"] ([1]: expected "C", got "B")`},
		{name: "several nodes, one expected", expect: jsonExpect("$.items[*].id", 1), reply: body,
			message: `expected $.items[*].id to be 1, got 2 nodes: [1,2]`},
		{name: "one node of a wildcard is compared alone", expect: jsonExpect("$.one[*].id", 7), reply: body},
		{name: "list node", expect: jsonExpect("$.items", []any{map[string]any{"id": 1, "sku": "A"}, map[string]any{"id": 2, "sku": "B"}}), reply: body},
		{name: "list node differs deep", expect: jsonExpect("$.items", []any{map[string]any{"id": 1, "sku": "A"}, map[string]any{"id": "2", "sku": "B"}}), reply: body,
			message: `expected $.items to be [{"id":1,"sku":"A"},{"id":"2","sku":"B"}], got [{"id":1,"sku":"A"},{"id":2,"sku":"B"}] ([1].id: expected "2" (a string), got 2 (a number))`},
		{name: "filter on a number", expect: jsonExpect("$.items[?@.id == 2].sku", "B"), reply: body},
		{name: "descendants", expect: jsonExpect("$..knowledge[*].source", []any{"faq", "pricing"}), reply: body},
		{name: "duplicate key: last wins", expect: jsonExpect("$.dup", 2), reply: body},
		{name: "path selects nothing", expect: jsonExpect("$.autopilotResponse.missing", false), reply: body,
			message: "expected $.autopilotResponse.missing to be false, but the path selected nothing"},
		{name: "undecodable", expect: jsonExpect("$.a", 1), reply: providers.Reply{Text: "hi", Raw: []byte("not json")},
			message: "expected $.a to be 1, but the reply body is not JSON (invalid character 'o' in literal null (expecting 'u'))"},
		{name: "truncated", expect: jsonExpect("$.a", 1), reply: providers.Reply{Text: "hi", Raw: []byte(`{"a": 1`)},
			message: "expected $.a to be 1, but the reply body is not JSON (unexpected end of JSON input)"},
		{name: "trailing data", expect: jsonExpect("$.a", 1), reply: providers.Reply{Text: "hi", Raw: []byte(`{"a": 1} {}`)},
			message: "expected $.a to be 1, but the reply body is not JSON (invalid character '{' after top-level value)"},
		{name: "byte order mark", expect: jsonExpect("$.a", 1), reply: providers.Reply{Text: "hi", Raw: []byte("\xef\xbb\xbf{\"a\": 1}")}},
		{name: "escaped and non-ASCII strings", expect: jsonExpect("$.s", "Olá \"mundo\" \U0001F600"), reply: providers.Reply{Text: "hi", Raw: []byte(`{"s": "Ol\u00e1 \"mundo\" \ud83d\ude00"}`)}},
		{name: "raw non-ASCII strings", expect: jsonExpect("$['chave ç']", "ação"), reply: providers.Reply{Text: "hi", Raw: []byte(`{"chave ç": "ação"}`)}},
		{name: "empty body", expect: jsonExpect("$.a", 1), reply: providers.Reply{Text: "hi"},
			message: "expected $.a to be 1, but the reply body is not JSON (the body is empty)"},
		{name: "invalid path after templating", expect: jsonExpect("$[", 1), reply: body,
			message: "invalid JSONPath $[: " + pathError(t, "$[")},
	})
}

func pathError(t *testing.T, path string) string {
	t.Helper()
	_, err := jsonpath.Parse(path)
	if err == nil {
		t.Fatalf("path %q parses", path)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
