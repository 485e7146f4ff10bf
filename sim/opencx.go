package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Codes of OpenCX send replies. Only CodeAssignedToHuman is documented; the
// others are the simulator's names for the remaining cases.
const (
	CodeAIReplied       = "ai_replied"
	CodeHandedOff       = "session_handed_off"
	CodeAssignedToHuman = "session_assigned_to_human_agent"
	CodeAgentMessage    = "human_agent_message_sent"
)

// Request bodies. Pointers tell a missing field from an empty one.

type contactIn struct {
	Name        *string        `json:"name"`
	Email       *string        `json:"email"`
	PhoneNumber *string        `json:"phone_number"`
	AvatarURL   *string        `json:"avatar_url"`
	CustomData  map[string]any `json:"custom_data"`
}

type createSessionIn struct {
	Contact    *contactIn     `json:"contact"`
	CustomData map[string]any `json:"custom_data"`
	Channel    *struct {
		Type string `json:"type"`
	} `json:"channel"`
}

type sendIn struct {
	Sender  *string `json:"sender"`
	Message *struct {
		Type        *string          `json:"type"`
		Text        *string          `json:"text"`
		Attachments []map[string]any `json:"attachments"`
	} `json:"message"`
	Contact    *contactIn     `json:"contact"`
	CustomData map[string]any `json:"custom_data"`
	Agent      *struct {
		ID        any    `json:"id"` // a number in OpenCX's docs; strings are taken too
		Name      string `json:"name"`
		AvatarURL string `json:"avatar_url"`
	} `json:"agent"`
	TakeOver bool `json:"should_take_over_session_from_ai"`
}

type patchIn struct {
	Status *string `json:"status"`
}

// Reply bodies.

type sendOut struct {
	Success            bool               `json:"success"`
	Code               string             `json:"code"`
	AutopilotResponse  *autopilotResponse `json:"autopilotResponse"`
	UIResponse         any                `json:"uiResponse"` // always null: the bot shows no UI
	SessionIsHandedOff bool               `json:"sessionIsHandedOff"`
}

// sendDataOut is ShapeData: the flat reply's members wrapped in data.
type sendDataOut struct {
	Success bool       `json:"success"`
	Data    sendDataIn `json:"data"`
}

type sendDataIn struct {
	Code               string             `json:"code"`
	AutopilotResponse  *autopilotResponse `json:"autopilotResponse"`
	UIResponse         any                `json:"uiResponse"`
	SessionIsHandedOff bool               `json:"sessionIsHandedOff"`
}

// legacyOut is ShapeLegacy; AIResponse is null when the AI said nothing.
type legacyOut struct {
	AIResponse *legacyAIResponse `json:"ai_response"`
}

type legacyAIResponse struct {
	Text string `json:"text"`
}

// idOnlyOut is ShapeIDOnly: the id of the message the send stored.
type idOnlyOut struct {
	Success bool `json:"success"`
	Data    struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
	} `json:"data"`
}

type autopilotResponse struct {
	Type                               string     `json:"type"`
	Value                              replyValue `json:"value"`
	ID                                 string     `json:"id"`
	MightSolveUserIssue                bool       `json:"mightSolveUserIssue"`
	CompletelyAndFullyCoveredUserIssue bool       `json:"completelyAndFullyCoveredUserIssue"`
	DebugInfo                          debugInfo  `json:"debugInfo"`
	Mode                               *modeOut   `json:"mode"`
	DidExitMode                        bool       `json:"didExitMode"`
}

type replyValue struct {
	Error   bool   `json:"error"`
	Content string `json:"content"`
}

type debugInfo struct {
	ActionCalls       []actionCallOut    `json:"actionCalls"`
	ActionSearchQuery string             `json:"actionSearchQuery"`
	Knowledge         []knowledgeOut     `json:"knowledge"`
	KnowledgeUsed     []knowledgeUsedOut `json:"knowledge_used"`
}

type actionCallOut struct {
	Action    actionOut      `json:"action"`
	Arguments map[string]any `json:"arguments"`
	Result    map[string]any `json:"result"`
}

type actionOut struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

type knowledgeOut struct {
	Source     string `json:"source"`
	SourceType string `json:"source_type"`
	URL        string `json:"url"`
}

type knowledgeUsedOut struct {
	Content string `json:"content"`
	Source  string `json:"source"`
}

type modeOut struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

