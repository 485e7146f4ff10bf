package opencx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/providers"
)

// fakeOpenCX is an OpenCX server whose send replies use one chosen shape and
// whose history the test scripts: answer decides, before each history
// request, whether the bot's events appear now.
type fakeOpenCX struct {
	*httptest.Server
	mu       sync.Mutex
	pageSize int
	events   []map[string]any
	sends    []map[string]any
	cursors  []string // of every history request, in order
	polls    int      // history requests since the last send
	nextID   int
	// sendReply returns the body of a send reply for the message stored as
	// id; nil means the id-only shape.
	sendReply func(id string) string
	// answer may append events; it runs before each history request.
	answer func(f *fakeOpenCX)
	// ids is what history items carry as their id.
	ids historyIDs
	// lose makes sends store no message, as if the service lost them.
	lose bool
}

// historyIDs is how a fake's history items relate to the message ids that
// send replies give: OpenCX promises neither that items carry an id nor
// that it is the send's.
type historyIDs string

const (
	idsSame      historyIDs = "same"      // the send's message id
	idsNone      historyIDs = "none"      // no id member at all
	idsUnrelated historyIDs = "unrelated" // an id of their own
)

// fakeIDs is the ids of the fakes newFake makes; TestIDOnlyHistoryIDs runs
// the id-only tests under each.
var fakeIDs = idsSame

