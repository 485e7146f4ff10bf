package sim

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// client talks to a simulator over loopback HTTP, as evalrun's providers do.
type client struct {
	t     *testing.T
	base  string
	token string
}

func newClient(t *testing.T, opts Options) (*client, *Server) {
	t.Helper()
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &client{t: t, base: srv.URL, token: opts.Token}, s
}

// do sends body (nil: none; string: as is; else JSON) and returns the status,
// the decoded JSON object and the raw body.
func (c *client) do(method, path string, body any) (int, map[string]any, []byte) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var doc map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &doc); err != nil {
			c.t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, doc, raw
}

func (c *client) create(body any) string {
	c.t.Helper()
	code, doc, raw := c.do("POST", "/chat/sessions", body)
	if code != http.StatusCreated {
		c.t.Fatalf("create session: HTTP %d: %s", code, raw)
	}
	id, _ := doc["id"].(string)
	if !isUUID(id) {
		c.t.Fatalf("create session: id %q is not a UUID", id)
	}
	return id
}

// say sends a contact message and returns the reply, failing on anything but 201.
func (c *client) say(id, text string) map[string]any {
	c.t.Helper()
	code, doc, raw := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{
		"sender": "contact", "message": map[string]any{"type": "text", "text": text},
	})
	if code != http.StatusCreated {
		c.t.Fatalf("send %q: HTTP %d: %s", text, code, raw)
	}
	return doc
}

func (c *client) session(id string) map[string]any {
	c.t.Helper()
	code, doc, raw := c.do("GET", "/chat/sessions/"+id, nil)
	if code != http.StatusOK {
		c.t.Fatalf("get session: HTTP %d: %s", code, raw)
	}
	return doc
}

func (c *client) toolzz(body map[string]any) (int, map[string]any, []byte) {
	c.t.Helper()
	return c.do("POST", "/api/v1/chat/send-message", body)
}

func content(reply map[string]any) any { return dig(reply, "autopilotResponse", "value", "content") }

const botID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

