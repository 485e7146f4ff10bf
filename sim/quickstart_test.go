package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/speakeasy-api/jsonpath/pkg/jsonpath"
	"gopkg.in/yaml.v3"
)

// The quickstart suites must pass against the simulator. Until the runner
// exists, this test plays them itself: it reads the YAML files, sends every
// turn over HTTP and judges each expect key as DESIGN.md defines it. It also
// checks that together the files use every check the suite format has, since
// the quickstart is where a newcomer sees them all.

var quickstartFiles = []string{"../examples/quickstart.yaml", "../examples/quickstart-toolzz.yaml"}

// qsSuite is the part of the suite format the quickstart files use; decoding
// with KnownFields catches a misspelt key.
type qsSuite struct {
	Name     string `yaml:"name"`
	Provider struct {
		Type    string `yaml:"type"`
		BaseURL string `yaml:"base_url"`
		BotID   string `yaml:"bot_id"`
	} `yaml:"provider"`
	Vars          map[string]string `yaml:"vars"`
	Conversations []struct {
		Name    string   `yaml:"name"`
		Tags    []string `yaml:"tags"`
		Session struct {
			Contact    map[string]any `yaml:"contact"`
			CustomData map[string]any `yaml:"custom_data"`
		} `yaml:"session"`
		Turns []struct {
			User       string                       `yaml:"user"`
			CustomData map[string]any               `yaml:"custom_data"`
			Expect     map[string]any               `yaml:"expect"`
			Capture    map[string]map[string]string `yaml:"capture"`
		} `yaml:"turns"`
		Final map[string]any `yaml:"final"`
	} `yaml:"conversations"`
}

func TestQuickstartSuitesPass(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()

	used := map[string]bool{} // which features the files exercise, across both
	for _, file := range quickstartFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		var suite qsSuite
		if err := dec.Decode(&suite); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if suite.Provider.BaseURL != "sim" {
			t.Errorf("%s: base_url = %q, want sim", file, suite.Provider.BaseURL)
		}
		if len(suite.Vars) > 0 {
			used["vars"] = true
		}
		for _, conv := range suite.Conversations {
			t.Run(suite.Name+"/"+conv.Name, func(t *testing.T) {
				vars := map[string]any{}
				for k, v := range suite.Vars {
					vars[k] = v
				}
				captured := map[string]bool{}
				ref := func(name string) {
					if captured[name] {
						used["captured var used"] = true
					}
				}
				c := &qsConversation{t: t, base: srv.URL, provider: suite.Provider.Type, botID: suite.Provider.BotID}
				if conv.Session.Contact != nil {
					used["session.contact"] = true
				}
				if conv.Session.CustomData != nil {
					used["session.custom_data"] = true
				}
				if c.provider == APIOpenCX {
					c.open(expand(map[string]any{"contact": conv.Session.Contact, "custom_data": conv.Session.CustomData}, vars, ref))
				}
				for i, turn := range conv.Turns {
					if turn.CustomData != nil {
						used["turn.custom_data"] = true
					}
					user := expand(turn.User, vars, ref).(string)
					reply := c.send(user, expand(turn.CustomData, vars, ref))
					for key, want := range turn.Expect {
						want = expand(want, vars, ref)
						if key == "reply" || key == "action" {
							used[key+":"+qsForm(want)] = true
						} else {
							used[key] = true
						}
						if msg := reply.check(key, want); msg != "" {
							t.Errorf("turn %d (%q): %s: %s", i+1, user, key, msg)
						}
					}
					for name, spec := range turn.Capture {
						for kind, src := range spec {
							used["capture:"+kind] = true
							v, msg := reply.capture(kind, src)
							if msg != "" {
								t.Fatalf("turn %d: capture %s: %s", i+1, name, msg)
							}
							vars[name] = v
							captured[name] = true
						}
					}
				}
				if conv.Final != nil {
					if c.provider != APIOpenCX {
						t.Fatalf("final checks need the opencx provider")
					}
					state := c.state()
					for key, want := range conv.Final {
						used["final."+key] = true
						if msg := state.checkFinal(key, want); msg != "" {
							t.Errorf("final: %s: %s", key, msg)
						}
					}
				}
			})
		}
	}

	for _, feature := range []string{
		"contains", "not_contains", "equals", "regex", "might_solve", "fully_covered", "handoff",
		"transfer_bot", "action:name", "action:args", "knowledge", "mode", "reply:true", "reply:false",
		"max_latency", "json", "capture:regex", "capture:json", "captured var used", "vars",
		"session.contact", "session.custom_data", "turn.custom_data",
		"final.status", "final.sentiment", "final.closure", "final.handoff", "final.custom_data",
	} {
		if !used[feature] {
			t.Errorf("the quickstart files never use %s", feature)
		}
	}
}