type sessionOut struct {
	ID            string         `json:"id"`
	Status        string         `json:"status"`
	AIClosureType *string        `json:"ai_closure_type"`
	Sentiment     *string        `json:"sentiment"`
	Channel       channelOut     `json:"channel"`
	CreatedAt     string         `json:"created_at"`
	UpdatedAt     string         `json:"updated_at"`
	Contact       contactOut     `json:"contact"`
	Language      string         `json:"language"`
	AssigneeID    *string        `json:"assignee_id"`
	CustomData    map[string]any `json:"custom_data"`
	Handoff       *Handoff       `json:"handoff,omitempty"`
}

type channelOut struct {
	Type string `json:"type"`
}

type contactOut struct {
	ID          string         `json:"id"`
	Name        *string        `json:"name"`
	Email       *string        `json:"email"`
	PhoneNumber *string        `json:"phone_number"`
	AvatarURL   *string        `json:"avatar_url"`
	CustomData  map[string]any `json:"custom_data"`
}

type historyOut struct {
	Items []historyItem `json:"items"`
	Next  *string       `json:"next"`
}

type historyItem struct {
	ID        string       `json:"id,omitempty"` // empty only with HistoryIDsNone
	CreatedAt string       `json:"created_at"`
	Event     historyEvent `json:"event"`
}

type historyEvent struct {
	Type    string      `json:"type"`
	Sender  senderOut   `json:"sender"`
	Content textContent `json:"content"`
}

type senderOut struct {
	Type string  `json:"type"`
	Name *string `json:"name"`
}

type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var in createSessionIn
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, APIOpenCX, err)
		return
	}
	if err := validateContact(in.Contact); err != nil {
		writeError(w, APIOpenCX, http.StatusBadRequest, err.Error())
		return
	}
	if err := flatCustomData("custom_data", in.CustomData); err != nil {
		writeError(w, APIOpenCX, http.StatusBadRequest, err.Error())
		return
	}

	s.mu.Lock()
	sess := s.newSession(APIOpenCX)
	if in.Channel != nil && in.Channel.Type != "" {
		sess.Channel = in.Channel.Type
	}
	mergeContact(sess, in.Contact, in.CustomData)
	id := sess.ID
	s.mu.Unlock()

	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	var in sendIn
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, APIOpenCX, err)
		return
	}
	sender, text, err := validateSend(&in)
	if err != nil {
		writeError(w, APIOpenCX, http.StatusBadRequest, err.Error())
		return
	}

	sess := s.lockSession(w, r)
	if sess == nil {
		return
	}
	mergeContact(sess, in.Contact, in.CustomData)
	agentName, agentID := "Agent", ""
	if in.Agent != nil {
		if in.Agent.Name != "" {
			agentName = in.Agent.Name
		}
		if in.Agent.ID != nil {
			agentID = fmt.Sprint(in.Agent.ID)
		}
	}
	if in.TakeOver && !sess.HandedOff {
		sess.HandedOff = true
		sess.Closure = ClosureHandedOff
		if agentID != "" {
			sess.AssigneeID = agentID
		}
		s.record(sess, EventHumanAgentTakeover, SenderHumanAgent, agentName, agentName+" took over the conversation from the AI.")
	}

	p := planOf(r)
	out := sendOut{Success: true, Code: CodeAIReplied}
	var stored string // the id of the message this send stored
	if sender == SenderHumanAgent {
		// A human agent's message is stored for the customer; the AI
		// never answers it.
		stored = s.record(sess, EventMessage, SenderHumanAgent, agentName, text).ID
		out.Code = CodeAgentMessage
	} else {
		ex := s.converse(sess, text, p)
		stored = ex.contactID
		if !ex.silent {
			out.AutopilotResponse = autopilotReply(ex, stripDirectives(text))
			if ex.handoff {
				out.Code = CodeHandedOff
			}
		}
	}
	if sess.HandedOff && out.AutopilotResponse == nil {
		out.Code = CodeAssignedToHuman
	}
	out.SessionIsHandedOff = sess.HandedOff
	s.mu.Unlock()

	writeJSON(w, http.StatusCreated, shapeSendReply(out, p.opts.Shape, stored))
}

// shapeSendReply returns the send reply out in the shape asked for;
// storedID is the id of the message the send stored in the history.
func shapeSendReply(out sendOut, shape Shape, storedID string) any {
	switch shape {
	case ShapeData:
		return sendDataOut{Success: out.Success, Data: sendDataIn{
			Code:               out.Code,
			AutopilotResponse:  out.AutopilotResponse,
			UIResponse:         out.UIResponse,
			SessionIsHandedOff: out.SessionIsHandedOff,
		}}
	case ShapeLegacy:
		var legacy legacyOut
		if out.AutopilotResponse != nil {
			legacy.AIResponse = &legacyAIResponse{Text: out.AutopilotResponse.Value.Content}
		}
		return legacy
	case ShapeIDOnly:
		idOnly := idOnlyOut{Success: out.Success}
		idOnly.Data.Message.ID = storedID
		return idOnly
	}
	return out
}

