// Package opencx talks to the OpenCX chat API: a conversation is a session
// created with POST /chat/sessions, each turn a POST .../send (answered
// directly, or, when the send reply carries only a message id, read from the
// session history), and the final state a GET of the session.
package opencx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/evalrun/evalrun/providers"
)

// DefaultBaseURL is the public OpenCX API.
const DefaultBaseURL = "https://api.open.cx"

// AgentName is the name agent messages are sent under.
const AgentName = "evalrun"

// Provider opens OpenCX sessions.
type Provider struct {
	call         *providers.Caller
	pollInterval time.Duration
	replyTimeout time.Duration
}

var _ providers.Provider = (*Provider)(nil)

// New returns a Provider for cfg. A zero PollInterval or ReplyTimeout means
// DefaultPollInterval or DefaultReplyTimeout.
func New(cfg providers.Config) *Provider {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	return &Provider{call: providers.NewCaller("opencx", cfg), pollInterval: cfg.PollInterval, replyTimeout: cfg.ReplyTimeout}
}

// Open creates a session carrying the suite's contact and custom_data.
func (p *Provider) Open(ctx context.Context, s providers.Session) (providers.Conversation, error) {
	body := openRequest{Contact: s.Contact, CustomData: s.CustomData}
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
	return &conversation{call: p.call, id: id, pollInterval: p.pollInterval, replyTimeout: p.replyTimeout}, nil
}

// The request bodies are structs rather than maps: encoding/json writes a
// struct without sorting keys or reflecting over map entries, which is a
// measurable part of a turn under load.
type openRequest struct {
	Contact    map[string]any `json:"contact,omitempty"`
	CustomData map[string]any `json:"custom_data,omitempty"`
}

type sendRequest struct {
	Sender     string         `json:"sender"`
	Message    textMessage    `json:"message"`
	Agent      *agentRef      `json:"agent,omitempty"`
	TakeOver   bool           `json:"should_take_over_session_from_ai,omitempty"`
	CustomData map[string]any `json:"custom_data,omitempty"`
}

type textMessage struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type agentRef struct {
	Name string `json:"name"`
}

type conversation struct {
	call         *providers.Caller
	id           string
	pollInterval time.Duration // 0 means DefaultPollInterval
	replyTimeout time.Duration // 0 means DefaultReplyTimeout
	handedOff    bool          // a reply or the history said the session was handed off
	cursor       string        // history page where unread events begin; "" is the first
	seen         int           // items at the start of the page at cursor that turns have read
}

func (c *conversation) ID() string { return c.id }

func (c *conversation) path() string { return "/chat/sessions/" + url.PathEscape(c.id) }

// Send posts the message as the contact, or as a human agent (evalrun) when
// m.Agent is set. Replies in the flat, data-wrapped and legacy shapes are
// decoded as they come. For the id-only shape the answer is read from the
// session history (see await): its Text comes from the AI's message, Handoff
// is true when a handoff event appeared, and the flags, actions, knowledge
// and mode, which history does not carry, stay unreported. Raw is then the
// history item that answered (the AI's message, or the handoff event),
// because that is where the reply is: json checks and captures read paths
// such as $.event.content.text (and $.id, where items carry ids). The send
// reply itself holds only the user's own message id, which the history need
// not repeat: see scan for how the answer is found.
//
// An agent message is not answered by the AI, and neither is any message
// after a handoff, so in the id-only shape both return a silent reply at once
// (Raw is then the send reply) instead of waiting out reply_timeout.
func (c *conversation) Send(ctx context.Context, m providers.Message) (*providers.Reply, error) {
	body := sendRequest{Sender: "contact", Message: textMessage{Type: "text", Text: m.Text},
		TakeOver: m.TakeOver, CustomData: m.CustomData}
	if m.Agent {
		body.Sender = "agent"
		body.Agent = &agentRef{Name: AgentName}
	}
	status, raw, err := c.call.Do(ctx, "send", http.MethodPost, c.path()+"/send", body)
	if err != nil {
		return nil, err
	}
	r, messageID, err := DecodeReply(raw)
	if err != nil {
		return nil, &providers.Error{Provider: "opencx", Op: "send", Status: status,
			Body: c.call.Excerpt(raw), Err: err}
	}
	if r != nil {
		r.Status = status
		switch {
		case r.Handoff != nil:
			c.handedOff = c.handedOff || *r.Handoff
		case m.TakeOver:
			c.handedOff = true
		}
		return r, nil
	}
	if m.TakeOver {
		c.handedOff = true
	}
	if m.Agent || c.handedOff {
		silent := &providers.Reply{Silent: true, Status: status, Raw: raw}
		if c.handedOff {
			silent.Handoff = ptr(true)
		}
		return silent, nil
	}
	return c.await(ctx, sentMessage{id: messageID, text: m.Text}, status)
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
	handoff := c.handedOff || len(bytes.TrimSpace(s.Handoff)) > 0 && string(bytes.TrimSpace(s.Handoff)) != "null" ||
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
