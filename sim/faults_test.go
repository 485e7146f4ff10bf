package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// plain sends one request with a plain net/http client that gives up after
// timeout, as a provider would, and returns the response with its body read.
func plain(t *testing.T, timeout time.Duration, method, url, body string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp, raw, err
}

func startServer(t *testing.T, opts Options) (string, *Server) {
	t.Helper()
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL, s
}

func sendBody(text string) string {
	b, _ := json.Marshal(map[string]any{"sender": "contact", "message": map[string]any{"type": "text", "text": text}})
	return string(b)
}

func toolzzBody(text, conversation string) string {
	m := map[string]any{"message": text, "botId": botID}
	if conversation != "" {
		m["conversationId"] = conversation
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// openSession creates an OpenCX session on a server whose faults spare it.
func openSession(t *testing.T, s *Server) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newSession(APIOpenCX).ID
}

func eventCount(s *Server, id string) int {
	snap, _ := s.Session(id)
	return len(snap.Events)
}

func TestStatusFaults(t *testing.T) {
	for _, kind := range []FaultKind{Fault500, Fault502, Fault503} {
		t.Run(string(kind), func(t *testing.T) {
			url, s := startServer(t, Options{Faults: []Fault{{kind, 1}}})
			id := openSession(t, s)
			resp, raw, err := plain(t, 2*time.Second, "POST", url+"/chat/sessions/"+id+"/send", sendBody("refund ord_1"))
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(`{"statusCode":%s,"message":"Simulated fault: %s","error":"%[2]s"}`+"\n", kind, http.StatusText(resp.StatusCode))
			if fmt.Sprint(resp.StatusCode) != string(kind) || string(raw) != want || resp.Header.Get("Retry-After") != "" {
				t.Errorf("HTTP %d, Retry-After %q: %s\nwant %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw, want)
			}
			if n := eventCount(s, id); n != 0 {
				t.Errorf("a failed send stored %d events", n)
			}

			resp, raw, err = plain(t, 2*time.Second, "POST", url+"/api/v1/chat/send-message", toolzzBody("hello", ""))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(resp.StatusCode) != string(kind) || !strings.HasPrefix(string(raw), `{"error":"Simulated fault: `) {
				t.Errorf("toolzz: HTTP %d: %s", resp.StatusCode, raw)
			}
			if len(s.sessions) != 1 {
				t.Errorf("a failed Toolzz send opened a conversation")
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		opts  Options
		fault FaultKind
		want  string
	}{
		{"429 default", Options{}, Fault429, "1"},
		{"429 seconds", Options{RetryAfter: 3 * time.Second}, Fault429, "3"},
		{"429 date", Options{RetryAfter: 2 * time.Second, RetryAfterDate: true}, Fault429, "Sun, 01 Mar 2026 12:00:02 GMT"},
		{"429 date rounds up", Options{RetryAfterDate: true, Now: func() time.Time { return clock.Add(300 * time.Millisecond) }}, Fault429, "Sun, 01 Mar 2026 12:00:02 GMT"},
		{"503 with retry_after", Options{RetryAfter: 4 * time.Second}, Fault503, "4"},
		{"503 date", Options{RetryAfter: time.Second, RetryAfterDate: true}, Fault503, "Sun, 01 Mar 2026 12:00:01 GMT"},
		{"503 without", Options{}, Fault503, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Faults = []Fault{{tc.fault, 1}}
			if tc.opts.Now == nil {
				tc.opts.Now = func() time.Time { return clock }
			}
			url, _ := startServer(t, tc.opts)
			resp, raw, err := plain(t, 2*time.Second, "POST", url+"/chat/sessions", "{}")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(resp.StatusCode) != string(tc.fault) || resp.Header.Get("Retry-After") != tc.want {
				t.Errorf("HTTP %d, Retry-After %q, want %s and %q", resp.StatusCode, resp.Header.Get("Retry-After"), tc.fault, tc.want)
			}
			if tc.fault == Fault429 && string(raw) != `{"statusCode":429,"message":"ThrottlerException: Too Many Requests","error":"Too Many Requests"}`+"\n" {
				t.Errorf("429 body %s", raw)
			}
			if tc.want != "" && strings.Contains(tc.want, "GMT") {
				if _, err := http.ParseTime(tc.want); err != nil {
					t.Errorf("Retry-After %q is not an HTTP date: %v", tc.want, err)
				}
			}
		})
	}
}

func TestDropFault(t *testing.T) {
	url, s := startServer(t, Options{Faults: []Fault{{FaultDrop, 1}}})
	id := openSession(t, s)
	start := time.Now()
	_, _, err := plain(t, 5*time.Second, "POST", url+"/chat/sessions/"+id+"/send", sendBody("hello"))
	var netErr net.Error
	if err == nil || errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("a dropped connection gave %v, want a connection error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the drop took %v", d)
	}
	if n := eventCount(s, id); n != 0 {
		t.Errorf("a dropped send stored %d events", n)
	}
}

func TestHangFault(t *testing.T) {
	url, s := startServer(t, Options{Faults: []Fault{{FaultHang, 1}}})
	id := openSession(t, s)
	start := time.Now()
	_, _, err := plain(t, 100*time.Millisecond, "POST", url+"/chat/sessions/"+id+"/send", sendBody("hello"))
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("a hanging server gave %v, want the client's timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the client's timeout took %v", d)
	}
	if n := eventCount(s, id); n != 0 {
		t.Errorf("a hung send stored %d events", n)
	}
}

func TestHangEndsWhenServerCloses(t *testing.T) {
	run, err := Start("127.0.0.1:0", Options{Faults: []Fault{{FaultHang, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := plain(t, 10*time.Second, "POST", run.URL()+"/chat/sessions", "{}")
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the request reach the hang
	run.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Errorf("a hung request succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the hang")
	}
}

func TestMalformedFault(t *testing.T) {
	url, s := startServer(t, Options{Faults: []Fault{{FaultMalformed, 1}}})
	id := openSession(t, s)
	resp, raw, err := plain(t, 2*time.Second, "POST", url+"/chat/sessions/"+id+"/send", sendBody("refund ord_9"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &v) == nil || !bytes.HasPrefix(raw, []byte(`{"success":true`)) {
		t.Errorf("HTTP %d: %s, want 201 with invalid JSON", resp.StatusCode, raw)
	}
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	// The request was served; only its reply was broken.
	if n := eventCount(s, id); n != 2 {
		t.Errorf("a malformed reply's send stored %d events, want 2", n)
	}

	resp, raw, err = plain(t, 2*time.Second, "POST", url+"/chat/sessions", "{}")
	if err != nil || resp.StatusCode != http.StatusCreated || json.Valid(raw) {
		t.Errorf("create: %v, %v: %s", err, resp, raw)
	}
}

func TestOversizeFault(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int64
		want int64
	}{{"default", 0, DefaultOversizeBytes}, {"small", 4096, 4096}} {
		t.Run(tc.name, func(t *testing.T) {
			url, s := startServer(t, Options{Faults: []Fault{{FaultOversize, 1}}, OversizeBytes: tc.size})
			id := openSession(t, s)
			resp, raw, err := plain(t, 5*time.Second, "POST", url+"/chat/sessions/"+id+"/send", sendBody("refund ord_9"))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusCreated || int64(len(raw)) != tc.want || resp.ContentLength != tc.want {
				t.Fatalf("HTTP %d, %d bytes, Content-Length %d; want 201 and %d", resp.StatusCode, len(raw), resp.ContentLength, tc.want)
			}
			var reply map[string]any
			if err := json.Unmarshal(raw, &reply); err != nil {
				t.Fatalf("an oversize body is not valid JSON: %v", err)
			}
			if !strings.HasPrefix(fmt.Sprint(content(reply)), "I've opened refund ticket TCK-") {
				t.Errorf("the padded reply lost its content: %v", content(reply))
			}
			if n := eventCount(s, id); n != 2 {
				t.Errorf("an oversize reply's send stored %d events, want 2", n)
			}
		})
	}
	// A body of {} and one already longer than the size.
	var rec httptest.ResponseRecorder
	rec.Body = new(bytes.Buffer)
	rec.HeaderMap = http.Header{}
	writeOversize(&rec, 200, []byte("{}\n"), 64)
	if rec.Body.Len() != 64 || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("padded {}: %q", rec.Body)
	}
	rec.Body.Reset()
	writeOversize(&rec, 200, []byte(`{"a":1}`), 4)
	if rec.Body.String() != `{"a":1}` {
		t.Errorf("a body longer than the size was changed: %q", rec.Body)
	}
}

func TestFaultsSpareOtherRoutes(t *testing.T) {
	url, _ := startServer(t, Options{Token: "right", Faults: []Fault{{FaultHang, 1}}, Latency: time.Hour})
	for _, tc := range []struct{ method, path, token string }{
		{"GET", "/nowhere", "right"},
		{"DELETE", "/chat/sessions", "right"},
		{"POST", "/chat/sessions", "wrong"},
	} {
		req, _ := http.NewRequest(tc.method, url+tc.path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.path, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s %s: HTTP %d", tc.method, tc.path, resp.StatusCode)
		}
	}
}

// replyOf sends text to session id and returns the decoded reply.
func replyOf(t *testing.T, url, id, text string) (int, map[string]any) {
	t.Helper()
	resp, raw, err := plain(t, 2*time.Second, "POST", url+"/chat/sessions/"+id+"/send", sendBody(text))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("send %q: HTTP %d: %v: %s", text, resp.StatusCode, err, raw)
	}
	return resp.StatusCode, doc
}

func historyOf(t *testing.T, url, id string) []any {
	t.Helper()
	resp, raw, err := plain(t, 2*time.Second, "GET", url+"/chat/sessions/"+id+"/history", "")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("history: %v %v: %s", err, resp, raw)
	}
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	items, _ := doc["items"].([]any)
	return items
}

func TestShapes(t *testing.T) {
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return strings.Join(ks, ",")
	}
	for _, tc := range []struct {
		shape Shape
		keys  string
		text  func(map[string]any) any
	}{
		{"", "autopilotResponse,code,sessionIsHandedOff,success,uiResponse", func(r map[string]any) any { return content(r) }},
		{ShapeFlat, "autopilotResponse,code,sessionIsHandedOff,success,uiResponse", func(r map[string]any) any { return content(r) }},
		{ShapeData, "data,success", func(r map[string]any) any { return dig(r, "data", "autopilotResponse", "value", "content") }},
		{ShapeLegacy, "ai_response", func(r map[string]any) any { return dig(r, "ai_response", "text") }},
	} {
		t.Run(string(tc.shape), func(t *testing.T) {
			url, s := startServer(t, Options{Shape: tc.shape})
			id := openSession(t, s)
			code, r := replyOf(t, url, id, "how long does shipping take?")
			if code != http.StatusCreated || keys(r) != tc.keys || tc.text(r) != ShippingText {
				t.Errorf("HTTP %d, keys %s, text %v: %v", code, keys(r), tc.text(r), r)
			}
			if tc.shape == ShapeData {
				if d, _ := r["data"].(map[string]any); keys(d) != "autopilotResponse,code,sessionIsHandedOff,uiResponse" || d["code"] != CodeAIReplied || d["sessionIsHandedOff"] != false {
					t.Errorf("data: %v", d)
				}
			}
			// Handed off, the AI is silent.
			replyOf(t, url, id, "get me a human")
			_, r = replyOf(t, url, id, "hello?")
			if tc.shape == ShapeLegacy && (keys(r) != "ai_response" || r["ai_response"] != nil) {
				t.Errorf("legacy silent reply %v, want ai_response null", r)
			}
			if tc.shape == ShapeData && dig(r, "data", "code") != CodeAssignedToHuman {
				t.Errorf("data silent reply %v", r)
			}
		})
	}

	t.Run("toolzz ignores shape", func(t *testing.T) {
		url, _ := startServer(t, Options{Shape: ShapeIDOnly})
		_, raw, err := plain(t, 2*time.Second, "POST", url+"/api/v1/chat/send-message", toolzzBody("shipping? [sim shape=legacy]", ""))
		if err != nil || !strings.Contains(string(raw), `"content":"`+ShippingText) {
			t.Errorf("%v: %s", err, raw)
		}
	})
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestIDOnlyShape(t *testing.T) {
	for _, delay := range []time.Duration{0, time.Second} {
		t.Run(fmt.Sprint("history_delay=", delay), func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			url, s := startServer(t, Options{Shape: ShapeIDOnly, HistoryDelay: delay, Now: clock.Now, HistoryPageSize: 2})
			id := openSession(t, s)
			replyOf(t, url, id, "hello")
			clock.Advance(delay)

			code, r := replyOf(t, url, id, "refund ord_7")
			msgID, _ := dig(r, "data", "message", "id").(string)
			data, _ := r["data"].(map[string]any)
			message, _ := data["message"].(map[string]any)
			if code != http.StatusCreated || r["success"] != true || !isUUID(msgID) || len(r) != 2 || len(data) != 1 || len(message) != 1 {
				t.Fatalf("HTTP %d: %v", code, r)
			}
			snap, _ := s.Session(id)
			if snap.Events[2].ID != msgID || snap.Events[2].Text != "refund ord_7" {
				t.Fatalf("data.message.id %s is not the stored message %+v", msgID, snap.Events[2])
			}

			// Read the whole history, following next, as a poller does.
			var texts []string
			read := func() {
				texts = nil
				cursor := ""
				for {
					resp, raw, err := plain(t, 2*time.Second, "GET", url+"/chat/sessions/"+id+"/history?cursor="+cursor, "")
					if err != nil || resp.StatusCode != 200 {
						t.Fatalf("history: %v: %s", err, raw)
					}
					var page historyOut
					json.Unmarshal(raw, &page)
					for _, it := range page.Items {
						texts = append(texts, it.Event.Sender.Type+": "+it.Event.Content.Text)
					}
					if page.Next == nil {
						return
					}
					cursor = *page.Next
				}
			}
			read()
			if delay > 0 {
				if len(texts) != 3 || texts[2] != "contact: refund ord_7" {
					t.Fatalf("before history_delay: %q", texts)
				}
				clock.Advance(delay - time.Millisecond)
				if read(); len(texts) != 3 {
					t.Fatalf("just before history_delay: %q", texts)
				}
				clock.Advance(time.Millisecond)
				read()
			}
			if len(texts) != 4 || texts[2] != "contact: refund ord_7" || !strings.HasPrefix(texts[3], "ai: I've opened refund ticket TCK-1001 for order ord_7") {
				t.Errorf("history: %q", texts)
			}
		})
	}
}

// History items carry the send's message id, none, or ids of their own.
func TestHistoryIDs(t *testing.T) {
	for _, ids := range []HistoryIDs{"", HistoryIDsSame, HistoryIDsNone, HistoryIDsUnrelated} {
		t.Run(string(ids), func(t *testing.T) {
			url, s := startServer(t, Options{Shape: ShapeIDOnly, HistoryIDs: ids})
			id := openSession(t, s)
			_, r := replyOf(t, url, id, "hello")
			msgID, _ := dig(r, "data", "message", "id").(string)
			snap, _ := s.Session(id)
			first := historyOf(t, url, id)
			again := historyOf(t, url, id)
			if len(first) != 2 || len(snap.Events) != 2 || snap.Events[0].ID != msgID {
				t.Fatalf("history %v, events %+v, message id %s", first, snap.Events, msgID)
			}
			for i, it := range first {
				got, has := it.(map[string]any)["id"]
				stored := snap.Events[i].ID
				switch ids {
				case "", HistoryIDsSame:
					if got != stored {
						t.Errorf("item %d: id %v, want the stored %s", i, got, stored)
					}
				case HistoryIDsNone:
					if has {
						t.Errorf("item %d has an id member: %v", i, it)
					}
				case HistoryIDsUnrelated:
					if !isUUID(fmt.Sprint(got)) || got == stored || got == msgID || got != again[i].(map[string]any)["id"] {
						t.Errorf("item %d: id %v (stored %s, message %s, next read %v), want a stable UUID of its own",
							i, got, stored, msgID, again[i].(map[string]any)["id"])
					}
				}
			}
		})
	}
}

func TestHistoryDelayRealClock(t *testing.T) {
	url, s := startServer(t, Options{Shape: ShapeIDOnly, HistoryDelay: 50 * time.Millisecond})
	id := openSession(t, s)
	start := time.Now()
	replyOf(t, url, id, "hello")
	for len(historyOf(t, url, id)) < 2 {
		if time.Since(start) > 2*time.Second {
			t.Fatal("the answer never appeared in the history")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("the answer appeared after %v, before history_delay", d)
	}
}

func TestDirectiveTimes(t *testing.T) {
	url, s := startServer(t, Options{Faults: []Fault{{Fault500, 0.5}}, Seed: 3})
	a, b := openSession(t, s), openSession(t, s)
	const text = "refund ord_5 [sim fault=503 times=2]"
	var got []int
	for range 4 {
		code, _ := replyOf(t, url, a, text)
		got = append(got, code)
	}
	if fmt.Sprint(got) != "[503 503 201 201]" {
		t.Errorf("session a: %v, want [503 503 201 201]", got)
	}
	// Another session counts its own attempts; another text too.
	if code, _ := replyOf(t, url, b, text); code != 503 {
		t.Errorf("session b's first attempt: %d", code)
	}
	if code, r := replyOf(t, url, a, "thanks [sim fault=429 times=1 retry_after=2]"); code != 429 || r["statusCode"] != 429.0 {
		t.Errorf("a second directive in session a: %d %v", code, r)
	}
	snap, _ := s.Session(a)
	if len(snap.Events) != 4 || snap.Events[0].Text != text || !strings.Contains(snap.Events[1].Text, "ticket TCK-1001 for order ord_5.") {
		t.Errorf("session a after 2 failures and 2 successes: %+v", snap.Events)
	}

	// Toolzz: in a conversation, as OpenCX; before one, per bot, afresh
	// for each conversation that gets through.
	toolzz := func(text, conv string) (int, string) {
		resp, raw, err := plain(t, 2*time.Second, "POST", url+"/api/v1/chat/send-message", toolzzBody(text, conv))
		if err != nil {
			t.Fatal(err)
		}
		var out toolzzOut
		json.Unmarshal(raw, &out)
		return resp.StatusCode, out.Message.ConversationID
	}
	const first = "hello [sim fault=502 times=1]"
	for i := range 2 {
		code1, _ := toolzz(first, "")
		code2, conv := toolzz(first, "")
		if code1 != 502 || code2 != 200 || conv == "" {
			t.Errorf("new conversation %d: %d then %d", i, code1, code2)
		}
		c1, _ := toolzz("shipping [sim fault=500 times=1]", conv)
		c2, _ := toolzz("shipping [sim fault=500 times=1]", conv)
		c3, _ := toolzz("shipping [sim fault=500 times=1]", conv)
		if c1 != 500 || c2 != 200 || c3 != 200 {
			t.Errorf("conversation %d: %d %d %d, want 500 200 200", i, c1, c2, c3)
		}
	}
}

func TestDirectives(t *testing.T) {
	url, s := startServer(t, Options{})
	id := openSession(t, s)

	start := time.Now()
	if code, r := replyOf(t, url, id, "hello [sim latency=50ms]"); code != 201 || content(r) != GreetingText {
		t.Errorf("latency directive: %d %v", code, r)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("latency=50ms answered after %v", d)
	}
	if _, r := replyOf(t, url, id, "[sim shape=legacy] how about shipping"); dig(r, "ai_response", "text") != ShippingText {
		t.Errorf("shape directive: %v", r)
	}
	if _, r := replyOf(t, url, id, "how about shipping [sim flaky=1]"); content(r) != FallbackText {
		t.Errorf("flaky=1 directive: %v", r)
	}
	resp, _, err := plain(t, 2*time.Second, "POST", url+"/chat/sessions/"+id+"/send", sendBody("hi [sim fault=429 retry_after=3 retry_after_date=0]"))
	if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("429 directive: %v %v", err, resp)
	}
	if _, _, err := plain(t, 100*time.Millisecond, "POST", url+"/chat/sessions/"+id+"/send", sendBody("hi [sim fault=hang]")); err == nil {
		t.Errorf("hang directive answered")
	}
	if code, r := replyOf(t, url, id, "hi [sim fault=504]"); code != 400 || !strings.Contains(fmt.Sprint(r["message"]), "fault=504: want one of 500, 502, 503, 429") {
		t.Errorf("bad directive: %d %v", code, r)
	}
	resp, raw, _ := plain(t, 2*time.Second, "POST", url+"/api/v1/chat/send-message", toolzzBody("hi [sim shape=round]", ""))
	if resp.StatusCode != 400 || !strings.HasPrefix(string(raw), `{"error":"sim directive [sim shape=round]: shape=round: want one of`) {
		t.Errorf("bad Toolzz directive: %d %s", resp.StatusCode, raw)
	}
	// The handoff summary quotes what the bot read.
	replyOf(t, url, id, "a human please [sim latency=1ms]")
	if snap, _ := s.Session(id); snap.Handoff == nil || strings.Contains(snap.Handoff.Summary, "[sim") {
		t.Errorf("handoff summary %+v", snap.Handoff)
	}
}

func TestFixedLatency(t *testing.T) {
	url, s := startServer(t, Options{Latency: 30 * time.Millisecond})
	id := openSession(t, s)
	start := time.Now()
	replyOf(t, url, id, "hello")
	if d := time.Since(start); d < 30*time.Millisecond || d > 2*time.Second {
		t.Errorf("a 30ms latency took %v", d)
	}
}

func TestFlaky(t *testing.T) {
	run := func(seed uint64, flaky float64) []bool {
		url, s := startServer(t, Options{Flaky: flaky, Seed: seed})
		var fell []bool
		for range 60 {
			id := openSession(t, s)
			_, r := replyOf(t, url, id, "refund ord_3")
			fell = append(fell, content(r) == FallbackText)
		}
		return fell
	}
	count := func(b []bool) (n int) {
		for _, x := range b {
			if x {
				n++
			}
		}
		return n
	}
	a, b := run(11, 0.5), run(11, 0.5)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("seed 11 gave different runs:\n%v\n%v", a, b)
	}
	if n := count(a); n < 15 || n > 45 {
		t.Errorf("flaky=0.5 fell back %d times in 60", n)
	}
	if n := count(run(11, 0)); n != 0 {
		t.Errorf("flaky=0 fell back %d times", n)
	}
	if n := count(run(0, 1)); n != 60 {
		t.Errorf("flaky=1 fell back %d times in 60", n)
	}
	// A fallback has the fallback rule's effects: no ticket.
	url, s := startServer(t, Options{Flaky: 1})
	id := openSession(t, s)
	if _, r := replyOf(t, url, id, "refund ord_3"); dig(r, "autopilotResponse", "mode") != nil || len(dig(r, "autopilotResponse", "debugInfo", "actionCalls").([]any)) != 0 {
		t.Errorf("a fallback reply: %v", r)
	}
	if s.brain.nextTicket != FirstTicket {
		t.Errorf("a fallback opened a ticket")
	}
}

