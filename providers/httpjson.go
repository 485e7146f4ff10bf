package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// DefaultMaxBody caps how much of a reply evalrun reads. A chat reply is a few
// KiB; anything near this size is a broken or hostile server.
const DefaultMaxBody = 10 << 20

// bodyExcerpt is how much of an error body is kept for the user to read.
const bodyExcerpt = 512

// Caller sends JSON requests to one service on behalf of a provider and turns
// every way that can go wrong into an *Error. It is safe for concurrent use.
type Caller struct {
	Provider string // "opencx", "toolzz": prefixes every error
	Config   Config
	Retries  int   // extra attempts for failures that may pass: network, 429, 5xx
	MaxBody  int64 // 0 means DefaultMaxBody

	// backoff returns the pause before attempt n (1-based). nil means
	// exponential from 250ms with full jitter; tests set it to zero.
	backoff func(n int) time.Duration
}

// NewCaller returns a Caller for cfg.
func NewCaller(provider string, cfg Config) *Caller {
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &Caller{Provider: provider, Config: cfg, Retries: cfg.Retries, MaxBody: cfg.MaxBody}
}

// Do sends body (nil for none) as JSON to the path under the base URL and
// returns the status and body of a 2xx reply. Any other outcome is an *Error.
func (c *Caller) Do(ctx context.Context, op, method, path string, body any) (int, []byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, nil, c.fail(op, 0, nil, fmt.Errorf("encode request: %w", err))
		}
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		status, raw, err := c.once(ctx, op, method, path, payload)
		if err == nil {
			return status, raw, nil
		}
		lastErr = err
		var perr *Error
		if attempt >= c.Retries || ctx.Err() != nil || !errors.As(err, &perr) || !perr.Retryable() {
			return 0, nil, lastErr
		}
		if !sleep(ctx, c.pause(attempt+1)) {
			return 0, nil, lastErr
		}
	}
}

func (c *Caller) pause(n int) time.Duration {
	if c.backoff != nil {
		return c.backoff(n)
	}
	ceiling := 250 * time.Millisecond << min(n-1, 6)
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Caller) once(ctx context.Context, op, method, path string, payload []byte) (int, []byte, error) {
	if c.Config.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Config.Timeout)
		defer cancel()
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Config.BaseURL, "/")+path, rd)
	if err != nil {
		return 0, nil, c.fail(op, 0, nil, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range c.Config.Headers {
		req.Header.Set(k, v)
	}
	if c.Config.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Config.Token)
	}
	resp, err := c.Config.Client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && c.Config.Timeout > 0 {
			err = fmt.Errorf("no reply within %s (provider.timeout)", c.Config.Timeout)
		}
		return 0, nil, c.fail(op, 0, nil, err)
	}
	defer resp.Body.Close()
	limit := c.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, nil, c.fail(op, resp.StatusCode, nil, fmt.Errorf("read reply: %w", err))
	}
	if int64(len(raw)) > limit {
		return 0, nil, c.fail(op, resp.StatusCode, nil, fmt.Errorf("reply body exceeds %d bytes", limit))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, nil, c.fail(op, resp.StatusCode, raw, nil)
	}
	return resp.StatusCode, raw, nil
}

// fail builds the *Error for op, scrubbing the token from everything the
// service or the transport said, in case either echoes it back.
func (c *Caller) fail(op string, status int, body []byte, cause error) *Error {
	e := &Error{Provider: c.Provider, Op: op, Status: status}
	if cause != nil {
		e.Err = scrubbed{cause, c.Config.Token}
	}
	if len(body) > 0 {
		e.Body = c.Excerpt(body)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Hint = "check the token"
		if len(c.Config.TokenVars) > 0 {
			e.Hint += " in $" + strings.Join(c.Config.TokenVars, ", $")
		} else if c.Config.Token == "" {
			e.Hint = "the suite sets no provider.token"
		}
	case status == http.StatusNotFound:
		e.Hint = "check provider.base_url and the ids the suite uses"
	}
	return e
}

// Redact replaces the token in s, so no message evalrun prints can carry it.
func (c *Caller) Redact(s string) string {
	if c.Config.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.Config.Token, "[redacted]")
}

// Excerpt returns the start of a reply body for an error message. The token
// is replaced before the body is cut, so no part of it can survive at the cut.
func (c *Caller) Excerpt(body []byte) string {
	return excerpt(c.Redact(string(body)), len(body))
}

// excerpt shortens s, a body of size bytes, to its first bodyExcerpt bytes
// with white space collapsed.
func excerpt(s string, size int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > bodyExcerpt {
		cut := bodyExcerpt
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + fmt.Sprintf("… (%d bytes)", size)
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// scrubbed wraps a transport error so that its text never shows the token.
type scrubbed struct {
	err   error
	token string
}

func (s scrubbed) Error() string {
	if s.token == "" {
		return s.err.Error()
	}
	return strings.ReplaceAll(s.err.Error(), s.token, "[redacted]")
}

func (s scrubbed) Unwrap() error { return s.err }

// Retryable reports whether trying the same request again may succeed: no
// reply at all, 429, or a 5xx. Other statuses say the request itself is wrong.
func (e *Error) Retryable() bool {
	if e.Status == 0 {
		return e.Err != nil && !errors.Is(e.Err, context.Canceled)
	}
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Decode unmarshals a reply body into v, failing as an *Error of op.
func (c *Caller) Decode(op string, status int, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return c.fail(op, status, raw, fmt.Errorf("undecodable reply: %w", err))
	}
	return nil
}