func newFake(t *testing.T, pageSize int) *fakeOpenCX {
	f := &fakeOpenCX{pageSize: pageSize, ids: fakeIDs}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// event appends a history item and returns its id. Callers hold f.mu.
func (f *fakeOpenCX) event(typ, sender, text string) string {
	f.nextID++
	id := fmt.Sprintf("evt-%d", f.nextID)
	f.events = append(f.events, map[string]any{
		"id": id, "created_at": "2025-01-01T00:00:00Z",
		"event": map[string]any{"type": typ, "sender": map[string]any{"type": sender, "name": nil},
			"content": map[string]any{"type": "text", "text": text}},
	})
	return id
}

func (f *fakeOpenCX) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/chat/sessions":
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"s-1"}`)
	case r.Method == http.MethodPost && r.URL.Path == "/chat/sessions/s-1/send":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.sends = append(f.sends, body)
		sender := "contact"
		if body["sender"] == "agent" {
			sender = "human_agent"
		}
		text, _ := body["message"].(map[string]any)["text"].(string)
		id := "never-stored"
		if !f.lose {
			id = f.event("message", sender, text)
		}
		f.polls = 0
		w.WriteHeader(http.StatusCreated)
		if f.sendReply != nil {
			fmt.Fprint(w, f.sendReply(id))
			return
		}
		fmt.Fprintf(w, `{"success":true,"data":{"message":{"id":%q}}}`, id)
	case r.Method == http.MethodGet && r.URL.Path == "/chat/sessions/s-1/history":
		cursor := r.URL.Query().Get("cursor")
		f.cursors = append(f.cursors, cursor)
		f.polls++
		if f.answer != nil {
			f.answer(f)
		}
		start := 0
		if cursor != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(cursor, "c"))
		}
		end := min(start+f.pageSize, len(f.events))
		items := []map[string]any{}
		for _, ev := range f.events[min(start, end):end] {
			it := maps.Clone(ev)
			switch f.ids {
			case idsNone:
				delete(it, "id")
			case idsUnrelated:
				it["id"] = "item-of-" + it["id"].(string)
			}
			items = append(items, it)
		}
		page := map[string]any{"items": items, "next": nil}
		if end < len(f.events) {
			page["next"] = "c" + strconv.Itoa(end)
		}
		_ = json.NewEncoder(w).Encode(page)
	case r.Method == http.MethodGet && r.URL.Path == "/chat/sessions/s-1":
		fmt.Fprint(w, `{"id":"s-1","status":"open","ai_closure_type":null,"handoff":null}`)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeOpenCX) history() (cursors []string, sends []map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cursors...), append([]map[string]any(nil), f.sends...)
}

// quick is a Config that polls fast and gives up within a second.
func quick(url string) providers.Config {
	return providers.Config{BaseURL: url, PollInterval: 5 * time.Millisecond, ReplyTimeout: time.Second}
}

func open(t *testing.T, cfg providers.Config) providers.Conversation {
	t.Helper()
	conv, err := New(cfg).Open(context.Background(), providers.Session{})
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

func TestEveryShapeThroughSend(t *testing.T) {
	tests := []struct {
		name string
		send string // "" is id-only, answered on the first poll
		text string
	}{
		{"flat", `{"success":true,"code":"ai_replied","autopilotResponse":{"value":{"content":"flat hi"},"mightSolveUserIssue":true},"sessionIsHandedOff":false}`, "flat hi"},
		{"data-wrapped", `{"success":true,"data":{"autopilotResponse":{"value":{"content":"data hi"},"mightSolveUserIssue":true},"sessionIsHandedOff":false}}`, "data hi"},
		{"legacy", `{"ai_response":{"text":"legacy hi"}}`, "legacy hi"},
		{"id-only", "", "history hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 20)
			if tt.send != "" {
				f.sendReply = func(string) string { return tt.send }
			}
			f.answer = func(f *fakeOpenCX) {
				if f.polls == 1 {
					f.event("message", "ai", "history hi")
				}
			}
			r, err := open(t, quick(f.URL)).Send(context.Background(), providers.Message{Text: "hello"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tt.text || r.Silent || r.Status != http.StatusCreated {
				t.Errorf("reply %+v", r)
			}
			switch tt.name {
			case "flat", "data-wrapped":
				if r.MightSolve == nil || !*r.MightSolve || r.Handoff == nil || *r.Handoff {
					t.Errorf("flags %+v", r)
				}
			case "legacy", "id-only":
				if r.MightSolve != nil || r.FullyCovered != nil || r.Mode != "" || r.Actions != nil || r.Knowledge != nil {
					t.Errorf("%s must leave what it does not carry unreported: %+v", tt.name, r)
				}
			}
			if tt.name == "legacy" && r.Handoff != nil {
				t.Errorf("legacy handoff must stay unreported, got %v", *r.Handoff)
			}
			if tt.name == "id-only" {
				if r.Handoff == nil || *r.Handoff {
					t.Errorf("an AI message with no handoff event: handoff %v", deref(r.Handoff))
				}
				var item struct {
					Event struct{ Content struct{ Text string } }
				}
				if json.Unmarshal(r.Raw, &item) != nil || item.Event.Content.Text != "history hi" {
					t.Errorf("Raw should be the AI's history item, got %s", r.Raw)
				}
			}
		})
	}
}

// The answer shows up on the third poll, on the history's second page, with
// an older AI message before the user's message that must not be taken.
func TestIDOnlyAnswerOnThirdPollAndSecondPage(t *testing.T) {
	f := newFake(t, 2)
	f.mu.Lock()
	f.event("message", "ai", "Welcome! How can I help?")
	f.mu.Unlock()
	f.answer = func(f *fakeOpenCX) {
		if f.polls == 3 && len(f.events) == 2 {
			f.event("message", "ai", "Refund opened: TCK-1")
		}
	}
	r, err := open(t, quick(f.URL)).Send(context.Background(), providers.Message{Text: "refund please"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "Refund opened: TCK-1" {
		t.Errorf("text %q", r.Text)
	}
	cursors, _ := f.history()
	if strings.Join(cursors, ",") != ",,,c2" {
		t.Errorf("history requests with cursors %q, want three polls of the first page, then page c2", cursors)
	}
}

func TestIDOnlyTwoTurnsEachGetTheirOwnAnswer(t *testing.T) {
	f := newFake(t, 2)
	f.answer = func(f *fakeOpenCX) {
		if f.polls == 3 { // the AI answers at the third history request of every turn
			last := f.events[len(f.events)-1]["event"].(map[string]any)["content"].(map[string]any)["text"]
			f.event("message", "ai", fmt.Sprintf("answer to %s", last))
		}
	}
	conv := open(t, quick(f.URL))
	for _, q := range []string{"first", "second", "third"} {
		r, err := conv.Send(context.Background(), providers.Message{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if r.Text != "answer to "+q {
			t.Errorf("turn %q got %q", q, r.Text)
		}
	}
	// Pages of two: [u1 a1] [u2 a2] [u3 a3]. Every poll starts at the last
	// page the one before read, and so does every turn: the third turn never
	// reads the first page again.
	cursors, _ := f.history()
	want := []string{"", "", "", "", "c2", "c2", "c2", "c4", "c4"}
	if strings.Join(cursors, ",") != strings.Join(want, ",") {
		t.Errorf("cursors %q, want %q", cursors, want)
	}
}

func TestIDOnlyTimesOut(t *testing.T) {
	f := newFake(t, 20)
	cfg := quick(f.URL)
	cfg.ReplyTimeout = 100 * time.Millisecond
	start := time.Now()
	_, err := open(t, cfg).Send(context.Background(), providers.Message{Text: "anyone?"})
	var perr *providers.Error
	if !errors.As(err, &perr) {
		t.Fatalf("want a *providers.Error (errored, not failed), got %v", err)
	}
	if !strings.Contains(err.Error(), "no reply appeared in the session history within reply_timeout (100ms)") ||
		!strings.Contains(err.Error(), `no AI message or handoff after the user's message "anyone?" (message id evt-1)`) {
		t.Errorf("error %q", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	if cursors, _ := f.history(); len(cursors) < 3 {
		t.Errorf("polled only %d times in 100ms at 5ms", len(cursors))
	}
}

