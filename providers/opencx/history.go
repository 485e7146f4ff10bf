package opencx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/evalrun/evalrun/providers"
)

// Defaults for reading a reply from the session history, used when the
// Config leaves PollInterval or ReplyTimeout at zero.
const (
	DefaultPollInterval = 500 * time.Millisecond
	DefaultReplyTimeout = 60 * time.Second
)

// Event and sender types of history items.
const (
	eventMessage  = "message"
	eventHandoff  = "handoff"
	eventTakeover = "human_agent_takeover"
	// eventResolved is the AI marking the contact's issue resolved. It is
	// not a message: it answers nothing and closes no turn.
	eventResolved = "ai_resolved_issue"
	// eventComment is a human agent's internal note on the session, which
	// the contact never sees: neither a reply nor a handoff.
	eventComment  = "human_agent_comment"
	senderAI      = "ai"
	senderContact = "contact"
)

// historyPage is one page of GET /chat/sessions/{id}/history.
type historyPage struct {
	Items []historyItem
	Next  string // "" at the end
}

// historyItem is one event of a session's history.
type historyItem struct {
	ID     string
	Type   string // event.type: message, handoff, human_agent_takeover, ...
	Sender string // event.sender.type: contact, ai, human_agent
	Text   string // event.content.text
	Raw    json.RawMessage
}

// role is what a history item means for finding the answer to a turn.
type role int

const (
	roleOther   role = iota // answers nothing: see historyItem.role
	roleContact             // a message from the contact
	roleReply               // a message from the AI
	roleHandoff             // the session passes from the AI to a human, who answers from then on
)

// role classifies the item. A human agent's message is roleOther: the turn
// waits for the AI, and a takeover, not a message, is what hands over.
func (it historyItem) role() role {
	switch it.Type {
	case eventMessage:
		switch it.Sender {
		case senderContact:
			return roleContact
		case senderAI:
			return roleReply
		}
	case eventHandoff, eventTakeover:
		return roleHandoff
	case eventResolved, eventComment:
		// Neither is the AI's answer, and neither ends the wait for it.
	}
	// So too event types evalrun does not know.
	return roleOther
}