func TestFaultsConcurrently(t *testing.T) {
	url, s := startServer(t, Options{
		LatencyDist: Uniform{0, 2 * time.Millisecond},
		Faults:      []Fault{{Fault503, 0.2}, {FaultMalformed, 0.1}},
		Flaky:       0.3,
		Shape:       ShapeData,
		Seed:        5,
	})
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := openSession(t, s)
			text := fmt.Sprintf("refund ord_%d [sim fault=502 times=2]", i)
			var codes []int
			for range 3 {
				resp, _, err := plain(t, 5*time.Second, "POST", url+"/chat/sessions/"+id+"/send", sendBody(text))
				if err != nil {
					t.Error(err)
					return
				}
				codes = append(codes, resp.StatusCode)
			}
			if fmt.Sprint(codes) != "[502 502 201]" {
				t.Errorf("session %d: %v", i, codes)
			}
			for range 3 {
				plain(t, 5*time.Second, "GET", url+"/chat/sessions/"+id+"/history", "")
				plain(t, 5*time.Second, "POST", url+"/api/v1/chat/send-message", toolzzBody("shipping", ""))
			}
			if n := eventCount(s, id); n != 2 {
				t.Errorf("session %d holds %d events, want 2", i, n)
			}
		})
	}
	wg.Wait()
}
