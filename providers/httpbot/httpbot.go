// Package httpbot talks to a chat bot behind any HTTP endpoint, as a suite's
// `type: http` provider describes it: a request template filled on every turn,
// and JSONPaths that find the reply's text, conversation id and handoff flag.
package httpbot

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

// name prefixes every error.
const name = "http"

var _ providers.Provider = (*Provider)(nil)

// Provider opens conversations with one HTTP bot. It is safe for concurrent
// use.
type Provider struct {
	spec suites.HTTPSpec
	vars map[string]string
	cfg  providers.Config // with the request's headers over the provider's
	// caller serves every turn unless a header names {{message}} or
	// {{conversation_id}}; then each turn gets a Caller of its own.
	caller         *providers.Caller
	perTurnHeaders bool
	text, id, hand *jsonpath.Path
	err            error // a response path that does not parse
}

// turnHeader matches the templates whose values change from turn to turn.
var turnHeader = regexp.MustCompile(`\{\{\s*(message|conversation_id)\s*\}\}`)

// messagesValue matches a body value that becomes the chat so far.
var messagesValue = regexp.MustCompile(`^\s*\{\{\s*messages\s*\}\}\s*$`)

// New returns a Provider that sends each turn as spec describes, filling its
// templates from vars (the suite's), {{message}}, {{conversation_id}} and
// {{messages}}. A response path that does not parse (the suite loader refuses
// them, so only a spec built in code can have one) makes Open fail.
func New(cfg providers.Config, spec suites.HTTPSpec, vars map[string]string) *Provider {
	if spec.Method == "" {
		spec.Method = http.MethodPost
	}
	spec.Method = strings.ToUpper(spec.Method)
	if cfg.Client == nil {
		// One client for the per-turn Callers too, so they share connections.
		cfg.Client = &http.Client{}
	}
	headers := maps.Clone(cfg.Headers)
	if headers == nil {
		headers = map[string]string{}
	}
	p := &Provider{spec: spec, vars: maps.Clone(vars)}
	for k, v := range spec.Headers {
		headers[k] = suites.Expand(v, p.vars)
		p.perTurnHeaders = p.perTurnHeaders || turnHeader.MatchString(v)
	}
	cfg.Headers = headers
	p.cfg = cfg
	p.caller = providers.NewCaller(name, cfg)
	parse := func(key, q string) *jsonpath.Path {
		if q == "" || p.err != nil {
			return nil
		}
		path, err := jsonpath.Parse(q)
		if err != nil {
			p.err = fmt.Errorf("response %s: %q is not a valid JSONPath: %w", key, q, err)
		}
		return path
	}
	p.text = parse("text", spec.Text)
	p.id = parse("conversation_id", spec.ConversationID)
	p.hand = parse("handoff", spec.Handoff)
	if p.err == nil && p.text == nil {
		p.err = errors.New("response text: a JSONPath to the reply's text is required")
	}
	return p
}

// Open starts a conversation without sending anything. When the reply names
// no conversation id, one is minted here, so endpoints that take the id from
// the client (Rasa's sender) see the same one on every turn.
func (p *Provider) Open(ctx context.Context, s providers.Session) (providers.Conversation, error) {
	if p.err != nil {
		return nil, &providers.Error{Provider: name, Op: "open", Err: p.err, Hint: "fix provider.response"}
	}
	c := &conversation{p: p}
	if p.id == nil {
		c.id = newID()
	}
	return c, nil
}

// newID returns a random version 4 UUID, a form any endpoint accepts as an id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails, per crypto/rand
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// chatMessage is one entry of {{messages}}, in the form OpenAI-compatible
// endpoints read.
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type conversation struct {
	p       *Provider
	id      string
	history []chatMessage // turns that got a reply, for {{messages}}
	handoff bool          // some reply reported a handoff
}

func (c *conversation) ID() string { return c.id }