func TestSessionLifecycle(t *testing.T) {
	c, _ := newClient(t, Options{HistoryPageSize: 3})
	id := c.create(map[string]any{"contact": map[string]any{"name": "Ana"}, "channel": map[string]any{"type": "web"}})

	s := c.session(id)
	for key, want := range map[string]any{"id": id, "status": "open", "ai_closure_type": nil, "sentiment": nil, "language": "en", "assignee_id": nil} {
		if s[key] != want {
			t.Errorf("new session: %s = %v, want %v", key, s[key], want)
		}
	}
	if dig(s, "channel", "type") != "web" || dig(s, "contact", "name") != "Ana" {
		t.Errorf("new session: channel %v, contact %v", s["channel"], s["contact"])
	}
	if _, ok := s["handoff"]; ok {
		t.Errorf("new session has a handoff: %v", s["handoff"])
	}

	r := c.say(id, "Hello!")
	if r["success"] != true || r["code"] != CodeAIReplied || r["sessionIsHandedOff"] != false || content(r) != GreetingText {
		t.Errorf("greeting reply: %v", r)
	}
	if r["uiResponse"] != nil {
		t.Errorf("uiResponse = %v, want null", r["uiResponse"])
	}
	c.say(id, "How fast is shipping?")
	c.say(id, "Thanks!") // closes the session

	// Seven events: three messages each way, and the AI marking the issue
	// resolved after the thanks. Pages of three, in order.
	var texts []string
	cursor, pages := "", 0
	for {
		path := "/chat/sessions/" + id + "/history"
		if cursor != "" {
			path += "?cursor=" + cursor
		}
		code, doc, raw := c.do("GET", path, nil)
		if code != http.StatusOK {
			t.Fatalf("history: HTTP %d: %s", code, raw)
		}
		pages++
		for _, it := range doc["items"].([]any) {
			typ := dig(it, "event", "type")
			if !isUUID(fmt.Sprint(dig(it, "id"))) || dig(it, "created_at") == nil || typ != EventMessage && typ != EventAIResolvedIssue || dig(it, "event", "content", "type") != "text" {
				t.Errorf("history item: %v", it)
			}
			if typ != EventMessage {
				texts = append(texts, fmt.Sprintf("%v/%v", typ, dig(it, "event", "sender", "type")))
				continue
			}
			texts = append(texts, fmt.Sprintf("%v: %v", dig(it, "event", "sender", "type"), dig(it, "event", "content", "text")))
		}
		next, ok := doc["next"].(string)
		if !ok {
			if doc["next"] != nil {
				t.Fatalf("next = %#v, want a string or null", doc["next"])
			}
			break
		}
		cursor = next
	}
	want := []string{"contact: Hello!", "ai: " + GreetingText, "contact: How fast is shipping?", "ai: " + ShippingText, "contact: Thanks!", "ai: " + ThanksText, "ai_resolved_issue/ai"}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") || pages != 3 {
		t.Errorf("history in %d pages:\n%s\nwant in 3 pages:\n%s", pages, strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if code, _, _ := c.do("GET", "/chat/sessions/"+id+"/history?cursor=bogus", nil); code != http.StatusBadRequest {
		t.Errorf("bad cursor: HTTP %d, want 400", code)
	}

	if s := c.session(id); s["status"] != StatusClosedResolved {
		t.Errorf("after thanks: status %v", s["status"])
	}
	code, doc, _ := c.do("PATCH", "/chat/sessions/"+id, map[string]any{"status": "open"})
	if code != http.StatusOK || doc["status"] != StatusOpen || doc["id"] != id {
		t.Errorf("patch open: HTTP %d %v", code, doc)
	}
	code, doc, _ = c.do("PATCH", "/chat/sessions/"+id, map[string]any{"status": "closed_unresolved"})
	if code != http.StatusOK || doc["status"] != StatusClosedUnresolved {
		t.Errorf("patch closed_unresolved: HTTP %d %v", code, doc)
	}
	if s := c.session(id); s["status"] != StatusClosedUnresolved {
		t.Errorf("after patch: status %v", s["status"])
	}
	for _, body := range []any{map[string]any{"status": "done"}, map[string]any{}, `{"status": 1}`} {
		if code, doc, _ := c.do("PATCH", "/chat/sessions/"+id, body); code != http.StatusBadRequest || doc["error"] != "Bad Request" {
			t.Errorf("patch %v: HTTP %d %v, want 400", body, code, doc)
		}
	}
}

func TestCreateSessionBodies(t *testing.T) {
	c, _ := newClient(t, Options{})
	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"empty object", `{}`, 201},
		{"no body", nil, 201},
		{"full", map[string]any{"contact": map[string]any{"name": "Ana", "email": "a@example.com", "custom_data": map[string]any{"plan": "pro"}}, "custom_data": map[string]any{"n": 1.5, "ok": true}, "channel": map[string]any{"type": "api"}}, 201},
		{"nested custom_data", map[string]any{"custom_data": map[string]any{"order": map[string]any{"id": 1}}}, 400},
		{"nested contact custom_data", map[string]any{"contact": map[string]any{"custom_data": map[string]any{"tags": []any{"a"}}}}, 400},
		{"custom_data not an object", map[string]any{"custom_data": "x"}, 400},
		{"malformed JSON", `{"contact":`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, doc, raw := c.do("POST", "/chat/sessions", tc.body)
			if code != tc.want {
				t.Fatalf("HTTP %d, want %d: %s", code, tc.want, raw)
			}
			if code == 400 && (doc["statusCode"] != 400.0 || doc["error"] != "Bad Request" || doc["message"] == "") {
				t.Errorf("error body: %s", raw)
			}
		})
	}
}

func TestCustomDataMerge(t *testing.T) {
	c, s := newClient(t, Options{})
	id := c.create(map[string]any{
		"contact":     map[string]any{"name": "Ana", "custom_data": map[string]any{"plan": "pro"}},
		"custom_data": map[string]any{"order_id": "ord_1", "cart": 149.99},
	})
	code, _, raw := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{
		"sender":      "contact",
		"message":     map[string]any{"type": "text", "text": "hi"},
		"custom_data": map[string]any{"order_id": "ord_2", "priority": "high"},
		"contact":     map[string]any{"email": "ana@example.com", "custom_data": map[string]any{"region": "emea"}},
	})
	if code != 201 {
		t.Fatalf("send: HTTP %d: %s", code, raw)
	}
	got := c.session(id)
	wantCD := `{"cart":149.99,"order_id":"ord_2","plan":"pro","priority":"high","region":"emea"}`
	if b, _ := json.Marshal(got["custom_data"]); string(b) != wantCD {
		t.Errorf("custom_data = %s, want %s", b, wantCD)
	}
	if b, _ := json.Marshal(dig(got, "contact", "custom_data")); string(b) != `{"plan":"pro","region":"emea"}` {
		t.Errorf("contact.custom_data = %s", b)
	}
	if dig(got, "contact", "name") != "Ana" || dig(got, "contact", "email") != "ana@example.com" {
		t.Errorf("contact = %v", got["contact"])
	}

	// A nested value is refused and changes nothing, not even the keys
	// beside it.
	for _, body := range []map[string]any{
		{"message": map[string]any{"text": "hi"}, "custom_data": map[string]any{"ok": "yes", "order": map[string]any{"id": 1}}},
		{"message": map[string]any{"text": "hi"}, "contact": map[string]any{"custom_data": map[string]any{"ok": "yes", "list": []any{1}}}},
	} {
		code, doc, raw := c.do("POST", "/chat/sessions/"+id+"/send", body)
		if code != 400 || doc["statusCode"] != 400.0 || doc["error"] != "Bad Request" || !strings.Contains(fmt.Sprint(doc["message"]), "nested") {
			t.Errorf("nested custom_data: HTTP %d: %s", code, raw)
		}
	}
	snap, _ := s.Session(id)
	if _, ok := snap.CustomData["ok"]; ok || len(snap.Events) != 2 {
		t.Errorf("a refused send changed the session: custom_data %v, %d events", snap.CustomData, len(snap.Events))
	}
}