func TestIDOnlyUserMessageNeverInHistory(t *testing.T) {
	f := newFake(t, 20)
	f.lose = true
	f.sendReply = func(string) string { return `{"success":true,"data":{"message":{"id":"lost"}}}` }
	f.answer = func(f *fakeOpenCX) { f.event("message", "ai", "an answer to something else") }
	cfg := quick(f.URL)
	cfg.ReplyTimeout = 50 * time.Millisecond
	r, err := open(t, cfg).Send(context.Background(), providers.Message{Text: "hi"})
	if err == nil || !strings.Contains(err.Error(), `the user's message "hi" (message id lost) never appeared`) {
		t.Fatalf("want a timeout naming the missing message, got %+v, %v", r, err)
	}
}

func TestIDOnlyCancelStopsPolling(t *testing.T) {
	f := newFake(t, 20)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	cfg := quick(f.URL)
	cfg.ReplyTimeout = time.Minute
	start := time.Now()
	_, err := open(t, cfg).Send(ctx, providers.Message{Text: "hi"})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "reply_timeout") {
		t.Errorf("want the caller's context error, got %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestIDOnlyHandoff(t *testing.T) {
	tests := []struct {
		name   string
		events [][3]string // type, sender, text
		text   string
	}{
		{"handoff event alone", [][3]string{{"handoff", "ai", "Customer asks for a human"}}, ""},
		{"AI message then handoff event", [][3]string{{"message", "ai", "Passing you to a human."}, {"handoff", "ai", "summary"}}, "Passing you to a human."},
		{"human agent takes over", [][3]string{{"human_agent_takeover", "human_agent", "Bo took over"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 20)
			f.answer = func(f *fakeOpenCX) {
				if f.polls == 2 {
					for _, e := range tt.events {
						f.event(e[0], e[1], e[2])
					}
				}
			}
			conv := open(t, quick(f.URL))
			r, err := conv.Send(context.Background(), providers.Message{Text: "human please"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tt.text || r.Silent != (tt.text == "") || r.Handoff == nil || !*r.Handoff {
				t.Errorf("reply %+v", r)
			}
			if r.MightSolve != nil || r.FullyCovered != nil {
				t.Errorf("history reports no flags: %+v", r)
			}

			// After a handoff the AI stays silent: the next turn must not wait for it.
			// Waiting would mean polling, so the history requests tell.
			before, _ := f.history()
			r, err = conv.Send(context.Background(), providers.Message{Text: "hello?"})
			if err != nil || !r.Silent || r.Handoff == nil || !*r.Handoff {
				t.Fatalf("after handoff: %+v, %v", r, err)
			}
			if after, _ := f.history(); len(after) != len(before) {
				t.Errorf("a turn after handoff read the history (%d requests)", len(after)-len(before))
			}
			st, err := conv.State(context.Background())
			if err != nil || st.Handoff == nil || !*st.Handoff {
				t.Errorf("final state %+v, %v", st, err)
			}
		})
	}
}

// TestIDOnlyHistoryIDs runs the tests that read answers from the history
// again with items that carry no id, and with ids unrelated to the send's.
func TestIDOnlyHistoryIDs(t *testing.T) {
	for _, ids := range []historyIDs{idsNone, idsUnrelated} {
		t.Run(string(ids), func(t *testing.T) {
			fakeIDs = ids
			t.Cleanup(func() { fakeIDs = idsSame })
			for _, test := range []func(*testing.T){
				TestEveryShapeThroughSend,
				TestIDOnlyAnswerOnThirdPollAndSecondPage,
				TestIDOnlyTwoTurnsEachGetTheirOwnAnswer,
				TestIDOnlyRepeatedText,
				TestIDOnlyIgnoresCommentsAndResolution,
				TestIDOnlyTimesOut,
				TestIDOnlyUserMessageNeverInHistory,
				TestIDOnlyHandoff,
				TestAgentTurnAndTakeOverOnTheWire,
			} {
				name := runtime.FuncForPC(reflect.ValueOf(test).Pointer()).Name()
				t.Run(name[strings.LastIndex(name, ".")+1:], test)
			}
		})
	}
}

// The same text sent twice: the second turn must wait for the answer to the
// second message, not take the answer the first one got.
func TestIDOnlyRepeatedText(t *testing.T) {
	f := newFake(t, 3)
	f.answer = func(f *fakeOpenCX) {
		if f.polls == 2 {
			f.event("message", "ai", fmt.Sprintf("answer %d", len(f.sends)))
		}
	}
	conv := open(t, quick(f.URL))
	for i := 1; i <= 3; i++ {
		r, err := conv.Send(context.Background(), providers.Message{Text: "hello?"})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("answer %d", i); r.Text != want {
			t.Errorf("turn %d got %q, want %q", i, r.Text, want)
		}
	}
}

// Internal comments and the AI's resolution of the issue are events of the
// history, but neither is the AI's answer.
func TestIDOnlyIgnoresCommentsAndResolution(t *testing.T) {
	f := newFake(t, 20)
	f.answer = func(f *fakeOpenCX) {
		switch f.polls {
		case 1:
			f.event("human_agent_comment", "human_agent", "internal: watch this one")
			f.event("ai_resolved_issue", "ai", "")
		case 3:
			f.event("message", "ai", "Glad I could help!")
			f.event("ai_resolved_issue", "ai", "")
		}
	}
	r, err := open(t, quick(f.URL)).Send(context.Background(), providers.Message{Text: "thanks"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "Glad I could help!" || r.Silent || r.Handoff == nil || *r.Handoff {
		t.Errorf("reply %+v", r)
	}
	if cursors, _ := f.history(); len(cursors) != 3 {
		t.Errorf("answered after %d polls, want 3", len(cursors))
	}
}

// TestScan finds the user's message by id where it matches, else by text
// after what earlier turns read, and the AI's answer after it.
func TestScan(t *testing.T) {
	item := func(id, typ, sender, text string) historyItem {
		return historyItem{ID: id, Type: typ, Sender: sender, Text: text}
	}
	contact := func(id, text string) historyItem { return item(id, "message", "contact", text) }
	ai := func(id, text string) historyItem { return item(id, "message", "ai", text) }
	tests := []struct {
		name      string
		items     []historyItem
		skip      int
		sent      sentMessage
		sawUser   bool
		reply     string // Text of the reply, "" for none
		handoff   bool   // a handoff event is the answer
		handedOff bool
	}{
		{"by id", []historyItem{ai("a0", "Welcome"), contact("u1", "refund"), ai("a1", "opened")},
			0, sentMessage{"u1", "refund"}, true, "opened", false, false},
		{"no ids", []historyItem{ai("", "Welcome"), contact("", "refund"), ai("", "opened")},
			0, sentMessage{"m-1", "refund"}, true, "opened", false, false},
		{"unrelated ids", []historyItem{ai("x0", "Welcome"), contact("x1", "refund"), ai("x2", "opened")},
			0, sentMessage{"m-1", "refund"}, true, "opened", false, false},
		{"white space folded", []historyItem{contact("", "  refund \n please "), ai("", "sure")},
			0, sentMessage{"", "refund please"}, true, "sure", false, false},
		{"not yet stored", []historyItem{ai("", "Welcome")},
			0, sentMessage{"m-1", "refund"}, false, "", false, false},
		{"stored, unanswered", []historyItem{ai("", "Welcome"), contact("", "refund")},
			0, sentMessage{"m-1", "refund"}, true, "", false, false},
		{"read by an earlier turn", []historyItem{contact("", "hello"), ai("", "hi")},
			2, sentMessage{"", "hello"}, false, "", false, false},
		{"after what earlier turns read", []historyItem{contact("", "hello"), ai("", "hi"), contact("", "hello"), ai("", "hi again")},
			2, sentMessage{"", "hello"}, true, "hi again", false, false},
		{"the last of two with the text", []historyItem{contact("", "hello"), ai("", "hi"), contact("", "hello")},
			0, sentMessage{"", "hello"}, true, "", false, false},
		{"an id beats a later text", []historyItem{contact("u1", "hello"), contact("u2", "hello"), ai("a2", "hi")},
			0, sentMessage{"u1", "hello"}, true, "", false, false},
		{"the contact's next message closes", []historyItem{contact("", "first"), contact("", "second"), ai("", "to the second")},
			0, sentMessage{"", "first"}, true, "", false, false},
		{"human agent message and comment are no answer", []historyItem{contact("", "refund"), item("", "message", "human_agent", "Bo here"),
			item("", "human_agent_comment", "human_agent", "note"), ai("", "opened")},
			0, sentMessage{"", "refund"}, true, "opened", false, false},
		{"resolution is no answer", []historyItem{contact("", "thanks"), item("", "ai_resolved_issue", "ai", "")},
			0, sentMessage{"", "thanks"}, true, "", false, false},
		{"unknown event types are no answer", []historyItem{contact("", "thanks"), item("", "ai_mood", "ai", "happy")},
			0, sentMessage{"", "thanks"}, true, "", false, false},
		{"handoff", []historyItem{contact("", "human"), item("", "human_agent_comment", "human_agent", "mine"), item("", "handoff", "ai", "summary")},
			0, sentMessage{"", "human"}, true, "", true, true},
		{"an older handoff is no answer", []historyItem{item("", "handoff", "ai", "summary"), contact("", "hello?")},
			0, sentMessage{"", "hello?"}, true, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Read in one page and split across pages, as await does.
			for split := 0; split <= len(tt.items); split++ {
				if split > 0 && split < tt.skip {
					continue // the skip is of the first page's items
				}
				a := scan{skip: tt.skip}
				if split == 0 {
					a.page(tt.items, tt.sent)
				} else {
					a.page(tt.items[:split], tt.sent)
					a.page(tt.items[split:], tt.sent)
				}
				reply := ""
				if a.reply != nil {
					reply = a.reply.Text
				}
				if a.sawUser != tt.sawUser || reply != tt.reply || (a.handoff != nil) != tt.handoff || a.handedOff != tt.handedOff {
					t.Errorf("split at %d: sawUser %v reply %q handoff %v handedOff %v, want %v %q %v %v",
						split, a.sawUser, reply, a.handoff != nil, a.handedOff, tt.sawUser, tt.reply, tt.handoff, tt.handedOff)
				}
			}
		})
	}
}

func TestAgentTurnAndTakeOverOnTheWire(t *testing.T) {
	t.Run("flat", func(t *testing.T) {
		f := newFake(t, 20)
		f.sendReply = func(string) string {
			return `{"success":true,"code":"human_agent_message_sent","autopilotResponse":null,"uiResponse":null,"sessionIsHandedOff":true}`
		}
		conv := open(t, quick(f.URL))
		r, err := conv.Send(context.Background(), providers.Message{Text: "Hi, I'm Bo.", Agent: true, TakeOver: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Silent || r.Text != "" || r.Handoff == nil || !*r.Handoff {
			t.Errorf("reply %+v", r)
		}
		_, sends := f.history()
		body := sends[0]
		agent, _ := body["agent"].(map[string]any)
		if body["sender"] != "agent" || agent["name"] != AgentName || body["should_take_over_session_from_ai"] != true ||
			body["message"].(map[string]any)["text"] != "Hi, I'm Bo." {
			t.Errorf("send body %v", body)
		}
	})
	t.Run("contact messages carry neither", func(t *testing.T) {
		f := newFake(t, 20)
		f.sendReply = func(string) string { return `{"success":true,"autopilotResponse":{"value":{"content":"hi"}}}` }
		if _, err := open(t, quick(f.URL)).Send(context.Background(), providers.Message{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		_, sends := f.history()
		if _, ok := sends[0]["agent"]; ok || sends[0]["sender"] != "contact" {
			t.Errorf("send body %v", sends[0])
		}
		if _, ok := sends[0]["should_take_over_session_from_ai"]; ok {
			t.Errorf("send body %v", sends[0])
		}
	})
	t.Run("id-only agent turn does not wait", func(t *testing.T) {
		f := newFake(t, 20)
		conv := open(t, quick(f.URL))
		r, err := conv.Send(context.Background(), providers.Message{Text: "Bo here.", Agent: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Silent || r.Handoff != nil || !strings.Contains(string(r.Raw), `"message"`) {
			t.Errorf("reply %+v (Raw %s)", r, r.Raw)
		}
		if cursors, _ := f.history(); len(cursors) != 0 {
			t.Errorf("an agent turn polled the history %d times", len(cursors))
		}
	})
	t.Run("id-only take-over, then the contact gets silence at once", func(t *testing.T) {
		f := newFake(t, 20)
		conv := open(t, quick(f.URL))
		r, err := conv.Send(context.Background(), providers.Message{Text: "Bo here.", Agent: true, TakeOver: true})
		if err != nil || !r.Silent || r.Handoff == nil || !*r.Handoff {
			t.Fatalf("%+v, %v", r, err)
		}
		r, err = conv.Send(context.Background(), providers.Message{Text: "thanks Bo"})
		if err != nil || !r.Silent || r.Handoff == nil || !*r.Handoff {
			t.Fatalf("%+v, %v", r, err)
		}
		if cursors, _ := f.history(); len(cursors) != 0 {
			t.Errorf("polled the history %d times", len(cursors))
		}
	})
}

func TestHistoryErrors(t *testing.T) {
	tests := []struct {
		name string
		page string
		want string
	}{
		{"items not a list", `{"items":{},"next":null}`, "undecodable history items"},
		{"item not an object", `{"items":[1],"next":null}`, "undecodable history item 0"},
		{"no items", `{"next":null}`, "the history page has no items"},
		{"cursor loop", `{"items":[],"next":"same"}`, `history cursor "same" repeats`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.URL.Path == "/chat/sessions":
					w.WriteHeader(http.StatusCreated)
					fmt.Fprint(w, `{"id":"s-1"}`)
				case strings.HasSuffix(r.URL.Path, "/send"):
					w.WriteHeader(http.StatusCreated)
					fmt.Fprint(w, `{"success":true,"data":{"message":{"id":"m1"}}}`)
				default:
					fmt.Fprint(w, tt.page)
				}
			}))
			defer srv.Close()
			_, err := open(t, quick(srv.URL)).Send(context.Background(), providers.Message{Text: "hi"})
			var perr *providers.Error
			if !errors.As(err, &perr) || perr.Op != opHistory || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error of %q containing %q", err, opHistory, tt.want)
			}
		})
	}
}

func TestDecodeHistoryOddButLegal(t *testing.T) {
	page, err := decodeHistory([]byte(`{"data":{"items":[
		{"id":7,"event":{"type":"message","sender":{"type":"ai"},"content":"bare string"}},
		{"id":"x","event":null},
		{"id":null,"event":{"type":"message","sender":null,"content":null}},
		{"id":"y","created_at":"t","event":{"type":"message","sender":{"type":"ai","name":"Bot"},"content":{"type":"text","text":"hi","extra":1}}}
	],"next":""}}`))
	if err != nil {
		t.Fatal(err)
	}
	if page.Next != "" || len(page.Items) != 4 {
		t.Fatalf("page %+v", page)
	}
	if it := page.Items[0]; it.ID != "7" || it.role() != roleReply || it.Text != "bare string" {
		t.Errorf("item 0 %+v", it)
	}
	if it := page.Items[3]; it.ID != "y" || it.Text != "hi" || !strings.Contains(string(it.Raw), "created_at") {
		t.Errorf("item 3 %+v", it)
	}
	if page, err := decodeHistory([]byte(`{"items":null,"next":null}`)); err != nil || len(page.Items) != 0 {
		t.Errorf("null items: %+v, %v", page, err)
	}
}
