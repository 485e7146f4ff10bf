package suites

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// env returns a LookupEnv that knows exactly vars.
func env(vars map[string]string) Options {
	return Options{LookupEnv: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}}
}

// TestLoadBadFixtures pins, for one fixture per kind of mistake, the complete
// list of errors: every position was counted by hand from the fixture (line,
// then column of the offending key or value, 1-based, as editors count).
func TestLoadBadFixtures(t *testing.T) {
	toolzzAnswers := "contains, contains_any, not_contains, equals, regex, not_regex, length, handoff, transfer_bot, reply, max_latency, judge, similar, json"
	tests := []struct {
		file string
		want []string
	}{
		{"unknown_key_suite.yaml", []string{
			`6:1: unknown key "varz" in the suite; did you mean "vars"?`,
		}},
		{"unknown_key_provider.yaml", []string{
			`3:3: unknown key "rate_limt" in provider; did you mean "rate_limit"?`,
		}},
		{"http_provider.yaml", []string{
			`2:3: provider: http has no default base_url; add base_url: with the bot's address`,
			`3:15: rate_limit: want requests per time such as 100/min, 5/s or 1000/h, or none, got "lots"`,
			`4:13: max_body: want a size such as 10MiB, 512KiB or 1048576 (bytes), got "10 parsecs"`,
			`5:3: poll_interval: only opencx providers use it; remove it`,
			`7:13: method: want GET, POST, PUT or PATCH, got "DELETE"`,
			`8:11: path: want a path under base_url starting with /, such as /webhooks/rest/webhook, got "webhook"`,
			`9:18: {{messages}} must be a whole value (body: {messages: "{{messages}}"}): it becomes a list, not text`,
			`9:51: {{nobody}} is not defined: an http request can use {{message}}, {{conversation_id}}, {{messages}} and the suite's vars`,
			`11:5: response: needs text: with a JSONPath to the reply's text, such as $.reply`,
			`11:22: conversation_id: "$.id[" is not a valid JSONPath: ` + jsonPathTail(`$.id[`),
			`15:9: agent: only opencx can send a message as a human agent`,
			`16:9: take_over: only opencx has should_take_over_session_from_ai`,
		}},
		{"load_section.yaml", []string{
			`3:3: load: rate (open model) and vus (closed model) exclude each other; keep one`,
			`5:12: stages: "5s" is not DURATION:TARGET, such as 30s:50`,
			`5:18: stages: "x:40": the duration "x" is not a positive duration such as 30s`,
			`5:26: stages: want "DURATION:TARGET" such as "30s:50", or {duration: 30s, target: 50}`,
			`6:13: duration: must not be negative, got "-1s"; want a duration such as 5s or 1m30s`,
			`7:18: max_in_flight: want a whole number from 1 to 100000, got 0`,
			`8:3: unknown key "ramp" in load; want one of rate, vus, duration, stages, think_time, max_in_flight, grace`,
		}},
		// Every cap of limits.go, each refused with the value and the limit.
		{"limits.yaml", []string{
			`1:50: retries: 1000 is more than 100, the most a suite may ask for`,
			`1:65: timeout: "9999999999h" is more than 24h, the most a suite may ask for`,
			`1:93: reply_timeout: "25h" is more than 24h, the most a suite may ask for`,
			`2:20: repeat: 3000000000 is more than 10000, the most a suite may ask for`,
			`2:44: think_time: "48h" is more than 24h, the most a suite may ask for`,
			`4:9: rate: 1e12 is more than 100000 conversations per second, the most a load test may ask for`,
			`5:12: stages: "1m:Inf": the target "Inf" is more than 100000 conversations per second, the most a load test may ask for`,
			`5:22: stages: "1m:NaN": the target "NaN" is not a rate such as 50 (conversations per second)`,
			`5:32: stages: "200h:5": the duration "200h" is more than 168h, the most a load test may ask for`,
			`5:42: stages: "1m:1e12": the target "1e12" is more than 100000 conversations per second, the most a load test may ask for`,
			`5:76: target: .inf is more than 100000 conversations per second, the most a load test may ask for`,
			`5:106: target: want a number of conversations per second, 0 or more, got the number .nan`,
			`6:13: duration: "169h" is more than 168h, the most a suite may ask for`,
			`7:10: grace: must not be negative, got "-5s"; want a duration such as 5s or 1m30s`,
			`8:18: max_in_flight: want a whole number from 1 to 100000, got the number 99999999999999999999`,
			`10:23: repeat: 10001 is more than 10000, the most a suite may ask for`,
			`10:42: think_time: must not be negative, got "-1m"; want a duration such as 5s or 1m30s`,
			`10:88: max_latency: "100000h" is more than 24h, the most a suite may ask for`,
			`14:14: rate: .inf is more than 100000 conversations per second, the most a load test may ask for`,
			`14:25: vus: 100001 is more than 100000, the most a suite may ask for`,
			`20:14: rate: want a number greater than 0 such as 50 or 2.5, got the number .nan`,
		}},
		// $NAME without braces is sent as written; only provider values are
		// checked, since a message or a regex may well hold a $.
		{"bare_env_ref.yaml", []string{
			`3:13: base_url: $API_HOST is not read from the environment; write ${API_HOST} (or $$API_HOST for the literal text)`,
			`4:10: token: $OPENCX_API_KEY is not read from the environment; write ${OPENCX_API_KEY} (or $$OPENCX_API_KEY for the literal text)`,
			`5:20: headers: $ENV_NAME is not read from the environment; write ${ENV_NAME} (or $$ENV_NAME for the literal text)`,
		}},
		{"thresholds.yaml", []string{
			`3:5: thresholds: unknown metric "turn_latncy": did you mean turn_latency?`,
			`4:22: thresholds: unknown operator "=>": did you mean >=?`,
			`5:18: thresholds: error_rate is a fraction between 0 and 1: write 0.05 or 5%`,
			`6:5: thresholds: dropped counts conversations: write a whole number, like 0 or 10, not 1.5`,
		}},
		{"unknown_keys_nested.yaml", []string{
			`2:12: unknown key "repaet" in defaults; did you mean "repeat"?`,
			`5:5: unknown key "tag" in conversation; did you mean "tags"?`,
			`6:15: unknown key "contacts" in session; did you mean "contact"?`,
			`9:9: unknown key "expcet" in turn; did you mean "expect"?`,
			`11:18: unknown key "contain" in expect; did you mean "contains"?`,
			`11:48: unknown key "arg" in action; did you mean "args"?`,
			`12:37: unknown key "jsn" in capture t; did you mean "json"?`,
			`13:13: unknown key "sentimet" in final; did you mean "sentiment"?`,
		}},
		{"wrong_types_provider.yaml", []string{
			`3:12: retries: want a whole number from 0 to 100, got -1`,
			`4:12: timeout: want a duration such as 5s or 1m30s, got the bare number 5 (add a unit)`,
			`5:18: headers.X-A: want a string, number or boolean, got a list`,
			`6:20: repeat: want a whole number from 1 to 10000, got 0`,
			`6:38: min_pass_rate: want a number from 0 to 1 such as 0.8, got 1.5`,
			`7:11: vars.a: want a string, number or boolean, got a mapping`,
		}},
		{"wrong_types_conversation.yaml", []string{
			`4:11: tags: want a list, got "smoke"`,
			`5:11: skip: want true, false or a reason such as "waiting for BOT-12", got the integer 3`,
			`6:12: turns: want a list, got "hello"`,
			`10:27: handoff: want true or false, got "true" (a quoted string; remove the quotes)`,
			`10:48: might_solve: want true or false, got "yes" (text in YAML 1.2; write true or false)`,
			`10:63: contains: want a string or a list of strings, got a mapping`,
			`11:15: user: want a string, got a list`,
			`12:26: action: want a string, got the boolean true (quote it if you mean the text)`,
			`12:39: reply: want true or false, got the integer 1`,
		}},
		{"duplicate_keys.yaml", []string{
			`8:11: duplicate key "contains": first set at line 7; keep only one`,
			`10:9: duplicate key "user": first set at line 9; keep only one`,
			`11:11: duplicate conversation name "greeting": first used at line 3; names must be unique within a suite`,
		}},
		// The mistake is the missing "]" of the list opened on line 4.
		{"syntax_unclosed_flow.yaml", []string{
			`4:5: YAML syntax error: did not find expected ',' or ']'`,
		}},
		// yaml.v3 blames line 3 (where the mapping starts); the key that
		// breaks it is on line 6.
		{"syntax_bad_indent.yaml", []string{
			`6:6: YAML syntax error: did not find expected key`,
		}},
		// The tab is the first character of line 4.
		{"syntax_tab.yaml", []string{
			`4:1: YAML syntax error: a tab in the indentation; YAML indents with spaces only, so replace the tab with spaces`,
		}},
		{"bad_regex_expect.yaml", []string{
			`8:25: regex: "TCK-(\\d+" is not a valid RE2 regular expression: missing closing )`,
			`8:53: regex: "({{ticket}}" is not a valid RE2 regular expression: missing closing )`,
		}},
		{"bad_regex_capture.yaml", []string{
			`7:27: regex: "[a-" is not a valid RE2 regular expression: missing closing ]`,
		}},
		{"bad_durations.yaml", []string{
			`1:35: timeout: want a duration such as 5s or 1m30s, got "10 seconds"`,
			`2:24: think_time: must not be negative, got "-1s"; want a duration such as 5s or 1m30s`,
			`7:31: max_latency: must be more than 0; want a duration such as 5s or 1m30s`,
		}},
		{"unknown_provider_type.yaml", []string{
			`2:9: type: unknown provider type "opncx"; did you mean "opencx"?`,
		}},
		{"missing_provider.yaml", []string{
			`1:1: missing provider: add provider with type: http or opencx or toolzz`,
		}},
		{"toolzz_without_bot_id.yaml", []string{
			`2:3: provider: toolzz needs bot_id, the id of the bot to talk to`,
		}},
		{"bot_id_on_opencx.yaml", []string{
			`1:26: bot_id: opencx does not use bot_id; remove it`,
		}},
		{"turn_without_user.yaml", []string{
			`5:9: turn 1 has no user; add user: with the message to send (or agent: for a human agent's message)`,
			`6:15: user: must not be empty; want the message to send`,
			// An empty value sits just after its key's colon.
			`7:14: user: must not be empty; want the message to send`,
		}},
		{"undefined_var.yaml", []string{
			`6:24: {{ticket}} is not defined: session values can use only vars, since no turn has run yet; add it to vars`,
			`8:15: {{nope}} is not defined: add it to vars or capture it in an earlier turn`,
			`9:28: {{ticket}} is captured by this same turn, so it is defined only from the next turn on`,
			`11:15: {{later}} is not defined yet: it is captured only later, in turn 3; use it after that turn or add it to vars`,
			`14:30: {{ghost}} is not defined: add it to vars or capture it in an earlier turn`,
		}},
		{"bad_template_name.yaml", []string{
			`2:8: vars: "order-id" is not a valid variable name; use letters, digits and _, not starting with a digit`,
			`5:20: "{{order-id}}" is not a valid template; names use letters, digits and _, not starting with a digit, as in {{order_id}}`,
		}},
		{"provider_template.yaml", []string{
			`3:22: headers: templates are not expanded in provider; use ${VAR} to read a value from the environment`,
		}},
		{"final_keys_toolzz.yaml", []string{
			`4:33: mode: the toolzz provider cannot answer this check; it answers ` + toolzzAnswers,
			`5:28: sentiment: the toolzz provider cannot answer this final check; it answers handoff, judge`,
		}},
		{"expect_key_opencx.yaml", []string{
			`4:33: transfer_bot: the opencx provider cannot answer this check; it answers contains, contains_any, not_contains, equals, regex, not_regex, length, might_solve, fully_covered, handoff, action, knowledge, mode, reply, max_latency, judge, similar, json`,
		}},
		{"empty_conversations.yaml", []string{
			`2:16: conversations: the list is empty; add at least one conversation`,
		}},
		{"missing_conversations.yaml", []string{
			`1:1: missing conversations: add a list of conversations, each with a name and turns`,
		}},
		{"empty_turns.yaml", []string{
			`4:12: turns: the list is empty; add at least one turn with user`,
			`5:5: conversation has no turns; add turns: with at least one user message`,
		}},
		{"missing_env.yaml", []string{
			`1:33: environment variable OPENCX_API_KEY is not set; set it, or write $${OPENCX_API_KEY} for the literal text`,
			`4:20: environment variable USER_NAME is not set; set it, or write $${USER_NAME} for the literal text`,
			`4:20: "${" must start a reference such as ${OPENCX_API_KEY} (letters, digits and _); write $$ for a literal $`,
		}},
		{"bad_json_path.yaml", []string{
			`7:18: json: "$.a[0" is not a valid JSONPath: unexpected token at character 6; want an RFC 9535 path such as $.data.id`,
			`9:22: json: "data.id" is not a valid JSONPath: expected '$' at character 1; want an RFC 9535 path such as $.data.id`,
		}},
		{"bad_everyday_checks.yaml", []string{
			`7:29: not_regex: "TCK-(\\d+" is not a valid RE2 regular expression: missing closing )`,
			`8:25: contains_any: the list is empty; give a string or a list of strings`,
			`9:25: length: min 10 is more than max 5; no reply could pass`,
			`12:25: length.min: want a whole number from 0 to 1000000, got -1`,
			`12:34: length.max: want a whole number from 0 to 1000000, got "many"`,
			`13:34: contains_any: want a string, got the boolean true (quote it if you mean the text)`,
			`16:19: length: give min, max or both, as in {min: 1, max: 280} (characters)`,
			`17:22: not_regex: must not be empty`,
			`20:19: length: want {min, max} in characters, such as {min: 1, max: 280}, got the integer 280`,
			`21:25: contains_any: want a string or a list of strings, got a mapping`,
			`22:11: unknown key "lenght" in expect; did you mean "length"?`,
		}},
		{"bad_json_operators.yaml", []string{
			`8:29: json $.count gt: want a number to compare with, got "10"`,
			`9:30: json $.status in: want a list of the values allowed, got "open"`,
			`10:28: json $.tags in: the list is empty, so nothing could pass; give the values allowed`,
			`11:30: json $.id exists: want true or false, got "yes" (text in YAML 1.2; write true or false)`,
			`11:44: json $.id regex: "TCK-(\\d+" is not a valid RE2 regular expression: missing closing )`,
			`12:26: json $.n gte: want a number to compare with, got the number .nan`,
			`13:28: {{nope}} is not defined: add it to vars or capture it in an earlier turn`,
			`13:46: {{order}} is not defined: add it to vars or capture it in an earlier turn`,
		}},
		{"bad_base_url.yaml", []string{
			`3:13: base_url: want "sim" or an absolute http or https URL such as https://api.open.cx, got "api.open.cx"`,
		}},
		{"bad_capture.yaml", []string{
			`7:11: capture: "ticket-id" is not a valid variable name; use letters, digits and _, not starting with a digit`,
			`8:17: capture both: want exactly one of regex or json`,
			`9:20: capture neither: want exactly one of regex or json`,
			`10:30: regex: templates are not expanded in capture; write the pattern itself`,
		}},
		{"bad_final_values.yaml", []string{
			`6:15: status: want one of open, closed_resolved, closed_unresolved, got "closed_resolve"; did you mean "closed_resolved"?`,
			`7:18: sentiment: want one of angry, happy, neutral, got "sad"`,
			`9:16: handoff: want true or false, got "no" (text in YAML 1.2; write true or false)`,
		}},
		{"bad_action_skip_tags.yaml", []string{
			`4:15: tags: "b,c" holds a comma, but --tags splits on commas; use one list item per tag`,
			`4:22: tags: a tag must not be empty`,
			`5:11: skip: want true, false or a reason such as "waiting for BOT-12", got an empty string`,
			`8:27: action has no name; write {name: create_ticket, args: {...}}`,
			`8:39: action: want an action name, {name, args}, or a list of those, got a list`,
		}},
		{"multiple_documents.yaml", []string{
			`7:7: duplicate suite name "same": the document at line 1:7 has it too; give each document its own name`,
		}},
		{"not_a_mapping.yaml", []string{
			`1:1: want a suite: a mapping with provider and conversations, got a list`,
		}},
		{"empty.yaml", []string{
			`1:1: the file is empty; want a suite with provider and conversations`,
		}},
		{"unknown_alias.yaml", []string{
			`4:32: alias *checks refers to no anchor; define &checks before using it`,
		}},
		{"alias_cycle.yaml", []string{
			`6:35: custom_data.self: this alias refers to a value that contains it`,
		}},
		{"alias_bomb.yaml", []string{
			`1:1: aliases expand this file to too many values; use fewer aliases of aliases`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			s, err := loadOne(path, env(map[string]string{"TOOLZZ_TOKEN": "t", "OK_VAR": "v"}))
			if s != nil {
				t.Errorf("Load returned a suite along with errors")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Load error = %v (%T), want an ErrorList", err, err)
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = path + ":" + w
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
		})
	}
}

// TestEveryBadFixtureIsTested keeps the table above and the fixtures in step.
func TestEveryBadFixtureIsTested(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		if _, err := loadOne(f, env(map[string]string{"TOOLZZ_TOKEN": "t"})); err == nil {
			t.Errorf("%s loads without error", f)
		}
	}
}