func TestSendValidation(t *testing.T) {
	c, _ := newClient(t, Options{})
	id := c.create(nil)
	for _, tc := range []struct {
		name string
		body any
	}{
		{"no body", nil},
		{"no message", map[string]any{"sender": "contact"}},
		{"no text", map[string]any{"message": map[string]any{"type": "text"}}},
		{"empty text", map[string]any{"message": map[string]any{"type": "text", "text": "  "}}},
		{"bad sender", map[string]any{"sender": "bot", "message": map[string]any{"text": "hi"}}},
		{"bad type", map[string]any{"message": map[string]any{"type": "image", "text": "hi"}}},
		{"text not a string", map[string]any{"message": map[string]any{"text": 3}}},
		{"malformed JSON", `{"message": {`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, doc, raw := c.do("POST", "/chat/sessions/"+id+"/send", tc.body)
			if code != 400 || doc["statusCode"] != 400.0 || doc["error"] != "Bad Request" {
				t.Errorf("HTTP %d: %s, want 400 Bad Request", code, raw)
			}
		})
	}
	// sender may be left out: it means the contact.
	code, doc, raw := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{"message": map[string]any{"text": "hello"}})
	if code != 201 || content(doc) != GreetingText {
		t.Errorf("no sender: HTTP %d: %s", code, raw)
	}
}

func TestUnknownSession(t *testing.T) {
	c, _ := newClient(t, Options{})
	const want = `{"statusCode":404,"message":"Session not found","error":"Not Found"}`
	missing := newUUID()
	for _, tc := range []struct{ method, path string }{
		{"POST", "/chat/sessions/" + missing + "/send"},
		{"GET", "/chat/sessions/" + missing},
		{"GET", "/chat/sessions/" + missing + "/history"},
		{"PATCH", "/chat/sessions/" + missing},
	} {
		var body any
		if tc.method == "POST" {
			body = map[string]any{"sender": "contact", "message": map[string]any{"type": "text", "text": "hi"}}
		} else if tc.method == "PATCH" {
			body = map[string]any{"status": "open"}
		}
		code, _, raw := c.do(tc.method, tc.path, body)
		if code != 404 || strings.TrimSpace(string(raw)) != want {
			t.Errorf("%s %s: HTTP %d %s, want 404 %s", tc.method, tc.path, code, raw, want)
		}
	}
	// A Toolzz conversation is not an OpenCX session.
	_, doc, _ := c.toolzz(map[string]any{"message": "hi", "botId": botID})
	conv := fmt.Sprint(dig(doc, "message", "conversationId"))
	if code, _, _ := c.do("GET", "/chat/sessions/"+conv, nil); code != 404 {
		t.Errorf("GET of a toolzz conversation: HTTP %d, want 404", code)
	}
}

func TestRoutes(t *testing.T) {
	c, _ := newClient(t, Options{})
	id := c.create(nil)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/chat/sessions", 405},
		{"DELETE", "/chat/sessions/" + id, 405},
		{"GET", "/chat/sessions/" + id + "/send", 405},
		{"POST", "/chat/sessions/" + id + "/history", 405},
		{"GET", "/api/v1/chat/send-message", 405},
		{"GET", "/", 404},
		{"POST", "/chat/sessions/" + id + "/close", 404},
		{"GET", "/api/v2/chat/send-message", 404},
	} {
		code, doc, raw := c.do(tc.method, tc.path, nil)
		if code != tc.want || doc == nil {
			t.Errorf("%s %s: HTTP %d %s, want %d with a JSON body", tc.method, tc.path, code, raw, tc.want)
		}
	}
}

