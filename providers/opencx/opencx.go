// Package opencx talks to the OpenCX chat API: a conversation is a session
// created with POST /chat/sessions, each turn a POST .../send, and the final
// state a GET of the session.
package opencx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/evalrun/evalrun/providers"
)

// DefaultBaseURL is the public OpenCX API.
const DefaultBaseURL = "https://api.open.cx"

// Provider opens OpenCX sessions.
type Provider struct {
	call *providers.Caller
}

var _ providers.Provider = (*Provider)(nil)

// New returns a Provider for cfg.
func New(cfg providers.Config) *Provider {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	return &Provider{call: providers.NewCaller("opencx", cfg)}
}

// Open creates a session carrying the suite's contact and custom_data.
func (p *Provider) Open(ctx context.Context, s providers.Session) (providers.Conversation, error) {
	body := map[string]any{}
	if len(s.Contact) > 0 {
		body["contact"] = s.Contact
	}
	if len(s.CustomData) > 0 {
		body["custom_data"] = s.CustomData
	}
	status, raw, err := p.call.Do(ctx, "create session", http.MethodPost, "/chat/sessions", body)
	if err != nil {
		return nil, err
	}
	var created struct {
		ID   string `json:"id"`
		Data *struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := p.call.Decode("create session", status, raw, &created); err != nil {
		return nil, err
	}
	id := created.ID
	if id == "" && created.Data != nil {
		id = created.Data.ID
	}
	if id == "" {
		return nil, &providers.Error{Provider: "opencx", Op: "create session", Status: status,
			Body: p.call.Excerpt(raw), Err: fmt.Errorf("reply carried no session id")}
	}
	return &conversation{call: p.call, id: id}, nil
}

type conversation struct {
	call     *providers.Caller
	id       string
	handedOf bool // some reply said the session was handed off
}

func (c *conversation) ID() string { return c.id }

func (c *conversation) path() string { return "/chat/sessions/" + url.PathEscape(c.id) }

// Send posts the user's message as the contact.
func (c *conversation) Send(ctx context.Context, m providers.Message) (*providers.Reply, error) {
	body := map[string]any{
		"sender":  "contact",
		"message": map[string]any{"type": "text", "text": m.Text},
	}
	if len(m.CustomData) > 0 {
		body["custom_data"] = m.CustomData
	}
	status, raw, err := c.call.Do(ctx, "send", http.MethodPost, c.path()+"/send", body)
	if err != nil {
		return nil, err
	}
	r, err := DecodeReply(raw)
	if err != nil {
		return nil, &providers.Error{Provider: "opencx", Op: "send", Status: status,
			Body: c.call.Excerpt(raw), Err: err}
	}
	r.Status = status
	if r.Handoff != nil && *r.Handoff {
		c.handedOf = true
	}
	return r, nil
}

// State reads GET /chat/sessions/{id}.
func (c *conversation) State(ctx context.Context) (*providers.State, error) {
	status, raw, err := c.call.Do(ctx, "get session", http.MethodGet, c.path(), nil)
	if err != nil {
		return nil, err
	}
	var s sessionBody
	if err := c.call.Decode("get session", status, raw, &s); err != nil {
		return nil, err
	}
	if s.Data != nil && s.Status == "" {
		s = *s.Data
	}
	handoff := c.handedOf || len(bytes.TrimSpace(s.Handoff)) > 0 && string(bytes.TrimSpace(s.Handoff)) != "null" ||
		s.Closure == "handed_off"
	return &providers.State{
		Status:     s.Status,
		Sentiment:  s.Sentiment,
		Closure:    s.Closure,
		Handoff:    &handoff,
		CustomData: s.CustomData,
		Raw:        raw,
	}, nil
}

type sessionBody struct {
	Status     string          `json:"status"`
	Sentiment  string          `json:"sentiment"`
	Closure    string          `json:"ai_closure_type"`
	CustomData map[string]any  `json:"custom_data"`
	Handoff    json.RawMessage `json:"handoff"`
	Data       *sessionBody    `json:"data"`
}