// TestSyntaxErrorPositions covers the line arithmetic behind yaml.v3's
// messages: its parser errors are off by one (0-based), scanner errors on
// line 1 come without a line, and reader errors come without any position.
func TestSyntaxErrorPositions(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		// Scanner error on the first line: yaml.v3 gives no line at all.
		{"first line", "a: b: c\n", "1:1: YAML syntax error: mapping values are not allowed in this context"},
		// Scanner error with a correct 1-based line; the column is where
		// the line's content starts.
		{"scanner", "a: 1\n  b: 2\n", "2:3: YAML syntax error: mapping values are not allowed in this context"},
		// Parser error yaml.v3 reports as "line 1": the flow list opened on
		// line 2 never closes.
		{"parser", "a: 1\nb: [1, 2\nc: 3\n", "2:1: YAML syntax error: did not find expected ',' or ']'"},
		// A list item that does not fit the list: yaml.v3 names the
		// list's line, the prefix search finds the item.
		{"bad item", "a:\n  - x\n  y: 2\n", "3:3: YAML syntax error: did not find expected '-' indicator"},
		// A key after a list at the top level.
		{"key after list", "key: value\n- item\n", "2:1: YAML syntax error: did not find expected key"},
		// The quote opened on line 1 is never closed; yaml.v3 notices at
		// the end of the file, on the line after the last, which is
		// clamped to the last line.
		{"unterminated quote", "a: \"open\nb: 2\n", "2:1: YAML syntax error: found unexpected end of stream"},
		{"no newline at the end", "a: [", "1:1: YAML syntax error: did not find expected node content"},
		{"bad escape", "a: 1\nb: \"x\\qy\"\n", "2:1: YAML syntax error: found unknown escape character"},
		// A tab in the indentation is named as such, at the tab, whatever
		// yaml.v3 calls it.
		{"tab at the top", "\tname: x\n", "1:1: YAML syntax error: a tab in the indentation; YAML indents with spaces only, so replace the tab with spaces"},
		{"tab before a list item", "a:\n\t- x\n", "2:1: YAML syntax error: a tab in the indentation; YAML indents with spaces only, so replace the tab with spaces"},
		{"tab after spaces", "a:\n  b:\n  \tc: 1\n", "3:3: YAML syntax error: a tab in the indentation; YAML indents with spaces only, so replace the tab with spaces"},
		{"tab in a block scalar", "a: |\n\tx\n", "2:1: YAML syntax error: a tab in the indentation; YAML indents with spaces only, so replace the tab with spaces"},
		{"tab after a key", "a: 1\n\tb: 2\n", "2:1: YAML syntax error: a tab in the indentation; YAML indents with spaces only, so replace the tab with spaces"},
		// Reader errors: the offending byte is found directly.
		{"control character", "a: 1\nb: x\x01y\n", "2:5: YAML syntax error: control characters are not allowed"},
		{"bad utf-8", "a: 1\nbé: \xff\n", "2:5: YAML syntax error: invalid leading UTF-8 octet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, _ := loadData("s.yaml", []byte(tt.src), env(nil))
			if got := errs.Error(); got != "s.yaml:"+tt.want {
				t.Errorf("got  %s\nwant s.yaml:%s", got, tt.want)
			}
		})
	}
}