// qsForm names the form of a reply or action value, for the coverage list.
func qsForm(v any) string {
	switch v := v.(type) {
	case bool:
		return fmt.Sprint(v)
	case map[string]any:
		return "args"
	default:
		return "name"
	}
}

var templateRef = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

// expand fills {{var}} in every string of v, and tells ref each name it fills.
func expand(v any, vars map[string]any, ref func(name string)) any {
	switch v := v.(type) {
	case string:
		return templateRef.ReplaceAllStringFunc(v, func(m string) string {
			name := templateRef.FindStringSubmatch(m)[1]
			val, ok := vars[name]
			if !ok {
				panic("undefined template variable " + name)
			}
			ref(name)
			return fmt.Sprint(val)
		})
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = expand(x, vars, ref)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = expand(x, vars, ref)
		}
		return out
	}
	return v
}

type qsConversation struct {
	t        *testing.T
	base     string
	provider string
	botID    string
	id       string // session or conversation id
}

func (c *qsConversation) post(path string, body any) (int, []byte, time.Duration) {
	c.t.Helper()
	data, _ := json.Marshal(body)
	start := time.Now()
	resp, err := http.Post(c.base+path, "application/json", bytes.NewReader(data))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), time.Since(start)
}

func (c *qsConversation) open(session any) {
	code, body, _ := c.post("/chat/sessions", session)
	if code != http.StatusCreated {
		c.t.Fatalf("create session: HTTP %d: %s", code, body)
	}
	var out struct{ ID string }
	json.Unmarshal(body, &out)
	c.id = out.ID
}

func (c *qsConversation) send(text string, customData any) *qsReply {
	c.t.Helper()
	var (
		code    int
		body    []byte
		latency time.Duration
	)
	if c.provider == APIOpenCX {
		req := map[string]any{"sender": "contact", "message": map[string]any{"type": "text", "text": text}}
		if customData != nil {
			req["custom_data"] = customData
		}
		code, body, latency = c.post("/chat/sessions/"+c.id+"/send", req)
	} else {
		req := map[string]any{"message": text, "botId": c.botID}
		if c.id != "" {
			req["conversationId"] = c.id
		}
		code, body, latency = c.post("/api/v1/chat/send-message", req)
	}
	if code/100 != 2 {
		c.t.Fatalf("send %q: HTTP %d: %s", text, code, body)
	}
	r := &qsReply{raw: body, latency: latency}
	if err := json.Unmarshal(body, &r.doc); err != nil {
		c.t.Fatal(err)
	}
	if c.provider == APIOpenCX {
		ap, _ := r.doc["autopilotResponse"].(map[string]any)
		r.silent = ap == nil
		r.text, _ = dig(ap, "value", "content").(string)
		r.mightSolve = dig(ap, "mightSolveUserIssue")
		r.fullyCovered = dig(ap, "completelyAndFullyCoveredUserIssue")
		r.handoff = r.doc["sessionIsHandedOff"]
		r.mode = dig(ap, "mode", "slug")
		calls, _ := dig(ap, "debugInfo", "actionCalls").([]any)
		for _, call := range calls {
			r.actions = append(r.actions, qsAction{
				name: fmt.Sprint(dig(call, "action", "name")),
				args: dig(call, "arguments").(map[string]any),
			})
		}
		knowledge, _ := dig(ap, "debugInfo", "knowledge").([]any)
		for _, k := range knowledge {
			r.knowledge = append(r.knowledge, fmt.Sprint(dig(k, "source")))
		}
	} else {
		c.id = fmt.Sprint(dig(r.doc, "message", "conversationId"))
		r.text, _ = dig(r.doc, "message", "content").(string)
		r.silent = r.text == ""
		r.handoff = dig(r.doc, "message", "transferToAgent")
		r.transferBot = dig(r.doc, "message", "targetBotId")
	}
	return r
}

func (c *qsConversation) state() *qsState {
	resp, err := http.Get(c.base + "/chat/sessions/" + c.id)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	st := &qsState{}
	if err := json.NewDecoder(resp.Body).Decode(&st.doc); err != nil {
		c.t.Fatal(err)
	}
	return st
}

type qsAction struct {
	name string
	args map[string]any
}

// qsReply is a reply normalised across the two APIs, as a provider would.
type qsReply struct {
	raw                               []byte
	doc                               map[string]any
	latency                           time.Duration
	text                              string
	silent                            bool
	mightSolve, fullyCovered, handoff any // nil when not reported
	mode, transferBot                 any
	actions                           []qsAction
	knowledge                         []string
}