// decodeHistory reads one history page: {items[...], next}, also accepted
// wrapped in data. Items that are not objects are an error; missing or null
// event, sender and content leave their fields empty.
func decodeHistory(raw []byte) (*historyPage, error) {
	var b struct {
		Items json.RawMessage `json:"items"`
		Next  json.RawMessage `json:"next"`
		Data  *struct {
			Items json.RawMessage `json:"items"`
			Next  json.RawMessage `json:"next"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("undecodable history page: %w", err)
	}
	items, next := b.Items, b.Next
	if items == nil && b.Data != nil {
		items, next = b.Data.Items, b.Data.Next
	}
	if items == nil {
		return nil, errors.New("the history page has no items")
	}
	var rawItems []json.RawMessage
	if err := json.Unmarshal(items, &rawItems); err != nil {
		return nil, fmt.Errorf("undecodable history items: %w", err)
	}
	page := &historyPage{Next: providers.ID(next)}
	for i, ri := range rawItems {
		var it struct {
			ID    json.RawMessage `json:"id"`
			Event *struct {
				Type   string `json:"type"`
				Sender *struct {
					Type string `json:"type"`
				} `json:"sender"`
				Content json.RawMessage `json:"content"`
			} `json:"event"`
		}
		if err := json.Unmarshal(ri, &it); err != nil {
			return nil, fmt.Errorf("undecodable history item %d: %w", i, err)
		}
		item := historyItem{ID: providers.ID(it.ID), Raw: ri}
		if ev := it.Event; ev != nil {
			item.Type = ev.Type
			if ev.Sender != nil {
				item.Sender = ev.Sender.Type
			}
			item.Text = contentText(ev.Content)
		}
		page.Items = append(page.Items, item)
	}
	return page, nil
}

// contentText reads event.content as {type, text} or, leniently, as a bare string.
func contentText(raw json.RawMessage) string {
	var c struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &c) == nil {
		return c.Text
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// sentMessage is the user's message whose answer a turn waits for: its text
// as sent, and the message id the send reply gave ("" when none).
type sentMessage struct {
	id   string
	text string
}

// String names the message in errors: its text, cut short, and its id.
func (m sentMessage) String() string {
	text := m.text
	if r := []rune(text); len(r) > 60 {
		text = string(r[:60]) + "…"
	}
	if m.id == "" {
		return fmt.Sprintf("%q", text)
	}
	return fmt.Sprintf("%q (message id %s)", text, m.id)
}

// is reports whether a contact message with this text could be m. White
// space is compared loosely, in case the service trims or folds it.
func (m sentMessage) is(text string) bool {
	return strings.Join(strings.Fields(text), " ") == strings.Join(strings.Fields(m.text), " ")
}

// scan is what reading the history has found out about one turn. History
// items need not carry ids, and where they do, the id need not be the one
// the send returned, so the user's message is found by position and content:
// the contact message with the text just sent, after the items earlier turns
// have read. An item whose id is the send's is the user's message for sure.
// Of several contact messages with the text, the last counts: it is the most
// recent. The answer is the AI's first message, or the first handoff, after
// it and before the contact's next message, so an older AI message can never
// pass for it.
//
// A scan is a value: await keeps the scan as it stood at the start of the
// page it reads next, because each poll reads that page again from its start.
type scan struct {
	skip      int          // items at the start of the next page that earlier turns have read
	sawUser   bool         // the user's message has been read
	byID      bool         // ... and was known by its id
	closed    bool         // the contact spoke again after it: later events answer that
	reply     *historyItem // the AI's first message after it
	handoff   *historyItem // the first handoff event after it
	handedOff bool         // a handoff event was read, anywhere
}

// page reads one page of items, oldest first, after the first skip.
func (s *scan) page(items []historyItem, m sentMessage) {
	for i := min(s.skip, len(items)); i < len(items); i++ {
		s.item(&items[i], m)
	}
	s.skip = 0
}

func (s *scan) item(it *historyItem, m sentMessage) {
	r := it.role()
	if r == roleHandoff {
		s.handedOff = true
	}
	switch {
	case r == roleContact && m.id != "" && it.ID == m.id:
		s.found(true)
	case r == roleContact && !s.byID && m.is(it.Text):
		s.found(false)
	case r == roleContact:
		s.closed = s.sawUser
	case !s.sawUser || s.closed:
	case r == roleReply && s.reply == nil:
		s.reply = it
	case r == roleHandoff && s.handoff == nil:
		s.handoff = it
	}
}

// found starts the turn's window afresh at the user's message.
func (s *scan) found(byID bool) {
	s.sawUser, s.byID, s.closed, s.reply, s.handoff = true, byID, false, nil, nil
}

// read is one pass over the history from the page at cursor to the end.
type read struct {
	last    string // cursor of the last page: where the next read starts
	lastLen int    // items on the last page
	base    scan   // the scan as it stood at the start of the last page
	scan    scan   // the scan after everything read
}

// readHistory follows next from cursor until it is null, going on with the
// scan at, which stands at the start of the page at cursor.
func (c *conversation) readHistory(ctx context.Context, cursor string, at scan, m sentMessage) (*read, error) {
	seen := map[string]bool{cursor: true}
	for {
		path := c.path() + "/history?cursor=" + url.QueryEscape(cursor)
		status, raw, err := c.call.Do(ctx, opHistory, http.MethodGet, path, nil)
		if err != nil {
			return nil, err
		}
		page, err := decodeHistory(raw)
		if err != nil {
			return nil, &providers.Error{Provider: "opencx", Op: opHistory, Status: status,
				Body: c.call.Excerpt(raw), Err: err}
		}
		r := &read{last: cursor, lastLen: len(page.Items), base: at}
		at.page(page.Items, m)
		r.scan = at
		if page.Next == "" {
			return r, nil
		}
		if seen[page.Next] {
			return nil, &providers.Error{Provider: "opencx", Op: opHistory, Status: status,
				Body: c.call.Excerpt(raw), Err: fmt.Errorf("history cursor %q repeats", page.Next)}
		}
		seen[page.Next] = true
		cursor = page.Next
	}
}

const opHistory = "read reply from history"

// await polls the history until the answer to the user's message m
// appears, and returns it as the reply to a send that answered with status.
//
// Each read starts at the last page of the one before (history only grows at
// its end), and the conversation keeps that cursor, with how many items of
// its page have been read, for its next turn: no turn rescans the history
// from the start, and none takes an item an earlier turn has read.
func (c *conversation) await(ctx context.Context, m sentMessage, status int) (*providers.Reply, error) {
	wait := c.replyTimeout
	if wait <= 0 {
		wait = DefaultReplyTimeout
	}
	every := c.pollInterval
	if every <= 0 {
		every = DefaultPollInterval
	}
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()

	cursor, at, sawUser := c.cursor, scan{skip: c.seen}, false
	for {
		rd, err := c.readHistory(pctx, cursor, at, m)
		if err != nil {
			if pctx.Err() != nil && ctx.Err() == nil {
				return nil, c.timedOut(wait, m, sawUser)
			}
			return nil, err
		}
		a := rd.scan
		cursor, at = rd.last, rd.base
		// Whatever this read saw precedes the next turn's message.
		c.cursor, c.seen = rd.last, rd.lastLen
		sawUser = a.sawUser
		if a.handedOff {
			c.handedOff = true
		}
		switch {
		case a.reply != nil:
			return &providers.Reply{
				Text:    a.reply.Text,
				Silent:  strings.TrimSpace(a.reply.Text) == "",
				Handoff: ptr(c.handedOff),
				Sparse:  true,
				Status:  status,
				Raw:     bytes.Clone(a.reply.Raw),
			}, nil
		case a.handoff != nil:
			return &providers.Reply{Silent: true, Handoff: ptr(true), Sparse: true, Status: status, Raw: bytes.Clone(a.handoff.Raw)}, nil
		case a.sawUser && c.handedOff:
			// Handed off before this message: the AI will not answer it.
			return &providers.Reply{Silent: true, Handoff: ptr(true), Status: status}, nil
		}
		t := time.NewTimer(every)
		select {
		case <-t.C:
		case <-pctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return nil, &providers.Error{Provider: "opencx", Op: opHistory, Err: ctx.Err()}
			}
			return nil, c.timedOut(wait, m, sawUser)
		}
	}
}

func (c *conversation) timedOut(wait time.Duration, m sentMessage, sawUser bool) error {
	err := fmt.Errorf("no reply appeared in the session history within reply_timeout (%s)", wait)
	if sawUser {
		err = fmt.Errorf("%w: no AI message or handoff after the user's message %s", err, m)
	} else {
		err = fmt.Errorf("%w: the user's message %s never appeared in it", err, m)
	}
	return &providers.Error{Provider: "opencx", Op: opHistory, Err: err,
		Hint: "raise provider.reply_timeout if the bot is slow to answer"}
}

func ptr[T any](v T) *T { return &v }
