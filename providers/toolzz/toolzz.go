// Package toolzz talks to the Toolzz agent API, where a conversation is a
// chain of POST /api/v1/chat/send-message calls tied together by the
// conversationId that the first reply mints.
package toolzz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/evalrun/evalrun/providers"
)

// DefaultBaseURL is the public Toolzz API.
const DefaultBaseURL = "https://kratos.api.toolzz.com.br"

// Provider sends messages to one Toolzz bot.
type Provider struct {
	call  *providers.Caller
	botID string
}

var _ providers.Provider = (*Provider)(nil)

// New returns a Provider for cfg; cfg.BotID is required.
func New(cfg providers.Config) *Provider {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	return &Provider{call: providers.NewCaller("toolzz", cfg), botID: cfg.BotID}
}

// Open sends nothing: Toolzz creates the conversation on its first message.
func (p *Provider) Open(context.Context, providers.Session) (providers.Conversation, error) {
	return &conversation{p: p}, nil
}

type conversation struct {
	p       *Provider
	id      string
	sent    int  // replies received; a turn that got none does not count
	handoff bool // some reply transferred the chat to a human
}

func (c *conversation) ID() string { return c.id }

type request struct {
	Message        string `json:"message"`
	BotID          string `json:"botId"`
	ConversationID string `json:"conversationId,omitempty"`
}

// Send posts one message; every turn after the first carries the
// conversationId the first reply gave.
func (c *conversation) Send(ctx context.Context, m providers.Message) (*providers.Reply, error) {
	if c.sent > 0 && c.id == "" {
		return nil, &providers.Error{Provider: "toolzz", Op: "send",
			Err: errors.New("the first reply carried no conversationId, so later turns cannot continue the conversation")}
	}
	status, raw, err := c.p.call.Do(ctx, "send", http.MethodPost, "/api/v1/chat/send-message",
		request{Message: m.Text, BotID: c.p.botID, ConversationID: c.id})
	if err != nil {
		return nil, err
	}
	r, id, err := DecodeReply(raw)
	if err != nil {
		return nil, &providers.Error{Provider: "toolzz", Op: "send", Status: status,
			Body: c.p.call.Excerpt(raw), Err: err}
	}
	c.sent++
	if c.id == "" {
		c.id = id
	}
	if r.Handoff != nil && *r.Handoff {
		c.handoff = true
	}
	r.Status = status
	return r, nil
}

// State reports what Toolzz lets a client know after the fact: whether any
// reply handed the conversation to a human.
func (c *conversation) State(context.Context) (*providers.State, error) {
	h := c.handoff
	return &providers.State{Handoff: &h}, nil
}

type replyBody struct {
	Message *struct {
		Content         *string         `json:"content"`
		ConversationID  json.RawMessage `json:"conversationId"`
		TransferToAgent *bool           `json:"transferToAgent"`
		TargetBotID     *string         `json:"targetBotId"`
	} `json:"message"`
}

// DecodeReply normalises a send-message reply and returns the conversation id it carries.
func DecodeReply(raw []byte) (*providers.Reply, string, error) {
	var b replyBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, "", fmt.Errorf("undecodable reply: %w", err)
	}
	if b.Message == nil {
		return nil, "", errors.New(`the reply has no "message" object`)
	}
	r := &providers.Reply{Raw: raw, Handoff: b.Message.TransferToAgent}
	if b.Message.Content != nil {
		r.Text = *b.Message.Content
	}
	r.Silent = r.Text == ""
	if b.Message.TargetBotID != nil {
		r.TransferBot = *b.Message.TargetBotID
	}
	return r, providers.ID(b.Message.ConversationID), nil
}
