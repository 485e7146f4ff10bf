package httpbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

const token = "sk-test-SECRET-4242"

// start serves h on loopback and returns a Config for it that gives up on a
// hanging test server quickly.
func start(t *testing.T, h http.HandlerFunc) providers.Config {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return providers.Config{BaseURL: srv.URL, Timeout: 5 * time.Second}
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func open(t *testing.T, p *Provider) providers.Conversation {
	t.Helper()
	c, err := p.Open(ctx(t), providers.Session{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func send(t *testing.T, c providers.Conversation, text string) *providers.Reply {
	t.Helper()
	r, err := c.Send(ctx(t), providers.Message{Text: text})
	if err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	return r
}

// record collects what a test server saw; handlers run on other goroutines.
type record[T any] struct {
	mu    sync.Mutex
	items []T
}

// add appends v and returns how many items there are now.
func (r *record[T]) add(v T) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, v)
	return len(r.items)
}

func (r *record[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items)
}

func boolp(b bool) *bool { return &b }

func showBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// rasaSpec is what examples/rasa.yaml loads into.
var rasaSpec = suites.HTTPSpec{
	Method: "POST",
	Path:   "/webhooks/rest/webhook",
	Body:   map[string]any{"sender": "{{conversation_id}}", "message": "{{message}}"},
	Text:   "$[*].text",
}

// rasa imitates Rasa's REST channel: a list of messages for the sender, each
// with text or an image, and an empty list when the bot says nothing.
func rasa(t *testing.T, senders *record[string]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/webhooks/rest/webhook" {
			http.Error(w, "no route", http.StatusNotFound)
			return
		}
		var in struct{ Sender, Message string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("request body: %v", err)
		}
		senders.add(in.Sender)
		var out []map[string]any
		switch in.Message {
		case "hi":
			out = []map[string]any{{"recipient_id": in.Sender, "text": "Hello! How can I help?"}}
		case "menu":
			out = []map[string]any{
				{"recipient_id": in.Sender, "text": "Here is our menu:"},
				{"recipient_id": in.Sender, "image": "https://example.com/menu.png"},
				{"recipient_id": in.Sender, "text": "Anything else?"},
			}
		case "...":
			out = []map[string]any{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
}

func TestRasa(t *testing.T) {
	var senders record[string]
	p := New(start(t, rasa(t, &senders)), rasaSpec, nil)
	c := open(t, p)
	id := c.ID()
	if !uuidRE.MatchString(id) {
		t.Fatalf("minted id %q is not a uuid", id)
	}
	tests := []struct {
		name, send, want string
		silent           bool
	}{
		{"one message", "hi", "Hello! How can I help?", false},
		{"several messages joined, the image skipped", "menu", "Here is our menu:\nAnything else?", false},
		{"an empty list is silence", "...", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, c, tt.send)
			if r.Text != tt.want || r.Silent != tt.silent {
				t.Errorf("Text = %q, Silent = %v; want %q, %v", r.Text, r.Silent, tt.want, tt.silent)
			}
			if r.Status != http.StatusOK || !json.Valid(r.Raw) || r.Handoff != nil {
				t.Errorf("Status = %d, Raw = %s, Handoff = %s", r.Status, r.Raw, showBool(r.Handoff))
			}
		})
	}
	for i, s := range senders.all() {
		if s != id {
			t.Errorf("turn %d sent sender %q, want the minted id %q on every turn", i+1, s, id)
		}
	}
	if c.ID() != id {
		t.Errorf("ID changed to %q", c.ID())
	}
	if other := open(t, p); other.ID() == id {
		t.Error("two conversations got the same minted id")
	}
	st, err := c.State(ctx(t))
	if err != nil || st.Handoff != nil {
		t.Errorf("State = %+v, %v; want no handoff reported without a handoff path", st, err)
	}
}

// TestOpenAICompatible checks that {{messages}} carries the whole chat, the
// bot's earlier answers included, and that the rest of the body is kept.
func TestOpenAICompatible(t *testing.T) {
	type message struct{ Role, Content string }
	var got record[[]message]
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"error":{"message":"Incorrect API key provided"}}`, http.StatusUnauthorized)
			return
		}
		var in struct {
			Model       string
			Temperature float64
			Messages    []message
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("request body: %v", err)
		}
		if in.Model != "gpt-4o-mini" || in.Temperature != 0.5 {
			t.Errorf("model %q, temperature %v: the body's other values were not kept", in.Model, in.Temperature)
		}
		got.add(in.Messages)
		last := in.Messages[len(in.Messages)-1].Content
		json.NewEncoder(w).Encode(map[string]any{
			"id":      "chatcmpl-1",
			"object":  "chat.completion",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "echo: " + last}, "finish_reason": "stop"}},
		})
	})
	cfg.Token = token
	spec := suites.HTTPSpec{
		Method: "POST",
		Path:   "/v1/chat/completions",
		Body: map[string]any{
			"model":       "{{model}}",
			"temperature": 0.5,
			"messages":    "{{messages}}",
		},
		Text: "$.choices[0].message.content",
	}
	p := New(cfg, spec, map[string]string{"model": "gpt-4o-mini"})
	c := open(t, p)
	for _, m := range []string{"one", "two", "three"} {
		if r := send(t, c, m); r.Text != "echo: "+m {
			t.Errorf("reply %q, want %q", r.Text, "echo: "+m)
		}
	}
	want := [][]message{
		{{"user", "one"}},
		{{"user", "one"}, {"assistant", "echo: one"}, {"user", "two"}},
		{{"user", "one"}, {"assistant", "echo: one"}, {"user", "two"}, {"assistant", "echo: two"}, {"user", "three"}},
	}
	if !reflect.DeepEqual(got.all(), want) {
		t.Errorf("messages sent:\n got %v\nwant %v", got.all(), want)
	}
	if spec.Body.(map[string]any)["messages"] != "{{messages}}" {
		t.Error("the spec's body was changed")
	}
}

func TestConversationIDFromReply(t *testing.T) {
	var paths record[string]
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
		n := paths.add(r.URL.EscapedPath())
		// Every reply names a new id: only the first one counts.
		fmt.Fprintf(w, `{"conversation": {"id": "conv-%d"}, "reply": "ok"}`, n)
	})
	spec := suites.HTTPSpec{Method: "POST", Path: "/chat/{{conversation_id}}", Text: "$.reply", ConversationID: "$.conversation.id"}
	c := open(t, New(cfg, spec, nil))
	if c.ID() != "" {
		t.Fatalf("ID before any reply = %q, want empty", c.ID())
	}
	send(t, c, "a")
	if c.ID() != "conv-1" {
		t.Fatalf("ID after the first reply = %q, want conv-1", c.ID())
	}
	send(t, c, "b")
	send(t, c, "c")
	if c.ID() != "conv-1" {
		t.Errorf("ID = %q; later replies must not change it", c.ID())
	}
	if want := []string{"/chat/", "/chat/conv-1", "/chat/conv-1"}; !reflect.DeepEqual(paths.all(), want) {
		t.Errorf("paths %q, want %q", paths.all(), want)
	}
}

func TestNumericConversationID(t *testing.T) {
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"session": 1234567890123, "text": "hi"}`)
	})
	c := open(t, New(cfg, suites.HTTPSpec{Text: "$.text", ConversationID: "$.session"}, nil))
	send(t, c, "x")
	if c.ID() != "1234567890123" {
		t.Errorf("ID = %q, want the number as written", c.ID())
	}
}

