package opencx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/evalrun/evalrun/providers"
)

// sendBody covers every documented shape of a send reply: flat, wrapped in
// data, legacy ai_response, and id only.
type sendBody struct {
	Success            *bool           `json:"success"`
	Code               string          `json:"code"`
	AutopilotResponse  json.RawMessage `json:"autopilotResponse"`
	SessionIsHandedOff *bool           `json:"sessionIsHandedOff"`
	Data               *sendBody       `json:"data"`
	Message            *struct {
		ID json.RawMessage `json:"id"`
	} `json:"message"`
	AIResponse *legacyAIResponse `json:"ai_response"`
}

type legacyAIResponse struct {
	Text  string `json:"text"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type autopilot struct {
	Type  string `json:"type"`
	Value struct {
		Error   bool   `json:"error"`
		Content string `json:"content"`
	} `json:"value"`
	MightSolve   *bool `json:"mightSolveUserIssue"`
	FullyCovered *bool `json:"completelyAndFullyCoveredUserIssue"`
	DebugInfo    *struct {
		ActionCalls []struct {
			Action struct {
				Name string `json:"name"`
			} `json:"action"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"actionCalls"`
		Knowledge     []json.RawMessage `json:"knowledge"`
		KnowledgeUsed []json.RawMessage `json:"knowledge_used"`
	} `json:"debugInfo"`
	Mode *struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	} `json:"mode"`
}

// DecodeReply normalises a send reply in any of the documented shapes. It
// returns either the bot's reply, or, for the shape that carries only the
// stored message's id ({success, data{message{id}}}), that id: the bot's
// answer must then be read from the session history. Never both, and neither
// when it returns an error.
//
// Fields a shape does not carry stay nil: the legacy shape reports no flags,
// actions, knowledge, mode or handoff, and none of them is guessed from the
// text.
func DecodeReply(raw []byte) (*providers.Reply, string, error) {
	var b sendBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, "", fmt.Errorf("undecodable reply: %w", err)
	}
	r := &providers.Reply{Raw: raw}
	if b.AIResponse != nil && b.AutopilotResponse == nil && b.Data == nil {
		if b.AIResponse.Error != nil && b.AIResponse.Error.Message != "" {
			return nil, "", fmt.Errorf("the bot reported an error: %s", b.AIResponse.Error.Message)
		}
		r.Text = b.AIResponse.Text
		r.Silent = strings.TrimSpace(r.Text) == ""
		r.Sparse = true
		return r, "", nil
	}
	top := &b
	if b.Data != nil && b.AutopilotResponse == nil {
		top = b.Data
	}
	// No autopilotResponse key at all beside a message is the id-only shape;
	// an explicit null autopilotResponse is a bot that stayed silent.
	if top.AutopilotResponse == nil && top.Message != nil {
		id := providers.ID(top.Message.ID)
		if id == "" {
			return nil, "", errors.New("the reply carried a message without an id")
		}
		return nil, id, nil
	}
	r.Handoff = top.SessionIsHandedOff
	if top.SessionIsHandedOff == nil {
		r.Handoff = b.SessionIsHandedOff
	}
	ap := bytes.TrimSpace(top.AutopilotResponse)
	if len(ap) == 0 || string(ap) == "null" {
		if r.Handoff == nil && top.Code == "" && b.Code == "" && b.Success == nil && top.Success == nil {
			return nil, "", errors.New("the reply has none of the documented shapes (no autopilotResponse, data or ai_response)")
		}
		r.Silent = true
		return r, "", nil
	}
	var a autopilot
	if err := json.Unmarshal(ap, &a); err != nil {
		return nil, "", fmt.Errorf("undecodable autopilotResponse: %w", err)
	}
	if a.Value.Error {
		return nil, "", fmt.Errorf("the bot reported an error: %s", a.Value.Content)
	}
	r.Text = a.Value.Content
	r.Silent = strings.TrimSpace(r.Text) == ""
	r.MightSolve = a.MightSolve
	r.FullyCovered = a.FullyCovered
	if a.Mode != nil {
		r.Mode = a.Mode.Slug
	}
	if d := a.DebugInfo; d != nil {
		for _, call := range d.ActionCalls {
			r.Actions = append(r.Actions, providers.Action{Name: call.Action.Name, Args: decodeArgs(call.Arguments)})
		}
		seen := map[string]bool{}
		for _, k := range append(d.Knowledge, d.KnowledgeUsed...) {
			if src := knowledgeSource(k); src != "" && !seen[src] {
				seen[src] = true
				r.Knowledge = append(r.Knowledge, src)
			}
		}
	}
	return r, "", nil
}

// decodeArgs accepts action arguments as an object or as a JSON string
// holding one, which is how some tool-calling models report them.
func decodeArgs(raw json.RawMessage) map[string]any {
	var args map[string]any
	if json.Unmarshal(raw, &args) == nil {
		return args
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && json.Unmarshal([]byte(s), &args) == nil {
		return args
	}
	return nil
}

// knowledgeSource reads a knowledge entry given as {source: ...} or as a bare string.
func knowledgeSource(raw json.RawMessage) string {
	var k struct {
		Source string `json:"source"`
	}
	if json.Unmarshal(raw, &k) == nil && k.Source != "" {
		return k.Source
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}