func TestAuth(t *testing.T) {
	const token = "ocx_test_secret"
	c, _ := newClient(t, Options{Token: token})
	id := c.create(nil)

	const want401 = `{"statusCode":401,"message":"Unauthorized","error":"Unauthorized"}`
	for _, header := range []string{"", "Bearer wrong", "Basic " + token, token, "Bearer " + token + "x"} {
		req, _ := http.NewRequest("GET", c.base+"/chat/sessions/"+id, nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || strings.TrimSpace(string(raw)) != want401 {
			t.Errorf("Authorization %q: HTTP %d %s, want 401 %s", header, resp.StatusCode, raw, want401)
		}
	}
	noToken := &client{t: t, base: c.base}
	if code, doc, _ := noToken.toolzz(map[string]any{"message": "hi", "botId": botID}); code != 401 || doc["error"] == nil {
		t.Errorf("toolzz without token: HTTP %d %v, want 401", code, doc)
	}
	if code, _, _ := c.toolzz(map[string]any{"message": "hi", "botId": botID}); code != 200 {
		t.Errorf("toolzz with token: HTTP %d", code)
	}

	// Without a configured token, anything goes.
	open, _ := newClient(t, Options{})
	for _, tok := range []string{"", "whatever"} {
		open.token = tok
		open.create(nil)
	}
}

func TestHandoffThenSilence(t *testing.T) {
	c, s := newClient(t, Options{})
	id := c.create(map[string]any{"contact": map[string]any{"name": "Bo"}})
	c.say(id, "This is useless")

	r := c.say(id, "Let me talk to a human")
	if r["sessionIsHandedOff"] != true || r["code"] != CodeHandedOff || content(r) != HandoffText {
		t.Errorf("handoff reply: %v", r)
	}
	for _, text := range []string{"Hello?", "I want a refund for ord_9", "thanks"} {
		r := c.say(id, text)
		if r["autopilotResponse"] != nil || r["sessionIsHandedOff"] != true || r["code"] != CodeAssignedToHuman {
			t.Errorf("%q after handoff: %v", text, r)
		}
	}
	got := c.session(id)
	if got["ai_closure_type"] != ClosureHandedOff || got["sentiment"] != SentimentAngry || got["status"] != StatusOpen {
		t.Errorf("session after handoff: %v", got)
	}
	if dig(got, "handoff", "sentiment") != SentimentAngry || !strings.Contains(fmt.Sprint(dig(got, "handoff", "summary")), "Let me talk to a human") {
		t.Errorf("handoff = %v", got["handoff"])
	}
	snap, _ := s.Session(id)
	var types []string
	for _, ev := range snap.Events {
		types = append(types, ev.Type+"/"+ev.SenderType)
	}
	want := "message/contact human_agent_comment/human_agent message/ai message/contact message/ai handoff/ai message/contact message/contact message/contact"
	if strings.Join(types, " ") != want {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(types, " "), want)
	}
}

func TestAgentSender(t *testing.T) {
	c, s := newClient(t, Options{})
	id := c.create(nil)
	code, r, raw := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{
		"sender": "agent", "message": map[string]any{"type": "text", "text": "Hi, I'm Carla from support."},
		"agent": map[string]any{"id": 7, "name": "Carla"},
	})
	if code != 201 || r["autopilotResponse"] != nil || r["sessionIsHandedOff"] != false || r["code"] != CodeAgentMessage {
		t.Fatalf("agent message: HTTP %d: %s", code, raw)
	}
	snap, _ := s.Session(id)
	if len(snap.Events) != 1 || snap.Events[0].SenderType != SenderHumanAgent || snap.Events[0].SenderName != "Carla" || snap.HandedOff {
		t.Errorf("state after agent message: %+v", snap)
	}
	// The AI still answers the customer: the agent did not take over.
	if r := c.say(id, "hello"); content(r) != GreetingText {
		t.Errorf("contact after agent message: %v", r)
	}
}

