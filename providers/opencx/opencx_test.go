package opencx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalrun/evalrun/providers"
)

func TestDecodeReplyShapes(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *providers.Reply)
	}{
		{
			name: "flat with everything",
			body: `{"success":true,"code":"ok","autopilotResponse":{"type":"text","value":{"error":false,"content":"Refund opened: TCK-1"},
				"id":"m1","mightSolveUserIssue":true,"completelyAndFullyCoveredUserIssue":false,
				"debugInfo":{"actionCalls":[{"action":{"name":"create_refund_ticket","id":"a1"},"arguments":{"order_id":"ord_42"},"result":{}}],
				"knowledge":[{"source":"refund-policy","source_type":"doc","url":"u"}],"knowledge_used":["faq",{"source":"refund-policy"}]},
				"mode":{"id":"1","name":"Refunds","slug":"refunds"},"didExitMode":false},"uiResponse":null,"sessionIsHandedOff":false}`,
			check: func(t *testing.T, r *providers.Reply) {
				if r.Text != "Refund opened: TCK-1" || r.Silent {
					t.Errorf("text %q silent %v", r.Text, r.Silent)
				}
				if r.MightSolve == nil || !*r.MightSolve || r.FullyCovered == nil || *r.FullyCovered {
					t.Errorf("might/fully wrong: %v %v", r.MightSolve, r.FullyCovered)
				}
				if r.Handoff == nil || *r.Handoff {
					t.Errorf("handoff %v", r.Handoff)
				}
				if len(r.Actions) != 1 || r.Actions[0].Name != "create_refund_ticket" || r.Actions[0].Args["order_id"] != "ord_42" {
					t.Errorf("actions %+v", r.Actions)
				}
				if strings.Join(r.Knowledge, ",") != "refund-policy,faq" {
					t.Errorf("knowledge %v", r.Knowledge)
				}
				if r.Mode != "refunds" {
					t.Errorf("mode %q", r.Mode)
				}
			},
		},
		{
			name: "data-wrapped",
			body: `{"success":true,"data":{"autopilotResponse":{"value":{"content":"hello"},"mightSolveUserIssue":false},"sessionIsHandedOff":true}}`,
			check: func(t *testing.T, r *providers.Reply) {
				if r.Text != "hello" || r.Handoff == nil || !*r.Handoff || r.MightSolve == nil || *r.MightSolve {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name: "legacy ai_response",
			body: `{"ai_response":{"text":"old style"}}`,
			check: func(t *testing.T, r *providers.Reply) {
				if r.Text != "old style" || r.MightSolve != nil || r.Handoff != nil {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name: "null autopilot after handoff is silence",
			body: `{"success":true,"code":"session_assigned_to_human_agent","autopilotResponse":null,"sessionIsHandedOff":true}`,
			check: func(t *testing.T, r *providers.Reply) {
				if !r.Silent || r.Text != "" || r.Handoff == nil || !*r.Handoff {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name: "arguments as a JSON string and unknown fields",
			body: `{"success":true,"extra":{"x":1},"autopilotResponse":{"value":{"content":"ok","extra":true},
				"debugInfo":{"actionCalls":[{"action":{"name":"lookup"},"arguments":"{\"id\":7}"}]}}}`,
			check: func(t *testing.T, r *providers.Reply) {
				if len(r.Actions) != 1 || r.Actions[0].Args["id"] != float64(7) {
					t.Errorf("actions %+v", r.Actions)
				}
				if r.MightSolve != nil || r.Handoff != nil {
					t.Errorf("absent fields must stay nil: %+v", r)
				}
			},
		},
		{
			name: "content, mode, debugInfo and flags null or missing",
			body: `{"success":true,"autopilotResponse":{"type":"text","value":{"error":null},"mode":null,"debugInfo":null,
				"mightSolveUserIssue":null},"sessionIsHandedOff":null,"uiResponse":{"kind":"buttons"}}`,
			check: func(t *testing.T, r *providers.Reply) {
				if r.Text != "" || !r.Silent || r.Mode != "" || r.Actions != nil || r.Knowledge != nil {
					t.Errorf("got %+v", r)
				}
				if r.MightSolve != nil || r.FullyCovered != nil || r.Handoff != nil {
					t.Errorf("null flags must stay unreported: %+v", r)
				}
			},
		},
		{
			name: "null entries inside debugInfo",
			body: `{"autopilotResponse":{"value":{"content":"ok"},"debugInfo":{"actionCalls":[{"action":null,"arguments":null},{"action":{"name":"x"}}],
				"knowledge":[null,{"source":null},"kb"],"knowledge_used":null}},"sessionIsHandedOff":false}`,
			check: func(t *testing.T, r *providers.Reply) {
				if len(r.Actions) != 2 || r.Actions[1].Name != "x" || r.Actions[0].Args != nil {
					t.Errorf("actions %+v", r.Actions)
				}
				if strings.Join(r.Knowledge, ",") != "kb" {
					t.Errorf("knowledge %v", r.Knowledge)
				}
			},
		},
		{
			name: "data-wrapped with handoff only outside data",
			body: `{"success":true,"sessionIsHandedOff":true,"data":{"autopilotResponse":null,"code":"session_assigned_to_human_agent"}}`,
			check: func(t *testing.T, r *providers.Reply) {
				if !r.Silent || r.Handoff == nil || !*r.Handoff {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name: "legacy reports nothing but text, and infers no handoff",
			body: `{"ai_response":{"text":"Let me hand you over to a human agent.","error":null},"extra":1}`,
			check: func(t *testing.T, r *providers.Reply) {
				if r.Text != "Let me hand you over to a human agent." || r.Silent {
					t.Errorf("got %+v", r)
				}
				if r.MightSolve != nil || r.FullyCovered != nil || r.Handoff != nil ||
					r.Actions != nil || r.Knowledge != nil || r.Mode != "" || r.TransferBot != "" {
					t.Errorf("legacy must leave every check-relevant field unreported: %+v", r)
				}
			},
		},
		{
			name: "legacy empty text is silence",
			body: `{"ai_response":{"text":"  "}}`,
			check: func(t *testing.T, r *providers.Reply) {
				if !r.Silent || r.Handoff != nil {
					t.Errorf("got %+v", r)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, id, err := DecodeReply([]byte(tt.body))
			if err != nil || id != "" {
				t.Fatalf("err %v, id %q", err, id)
			}
			if string(r.Raw) != tt.body {
				t.Error("Raw must be the body as received")
			}
			tt.check(t, r)
		})
	}
}

func TestDecodeReplyRejects(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"not json", `<html>`, "undecodable reply"},
		{"no known shape", `{"foo":1}`, "none of the documented shapes"},
		{"autopilot error", `{"success":true,"autopilotResponse":{"value":{"error":true,"content":"model overloaded"}}}`, "the bot reported an error: model overloaded"},
		{"legacy error", `{"ai_response":{"text":"","error":{"message":"boom"}}}`, "the bot reported an error: boom"},
		{"id only without an id", `{"success":true,"data":{"message":{"id":null}}}`, "message without an id"},
		{"empty data", `{"data":{}}`, "none of the documented shapes"},
		{"value not an object", `{"autopilotResponse":{"value":"hi"}}`, "undecodable autopilotResponse"},
		{"top level not an object", `[{"autopilotResponse":{}}]`, "undecodable reply: a JSON array, not an object"},
		{"message not an object, no data", `{"success":true,"message":"x","autopilotResponse":null}`, "undecodable reply: message is a JSON string, not an object"},
		{"flag as a string", `{"success":"yes","autopilotResponse":null}`, "undecodable reply: success is a JSON string, not a boolean"},
		{"wrapped code as a number", `{"data":{"code":5,"autopilotResponse":null}}`, "undecodable reply: data.code is a JSON number"},
		{"legacy text as a number", `{"ai_response":{"text":5}}`, "undecodable reply: ai_response.text is a JSON number"},
		{"autopilot an array", `{"autopilotResponse":[]}`, "undecodable autopilotResponse: a JSON array, not an object"},
		{"might solve as a string", `{"autopilotResponse":{"value":{"content":"hi"},"mightSolveUserIssue":"true"}}`, "mightSolveUserIssue is a JSON string, not a boolean"},
		{"action call not an object", `{"autopilotResponse":{"value":{"content":"hi"},"debugInfo":{"actionCalls":[0]}}}`, "debugInfo.actionCalls[0] is a JSON number, not an object"},
		{"knowledge not an array", `{"autopilotResponse":{"value":{"content":"hi"},"debugInfo":{"knowledge":{}}}}`, "debugInfo.knowledge is a JSON object, not an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, id, err := DecodeReply([]byte(tt.body))
			if r != nil || id != "" {
				t.Errorf("an error came with reply %+v, id %q", r, id)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// Strings read from a reply must be those encoding/json, and so json checks
// on Raw, read from the same body, even where fastjson alone would differ.
func TestDecodeReplyStringsAgreeWithEncodingJSON(t *testing.T) {
	tests := []struct{ name, content string }{
		{"lone high surrogate at the end", `trunc \ud83d`},
		{"lone surrogate before a character", `x\ud83d\u0041`},
		{"lone low surrogate", `\udc00y`},
		{"surrogate pair", `smile \ud83d\ude00`},
		{"upper-case escape", `\uD83D!`},
		{"escaped backslash before u", `path C:\\ud83d`},
		{"invalid UTF-8", "bad \xff byte"},
		{"plain", `caf\u00e9 \"quoted\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(`{"autopilotResponse":{"value":{"content":"` + tt.content + `"},"debugInfo":{"knowledge":["` + tt.content + `"]}},"id":12345678901234567890}`)
			var want struct {
				AutopilotResponse struct {
					Value struct{ Content string }
				}
			}
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatal(err)
			}
			r, _, err := DecodeReply(body)
			if err != nil {
				t.Fatal(err)
			}
			if w := want.AutopilotResponse.Value.Content; r.Text != w || len(r.Knowledge) != 1 || r.Knowledge[0] != w {
				t.Errorf("text %q, knowledge %q; encoding/json reads %q", r.Text, r.Knowledge, w)
			}
			if string(r.Raw) != string(body) {
				t.Error("Raw must stay the body as received")
			}
		})
	}
	// A rewritten body keeps numeric ids exactly as written.
	_, id, err := DecodeReply([]byte(`{"success":true,"data":{"message":{"id":12345678901234567890123,"text":"\ud83d"}}}`))
	if err != nil || id != "12345678901234567890123" {
		t.Errorf("id %q, %v", id, err)
	}
}

func TestDecodeReplyArgsKeepEscapes(t *testing.T) {
	body := `{"autopilotResponse":{"value":{"content":"ok"},"debugInfo":{"actionCalls":[
		{"action":{"name":"a"},"arguments":{"q":"a\u0007\"b\\","n":[1.5,{"deep":"\u00e9"}]}},
		{"action":{"name":"b"},"arguments":"{\"q\":\"tab\\there\"}"}]}}}`
	r, _, err := DecodeReply([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Actions) != 2 {
		t.Fatalf("actions %+v", r.Actions)
	}
	if got := r.Actions[0].Args["q"]; got != "a\a\"b\\" {
		t.Errorf("object args: q = %q", got)
	}
	if n, _ := r.Actions[0].Args["n"].([]any); len(n) != 2 || n[0] != 1.5 || n[1].(map[string]any)["deep"] != "é" {
		t.Errorf("object args: n = %#v", r.Actions[0].Args["n"])
	}
	if got := r.Actions[1].Args["q"]; got != "tab\there" {
		t.Errorf("string args: q = %q", got)
	}
}

func TestDecodeReplyDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 400) + strings.Repeat("]", 400)
	_, _, err := DecodeReply([]byte(`{"autopilotResponse":{"value":{"content":"hi"}},"uiResponse":` + deep + `}`))
	if err == nil || !strings.Contains(err.Error(), "nested deeper than 300 levels") || len(err.Error()) > 200 {
		t.Errorf("got %v", err)
	}
	_, _, err = DecodeReply([]byte(`{"autopilotResponse":{"value":{"content":"hi"}},"x":` + deep[:401]))
	if err == nil || !strings.Contains(err.Error(), "undecodable reply: unexpected end of JSON input") {
		t.Errorf("got %v", err)
	}
}

func TestDecodeReplyIDOnly(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"documented", `{"success":true,"data":{"message":{"id":"m1"}}}`, "m1"},
		{"numeric id", `{"success":true,"data":{"message":{"id":42,"text":"hi"}}}`, "42"},
		{"extra fields beside the message", `{"success":true,"data":{"message":{"id":"m2"},"sessionIsHandedOff":false,"x":[]}}`, "m2"},
		{"not wrapped", `{"success":true,"message":{"id":"m3"}}`, "m3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, id, err := DecodeReply([]byte(tt.body))
			if err != nil || r != nil || id != tt.want {
				t.Fatalf("got reply %+v, id %q, err %v; want id %q", r, id, err, tt.want)
			}
		})
	}
	// An explicit null autopilotResponse is a silent bot, not the id-only shape.
	r, id, err := DecodeReply([]byte(`{"success":true,"autopilotResponse":null,"message":{"id":"m4"}}`))
	if err != nil || id != "" || r == nil || !r.Silent {
		t.Fatalf("got reply %+v, id %q, err %v", r, id, err)
	}
}

// server answers the OpenCX endpoints with the given send body and records what it was sent.
type server struct {
	*httptest.Server
	sendStatus int
	sendBody   string
	got        []map[string]any
	auth       []string
}

func newServer(t *testing.T, sendStatus int, sendBody string) *server {
	s := &server{sendStatus: sendStatus, sendBody: sendBody}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		s.got = append(s.got, body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/chat/sessions":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"s-1"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/chat/sessions/s-1/send":
			w.WriteHeader(s.sendStatus)
			io.WriteString(w, s.sendBody)
		case r.Method == http.MethodGet && r.URL.Path == "/chat/sessions/s-1":
			io.WriteString(w, `{"id":"s-1","status":"closed_resolved","ai_closure_type":"assumed_resolved","sentiment":"happy","custom_data":{"plan":"pro"},"handoff":null}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func TestConversationAgainstServer(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusCreated} {
		s := newServer(t, status, `{"success":true,"autopilotResponse":{"value":{"content":"hi"}},"sessionIsHandedOff":false}`)
		p := New(providers.Config{BaseURL: s.URL + "/", Token: "ocx_live_secret"})
		ctx := context.Background()
		conv, err := p.Open(ctx, providers.Session{Contact: map[string]any{"name": "Ana"}, CustomData: map[string]any{"order": "ord_42"}})
		if err != nil {
			t.Fatal(err)
		}
		if conv.ID() != "s-1" {
			t.Fatalf("id %q", conv.ID())
		}
		r, err := conv.Send(ctx, providers.Message{Text: "hello", CustomData: map[string]any{"turn": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Text != "hi" || r.Status != status {
			t.Errorf("reply %+v", r)
		}
		st, err := conv.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != "closed_resolved" || st.Closure != "assumed_resolved" || st.Sentiment != "happy" ||
			st.Handoff == nil || *st.Handoff || st.CustomData["plan"] != "pro" {
			t.Errorf("state %+v", st)
		}
		create, send := s.got[0], s.got[1]
		if create["contact"].(map[string]any)["name"] != "Ana" || create["custom_data"].(map[string]any)["order"] != "ord_42" {
			t.Errorf("create body %v", create)
		}
		if send["sender"] != "contact" || send["message"].(map[string]any)["text"] != "hello" ||
			send["custom_data"].(map[string]any)["turn"] != "1" {
			t.Errorf("send body %v", send)
		}
		for _, a := range s.auth {
			if a != "Bearer ocx_live_secret" {
				t.Errorf("auth header %q", a)
			}
		}
	}
}

func TestHandoffReplyMarksFinalState(t *testing.T) {
	s := newServer(t, http.StatusCreated, `{"success":true,"code":"session_assigned_to_human_agent","autopilotResponse":null,"sessionIsHandedOff":true}`)
	conv, err := New(providers.Config{BaseURL: s.URL}).Open(context.Background(), providers.Session{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.Send(context.Background(), providers.Message{Text: "human please"}); err != nil {
		t.Fatal(err)
	}
	st, err := conv.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Handoff == nil || !*st.Handoff {
		t.Error("a handed-off reply must make final handoff true")
	}
}

func TestErrorsNeverShowTheToken(t *testing.T) {
	const token = "ocx_live_TOPSECRET"
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"statusCode":401,"message":"bad key `+token+`","error":"Unauthorized"}`)
	}))
	defer srv.Close()
	p := New(providers.Config{BaseURL: srv.URL, Token: token, TokenVars: []string{"OPENCX_API_KEY"}, Retries: 3})
	_, err := p.Open(context.Background(), providers.Session{})
	var perr *providers.Error
	if !errors.As(err, &perr) {
		t.Fatalf("want *providers.Error, got %v", err)
	}
	if perr.Status != 401 || perr.Retryable() {
		t.Errorf("status %d retryable %v", perr.Status, perr.Retryable())
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error shows the token: %v", err)
	}
	if !strings.Contains(err.Error(), "$OPENCX_API_KEY") {
		t.Errorf("error should name the variable to check: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("a 401 must not be retried; %d calls", calls.Load())
	}
}

func TestServerErrorsAreRetriedThenReported(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"s-9"}`)
	}))
	defer srv.Close()
	conv, err := New(providers.Config{BaseURL: srv.URL, Retries: 2}).Open(context.Background(), providers.Session{})
	if err != nil {
		t.Fatalf("third attempt should succeed: %v", err)
	}
	if conv.ID() != "s-9" || calls.Load() != 3 {
		t.Errorf("id %q after %d calls", conv.ID(), calls.Load())
	}

	calls.Store(-100)
	_, err = New(providers.Config{BaseURL: srv.URL, Retries: 1}).Open(context.Background(), providers.Session{})
	var perr *providers.Error
	if !errors.As(err, &perr) || perr.Status != http.StatusBadGateway {
		t.Fatalf("want a 502 error after retries, got %v", err)
	}
	if calls.Load() != -98 {
		t.Errorf("retries: 1 means two attempts, saw %d", calls.Load()+100)
	}
}

func TestTimeoutAndOversizeAreErrors(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big/chat/sessions" {
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"`+strings.Repeat("x", 2048)+`"}`)
			return
		}
		<-block
	}))
	defer srv.Close()
	defer close(block)

	start := time.Now()
	_, err := New(providers.Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond}).Open(context.Background(), providers.Session{})
	if err == nil || !strings.Contains(err.Error(), "provider.timeout") {
		t.Fatalf("want a timeout error, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("timeout was not enforced")
	}

	p := New(providers.Config{BaseURL: srv.URL + "/big"})
	p.call.MaxBody = 1024
	_, err = p.Open(context.Background(), providers.Session{})
	if err == nil || !strings.Contains(err.Error(), "exceeds 1024 bytes") {
		t.Fatalf("want a size error, got %v", err)
	}
}

// A token the server echoes right where the error body is cut must not
// survive even in part: redaction happens before the cut.
func TestTokenAtTheExcerptCutIsRedacted(t *testing.T) {
	const token = "ocx_live_ABCDEFGHIJKLMNOP"
	for _, status := range []int{http.StatusUnauthorized, http.StatusCreated} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			if status == http.StatusCreated && r.URL.Path == "/chat/sessions" {
				io.WriteString(w, `{"id":"s-1"}`)
				return
			}
			// 12 + 490 bytes put the token across byte 512.
			io.WriteString(w, `{"message":"`+strings.Repeat("x", 490)+token+strings.Repeat("y", 4000)+`"}`)
		}))
		conv, err := New(providers.Config{BaseURL: srv.URL, Token: token}).Open(context.Background(), providers.Session{})
		if err == nil {
			_, err = conv.Send(context.Background(), providers.Message{Text: "hi"})
		}
		srv.Close()
		if err == nil {
			t.Fatalf("HTTP %d: want an error", status)
		}
		if strings.Contains(err.Error(), token[:9]) || len(err.Error()) > 1024 {
			t.Errorf("HTTP %d: error shows part of the token or is not cut (%d bytes): %v", status, len(err.Error()), err)
		}
	}
}