// check judges one expect key and returns "" when it holds.
func (r *qsReply) check(key string, want any) string {
	fail := func(format string, args ...any) string {
		return fmt.Sprintf(format, args...) + fmt.Sprintf(" (reply %q)", r.text)
	}
	switch key {
	case "contains", "not_contains":
		for _, s := range qsList(want) {
			if strings.Contains(strings.ToLower(r.text), strings.ToLower(s)) != (key == "contains") {
				return fail("%q", s)
			}
		}
	case "equals":
		if strings.TrimSpace(r.text) != strings.TrimSpace(want.(string)) {
			return fail("want %q", want)
		}
	case "regex":
		for _, s := range qsList(want) {
			if !regexp.MustCompile(s).MatchString(r.text) {
				return fail("no match for %q", s)
			}
		}
	case "might_solve", "fully_covered", "handoff", "mode", "transfer_bot":
		got := map[string]any{"might_solve": r.mightSolve, "fully_covered": r.fullyCovered,
			"handoff": r.handoff, "mode": r.mode, "transfer_bot": r.transferBot}[key]
		if got != want {
			return fail("got %v, want %v", got, want)
		}
	case "reply":
		if !r.silent != want.(bool) {
			return fail("silent = %v", r.silent)
		}
	case "knowledge":
		for _, s := range qsList(want) {
			if !slices.Contains(r.knowledge, s) {
				return fail("%q not among %v", s, r.knowledge)
			}
		}
	case "action":
		name, args := "", map[string]any{}
		if m, ok := want.(map[string]any); ok {
			name = m["name"].(string)
			if a, ok := m["args"].(map[string]any); ok {
				args = a
			}
		} else {
			name = want.(string)
		}
		for _, a := range r.actions {
			if a.name == name && qsSubset(args, a.args) == "" {
				return ""
			}
		}
		return fail("no call of %s with %v among %v", name, args, r.actions)
	case "max_latency":
		d, err := time.ParseDuration(want.(string))
		if err != nil {
			return err.Error()
		}
		if r.latency > d {
			return fail("took %v", r.latency)
		}
	case "json":
		for path, w := range want.(map[string]any) {
			got, msg := r.jsonPath(path)
			if msg != "" {
				return msg
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				return fail("%s = %v, want %v", path, got, w)
			}
		}
	default:
		return "unknown check"
	}
	return ""
}

func (r *qsReply) capture(kind, src string) (string, string) {
	switch kind {
	case "regex":
		m := regexp.MustCompile(src).FindStringSubmatch(r.text)
		if m == nil {
			return "", fmt.Sprintf("no match in %q", r.text)
		}
		return m[len(m)-1], ""
	case "json":
		v, msg := r.jsonPath(src)
		return fmt.Sprint(v), msg
	}
	return "", "unknown capture kind " + kind
}

// jsonPath evaluates an RFC 9535 path on the raw reply with the library the
// runner uses, and returns the single node it selects.
func (r *qsReply) jsonPath(path string) (any, string) {
	p, err := jsonpath.NewPath(path)
	if err != nil {
		return nil, err.Error()
	}
	var root yaml.Node
	if err := yaml.Unmarshal(r.raw, &root); err != nil {
		return nil, err.Error()
	}
	nodes := p.Query(&root)
	if len(nodes) != 1 {
		return nil, fmt.Sprintf("%s selects %d nodes", path, len(nodes))
	}
	var v any
	nodes[0].Decode(&v)
	return v, ""
}

type qsState struct{ doc map[string]any }

func (s *qsState) checkFinal(key string, want any) string {
	var got any
	switch key {
	case "status":
		got = s.doc["status"]
	case "sentiment":
		got = s.doc["sentiment"]
	case "closure":
		got = s.doc["ai_closure_type"]
	case "handoff":
		got = s.doc["handoff"] != nil || s.doc["ai_closure_type"] == ClosureHandedOff
	case "custom_data":
		cd, _ := s.doc["custom_data"].(map[string]any)
		return qsSubset(want.(map[string]any), cd)
	default:
		return "unknown final check"
	}
	if got != want {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	return ""
}

// qsSubset returns "" when every key of want has an equal value in got.
func qsSubset(want, got map[string]any) string {
	for k, w := range want {
		if g, ok := got[k]; !ok || fmt.Sprint(g) != fmt.Sprint(w) {
			return fmt.Sprintf("%s: got %v, want %v (in %v)", k, g, w, got)
		}
	}
	return ""
}

func qsList(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, x := range v.([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// dig walks nested JSON objects; it returns nil when any step is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