func autopilotReply(ex exchange, query string) *autopilotResponse {
	ap := &autopilotResponse{
		Type:                               "text",
		Value:                              replyValue{Content: ex.text},
		ID:                                 ex.messageID,
		MightSolveUserIssue:                ex.mightSolve,
		CompletelyAndFullyCoveredUserIssue: ex.fullyCovered,
		DebugInfo: debugInfo{
			ActionCalls:       []actionCallOut{},
			ActionSearchQuery: query,
			Knowledge:         []knowledgeOut{},
			KnowledgeUsed:     []knowledgeUsedOut{},
		},
		DidExitMode: ex.didExitMode,
	}
	for _, c := range ex.actions {
		ap.DebugInfo.ActionCalls = append(ap.DebugInfo.ActionCalls, actionCallOut{
			Action:    actionOut{Name: c.name, ID: actionIDs[c.name]},
			Arguments: c.args,
			Result:    c.result,
		})
	}
	for _, src := range ex.knowledge {
		k := knowledgeBase[src]
		ap.DebugInfo.Knowledge = append(ap.DebugInfo.Knowledge, knowledgeOut{Source: src, SourceType: k.sourceType, URL: k.url})
		ap.DebugInfo.KnowledgeUsed = append(ap.DebugInfo.KnowledgeUsed, knowledgeUsedOut{Content: k.content, Source: src})
	}
	if m, ok := modes[ex.mode]; ok {
		ap.Mode = &modeOut{ID: m.id, Name: m.name, Slug: ex.mode}
	}
	return ap
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	sess := s.lockSession(w, r)
	if sess == nil {
		return
	}
	out := sessionJSON(sess.snapshot())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) patchSession(w http.ResponseWriter, r *http.Request) {
	var in patchIn
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, APIOpenCX, err)
		return
	}
	if in.Status == nil {
		writeError(w, APIOpenCX, http.StatusBadRequest, "status must be one of: open, closed_resolved, closed_unresolved")
		return
	}
	switch *in.Status {
	case StatusOpen, StatusClosedResolved, StatusClosedUnresolved:
	default:
		writeError(w, APIOpenCX, http.StatusBadRequest, fmt.Sprintf("status must be one of: open, closed_resolved, closed_unresolved (got %q)", *in.Status))
		return
	}

	sess := s.lockSession(w, r)
	if sess == nil {
		return
	}
	sess.Status = *in.Status
	sess.UpdatedAt = s.opts.Now()
	out := sessionJSON(sess.snapshot())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	start := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		var ok bool
		if start, ok = decodeCursor(c); !ok {
			writeError(w, APIOpenCX, http.StatusBadRequest, "cursor is not valid")
			return
		}
	}

	sess := s.lockSession(w, r)
	if sess == nil {
		return
	}
	shown := visibleEvents(sess.Events, s.opts.Now())
	events := shown[min(start, len(shown)):]
	out := historyOut{Items: []historyItem{}}
	if len(events) > s.opts.HistoryPageSize {
		events = events[:s.opts.HistoryPageSize]
		next := encodeCursor(start + len(events))
		out.Next = &next
	}
	for _, ev := range events {
		out.Items = append(out.Items, historyItem{
			ID:        s.historyID(ev.ID),
			CreatedAt: timestamp(ev.CreatedAt),
			Event: historyEvent{
				Type:    ev.Type,
				Sender:  senderOut{Type: ev.SenderType, Name: nullable(ev.SenderName)},
				Content: textContent{Type: "text", Text: ev.Text},
			},
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// historyID is the id the history shows for the event id (see
// Options.HistoryIDs). An unrelated id is derived from the event's, so it is
// the same on every read, as a stored id would be.
func (s *Server) historyID(id string) string {
	switch s.opts.HistoryIDs {
	case HistoryIDsNone:
		return ""
	case HistoryIDsUnrelated:
		sum := sha256.Sum256([]byte("history item " + id))
		return uuidOf(sum[:16])
	}
	return id
}

// History cursors are opaque to clients; inside they hold the offset of the
// next event, which is stable because history only grows at the end.
const cursorPrefix = "evt:"

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), cursorPrefix))
	if err != nil || n < 0 || !strings.HasPrefix(string(raw), cursorPrefix) {
		return 0, false
	}
	return n, true
}