func TestTakeOverFromAI(t *testing.T) {
	c, s := newClient(t, Options{})
	id := c.create(nil)
	code, r, raw := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{
		"sender": "agent", "message": map[string]any{"type": "text", "text": "I'll take it from here."},
		"agent": map[string]any{"id": 42, "name": "Dana"}, "should_take_over_session_from_ai": true,
	})
	if code != 201 || r["autopilotResponse"] != nil || r["sessionIsHandedOff"] != true || r["code"] != CodeAssignedToHuman {
		t.Fatalf("take over: HTTP %d: %s", code, raw)
	}
	if r := c.say(id, "hello"); r["autopilotResponse"] != nil || r["sessionIsHandedOff"] != true {
		t.Errorf("contact after take-over: %v", r)
	}
	got := c.session(id)
	if got["assignee_id"] != "42" || got["ai_closure_type"] != ClosureHandedOff {
		t.Errorf("session after take-over: %v", got)
	}
	if _, ok := got["handoff"]; ok {
		t.Errorf("a take-over has no AI handoff summary: %v", got["handoff"])
	}
	snap, _ := s.Session(id)
	if len(snap.Events) != 3 || snap.Events[0].Type != EventHumanAgentTakeover || snap.Events[1].SenderType != SenderHumanAgent || snap.Events[2].SenderType != SenderContact {
		t.Errorf("events: %+v", snap.Events)
	}
}

func TestSentimentAndClosure(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		say                        []string
		status, closure, sentiment string
	}{
		{"no message yet", nil, StatusOpen, "", ""},
		{"neutral", []string{"hello"}, StatusOpen, "", SentimentNeutral},
		{"angry", []string{"hello", "you are useless"}, StatusOpen, "", SentimentAngry},
		{"angry stays", []string{"worst shop ever", "how long is shipping?"}, StatusOpen, "", SentimentAngry},
		{"thanks closes happy", []string{"this is terrible", "thank you"}, StatusClosedResolved, ClosureAssumedResolved, SentimentHappy},
		{"a new message reopens", []string{"thanks", "hello again"}, StatusOpen, "", SentimentHappy},
		{"handoff", []string{"get me an agent"}, StatusOpen, ClosureHandedOff, SentimentNeutral},
		{"angry handoff", []string{"useless bot, I want a person"}, StatusOpen, ClosureHandedOff, SentimentAngry},
		{"no closing after handoff", []string{"human please", "thanks"}, StatusOpen, ClosureHandedOff, SentimentNeutral},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, Options{})
			id := c.create(nil)
			for _, text := range tc.say {
				c.say(id, text)
			}
			got := c.session(id)
			str := func(v any) string {
				if v == nil {
					return ""
				}
				return v.(string)
			}
			if str(got["status"]) != tc.status || str(got["ai_closure_type"]) != tc.closure || str(got["sentiment"]) != tc.sentiment {
				t.Errorf("status %v, closure %v, sentiment %v; want %q, %q, %q",
					got["status"], got["ai_closure_type"], got["sentiment"], tc.status, tc.closure, tc.sentiment)
			}
		})
	}
}

func TestBrainRules(t *testing.T) {
	for _, tc := range []struct {
		say      []string // earlier messages of the same session, then the one judged
		rule     string
		text     string // a substring of the reply
		mode     string
		might    bool
		full     bool
		action   string
		knowl    string
		handoff  bool
		transfer string
	}{
		{say: []string{"Hello"}, rule: "greeting", text: GreetingText, mode: ModeGeneral},
		{say: []string{"hi there"}, rule: "greeting", text: GreetingText, mode: ModeGeneral},
		{say: []string{"this is a test"}, rule: "fallback", text: "not sure I understand"}, // "this" holds "hi", not the word
		{say: []string{"I want a REFUND for ord_42"}, rule: "refund", text: "refund ticket TCK-1001 for order ord_42", mode: ModeRefunds, might: true, action: ActionCreateRefundTicket, knowl: KnowledgeRefundPolicy},
		{say: []string{"can I get a refund?"}, rule: "refund_ask", text: "order number", mode: ModeRefunds, knowl: KnowledgeRefundPolicy},
		{say: []string{"refund please", "it's ord_7"}, rule: "refund", text: "TCK-1001 for order ord_7", mode: ModeRefunds, might: true, action: ActionCreateRefundTicket, knowl: KnowledgeRefundPolicy},
		{say: []string{"hello", "it's ord_7"}, rule: "fallback", text: FallbackText},
		{say: []string{"refund ord_1", "status of tck-1001?"}, rule: "ticket_status", text: "Ticket TCK-1001 for order ord_1 is being processed", mode: ModeTickets, might: true, full: true, action: ActionLookupTicket, knowl: KnowledgeTickets},
		{say: []string{"status of TCK-5"}, rule: "ticket_status", text: "couldn't find ticket TCK-5", mode: ModeTickets, action: ActionLookupTicket, knowl: KnowledgeTickets},
		{say: []string{"When will my order be delivered?"}, rule: "shipping", text: ShippingText, mode: ModeShipping, might: true, full: true, knowl: KnowledgeShippingPolicy},
		{say: []string{"Shipping costs?"}, rule: "shipping", text: ShippingText, mode: ModeShipping, might: true, full: true, knowl: KnowledgeShippingPolicy},
		{say: []string{"I need a human"}, rule: "handoff", text: HandoffText, handoff: true},
		{say: []string{"Question about my invoice"}, rule: "billing", text: BillingText, mode: ModeBilling, might: true, knowl: KnowledgeBilling, transfer: BillingBotID},
		{say: []string{"You are the WORST"}, rule: "angry", text: AngryText, mode: ModeGeneral},
		{say: []string{"thx"}, rule: "thanks", text: ThanksText, mode: ModeGeneral, might: true, full: true},
		{say: []string{"hi, thanks, where is my delivery"}, rule: "shipping", text: ShippingText, mode: ModeShipping, might: true, full: true, knowl: KnowledgeShippingPolicy},
	} {
		t.Run(strings.Join(tc.say, " / "), func(t *testing.T) {
			b := newBrain()
			var a answer
			for _, text := range tc.say {
				a = b.answer(text, a.rule, false)
			}
			var action, knowl string
			if len(a.actions) > 0 {
				action = a.actions[0].name
			}
			if len(a.knowledge) > 0 {
				knowl = a.knowledge[0]
			}
			if a.rule != tc.rule || !strings.Contains(a.text, tc.text) || a.mode != tc.mode || a.mightSolve != tc.might ||
				a.fullyCovered != tc.full || action != tc.action || knowl != tc.knowl || a.handoff != tc.handoff || a.targetBot != tc.transfer {
				t.Errorf("got rule %s %q mode %q might %v full %v action %q knowledge %q handoff %v transfer %q",
					a.rule, a.text, a.mode, a.mightSolve, a.fullyCovered, action, knowl, a.handoff, a.targetBot)
			}
		})
	}
}

