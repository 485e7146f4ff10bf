package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// testFastHTTP makes newTestCaller's Callers use Config.FastHTTP;
// TestFastHTTP sets it to run the Caller's tests over that transport too.
var testFastHTTP bool

// newTestCaller points a Caller at url with no pause between attempts.
func newTestCaller(url string, cfg Config) *Caller {
	cfg.BaseURL = url
	cfg.FastHTTP = testFastHTTP
	c := NewCaller("opencx", cfg)
	c.backoff = func(int) time.Duration { return 0 }
	return c
}

// counting wraps h and counts the requests it serves.
func counting(hits *atomic.Int32, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// drop closes the connection without answering.
func drop(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// hang keeps a request open until the client goes away or the test ends.
// The server notices a client leaving only once it has read the request
// body, so it reads it first.
func hang(done <-chan struct{}, w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-done:
	}
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("want *providers.Error, got %T: %v", err, err)
	}
	return perr
}

func TestDoClassifiesAndRetries(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		cfg       Config
		attempts  int    // requests the server sees, and Error.Attempts
		status    int    // Error.Status
		retryable bool   // Error.Retryable()
		is        error  // errors.Is target, if any
		text      string // in Error()
		hint      string // in Error.Hint
	}{
		{name: "500", handler: status(500, `{"message":"boom"}`), attempts: 3, status: 500, retryable: true, text: "boom"},
		{name: "502 html", handler: status(502, `<html>bad gateway</html>`), attempts: 3, status: 502, retryable: true, text: "bad gateway"},
		{name: "429", handler: status(429, `{"message":"Too Many Requests"}`), attempts: 3, status: 429, retryable: true,
			hint: "provider.rate_limit"},
		{name: "dropped connection", handler: drop, attempts: 3, retryable: true, text: "EOF"},
		{name: "2xx not JSON", attempts: 3, status: 200, retryable: true, is: ErrNotJSON,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<html>login</html>")
			},
			text: "reply is not JSON (Content-Type text/html): <html>login</html>", hint: "provider.base_url"},
		{name: "2xx empty", handler: status(200, ""), attempts: 3, status: 200, retryable: true, is: ErrNotJSON},
		{name: "2xx over max body", handler: status(201, `{"text":"`+strings.Repeat("x", 100)+`"}`), cfg: Config{MaxBody: 64},
			attempts: 3, status: 201, retryable: true, is: ErrTooLarge, text: "exceeds 64 bytes (provider.max_body)", hint: "provider.max_body"},
		{name: "2xx cut short", attempts: 3, status: 200, retryable: true, text: "read reply",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100")
				io.WriteString(w, `{"a":`)
			}},
		{name: "400", handler: status(400, `{"message":"custom_data.plan must be a string"}`), attempts: 1, status: 400,
			text: "custom_data.plan must be a string", hint: "refused the request body"},
		{name: "422", handler: status(422, `{}`), attempts: 1, status: 422, hint: "refused the request body"},
		{name: "401", handler: status(401, `{"message":"Unauthorized"}`), attempts: 1, status: 401,
			cfg: Config{Token: "ocx_live_x", TokenVars: []string{"OPENCX_API_KEY"}}, hint: "check $OPENCX_API_KEY"},
		{name: "403", handler: status(403, `{}`), attempts: 1, status: 403,
			cfg: Config{Token: "ocx_live_x", TokenVars: []string{"OPENCX_API_KEY"}}, hint: "check $OPENCX_API_KEY"},
		{name: "401 literal token", handler: status(401, `{}`), attempts: 1, status: 401,
			cfg: Config{Token: "ocx_live_x"}, hint: "check provider.token"},
		{name: "401 no token", handler: status(401, `{}`), attempts: 1, status: 401, hint: "carried no token"},
		{name: "404", handler: status(404, `{"message":"session not found"}`), attempts: 1, status: 404, hint: "provider.base_url and the ids"},
		{name: "413", handler: status(413, ``), attempts: 1, status: 413, hint: "payload is too large"},
		{name: "409", handler: status(409, `{}`), attempts: 1, status: 409, hint: "not retried"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(counting(&hits, tt.handler))
			defer srv.Close()
			tt.cfg.Retries = 2
			c := newTestCaller(srv.URL, tt.cfg)

			_, _, err := c.Do(context.Background(), "send", http.MethodPost, "/chat/sessions/1/send", map[string]string{"a": "b"})
			perr := asError(t, err)
			if int(hits.Load()) != tt.attempts || perr.Attempts != tt.attempts {
				t.Errorf("server saw %d requests, Error.Attempts %d; want %d", hits.Load(), perr.Attempts, tt.attempts)
			}
			if perr.Status != tt.status || perr.Retryable() != tt.retryable {
				t.Errorf("status %d retryable %v; want %d %v", perr.Status, perr.Retryable(), tt.status, tt.retryable)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) is false for %v", tt.is, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "opencx: send") || !strings.Contains(msg, tt.text) || !strings.Contains(perr.Hint, tt.hint) {
				t.Errorf("error %q (hint %q) lacks %q / hint %q", msg, perr.Hint, tt.text, tt.hint)
			}
			if again := fmt.Sprintf("after %d attempts", tt.attempts); (tt.attempts > 1) != strings.Contains(msg, again) || strings.Contains(msg, "after 1 attempt") {
				t.Errorf("error %q should mention %q only when retried", msg, again)
			}
		})
	}
}

func TestDoNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more

	_, _, err := newTestCaller(srv.URL, Config{Retries: 2}).Do(context.Background(), "create session", http.MethodPost, "/chat/sessions", struct{}{})
	perr := asError(t, err)
	if perr.Status != 0 || !perr.Retryable() || perr.Attempts != 3 {
		t.Errorf("status %d retryable %v attempts %d; want 0 true 3", perr.Status, perr.Retryable(), perr.Attempts)
	}
	if !strings.Contains(err.Error(), "opencx: create session after 3 attempts: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error text %q", err)
	}
}

func TestDoSucceedsAfterRetries(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(counting(&hits, func(w http.ResponseWriter, r *http.Request) {
		if hits.Load() < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"s1"}`)
	}))
	defer srv.Close()

	code, raw, err := newTestCaller(srv.URL, Config{Retries: 2}).Do(context.Background(), "create session", http.MethodPost, "/chat/sessions", struct{}{})
	if err != nil || code != 201 || string(raw) != `{"id":"s1"}` || hits.Load() != 3 {
		t.Fatalf("got %d %q %v after %d requests", code, raw, err, hits.Load())
	}
}

func TestDo204NeedsNoBody(t *testing.T) {
	srv := httptest.NewServer(status(http.StatusNoContent, ""))
	defer srv.Close()
	if code, _, err := newTestCaller(srv.URL, Config{}).Do(context.Background(), "close", http.MethodPatch, "/chat/sessions/1", nil); err != nil || code != 204 {
		t.Fatalf("got %d %v", code, err)
	}
}

// A service that never answers costs Timeout per attempt and nothing more.
func TestDoHangingServerIsBounded(t *testing.T) {
	tests := []struct {
		name    string
		handler func(done <-chan struct{}) http.HandlerFunc
		status  int
	}{
		{"no headers", func(done <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { hang(done, w, r) }
		}, 0},
		{"stalls mid-body", func(done <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(200)
				io.WriteString(w, `{"partial":`)
				w.(http.Flusher).Flush()
				hang(done, w, r)
			}
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			done := make(chan struct{})
			srv := httptest.NewServer(counting(&hits, tt.handler(done)))
			defer srv.Close()
			defer close(done) // before Close, which waits for the handlers
			c := newTestCaller(srv.URL, Config{Timeout: 100 * time.Millisecond, Retries: 2})

			start := time.Now()
			_, _, err := c.Do(context.Background(), "send", http.MethodPost, "/send", struct{}{})
			took := time.Since(start)

			// Three attempts of 100ms each: never sooner. The upper
			// bound only catches a timeout that does not fire at all.
			if took < 300*time.Millisecond || took > 10*time.Second {
				t.Errorf("Do took %s; want 300ms plus a little", took)
			}
			perr := asError(t, err)
			if !errors.Is(err, ErrTimeout) || perr.Attempts != 3 || hits.Load() != 3 || perr.Status != tt.status {
				t.Errorf("got %v (attempts %d, %d requests, status %d)", err, perr.Attempts, hits.Load(), perr.Status)
			}
			if !strings.Contains(err.Error(), "no complete reply within 100ms (provider.timeout)") || !strings.Contains(perr.Hint, "raise provider.timeout") {
				t.Errorf("error text %q, hint %q", err, perr.Hint)
			}
		})
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	t.Run("cancelled during the pause", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var hits atomic.Int32
		srv := httptest.NewServer(counting(&hits, status(503, "")))
		defer srv.Close()
		c := newTestCaller(srv.URL, Config{Retries: 5})
		c.backoff = func(int) time.Duration { return 10 * time.Second }
		time.AfterFunc(100*time.Millisecond, cancel)

		start := time.Now()
		_, _, err := c.Do(ctx, "send", http.MethodPost, "/send", struct{}{})
		if took := time.Since(start); took > time.Second {
			t.Errorf("Do took %s after cancel", took)
		}
		if perr := asError(t, err); perr.Status != 503 || perr.Attempts != 1 || hits.Load() != 1 {
			t.Errorf("got %v after %d requests", err, hits.Load())
		}
	})

	t.Run("cancelled mid-request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var hits atomic.Int32
		srv := httptest.NewServer(counting(&hits, func(w http.ResponseWriter, r *http.Request) {
			cancel()
			hang(nil, w, r)
		}))
		defer srv.Close()

		start := time.Now()
		_, _, err := newTestCaller(srv.URL, Config{Retries: 5}).Do(ctx, "send", http.MethodPost, "/send", struct{}{})
		if took := time.Since(start); took > time.Second {
			t.Errorf("Do took %s after cancel", took)
		}
		perr := asError(t, err)
		if !errors.Is(err, context.Canceled) || perr.Retryable() || hits.Load() != 1 {
			t.Errorf("got %v (retryable %v) after %d requests", err, perr.Retryable(), hits.Load())
		}
	})

	t.Run("pause would outlast the deadline", func(t *testing.T) {
		// The margins are wide so that a loaded machine cannot fail
		// this: a pause of an hour against a deadline of 20s, and
		// "at once" is anything well before the deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var hits atomic.Int32
		srv := httptest.NewServer(counting(&hits, status(500, "")))
		defer srv.Close()
		c := newTestCaller(srv.URL, Config{Retries: 5})
		c.backoff = func(int) time.Duration { return time.Hour }

		start := time.Now()
		_, _, err := c.Do(ctx, "send", http.MethodPost, "/send", struct{}{})
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("Do took %s; it should give up at once", took)
		}
		if perr := asError(t, err); perr.Status != 500 || hits.Load() != 1 {
			t.Errorf("got %v after %d requests", err, hits.Load())
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	const backoff = 123 * time.Millisecond
	tests := []struct {
		name   string
		status int
		header string
		asked  time.Duration // Error.RetryAfter of the first reply
		wait   time.Duration // the pause Do took
	}{
		{"seconds on 429", 429, "7", 7 * time.Second, 7 * time.Second},
		{"seconds on 503", 503, " 2 ", 2 * time.Second, 2 * time.Second},
		{"date on 503", 503, now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, 30 * time.Second},
		{"date on 429", 429, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, 90 * time.Second},
		{"capped", 429, "86400", 24 * time.Hour, MaxRetryAfter},
		{"date capped", 503, now.Add(time.Hour).Format(http.TimeFormat), time.Hour, MaxRetryAfter},
		{"past date", 429, now.Add(-time.Minute).Format(http.TimeFormat), 0, backoff},
		{"zero", 429, "0", 0, backoff},
		{"negative", 429, "-5", 0, backoff},
		{"unparseable", 503, "soon", 0, backoff},
		{"absent", 429, "", 0, backoff},
		{"ignored on 500", 500, "7", 0, backoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(counting(&hits, func(w http.ResponseWriter, r *http.Request) {
				if hits.Load() == 1 {
					if tt.header != "" {
						w.Header().Set("Retry-After", tt.header)
					}
					w.WriteHeader(tt.status)
					return
				}
				w.WriteHeader(tt.status) // again, so the test sees the first reply's error
			}))
			defer srv.Close()
			c := newTestCaller(srv.URL, Config{Retries: 1})
			c.backoff = func(int) time.Duration { return backoff }
			c.now = func() time.Time { return now }
			var waits []time.Duration
			c.sleep = func(ctx context.Context, d time.Duration) bool {
				waits = append(waits, d)
				return true
			}

			_, _, err := c.Do(context.Background(), "send", http.MethodPost, "/send", struct{}{})
			if !slices.Equal(waits, []time.Duration{tt.wait}) {
				t.Errorf("paused %v; want [%s]", waits, tt.wait)
			}
			if perr := asError(t, err); perr.Attempts != 2 {
				t.Errorf("attempts %d, want 2", perr.Attempts)
			}

			// The first reply's own error, on its own.
			c.Retries = 0
			hits.Store(0)
			_, _, err = c.Do(context.Background(), "send", http.MethodPost, "/send", struct{}{})
			if perr := asError(t, err); perr.RetryAfter != tt.asked {
				t.Errorf("RetryAfter %s, want %s", perr.RetryAfter, tt.asked)
			}
		})
	}
}

// A wait the service asks for that ends past the deadline is not started.
func TestRetryAfterBeyondDeadlineGivesUp(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(counting(&hits, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(429)
	}))
	defer srv.Close()
	// Retry-After 60 against a 20s deadline; "at once" is well before it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	start := time.Now()
	_, _, err := newTestCaller(srv.URL, Config{Retries: 3}).Do(ctx, "send", http.MethodPost, "/send", struct{}{})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Do took %s; it should give up at once", took)
	}
	perr := asError(t, err)
	if perr.Status != 429 || perr.Attempts != 1 || perr.RetryAfter != time.Minute || !strings.Contains(perr.Hint, "asked to wait 1m0s") {
		t.Errorf("got %v (attempts %d, RetryAfter %s)", err, perr.Attempts, perr.RetryAfter)
	}
}

// The real clock and timer honour Retry-After too.
func TestRetryAfterWaitsForReal(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a second")
	}
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		first := len(at) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()

	if _, _, err := newTestCaller(srv.URL, Config{Retries: 1}).Do(context.Background(), "send", http.MethodGet, "/", nil); err != nil {
		t.Fatal(err)
	}
	if gap := at[1].Sub(at[0]); gap < time.Second || gap > 2*time.Second {
		t.Errorf("second attempt came %s after the first; want about 1s", gap)
	}
}

func TestDefaultBackoffIsExponentialWithFullJitter(t *testing.T) {
	c := NewCaller("opencx", Config{})
	for n := 1; n <= 10; n++ {
		ceiling := 250 * time.Millisecond << min(n-1, 6)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := c.pause(n)
			if d <= 0 || d > ceiling {
				t.Fatalf("pause(%d) = %s, want in (0, %s]", n, d, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 100 {
			t.Errorf("pause(%d) took only %d distinct values in 200 draws", n, len(seen))
		}
	}
}

// One limiter shared by two Callers spaces all their requests, as the server
// sees them.
func TestLimiterIsSharedAcrossCallers(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()

	lim := rate.NewLimiter(20, 1)
	begin := time.Now()
	callers := []*Caller{
		newTestCaller(srv.URL, Config{Limiter: lim}),
		newTestCaller(srv.URL, Config{Limiter: lim}),
	}
	var wg sync.WaitGroup
	for _, c := range callers {
		for range 4 {
			wg.Go(func() {
				if _, _, err := c.Do(context.Background(), "send", http.MethodGet, "/", nil); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	assertSpaced(t, begin, at, 8)
}

// Retries wait their turn on the limiter like any other request.
func TestLimiterPacesRetries(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		n := len(at)
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()

	c := newTestCaller(srv.URL, Config{Retries: 2, Limiter: rate.NewLimiter(20, 1)})
	begin := time.Now()
	if _, _, err := c.Do(context.Background(), "send", http.MethodGet, "/", nil); err != nil {
		t.Fatal(err)
	}
	assertSpaced(t, begin, at, 3)
}

// assertSpaced checks that n requests were paced at 20/s from begin: the
// k-th to arrive (from 0) came no sooner than k·50ms after begin. Only this
// lower bound is the limiter's promise; gaps between arrivals are not, since
// a loaded machine may deliver one request late and the next on time.
func assertSpaced(t *testing.T, begin time.Time, at []time.Time, n int) {
	t.Helper()
	if len(at) != n {
		t.Fatalf("server saw %d requests, want %d", len(at), n)
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for k, when := range at {
		// A millisecond of slack for the clock's and the limiter's rounding.
		if earliest := time.Duration(k)*50*time.Millisecond - time.Millisecond; when.Sub(begin) < earliest {
			t.Errorf("request %d came %s after the start; the limiter allows it no sooner than %s", k, when.Sub(begin), earliest)
		}
	}
}

func TestLimiterWaitEndsWithTheContext(t *testing.T) {
	srv := httptest.NewServer(status(200, `{}`))
	defer srv.Close()
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	lim.Allow() // spend the only token
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	_, _, err := newTestCaller(srv.URL, Config{Limiter: lim}).Do(ctx, "send", http.MethodGet, "/", nil)
	perr := asError(t, err)
	if perr.Attempts != 0 || !strings.Contains(err.Error(), "provider.rate_limit") {
		t.Errorf("got %v (attempts %d)", err, perr.Attempts)
	}
}

// The token must not reach any error text, however the server echoes it.
func TestTokenNeverInErrors(t *testing.T) {
	const token = "ocx_live_s3cr/3t+tok="
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	quoted, _ := json.Marshal(token)

	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"401 echoes the header", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			io.WriteString(w, `{"message":"bad key `+r.Header.Get("Authorization")+`"}`)
		}},
		{"500 echoes JSON", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			fmt.Fprintf(w, `{"got":%s,"php":"%s"}`, quoted, strings.ReplaceAll(token, "/", `\/`))
		}},
		{"400 echoes URL-escaped", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, "token="+url.QueryEscape(token)+" path="+url.PathEscape(token))
		}},
		{"2xx not JSON, token in body and Content-Type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; key="+token)
			io.WriteString(w, "hello "+token)
		}},
		{"429 token in headers", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", token)
			w.Header().Set("X-Echo", token)
			w.WriteHeader(429)
		}},
		{"redirect to a dead URL carrying it", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, closed.URL+"/"+url.PathEscape(token)+"?t="+url.QueryEscape(token), http.StatusFound)
		}},
		{"body over the limit", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strings.Repeat(token, 100))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newTestCaller(srv.URL, Config{Token: token, TokenVars: []string{"OPENCX_API_KEY"}, Retries: 1, MaxBody: 1024})

			_, _, err := c.Do(context.Background(), "send", http.MethodGet, "/", nil)
			perr := asError(t, err)
			texts := []string{err.Error(), fmt.Sprintf("%v|%+v|%s", err, err, err), perr.Body, perr.Hint}
			for e := error(perr); e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error())
			}
			for _, s := range texts {
				for _, form := range []string{token, "s3cr", url.QueryEscape(token), url.PathEscape(token)} {
					if strings.Contains(s, form) {
						t.Errorf("%q shows the token as %q", s, form)
					}
				}
			}
		})
	}
}

// Only the Caller marks an error as a broken exchange: one a provider builds
// from a well-formed reply, or a Decode failure, is not retryable.
func TestRetryableOnlyForTheExchange(t *testing.T) {
	c := NewCaller("toolzz", Config{})
	var v struct{ N int }
	err := c.Decode("send", 200, []byte(`{"N":"x"}`), &v)
	if perr := asError(t, err); perr.Retryable() {
		t.Errorf("a Decode error is retryable: %v", err)
	}
	if (&Error{Err: errors.New("no conversationId")}).Retryable() {
		t.Error("an Error built outside the Caller is retryable")
	}
	if !(&Error{Status: 503}).Retryable() || !(&Error{Status: 429}).Retryable() || (&Error{Status: 404}).Retryable() {
		t.Error("status rule broken")
	}
}

// TestCallersKeepConnections: concurrent requests to one host leave their
// connections open for the next ones, as a load test needs; the default
// transport would keep 2 and redial the rest.
func TestCallersKeepConnections(t *testing.T) {
	const concurrent = 20
	var dials atomic.Int32
	var release atomic.Pointer[chan struct{}]
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-*release.Load() // hold every request until all are in flight at once
		w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	a, b := newTestCaller(srv.URL, Config{}), newTestCaller(srv.URL, Config{})

	for round := 1; round <= 2; round++ {
		arrived.Add(concurrent)
		held := make(chan struct{})
		release.Store(&held)
		var done sync.WaitGroup
		for i := range concurrent {
			c := a
			if i%2 == 1 {
				c = b // callers share one pool
			}
			done.Go(func() {
				if _, _, err := c.Do(context.Background(), "op", http.MethodGet, "/", nil); err != nil {
					t.Error(err)
				}
			})
		}
		arrived.Wait()
		close(held)
		done.Wait()
	}
	if n := dials.Load(); n != concurrent {
		t.Errorf("two rounds of %d concurrent requests opened %d connections, want %d: the second round should reuse the first's", concurrent, n, concurrent)
	}
}

// A redirect is refused, by both transports: the token and the suite's
// headers must not reach a Location on another port (or host), and the error
// names where the service pointed.
func TestRedirectsAreNotFollowed(t *testing.T) {
	const token, secretHeader = "ocx_live_redirect_token", "staging-secret-value"
	var elsewhere atomic.Int32
	var leaked sync.Map // what the second server saw
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		leaked.Store("Authorization", r.Header.Get("Authorization"))
		leaked.Store("X-Env", r.Header.Get("X-Env"))
		io.WriteString(w, `{"ok":true}`)
	}))
	defer other.Close()
	for _, fast := range []bool{false, true} {
		for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(fmt.Sprintf("fasthttp=%v/%d", fast, code), func(t *testing.T) {
				var hits atomic.Int32
				location := other.URL + "/moved/send"
				srv := httptest.NewServer(counting(&hits, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, location, code)
				}))
				defer srv.Close()
				c := NewCaller("opencx", Config{BaseURL: srv.URL, Token: token, Retries: 2, FastHTTP: fast,
					Headers: map[string]string{"X-Env": secretHeader}})
				c.backoff = func(int) time.Duration { return 0 }

				_, _, err := c.Do(context.Background(), "send", http.MethodPost, "/send", map[string]string{"m": "hi"})
				perr := asError(t, err)
				if perr.Status != code || perr.Retryable() || hits.Load() != 1 {
					t.Errorf("status %d retryable %v after %d requests, want %d, not retried: %v", perr.Status, perr.Retryable(), hits.Load(), code, err)
				}
				if !strings.Contains(err.Error(), location) {
					t.Errorf("the error does not name the Location %s: %v", location, err)
				}
				if n := elsewhere.Load(); n != 0 {
					auth, _ := leaked.Load("Authorization")
					env, _ := leaked.Load("X-Env")
					t.Fatalf("the redirect was followed %d times; the other server got Authorization %q, X-Env %q", n, auth, env)
				}
			})
		}
	}
}