func sessionJSON(s SessionSnapshot) sessionOut {
	return sessionOut{
		ID:            s.ID,
		Status:        s.Status,
		AIClosureType: nullable(s.Closure),
		Sentiment:     nullable(s.Sentiment),
		Channel:       channelOut{Type: s.Channel},
		CreatedAt:     timestamp(s.CreatedAt),
		UpdatedAt:     timestamp(s.UpdatedAt),
		Contact: contactOut{
			ID:          s.Contact.ID,
			Name:        nullable(s.Contact.Name),
			Email:       nullable(s.Contact.Email),
			PhoneNumber: nullable(s.Contact.PhoneNumber),
			AvatarURL:   nullable(s.Contact.AvatarURL),
			CustomData:  s.Contact.CustomData,
		},
		Language:   "en",
		AssigneeID: nullable(s.AssigneeID),
		CustomData: s.CustomData,
		Handoff:    s.Handoff,
	}
}

// mergeContact applies a request's contact and custom data to the session.
// The contact's custom data belongs to the contact, and is also merged into
// the session's so that one GET shows all of it; the session's own custom
// data wins a clash. The caller holds s.mu.
func mergeContact(sess *session, c *contactIn, customData map[string]any) {
	if c != nil {
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&sess.Contact.Name, c.Name)
		set(&sess.Contact.Email, c.Email)
		set(&sess.Contact.PhoneNumber, c.PhoneNumber)
		set(&sess.Contact.AvatarURL, c.AvatarURL)
		for k, v := range c.CustomData {
			sess.Contact.CustomData[k] = v
			sess.CustomData[k] = v
		}
	}
	for k, v := range customData {
		sess.CustomData[k] = v
	}
}

func validateSend(in *sendIn) (sender, text string, err error) {
	sender = SenderContact
	if in.Sender != nil {
		switch *in.Sender {
		case "contact":
		case "agent":
			sender = SenderHumanAgent
		default:
			return "", "", fmt.Errorf("sender must be one of: contact, agent (got %q)", *in.Sender)
		}
	}
	if in.Message == nil || in.Message.Text == nil || strings.TrimSpace(*in.Message.Text) == "" {
		return "", "", errors.New("message.text should not be empty")
	}
	if in.Message.Type != nil && *in.Message.Type != "text" {
		return "", "", fmt.Errorf("message.type must be text (got %q)", *in.Message.Type)
	}
	if err := validateContact(in.Contact); err != nil {
		return "", "", err
	}
	if err := flatCustomData("custom_data", in.CustomData); err != nil {
		return "", "", err
	}
	return sender, *in.Message.Text, nil
}

func validateContact(c *contactIn) error {
	if c == nil {
		return nil
	}
	return flatCustomData("contact.custom_data", c.CustomData)
}

// flatCustomData enforces OpenCX's rule that custom data values are strings,
// numbers or booleans: nested objects (and arrays) are a 400.
func flatCustomData(field string, m map[string]any) error {
	for k, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			return fmt.Errorf("%s.%s must be a string, number or boolean; nested objects are not allowed", field, k)
		}
	}
	return nil
}

// decodeBody reads a JSON object into v. An empty body leaves v as it is,
// which is what a body-less create means; numbers stay json.Number so custom
// data comes back exactly as it was sent.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return errors.New("the body must be a JSON object")
			}
			return fmt.Errorf("%s must not be %s", typeErr.Field, article(typeErr.Value))
		}
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON body: unexpected data after the object")
	}
	return nil
}

func writeBodyError(w http.ResponseWriter, api string, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, api, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit))
		return
	}
	writeError(w, api, http.StatusBadRequest, err.Error())
}

func article(jsonType string) string {
	if jsonType == "array" || jsonType == "object" {
		return "an " + jsonType
	}
	return "a " + jsonType
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// lockSession locks s.mu and returns the OpenCX session the path names; when
// there is none it answers 404, unlocks, and returns nil.
func (s *Server) lockSession(w http.ResponseWriter, r *http.Request) *session {
	s.mu.Lock()
	sess := s.lookup(APIOpenCX, r.PathValue("id"))
	if sess == nil {
		s.mu.Unlock()
		writeError(w, APIOpenCX, http.StatusNotFound, "Session not found")
	}
	return sess
}