// Send fills the request template for m and reads the reply with the
// response paths. A GET carries no body. The message joins the history for
// {{messages}} only once the service answered it, and a silent reply adds no
// assistant entry.
func (c *conversation) Send(ctx context.Context, m providers.Message) (*providers.Reply, error) {
	p := c.p
	if m.Agent {
		return nil, &providers.Error{Provider: name, Op: "send", Err: errors.New("an http bot takes no agent turns; only opencx does")}
	}
	vars := maps.Clone(p.vars)
	if vars == nil {
		vars = map[string]string{}
	}
	vars["message"] = m.Text
	vars["conversation_id"] = c.id
	chat := append(c.history[:len(c.history):len(c.history)], chatMessage{Role: "user", Content: m.Text})

	var body any
	if p.spec.Method != http.MethodGet && p.spec.Body != nil {
		body = fill(p.spec.Body, vars, chat)
	}
	caller := p.caller
	if p.perTurnHeaders {
		cfg := p.cfg
		cfg.Headers = maps.Clone(cfg.Headers)
		for k, v := range p.spec.Headers {
			cfg.Headers[k] = suites.Expand(v, vars)
		}
		caller = providers.NewCaller(name, cfg)
	}
	status, raw, err := caller.Do(ctx, "send", p.spec.Method, expandPath(p.spec.Path, vars), body)
	if err != nil {
		return nil, err
	}
	r, id, err := p.read(status, raw)
	if err != nil {
		return nil, &providers.Error{Provider: name, Op: "send", Status: status, Body: caller.Excerpt(raw),
			Err: errors.New(caller.Redact(err.Error())), Hint: "check provider.response and that the endpoint answers JSON"}
	}
	if c.id == "" {
		c.id = id
	}
	c.history = chat
	if !r.Silent {
		c.history = append(c.history, chatMessage{Role: "assistant", Content: r.Text})
	}
	c.handoff = c.handoff || (r.Handoff != nil && *r.Handoff)
	return r, nil
}

// State reports a handoff when any reply did. Without a handoff path nothing
// can be known, and Handoff stays nil.
func (c *conversation) State(ctx context.Context) (*providers.State, error) {
	st := &providers.State{}
	if c.p.hand != nil {
		h := c.handoff
		st.Handoff = &h
	}
	return st, nil
}

// fill returns a deep copy of v with every string expanded from vars and a
// "{{messages}}" value replaced by chat.
func fill(v any, vars map[string]string, chat []chatMessage) any {
	switch v := v.(type) {
	case string:
		if messagesValue.MatchString(v) {
			return chat
		}
		return suites.Expand(v, vars)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = fill(e, vars, chat)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = fill(e, vars, chat)
		}
		return out
	default:
		return v
	}
}

// expandPath fills the templates of a request path, escaping each value for
// where it lands: the path, or the query after "?".
func expandPath(path string, vars map[string]string) string {
	escaped := func(escape func(string) string) map[string]string {
		out := make(map[string]string, len(vars))
		for k, v := range vars {
			out[k] = escape(v)
		}
		return out
	}
	if !strings.Contains(path, "{{") {
		return path
	}
	before, query, hasQuery := strings.Cut(path, "?")
	out := suites.Expand(before, escaped(url.PathEscape))
	if hasQuery {
		out += "?" + suites.Expand(query, escaped(url.QueryEscape))
	}
	return out
}

// read turns a 2xx reply body into a Reply with the response paths, and
// returns the conversation id the reply names, if any. A 204 with no body is
// a bot that said nothing; any other body must be JSON.
func (p *Provider) read(status int, raw []byte) (*providers.Reply, string, error) {
	r := &providers.Reply{Status: status, Raw: raw}
	if status == http.StatusNoContent && len(strings.TrimSpace(string(raw))) == 0 {
		r.Silent = true
		return r, "", nil
	}
	root, err := jsonpath.DecodeJSON(raw)
	if err != nil {
		return nil, "", fmt.Errorf("reply is not JSON: %w", err)
	}
	var parts []string
	for _, n := range p.text.Query(root) {
		if s := nodeText(n); s != "" {
			parts = append(parts, s)
		}
	}
	r.Text = strings.Join(parts, "\n")
	r.Silent = strings.TrimSpace(r.Text) == ""
	if p.hand != nil {
		r.Handoff = handoff(p.hand.Query(root))
	}
	var id string
	if p.id != nil {
		for _, n := range p.id.Query(root) {
			if n.Kind == yaml.ScalarNode && n.Tag != "!!bool" {
				if id = nodeText(n); id != "" {
					break
				}
			}
		}
	}
	return r, id, nil
}

// nodeText is what a selected node contributes to the reply text: a string
// as it is, a number or boolean as written, null nothing, and an object or
// list as compact JSON.
func nodeText(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return ""
		}
		return n.Value
	}
	b, err := json.Marshal(jsonpath.Value(n))
	if err != nil {
		return ""
	}
	return string(b)
}

// handoff reads the booleans among nodes: true when any is true, false when
// all are false, nil when none is a boolean (not reported).
func handoff(nodes []*yaml.Node) *bool {
	var got *bool
	for _, n := range nodes {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			continue
		}
		v := n.Value == "true"
		if v {
			return &v
		}
		got = &v
	}
	return got
}
