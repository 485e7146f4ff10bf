package sim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func statsOf(t *testing.T, c *client) Stats {
	t.Helper()
	code, _, raw := c.do("GET", StatsPath, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", StatsPath, code, raw)
	}
	var st Stats
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("GET %s: %v: %s", StatsPath, err, raw)
	}
	return st
}

func TestAdminRoutesAreOptIn(t *testing.T) {
	c, s := newClient(t, Options{})
	id := c.create(map[string]any{})
	c.say(id, "hello")
	for _, r := range []struct{ method, path string }{{"GET", StatsPath}, {"POST", StatsResetPath}, {"POST", FreezePath + "?for=1s"}} {
		if code, _, raw := c.do(r.method, r.path, nil); code != http.StatusNotFound {
			t.Errorf("without Admin, %s %s: HTTP %d %s, want 404", r.method, r.path, code, raw)
		}
	}
	if st := s.Stats(); st.All.Count != 0 {
		t.Errorf("without Admin, Stats counted %d requests, want none", st.All.Count)
	}

	o, err := ParseSpec("admin=1")
	if err != nil || !o.Admin {
		t.Errorf(`ParseSpec("admin=1") = Admin %v, %v; want Admin true`, o.Admin, err)
	}
	if _, err := ParseSpec("admin=maybe"); err == nil {
		t.Error(`ParseSpec("admin=maybe") = nil error, want one`)
	}
}

func TestStats(t *testing.T) {
	const latency = 20 * time.Millisecond
	c, _ := newClient(t, Options{Admin: true, Latency: latency})
	const send = "POST /chat/sessions/{id}/send"

	st := statsOf(t, c)
	if st.All.Count != 0 || len(st.Routes) != 0 || st.Since.IsZero() {
		t.Fatalf("fresh stats = %+v, want none counted and a start time", st)
	}
	id := c.create(map[string]any{})
	for _, text := range []string{"hello", "I want a refund for ord_1", "thanks"} {
		c.say(id, text)
	}
	c.do("GET", "/nope", nil) // not an API route: not counted

	st = statsOf(t, c)
	if st.All.Count != 4 || st.Routes[send].Count != 3 || st.Routes["POST /chat/sessions"].Count != 1 || len(st.Routes) != 2 {
		t.Fatalf("stats after a session and 3 sends: %+v", st)
	}
	for name, l := range map[string]LatencyStats{"all": st.All, send: st.Routes[send]} {
		// Each request waited the latency, so no percentile is below it,
		// and they are in order.
		ms := float64(latency) / float64(time.Millisecond)
		if l.P50 < ms || l.P50 > l.P90 || l.P90 > l.P95 || l.P95 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max || l.Mean < ms {
			t.Errorf("%s: %+v, want ordered percentiles of at least %gms", name, l, ms)
		}
	}

	if code, _, raw := c.do("POST", StatsResetPath, nil); code != http.StatusNoContent {
		t.Fatalf("POST %s: HTTP %d %s, want 204", StatsResetPath, code, raw)
	}
	after := statsOf(t, c)
	if after.All.Count != 0 || len(after.Routes) != 0 || !after.Since.After(st.Since) {
		t.Errorf("stats after a reset = %+v, want none counted since the reset", after)
	}
	c.say(id, "hello")
	if got := statsOf(t, c).Routes[send].Count; got != 1 {
		t.Errorf("after a reset and a send, %d sends counted, want 1", got)
	}
}

func TestAdminRoutesTakeTheToken(t *testing.T) {
	c, _ := newClient(t, Options{Admin: true, Token: "secret"})
	c.token = ""
	for _, r := range []struct{ method, path string }{{"GET", StatsPath}, {"POST", StatsResetPath}, {"POST", FreezePath + "?for=1s"}} {
		if code, _, raw := c.do(r.method, r.path, nil); code != http.StatusUnauthorized {
			t.Errorf("without the token, %s %s: HTTP %d %s, want 401", r.method, r.path, code, raw)
		}
	}
	c.token = "secret"
	if code, _, raw := c.do("PUT", FreezePath, nil); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT %s: HTTP %d %s, want 405", FreezePath, code, raw)
	}
	for _, bad := range []string{"", "?for=soon", "?for=-1s"} {
		if code, _, raw := c.do("POST", FreezePath+bad, nil); code != http.StatusBadRequest {
			t.Errorf("POST %s%s: HTTP %d %s, want 400", FreezePath, bad, code, raw)
		}
	}
}

func TestFreeze(t *testing.T) {
	const hold = 300 * time.Millisecond
	c, _ := newClient(t, Options{Admin: true})
	id := c.create(map[string]any{})

	code, doc, raw := c.do("POST", FreezePath+"?for="+hold.String(), nil)
	if code != http.StatusOK || doc["for_ms"] != 300.0 || doc["until"] == nil {
		t.Fatalf("POST %s: HTTP %d %s", FreezePath, code, raw)
	}
	// The admin routes are never frozen.
	statsOf(t, c)
	began := time.Now()
	c.say(id, "hello")
	if waited := time.Since(began); waited < hold-20*time.Millisecond {
		t.Errorf("a send during a %s freeze took %s, want it held until the freeze ended", hold, waited)
	}
	if st := statsOf(t, c); st.Routes["POST /chat/sessions/{id}/send"].Max < float64(hold-20*time.Millisecond)/1e6 {
		t.Errorf("stats of the held send: %+v, want its wait counted", st.Routes)
	}
}

func TestFreezeEndsEarly(t *testing.T) {
	c, s := newClient(t, Options{Admin: true})
	id := c.create(map[string]any{})
	s.Freeze(time.Hour)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.say(id, "hello")
	}()
	select {
	case <-done:
		t.Fatal("a send during a freeze of an hour was answered at once")
	case <-time.After(50 * time.Millisecond):
	}
	if code, doc, raw := c.do("POST", FreezePath+"?for=0", nil); code != http.StatusOK || doc["until"] != nil {
		t.Fatalf("POST %s?for=0: HTTP %d %s", FreezePath, code, raw)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("for=0 did not release the send held by the freeze")
	}
}