func TestRefundReply(t *testing.T) {
	c, _ := newClient(t, Options{})
	id := c.create(nil)
	r := c.say(id, "I want a refund for ord_42")
	calls := dig(r, "autopilotResponse", "debugInfo", "actionCalls").([]any)
	if len(calls) != 1 {
		t.Fatalf("actionCalls = %v", calls)
	}
	if dig(calls[0], "action", "name") != ActionCreateRefundTicket || dig(calls[0], "arguments", "order_id") != "ord_42" ||
		dig(calls[0], "arguments", "reason") != RefundReason || dig(calls[0], "result", "ticket_id") != "TCK-1001" {
		t.Errorf("action call = %v", calls[0])
	}
	// Tickets count up per server, across sessions.
	other := c.create(nil)
	if got := content(c.say(other, "refund ord_43 please")); !strings.Contains(fmt.Sprint(got), "TCK-1002") {
		t.Errorf("second refund: %v", got)
	}
	if got := content(c.say(other, "what is the status of TCK-1001?")); !strings.Contains(fmt.Sprint(got), "order ord_42 is being processed") {
		t.Errorf("status of another session's ticket: %v", got)
	}
	// Moving from refunds to tickets leaves a mode; staying does not.
	r = c.say(other, "status of TCK-1002")
	if dig(r, "autopilotResponse", "didExitMode") != false || dig(r, "autopilotResponse", "mode", "slug") != ModeTickets {
		t.Errorf("second status reply: %v", r["autopilotResponse"])
	}
	r = c.say(other, "blah")
	if dig(r, "autopilotResponse", "didExitMode") != true || dig(r, "autopilotResponse", "mode") != nil {
		t.Errorf("fallback after tickets: %v", r["autopilotResponse"])
	}
}

// The golden files pin the JSON shapes other packages decode. Random ids and
// times are replaced by placeholders.
func TestGoldenShapes(t *testing.T) {
	clock := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, _ := newClient(t, Options{Now: func() time.Time { return clock }})
	id := c.create(map[string]any{"contact": map[string]any{"name": "Ana", "email": "ana@example.com", "custom_data": map[string]any{"plan": "pro"}}, "custom_data": map[string]any{"cart": 149.99}})

	_, _, refund := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{
		"sender": "contact", "message": map[string]any{"type": "text", "text": "I want a refund for ord_42"},
		"custom_data": map[string]any{"order_id": "ord_42"},
	})
	_, _, handoff := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{"message": map[string]any{"text": "Let me talk to a human"}})
	_, _, silent := c.do("POST", "/chat/sessions/"+id+"/send", map[string]any{"message": map[string]any{"text": "Hello?"}})
	_, _, session := c.do("GET", "/chat/sessions/"+id, nil)
	_, _, history := c.do("GET", "/chat/sessions/"+id+"/history", nil)
	_, _, toolzz := c.toolzz(map[string]any{"message": "billing question", "botId": botID})

	for name, body := range map[string][]byte{
		"opencx_send_refund": refund, "opencx_send_handoff": handoff, "opencx_send_silent": silent,
		"opencx_session": session, "opencx_history": history, "toolzz_send_billing": toolzz,
	} {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pretty, _ := json.MarshalIndent(v, "", "  ")
		got := maskRandomIDs(pretty)
		got = append(got, '\n')
		path := filepath.Join("testdata", name+".json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./sim -run Golden -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", name, path, got)
		}
	}
}