// TestTokenNeverInErrors loads a suite whose every line that reads the
// secret is also wrong, and checks that no message shows the secret.
func TestTokenNeverInErrors(t *testing.T) {
	const secret = "ocx_live_S3CRET-[("
	path := filepath.Join("testdata", "secret", "leaky.yaml")
	_, err := loadOne(path, env(map[string]string{"OPENCX_API_KEY": secret, "TOOLZZ_TOKEN": "{{zqx}} " + secret}))
	if err == nil {
		t.Fatal("leaky.yaml loaded without error")
	}
	msg := err.Error()
	for _, part := range []string{secret, "S3CRET", "zqx"} {
		if strings.Contains(msg, part) {
			t.Errorf("an error shows %q:\n%s", part, msg)
		}
	}
	// Every line of the fixture that names a variable is reported.
	for _, line := range []string{":4:", ":5:", ":6:", ":7:", ":10:", ":11:", ":12:", ":16:", ":17:", ":19:", ":20:", ":21:"} {
		if !strings.Contains(msg, line) {
			t.Errorf("no error at line %s:\n%s", strings.Trim(line, ":"), msg)
		}
	}
}

// jsonPathTail is the rest of the loader's message for a bad path: the
// parser's own words, which this test does not pin.
func jsonPathTail(path string) string {
	return jsonPathProblem(path) + "; want an RFC 9535 path such as $.reply.text"
}
