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

// Event and sender types of history items that decide a turn.
const (
	eventMessage  = "message"
	eventHandoff  = "handoff"
	eventTakeover = "human_agent_takeover"
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

// handoff reports whether the event hands the session from the AI to a human,
// after which the AI answers no more.
func (it historyItem) handoff() bool { return it.Type == eventHandoff || it.Type == eventTakeover }

func (it historyItem) fromAI() bool { return it.Type == eventMessage && it.Sender == senderAI }

func (it historyItem) fromContact() bool {
	return it.Type == eventMessage && it.Sender == senderContact
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

// answer is what a read of the history says about one turn.
type answer struct {
	sawUser   bool         // the user's message is in the history
	reply     *historyItem // the AI's first message after it, if any
	handoff   *historyItem // the first handoff event after it, if any
	handedOff bool         // some handoff event appeared anywhere in what was read
}

// answerIn finds the answer to the user's message userID in items, read in
// the order the history gives them (oldest first). userBefore says the
// user's message was on an earlier page than items[0]. Only events after the
// user's message and before the contact's next message count, so an older
// AI message can never pass for the answer.
func answerIn(items []historyItem, userID string, userBefore bool) answer {
	a := answer{sawUser: userBefore}
	closed := false // the contact spoke again: later events answer that
	for i := range items {
		it := &items[i]
		if it.handoff() {
			a.handedOff = true
		}
		switch {
		case !a.sawUser:
			a.sawUser = it.ID != "" && it.ID == userID
		case closed:
		case it.fromContact():
			closed = true
		case it.fromAI() && a.reply == nil:
			a.reply = it
		case it.handoff() && a.handoff == nil:
			a.handoff = it
		}
	}
	return a
}

// read is one pass over the history from the page at cursor to the end.
type read struct {
	items      []historyItem // every item read, in order
	last       string        // cursor of the last page: where the next read starts
	userBefore bool          // the user's message is on a page before last
}

// readHistory follows next from cursor until it is null. userBefore says the
// user's message userID lies before the page at cursor.
func (c *conversation) readHistory(ctx context.Context, cursor, userID string, userBefore bool) (*read, error) {
	r := &read{last: cursor, userBefore: userBefore}
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
		r.last = cursor
		r.items = append(r.items, page.Items...)
		if page.Next == "" {
			return r, nil
		}
		if seen[page.Next] {
			return nil, &providers.Error{Provider: "opencx", Op: opHistory, Status: status,
				Body: c.call.Excerpt(raw), Err: fmt.Errorf("history cursor %q repeats", page.Next)}
		}
		seen[page.Next] = true
		for _, it := range page.Items {
			r.userBefore = r.userBefore || it.ID == userID
		}
		cursor = page.Next
	}
}

const opHistory = "read reply from history"

// await polls the history until the answer to the user's message userID
// appears, and returns it as the reply to a send that answered with status.
//
// Each read starts at the last page of the one before (history only grows at
// its end), and the conversation keeps that cursor for its next turn, so no
// turn rescans the history from the start.
func (c *conversation) await(ctx context.Context, userID string, status int) (*providers.Reply, error) {
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

	cursor, userBefore, sawUser := c.cursor, false, false
	for {
		rd, err := c.readHistory(pctx, cursor, userID, userBefore)
		if err != nil {
			if pctx.Err() != nil && ctx.Err() == nil {
				return nil, c.timedOut(wait, userID, sawUser)
			}
			return nil, err
		}
		a := answerIn(rd.items, userID, userBefore)
		cursor, userBefore = rd.last, rd.userBefore
		c.cursor = cursor
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
			return nil, c.timedOut(wait, userID, sawUser)
		}
	}
}

func (c *conversation) timedOut(wait time.Duration, userID string, sawUser bool) error {
	err := fmt.Errorf("no reply appeared in the session history within reply_timeout (%s)", wait)
	if sawUser {
		err = fmt.Errorf("%w: no AI message or handoff after the user's message %s", err, userID)
	} else {
		err = fmt.Errorf("%w: the user's message %s never appeared in it", err, userID)
	}
	return &providers.Error{Provider: "opencx", Op: opHistory, Err: err,
		Hint: "raise provider.reply_timeout if the bot is slow to answer"}
}

func ptr[T any](v T) *T { return &v }