var uuidInText = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

// maskRandomIDs replaces minted UUIDs by a placeholder and keeps the fixed
// ones the simulator documents.
func maskRandomIDs(b []byte) []byte {
	fixed := map[string]bool{BillingBotID: true, botID: true}
	for _, m := range modes {
		fixed[m.id] = true
	}
	for _, id := range actionIDs {
		fixed[id] = true
	}
	return uuidInText.ReplaceAllFunc(b, func(id []byte) []byte {
		if fixed[string(id)] {
			return id
		}
		return []byte("<uuid>")
	})
}

func TestToolzz(t *testing.T) {
	c, s := newClient(t, Options{})

	code, r, raw := c.toolzz(map[string]any{"message": "refund please", "botId": botID})
	if code != 200 {
		t.Fatalf("first message: HTTP %d: %s", code, raw)
	}
	conv, _ := dig(r, "message", "conversationId").(string)
	if !isUUID(conv) || dig(r, "message", "content") != RefundAskText || dig(r, "message", "transferToAgent") != false {
		t.Errorf("first reply: %s", raw)
	}
	if m := r["message"].(map[string]any); m["targetBotId"] != nil || len(m) != 4 {
		t.Errorf("reply fields: %v", m)
	}
	// The conversation keeps its state: the order number finishes the refund.
	_, r, raw = c.toolzz(map[string]any{"message": "ord_42", "botId": botID, "conversationId": conv})
	if dig(r, "message", "conversationId") != conv || !strings.Contains(fmt.Sprint(dig(r, "message", "content")), "TCK-1001") {
		t.Errorf("second reply: %s", raw)
	}
	// A new message without an id starts another conversation.
	_, r, _ = c.toolzz(map[string]any{"message": "hello", "botId": botID})
	if other := dig(r, "message", "conversationId"); other == conv {
		t.Errorf("a message without conversationId reused %v", other)
	}
	if snap, ok := s.Session(conv); !ok || snap.API != APIToolzz || snap.BotID != botID || len(snap.Events) != 4 {
		t.Errorf("snapshot: %+v", snap)
	}

	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"unknown conversation", map[string]any{"message": "hi", "botId": botID, "conversationId": newUUID()}, 404},
		{"missing botId", map[string]any{"message": "hi"}, 400},
		{"empty botId", map[string]any{"message": "hi", "botId": ""}, 400},
		{"botId not a uuid", map[string]any{"message": "hi", "botId": "bot-1"}, 400},
		{"empty message", map[string]any{"message": "", "botId": botID}, 400},
		{"no message", map[string]any{"botId": botID}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, doc, raw := c.toolzz(tc.body)
			if code != tc.want || doc["error"] == nil {
				t.Errorf("HTTP %d %s, want %d with an error", code, raw, tc.want)
			}
		})
	}
	if _, _, raw := c.toolzz(map[string]any{"message": "hi", "botId": botID, "conversationId": newUUID()}); strings.TrimSpace(string(raw)) != `{"error":"conversation not found"}` {
		t.Errorf("unknown conversation body: %s", raw)
	}
	// An OpenCX session is not a Toolzz conversation.
	if code, _, _ := c.toolzz(map[string]any{"message": "hi", "botId": botID, "conversationId": c.create(nil)}); code != 404 {
		t.Errorf("opencx session id: HTTP %d, want 404", code)
	}
}

func TestToolzzBillingTransfer(t *testing.T) {
	c, s := newClient(t, Options{})
	_, r, _ := c.toolzz(map[string]any{"message": "hi", "botId": botID})
	if dig(r, "message", "targetBotId") != nil {
		t.Errorf("greeting moved bots: %v", r)
	}
	conv := dig(r, "message", "conversationId")
	_, r, raw := c.toolzz(map[string]any{"message": "I have a billing question", "botId": botID, "conversationId": conv})
	if dig(r, "message", "targetBotId") != BillingBotID || dig(r, "message", "content") != BillingText || dig(r, "message", "transferToAgent") != false {
		t.Errorf("billing reply: %s", raw)
	}
	if snap, _ := s.Session(fmt.Sprint(conv)); snap.BotID != BillingBotID {
		t.Errorf("conversation bot after transfer: %s", snap.BotID)
	}
	// The move is reported on the reply that makes it only.
	_, r, _ = c.toolzz(map[string]any{"message": "hello", "botId": botID, "conversationId": conv})
	if dig(r, "message", "targetBotId") != nil {
		t.Errorf("reply after transfer: %v", r)
	}
}

