package sim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestIdleSessionsAreForgotten(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	c, s := newClient(t, Options{Idle: time.Minute, Now: clock.Now})

	old := c.create(nil)
	kept := c.create(nil)
	reply := c.say(old, "I want a refund for ord_42")
	ticket := ticketIn(t, reply)

	clock.Advance(50 * time.Second)
	c.say(kept, "hello") // kept is used again, old is not
	clock.Advance(20 * time.Second)

	if code, _, raw := c.do("GET", "/chat/sessions/"+old, nil); code != http.StatusNotFound {
		t.Fatalf("a session idle for 70s of a 1m limit: HTTP %d %s, want 404", code, raw)
	}
	c.session(kept) // idle for 20s: still there
	if _, ok := s.Session(old); ok {
		t.Error("Server.Session still finds the forgotten session")
	}

	// The ticket went with the session that opened it.
	fresh := c.create(nil)
	got := content(c.say(fresh, "What is the status of ticket "+ticket+"?"))
	if text, _ := got.(string); !strings.Contains(text, "couldn't find") {
		t.Errorf("a forgotten session's ticket is still known: %v", got)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) != 2 || s.byUse.Len() != 2 {
		t.Errorf("the store holds %d sessions (%d in use order), want 2", len(s.sessions), s.byUse.Len())
	}
}

func TestIdleForgetsDirectiveAttempts(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	c, s := newClient(t, Options{Idle: time.Minute, Now: clock.Now})
	id := c.create(nil)
	path := "/chat/sessions/" + id + "/send"
	msg := map[string]any{"message": map[string]any{"text": "hi [sim fault=503 times=1]"}}
	if code, _, _ := c.do("POST", path, msg); code != http.StatusServiceUnavailable {
		t.Fatalf("first attempt: HTTP %d, want 503", code)
	}
	s.mu.Lock()
	counted := len(s.attempts[id])
	s.mu.Unlock()
	if counted != 1 {
		t.Fatalf("attempts of %s: %d, want 1", id, counted)
	}
	clock.Advance(2 * time.Minute)
	c.create(nil) // any request that touches the store forgets what is idle
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.attempts[id]; ok {
		t.Error("the attempt counts of a forgotten session are kept")
	}
}

func TestIdleNeverKeepsEverything(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	opts, err := ParseSpec("idle=never")
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = clock.Now
	c, _ := newClient(t, opts)
	id := c.create(nil)
	clock.Advance(1000 * time.Hour)
	c.create(nil)
	c.session(id)
}

func TestIdleDefault(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	c, _ := newClient(t, Options{Now: clock.Now})
	id := c.create(nil)
	clock.Advance(DefaultIdle - time.Second)
	c.session(id) // used: the limit starts again
	clock.Advance(DefaultIdle - time.Second)
	c.session(id)
	clock.Advance(DefaultIdle)
	if code, _, _ := c.do("GET", "/chat/sessions/"+id, nil); code != http.StatusNotFound {
		t.Errorf("after DefaultIdle unused: HTTP %d, want 404", code)
	}
}

func TestIdleToolzzConversation(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	c, _ := newClient(t, Options{Idle: time.Minute, Now: clock.Now})
	_, doc, raw := c.toolzz(map[string]any{"message": "hello", "botId": botID})
	conv, _ := dig(doc, "message", "conversationId").(string)
	if conv == "" {
		t.Fatalf("no conversation id in %s", raw)
	}
	clock.Advance(2 * time.Minute)
	if code, _, raw := c.toolzz(map[string]any{"message": "again", "botId": botID, "conversationId": conv}); code != http.StatusNotFound {
		t.Errorf("idle Toolzz conversation: HTTP %d %s, want 404", code, raw)
	}
}

func ticketIn(t *testing.T, reply map[string]any) string {
	t.Helper()
	text, _ := content(reply).(string)
	i := strings.Index(text, "TCK-")
	if i < 0 {
		t.Fatalf("no ticket in %q", text)
	}
	return strings.TrimRight(strings.Fields(text[i:])[0], ".,")
}