func TestPathTemplatesAreEscaped(t *testing.T) {
	var urls record[*url.URL]
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
		urls.add(r.URL)
		io.WriteString(w, `{"text":"ok"}`)
	})
	spec := suites.HTTPSpec{
		Method: "GET",
		Path:   "/bots/{{bot}}/ask?q={{message}}&v=1",
		Text:   "$.text",
	}
	c := open(t, New(cfg, spec, map[string]string{"bot": "sales team/eu?"}))
	send(t, c, "fish & chips? 100% /yes#")
	u := urls.all()[0]
	gotPath, gotQuery, gotRaw := u.EscapedPath(), u.Query().Get("q"), u.RawQuery
	if want := "/bots/sales%20team%2Feu%3F/ask"; gotPath != want {
		t.Errorf("path %q, want %q", gotPath, want)
	}
	if want := "fish & chips? 100% /yes#"; gotQuery != want {
		t.Errorf("query q = %q (raw %q), want %q", gotQuery, gotRaw, want)
	}
	if !strings.HasSuffix(gotRaw, "&v=1") {
		t.Errorf("raw query %q lost the literal parameter", gotRaw)
	}
}

func TestHeadersAndToken(t *testing.T) {
	type seen struct {
		method, auth, channel, turn, env, contentType string
		body                                          []byte
	}
	var got *record[seen]
	var mu sync.Mutex // guards got, replaced for each case
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got.add(seen{r.Method, r.Header.Get("Authorization"), r.Header.Get("X-Channel"),
			r.Header.Get("X-Turn"), r.Header.Get("X-Env"), r.Header.Get("Content-Type"), b})
		io.WriteString(w, `{"text":"ok"}`)
	})
	cfg.Token = token
	cfg.Headers = map[string]string{"X-Env": "staging", "X-Channel": "overridden"}
	tests := []struct {
		name, method string
		headers      map[string]string
		want         seen
	}{
		{
			name:    "post with static and per-turn headers",
			method:  "POST",
			headers: map[string]string{"X-Channel": "{{channel}}", "X-Turn": "{{message}}"},
			want:    seen{method: "POST", auth: "Bearer " + token, channel: "web", turn: "hello", env: "staging", contentType: "application/json", body: []byte(`{"q":"hello"}`)},
		},
		{
			name:    "get sends no body",
			method:  "GET",
			headers: map[string]string{"X-Channel": "{{channel}}"},
			want:    seen{method: "GET", auth: "Bearer " + token, channel: "web", env: "staging"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = &record[seen]{}
			mu.Unlock()
			spec := suites.HTTPSpec{Method: tt.method, Path: "/", Headers: tt.headers, Body: map[string]any{"q": "{{message}}"}, Text: "$.text"}
			send(t, open(t, New(cfg, spec, map[string]string{"channel": "web"})), "hello")
			mu.Lock()
			all := got.all()
			mu.Unlock()
			if len(all) != 1 {
				t.Fatalf("%d requests", len(all))
			}
			if g := all[0]; g.method != tt.want.method || g.auth != tt.want.auth || g.channel != tt.want.channel ||
				g.turn != tt.want.turn || g.env != tt.want.env || g.contentType != tt.want.contentType || string(g.body) != string(tt.want.body) {
				t.Errorf("got  %+v\nwant %+v", g, tt.want)
			}
		})
	}
}