func TestToolzzTransferToAgent(t *testing.T) {
	c, _ := newClient(t, Options{})
	_, r, raw := c.toolzz(map[string]any{"message": "I want to talk to a person", "botId": botID})
	if dig(r, "message", "transferToAgent") != true || dig(r, "message", "content") != HandoffText {
		t.Errorf("handoff reply: %s", raw)
	}
	conv := dig(r, "message", "conversationId")
	for _, text := range []string{"hello?", "billing"} {
		_, r, raw := c.toolzz(map[string]any{"message": text, "botId": botID, "conversationId": conv})
		if dig(r, "message", "transferToAgent") != true || dig(r, "message", "content") != "" || dig(r, "message", "targetBotId") != nil {
			t.Errorf("%q after transfer: %s", text, raw)
		}
	}
}

func TestConcurrentSessions(t *testing.T) {
	c, s := newClient(t, Options{HistoryPageSize: 2})
	const n = 40
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := c.create(map[string]any{"custom_data": map[string]any{"i": i}})
			ids[i] = id
			c.say(id, "hello")
			c.say(id, fmt.Sprintf("refund ord_%d", i))
			c.do("GET", "/chat/sessions/"+id+"/history", nil)
			c.toolzz(map[string]any{"message": "shipping?", "botId": botID})
			c.say(id, "thanks")
			c.session(id)
		})
	}
	wg.Wait()

	tickets := map[string]bool{}
	for i, id := range ids {
		snap, ok := s.Session(id)
		if !ok || len(snap.Events) != 7 || snap.Status != StatusClosedResolved || fmt.Sprint(snap.CustomData["i"]) != fmt.Sprint(i) {
			t.Fatalf("session %d: %+v", i, snap)
		}
		ticket := regexp.MustCompile(`TCK-\d+`).FindString(snap.Events[3].Text)
		if tickets[ticket] || !strings.Contains(snap.Events[3].Text, fmt.Sprintf("ord_%d.", i)) {
			t.Errorf("session %d: reply %q (ticket reused or wrong order)", i, snap.Events[3].Text)
		}
		tickets[ticket] = true
	}
	for k := FirstTicket; k < FirstTicket+n; k++ {
		if !tickets[fmt.Sprintf("TCK-%d", k)] {
			t.Errorf("ticket TCK-%d never issued", k)
		}
	}
}

func TestStartAndClose(t *testing.T) {
	run, err := Start("127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(run.URL()) {
		t.Errorf("URL() = %q", run.URL())
	}
	c := &client{t: t, base: run.URL()}
	id := c.create(nil)
	if _, ok := run.Server().Session(id); !ok {
		t.Errorf("Server() does not know session %s", id)
	}
	if err := run.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := run.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(run.URL() + "/chat/sessions/" + id); err == nil {
		t.Errorf("the server still answers after Close")
	}
	if _, err := Start(strings.TrimPrefix(run.URL(), "http://")+"0000", Options{}); err == nil {
		t.Errorf("Start on a bad address succeeded")
	}
}

func TestLatency(t *testing.T) {
	const latency = 30 * time.Millisecond
	c, _ := newClient(t, Options{Latency: latency})
	start := time.Now()
	id := c.create(nil)
	c.say(id, "hello")
	if d := time.Since(start); d < 2*latency {
		t.Errorf("two requests took %v, want at least %v", d, 2*latency)
	}
}

func TestCloseCutsLatencyShort(t *testing.T) {
	run, err := Start("127.0.0.1:0", Options{Latency: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := http.Post(run.URL()+"/chat/sessions", "application/json", strings.NewReader("{}"))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the request reach the wait
	done := make(chan struct{})
	go func() { run.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the latency")
	}
	if err := <-errc; err == nil {
		t.Errorf("a request cut short by Close succeeded")
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		u := newUUID()
		if !uuidInText.MatchString(u) || len(u) != 36 || seen[u] {
			t.Fatalf("newUUID() = %q", u)
		}
		seen[u] = true
	}
}

// dig walks nested JSON objects by key; nil when a step is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
