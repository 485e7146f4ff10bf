package toolzz

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/providers"
)

func TestConversationIDFlow(t *testing.T) {
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/chat/send-message" || r.Header.Get("Authorization") != "Bearer tz" {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		bodies = append(bodies, b)
		io.WriteString(w, `{"message":{"content":"reply `+b["message"].(string)+`","conversationId":"c-77","transferToAgent":false,"targetBotId":null}}`)
	}))
	defer srv.Close()

	p := New(providers.Config{BaseURL: srv.URL, Token: "tz", BotID: "bot-1"})
	conv, _ := p.Open(context.Background(), providers.Session{})
	for _, msg := range []string{"one", "two", "three"} {
		r, err := conv.Send(context.Background(), providers.Message{Text: msg})
		if err != nil {
			t.Fatal(err)
		}
		if r.Text != "reply "+msg || r.Handoff == nil || *r.Handoff || r.TransferBot != "" {
			t.Errorf("reply %+v", r)
		}
	}
	if _, has := bodies[0]["conversationId"]; has {
		t.Error("the first turn must not send a conversationId")
	}
	for i, b := range bodies[1:] {
		if b["conversationId"] != "c-77" || b["botId"] != "bot-1" {
			t.Errorf("turn %d body %v", i+2, b)
		}
	}
	if conv.ID() != "c-77" {
		t.Errorf("id %q", conv.ID())
	}
}

func TestDecodeReplyOddButLegal(t *testing.T) {
	tests := []struct {
		name, body, text, id, bot string
		handoff                   *bool
	}{
		{"numeric id", `{"message":{"content":"x","conversationId":12345678901234567890}}`, "x", "12345678901234567890", "", nil},
		{"transfer to agent", `{"message":{"content":"","conversationId":"c","transferToAgent":true}}`, "", "c", "", ptr(true)},
		{"transfer to another bot", `{"message":{"content":"moving you","conversationId":"c","transferToAgent":false,"targetBotId":"b-2"}}`, "moving you", "c", "b-2", ptr(false)},
		{"extra fields", `{"message":{"content":"ok","conversationId":"c","meta":{"a":1}},"trace":"t"}`, "ok", "c", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, id, err := DecodeReply([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tt.text || id != tt.id || r.TransferBot != tt.bot || r.Silent != (tt.text == "") {
				t.Errorf("got %+v id %q", r, id)
			}
			if (r.Handoff == nil) != (tt.handoff == nil) || r.Handoff != nil && *r.Handoff != *tt.handoff {
				t.Errorf("handoff %v, want %v", r.Handoff, tt.handoff)
			}
		})
	}
	if _, _, err := DecodeReply([]byte(`{"ok":true}`)); err == nil {
		t.Error("a reply without message must be an error")
	}
}

func TestMissingConversationIDStopsLaterTurns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"message":{"content":"hi"}}`)
	}))
	defer srv.Close()
	conv, _ := New(providers.Config{BaseURL: srv.URL, BotID: "b"}).Open(context.Background(), providers.Session{})
	if _, err := conv.Send(context.Background(), providers.Message{Text: "a"}); err != nil {
		t.Fatal(err)
	}
	_, err := conv.Send(context.Background(), providers.Message{Text: "b"})
	var perr *providers.Error
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), "no conversationId") {
		t.Fatalf("got %v", err)
	}
}

func TestErrorBodyKeptWithStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"botId must be a uuid"}`)
	}))
	defer srv.Close()
	conv, _ := New(providers.Config{BaseURL: srv.URL, BotID: "nope", Retries: 3}).Open(context.Background(), providers.Session{})
	_, err := conv.Send(context.Background(), providers.Message{Text: "a"})
	var perr *providers.Error
	if !errors.As(err, &perr) || perr.Status != 400 || !strings.Contains(perr.Body, "botId must be a uuid") {
		t.Fatalf("got %v", err)
	}
}

func ptr(b bool) *bool { return &b }
