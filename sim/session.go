package sim

import (
	"container/list"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

// Session statuses, AI closure types, sentiments, event types and sender
// types, as the OpenCX API spells them.
const (
	StatusOpen             = "open"
	StatusClosedResolved   = "closed_resolved"
	StatusClosedUnresolved = "closed_unresolved"

	ClosureAssumedResolved = "assumed_resolved"
	ClosureHandedOff       = "handed_off"
	ClosureResolved        = "resolved"

	SentimentAngry   = "angry"
	SentimentHappy   = "happy"
	SentimentNeutral = "neutral"

	EventMessage            = "message"
	EventHandoff            = "handoff"
	EventHumanAgentTakeover = "human_agent_takeover"
	// EventAIResolvedIssue is the AI marking the contact's issue resolved:
	// not a message, and not shown to the contact.
	EventAIResolvedIssue = "ai_resolved_issue"
	// EventHumanAgentComment is a human agent's internal note on the
	// session, which the contact never sees.
	EventHumanAgentComment = "human_agent_comment"

	SenderContact    = "contact"
	SenderAI         = "ai"
	SenderHumanAgent = "human_agent"
)

// APIOpenCX and APIToolzz say which API a session was opened through; the
// other API does not see it. Errors, too, come in the body of the API asked,
// APIOpenAI's for the judge and embeddings routes, which keep no sessions.
const (
	APIOpenCX = "opencx"
	APIToolzz = "toolzz"
	APIOpenAI = "openai"
)

// SessionSnapshot is a copy of one session's state (an OpenCX chat session or
// a Toolzz conversation), for tests and inspection. Empty strings stand for
// the API's nulls. Custom data numbers are json.Number, as they arrived.
type SessionSnapshot struct {
	ID         string
	API        string // APIOpenCX or APIToolzz
	BotID      string // Toolzz: the bot the conversation is with now
	Status     string
	Closure    string // ai_closure_type
	Sentiment  string
	HandedOff  bool // the AI no longer answers
	Handoff    *Handoff
	AssigneeID string
	Channel    string
	Contact    Contact
	CustomData map[string]any
	Mode       string // slug of the mode of the bot's last reply
	Events     []Event
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Handoff is the AI's summary when it handed a session to a human.
type Handoff struct {
	Summary   string `json:"summary"`
	Sentiment string `json:"sentiment"`
}

// Contact is the person on the customer's side of a session.
type Contact struct {
	ID          string
	Name        string
	Email       string
	PhoneNumber string
	AvatarURL   string
	CustomData  map[string]any // the contact's own; also merged into the session's
}

// Event is one entry of a session's history.
type Event struct {
	ID         string
	CreatedAt  time.Time
	Type       string // EventMessage, EventHandoff, EventHumanAgentTakeover, EventAIResolvedIssue, EventHumanAgentComment
	SenderType string // SenderContact, SenderAI, SenderHumanAgent
	SenderName string
	Text       string
}

// session is the stored state. lastRule and the snapshot's Mode are the bot's
// short memory: they let a follow-up ("it's ord_42") finish an earlier
// request, and let a reply say whether it left the previous mode.
type session struct {
	SessionSnapshot
	lastRule string

	// For Options.Idle: when a request last found the session, its place
	// in Server.byUse, and the tickets it opened, which are forgotten with
	// it.
	used    time.Time
	byUse   *list.Element
	tickets []string
}

// Session returns a copy of the state of the session or conversation id. It
// does not count as a use of the session (see Options.Idle).
func (s *Server) Session(id string) (SessionSnapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetIdle()
	sess, ok := s.sessions[id]
	if !ok {
		return SessionSnapshot{}, false
	}
	return sess.snapshot(), true
}

func (sess *session) snapshot() SessionSnapshot {
	c := sess.SessionSnapshot
	c.CustomData = maps.Clone(sess.CustomData)
	c.Contact.CustomData = maps.Clone(sess.Contact.CustomData)
	c.Events = slices.Clone(sess.Events)
	if sess.Handoff != nil {
		h := *sess.Handoff
		c.Handoff = &h
	}
	return c
}

// newSession stores a fresh open session. The caller holds s.mu.
func (s *Server) newSession(api string) *session {
	now := s.opts.Now()
	sess := &session{SessionSnapshot: SessionSnapshot{
		ID:         newUUID(),
		API:        api,
		Status:     StatusOpen,
		Channel:    "api",
		Contact:    Contact{ID: newUUID(), CustomData: map[string]any{}},
		CustomData: map[string]any{},
		CreatedAt:  now,
		UpdatedAt:  now,
	}, used: now}
	s.forgetIdle()
	s.sessions[sess.ID] = sess
	sess.byUse = s.byUse.PushBack(sess)
	return sess
}

// lookup returns the session id opened through api, and counts it as used.
// The caller holds s.mu.
func (s *Server) lookup(api, id string) *session {
	s.forgetIdle()
	sess, ok := s.sessions[id]
	if !ok || sess.API != api {
		return nil
	}
	sess.used = s.opts.Now()
	s.byUse.MoveToBack(sess.byUse)
	return sess
}

// forgetIdle drops the sessions no request has found for Options.Idle, with
// their tickets and directive attempt counts. byUse is ordered by last use,
// so only the expired sessions at its front are looked at. The caller holds
// s.mu.
func (s *Server) forgetIdle() {
	if s.opts.Idle < 0 {
		return
	}
	cutoff := s.opts.Now().Add(-s.opts.Idle)
	for e := s.byUse.Front(); e != nil; e = s.byUse.Front() {
		sess := e.Value.(*session)
		if sess.used.After(cutoff) {
			return
		}
		s.byUse.Remove(e)
		delete(s.sessions, sess.ID)
		delete(s.attempts, sess.ID)
		for _, t := range sess.tickets {
			delete(s.brain.tickets, t)
		}
	}
}

// record appends an event to the history. The caller holds s.mu.
func (s *Server) record(sess *session, typ, senderType, senderName, text string) Event {
	now := s.opts.Now()
	ev := Event{ID: newUUID(), CreatedAt: now, Type: typ, SenderType: senderType, SenderName: senderName, Text: text}
	sess.Events = append(sess.Events, ev)
	sess.UpdatedAt = now
	return ev
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand aborts the program instead
	return uuidOf(b[:])
}

// uuidOf writes 16 bytes as a version 4 UUID, setting its version and
// variant bits.
func uuidOf(raw []byte) string {
	var b [16]byte
	copy(b[:], raw)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidPattern.MatchString(s) }

// exchange is the bot's side of one contact message.
type exchange struct {
	answer
	silent      bool   // the session is with a human; the AI said nothing
	contactID   string // of the contact's message in the history
	messageID   string // of the AI's message in the history
	didExitMode bool   // the reply left the mode of the previous reply
}

// converse records a contact message, lets the bot answer it unless a human
// has the session, and applies what the answer does to the session. The bot
// reads the text without its directives; the history keeps it as sent. The
// plan may make the bot fall back, and delays the AI's events in the
// history. The caller holds s.mu.
func (s *Server) converse(sess *session, text string, p plan) exchange {
	contactID := s.record(sess, EventMessage, SenderContact, sess.Contact.Name, text).ID
	// Writing to a closed session opens it again, as a new customer
	// message would; a handoff, though, is never undone.
	if sess.Status != StatusOpen {
		sess.Status = StatusOpen
		if sess.Closure != ClosureHandedOff {
			sess.Closure = ""
		}
	}
	if sess.HandedOff {
		return exchange{silent: true, contactID: contactID}
	}

	said := stripDirectives(text)
	a := s.brain.answer(said, sess.lastRule, p.fallback)
	sess.lastRule = a.rule
	if a.opened != "" {
		sess.tickets = append(sess.tickets, a.opened)
	}
	switch {
	case a.sentiment != "":
		sess.Sentiment = a.sentiment
	case sess.Sentiment == "":
		sess.Sentiment = SentimentNeutral
	}
	ex := exchange{answer: a, contactID: contactID, didExitMode: sess.Mode != "" && sess.Mode != a.mode}
	sess.Mode = a.mode
	// The events only OpenCX's history shows: a supervisor's note on an
	// angry customer comes before the AI's answer, and not later, so that a
	// client polling the history meets it while it waits for the answer.
	openCX := sess.API == APIOpenCX
	if openCX && a.rule == "angry" {
		s.record(sess, EventHumanAgentComment, SenderHumanAgent, SupervisorName, AngryCommentText)
	}
	first := len(sess.Events)
	ex.messageID = s.record(sess, EventMessage, SenderAI, BotName, a.text).ID
	if a.targetBot != "" {
		sess.BotID = a.targetBot
	}
	if a.resolve {
		sess.Status = StatusClosedResolved
		sess.Closure = ClosureAssumedResolved
		if openCX {
			s.record(sess, EventAIResolvedIssue, SenderAI, BotName, "")
		}
	}
	if a.handoff {
		sess.HandedOff = true
		sess.Closure = ClosureHandedOff
		sess.Handoff = &Handoff{Summary: fmt.Sprintf(summaryFormat, said), Sentiment: sess.Sentiment}
		s.record(sess, EventHandoff, SenderAI, BotName, sess.Handoff.Summary)
	}
	if d := p.opts.HistoryDelay; d > 0 {
		// An event shows in the history once its time has come (see
		// visibleEvents), so dating the AI's events later hides them
		// until then.
		at := sess.Events[first].CreatedAt.Add(d)
		for i := first; i < len(sess.Events); i++ {
			sess.Events[i].CreatedAt = at
		}
	}
	return ex
}

// visibleEvents returns the events the history shows at now: those up to the
// first one dated later. Stopping there, rather than skipping it, keeps the
// offsets in history cursors stable.
func visibleEvents(events []Event, now time.Time) []Event {
	for i, ev := range events {
		if ev.CreatedAt.After(now) {
			return events[:i]
		}
	}
	return events
}