func TestHandoff(t *testing.T) {
	tests := []struct {
		name, path, body string
		want             *bool
	}{
		{"true", "$.handoff", `{"text":"a person will help","handoff":true}`, boolp(true)},
		{"false", "$.handoff", `{"text":"I can help","handoff":false}`, boolp(false)},
		{"absent", "$.handoff", `{"text":"I can help"}`, nil},
		{"not a boolean", "$.handoff", `{"text":"I can help","handoff":"yes"}`, nil},
		{"any of several true", "$[*].custom.handoff", `[{"text":"a"},{"custom":{"handoff":false}},{"custom":{"handoff":true}}]`, boolp(true)},
		{"no handoff path", "", `{"text":"a person will help","handoff":true}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := start(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) })
			c := open(t, New(cfg, suites.HTTPSpec{Text: "$..text", Handoff: tt.path}, nil))
			r := send(t, c, "help")
			if showBool(r.Handoff) != showBool(tt.want) {
				t.Errorf("Handoff = %s, want %s", showBool(r.Handoff), showBool(tt.want))
			}
			st, err := c.State(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if tt.path != "" && want == nil {
				want = boolp(false) // a handoff path that reported nothing
			}
			if showBool(st.Handoff) != showBool(want) {
				t.Errorf("State.Handoff = %s, want %s", showBool(st.Handoff), showBool(want))
			}
		})
	}
}

func TestStateRemembersAnEarlierHandoff(t *testing.T) {
	var turns record[bool]
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
		if turns.add(true) == 1 {
			io.WriteString(w, `{"text":"transferring","handoff":true}`)
			return
		}
		io.WriteString(w, `{"text":"still me","handoff":false}`)
	})
	c := open(t, New(cfg, suites.HTTPSpec{Text: "$.text", Handoff: "$.handoff"}, nil))
	send(t, c, "a")
	send(t, c, "b")
	if st, _ := c.State(ctx(t)); showBool(st.Handoff) != "true" {
		t.Errorf("State.Handoff = %s, want true", showBool(st.Handoff))
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       []string
	}{
		{"server error", `{"detail":"boom"}`, http.StatusInternalServerError, []string{"http: send", "HTTP 500", "boom"}},
		{"unauthorized names the variable", `{"error":"bad key ` + token + `"}`, http.StatusUnauthorized, []string{"HTTP 401", "$OPENAI_API_KEY", "[redacted]"}},
		{"not found", `Not Found`, http.StatusNotFound, []string{"HTTP 404", "base_url"}},
		{"rate limited", `slow down`, http.StatusTooManyRequests, []string{"HTTP 429"}},
		{"not JSON", `<html>hello ` + token + `</html>`, http.StatusOK, []string{"not JSON", "[redacted]"}},
		{"empty body", ``, http.StatusOK, []string{"not JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			cfg.Token, cfg.TokenVars = token, []string{"OPENAI_API_KEY"}
			c := open(t, New(cfg, suites.HTTPSpec{Text: "$.text"}, nil))
			r, err := c.Send(ctx(t), providers.Message{Text: "hi"})
			var perr *providers.Error
			if r != nil || !errors.As(err, &perr) {
				t.Fatalf("reply %v, err %v (%T); want a *providers.Error", r, err, err)
			}
			msg := err.Error()
			if strings.Contains(msg, token) {
				t.Errorf("the token leaks: %s", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestNoContentIsSilence(t *testing.T) {
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	r := send(t, open(t, New(cfg, suites.HTTPSpec{Text: "$.text"}, nil)), "hi")
	if !r.Silent || r.Text != "" || r.Status != http.StatusNoContent {
		t.Errorf("reply %+v, want silent", r)
	}
}

func TestRefusals(t *testing.T) {
	cfg := start(t, func(w http.ResponseWriter, r *http.Request) { t.Error("nothing should be sent") })
	var perr *providers.Error
	if _, err := New(cfg, suites.HTTPSpec{Text: "$["}, nil).Open(ctx(t), providers.Session{}); !errors.As(err, &perr) {
		t.Errorf("Open with a broken text path: %v", err)
	}
	if _, err := New(cfg, suites.HTTPSpec{}, nil).Open(ctx(t), providers.Session{}); !errors.As(err, &perr) {
		t.Errorf("Open without a text path: %v", err)
	}
	c := open(t, New(cfg, suites.HTTPSpec{Text: "$.text"}, nil))
	if _, err := c.Send(ctx(t), providers.Message{Text: "hi", Agent: true}); !errors.As(err, &perr) {
		t.Errorf("agent turn: %v", err)
	}
}

func TestReplyText(t *testing.T) {
	tests := []struct {
		name, path, body, want string
	}{
		{"number and boolean as written", "$.a[*]", `{"a":[1.50,true,"x"]}`, "1.50\ntrue\nx"},
		{"null and empty strings skipped", "$.a[*]", `{"a":[null,"","y"]}`, "y"},
		{"object as JSON", "$.a", `{"a":{"k":1}}`, `{"k":1}`},
		{"nothing selected", "$.missing", `{"a":1}`, ""},
		{"white space only", "$.a", `{"a":"  \n"}`, "  \n"},
		{"escaped text decoded", "$.a", `{"a":"caf\u00e9 \"ok\""}`, `café "ok"`},
		{"keyword-like member names", "$.value.count", `{"value":{"count":"three"}}`, "three"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := New(providers.Config{}, suites.HTTPSpec{Text: tt.path}, nil).read(200, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tt.want || r.Silent != (strings.TrimSpace(tt.want) == "") {
				t.Errorf("Text = %q, Silent = %v; want %q", r.Text, r.Silent, tt.want)
			}
		})
	}
}

// FuzzRead holds reply extraction to its contract on any body: no panic, an
// error exactly when the body is not JSON, and Silent exactly when the text
// is blank.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		`[{"recipient_id":"u1","text":"Hello"},{"recipient_id":"u1","image":"https://x/y.png"}]`,
		`[]`,
		`{"choices":[{"message":{"role":"assistant","content":"Hi there"}}],"conversation":{"id":"c1"},"handoff":true}`,
		`{"choices":[{"message":{"content":null}}]}`,
		`{"text":42,"handoff":"yes","conversation":{"id":7}}`,
		`{"text":{"nested":[1,2]}}`,
		`<html>`, ``, `"bare"`, "\xef\xbb\xbf[1]",
	} {
		f.Add([]byte(s))
	}
	specs := []suites.HTTPSpec{
		{Text: "$[*].text", Handoff: "$[0].custom.handoff", ConversationID: "$[0].recipient_id"},
		{Text: "$.choices[0].message.content", Handoff: "$.handoff", ConversationID: "$.conversation.id"},
		{Text: "$..text", Handoff: "$..handoff", ConversationID: "$..id"},
	}
	ps := make([]*Provider, len(specs))
	for i, s := range specs {
		ps[i] = New(providers.Config{}, s, nil)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, p := range ps {
			r, _, err := p.read(200, raw)
			if (err != nil) == json.Valid(trimBOM(raw)) {
				t.Fatalf("err = %v for valid JSON %v", err, json.Valid(trimBOM(raw)))
			}
			if err != nil {
				continue
			}
			if r.Silent != (strings.TrimSpace(r.Text) == "") {
				t.Fatalf("Silent = %v for text %q", r.Silent, r.Text)
			}
			if string(r.Raw) != string(raw) {
				t.Fatal("Raw is not the body")
			}
		}
	})
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && string(b[:3]) == "\xef\xbb\xbf" {
		return b[3:]
	}
	return b
}

// TestExamples runs the example suites' http providers against imitations of
// their services, so the examples stay in step with what this package sends.
func TestExamples(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": token}
	load := func(file string) *suites.Suite {
		t.Helper()
		ss, err := suites.LoadPaths([]string{"../../examples/" + file}, suites.Options{
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		})
		if err != nil {
			t.Fatal(err)
		}
		return ss[0]
	}
	config := func(s *suites.Suite, base providers.Config) providers.Config {
		base.Token, base.TokenVars = s.Provider.Token.Value(), s.Provider.Token.Vars
		return base
	}

	t.Run("rasa", func(t *testing.T) {
		s := load("rasa.yaml")
		var senders record[string]
		c := open(t, New(config(s, start(t, rasa(t, &senders))), *s.Provider.HTTP, s.Vars))
		if r := send(t, c, "menu"); r.Text != "Here is our menu:\nAnything else?" {
			t.Errorf("reply %q", r.Text)
		}
		if got := senders.all(); len(got) != 1 || got[0] != c.ID() || c.ID() == "" {
			t.Errorf("senders %q, conversation %q", got, c.ID())
		}
	})

	t.Run("openai-compatible", func(t *testing.T) {
		s := load("openai-compatible.yaml")
		var bodies record[map[string]any]
		cfg := start(t, func(w http.ResponseWriter, r *http.Request) {
			var in map[string]any
			json.NewDecoder(r.Body).Decode(&in)
			if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+token {
				t.Errorf("%s %s with Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
			}
			n := bodies.add(in)
			fmt.Fprintf(w, `{"choices":[{"message":{"role":"assistant","content":"answer %d"}}]}`, n)
		})
		c := open(t, New(config(s, cfg), *s.Provider.HTTP, s.Vars))
		send(t, c, "one")
		if r := send(t, c, "two"); r.Text != "answer 2" {
			t.Errorf("reply %q", r.Text)
		}
		got := bodies.all()
		last, _ := json.Marshal(got[len(got)-1])
		want := `{"messages":[{"content":"one","role":"user"},{"content":"answer 1","role":"assistant"},{"content":"two","role":"user"}],"model":"gpt-4o-mini","temperature":0}`
		if string(last) != want {
			t.Errorf("second request\n got %s\nwant %s", last, want)
		}
	})
}
