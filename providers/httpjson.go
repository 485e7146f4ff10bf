package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/evalrun/evalrun/internal/wait"
	"github.com/valyala/fasthttp"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBody caps how much of a reply evalrun reads. A chat reply is a few
// KiB; anything near this size is a broken or hostile server.
const DefaultMaxBody = 10 << 20

// MaxRetryAfter caps the wait a Retry-After header can impose before the next
// attempt. It outlasts OpenCX's per-minute window with room to spare; a
// service that asks for longer is down for longer than a test run should sit
// still, and the run is better off reporting it.
const MaxRetryAfter = 2 * time.Minute

// bodyExcerpt is how much of an error body is kept for the user to read.
const bodyExcerpt = 512

// Causes the Caller reports, for errors.Is on an *Error. Each is retried: the
// next attempt may well get a good reply.
var (
	ErrTimeout  = errors.New("timeout")           // no complete reply within Config.Timeout
	ErrTooLarge = errors.New("reply too large")   // a 2xx body over the MaxBody limit
	ErrNotJSON  = errors.New("reply is not JSON") // a 2xx body that does not parse as JSON
)

// Caller sends JSON requests to one service on behalf of a provider and turns
// every way that can go wrong into an *Error. It is safe for concurrent use.
//
// Do retries what may pass on a second try (no reply, a timeout, 429, 5xx, a
// 2xx body that is cut short, too large or not JSON) with exponential backoff
// and full jitter, or after the wait a 429 or 503 asks for in Retry-After.
// Every attempt first waits its turn on Config.Limiter.
type Caller struct {
	Provider string // "opencx", "toolzz": prefixes every error
	Config   Config
	Retries  int   // extra attempts for failures that may pass
	MaxBody  int64 // 0 means DefaultMaxBody

	// backoff returns the pause after the n-th failed attempt (n >= 1). nil
	// means exponential from 250ms with full jitter; tests set it to zero.
	backoff func(n int) time.Duration

	redactOnce sync.Once
	redactor   *Redactor

	// The fasthttp pool and request parts for Config.FastHTTP, set once.
	fastOnce           sync.Once
	fastHC             *fasthttp.HostClient // nil: send with net/http
	fastBase, fastAuth string

	// sleep pauses for d or until ctx is done, reporting whether the pause
	// ran its course; now reads the clock for Retry-After dates. Both are nil
	// outside tests.
	sleep func(ctx context.Context, d time.Duration) bool
	now   func() time.Time
}

// transport is the connection pool of every Caller not given a Client of its
// own. Load tests keep thousands of requests in flight to one host, and
// http.DefaultTransport keeps only 2 idle connections per host, so it would
// close almost every connection after its reply and dial a new one for the
// next request. The buffers are halved: requests and replies are a few
// hundred bytes, and a load test holds one pair per connection.
var transport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no limit across hosts
	t.MaxIdleConnsPerHost = 1 << 16
	t.ReadBufferSize = 2 << 10
	t.WriteBufferSize = 2 << 10
	return t
}()

// NewCaller returns a Caller for cfg. The Caller never follows a redirect,
// whatever cfg.Client would do: it sends the token and the suite's headers,
// and a 3xx could carry them to a host (or port) the suite never named. A
// redirect is an *Error that names its Location instead.
func NewCaller(provider string, cfg Config) *Caller {
	client := http.Client{Transport: transport}
	if cfg.Client != nil {
		client = *cfg.Client
	}
	client.CheckRedirect = keepRedirect
	cfg.Client = &client
	return &Caller{Provider: provider, Config: cfg, Retries: cfg.Retries, MaxBody: cfg.MaxBody}
}

// Do sends body (nil for none) as JSON to the path under the base URL and
// returns the status and body of a 2xx reply, which is valid JSON unless the
// status is 204. Any other outcome is an *Error that says how many attempts
// were made.
//
// A service that never answers costs at most Config.Timeout × (Retries + 1)
// plus the pauses between attempts. When ctx is done Do stops at once, and it
// does not start a pause that would end after ctx's deadline.
func (c *Caller) Do(ctx context.Context, op, method, path string, body any) (int, []byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, nil, c.fail(op, 0, nil, fmt.Errorf("encode request: %w", err))
		}
	}
	var last *Error
	for attempt := 1; ; attempt++ {
		if lim := c.Config.Limiter; lim != nil {
			waitStart := time.Now()
			err := lim.Wait(ctx)
			addPaced(ctx, time.Since(waitStart))
			if err != nil {
				if last != nil {
					return 0, nil, last // the retry never happened; the real cause is the last reply
				}
				return 0, nil, c.fail(op, 0, nil, fmt.Errorf("wait for %s: %w", c.key("rate_limit"), err))
			}
		}
		status, raw, err := c.once(ctx, op, method, path, payload)
		if err == nil {
			return status, raw, nil
		}
		err.Attempts = attempt
		last = err
		if attempt > c.Retries || !err.Retryable() || ctx.Err() != nil {
			return 0, nil, err
		}
		wait := c.pause(attempt)
		if err.RetryAfter > 0 {
			wait = min(err.RetryAfter, MaxRetryAfter)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return 0, nil, err
		}
		if !c.wait(ctx, wait) {
			return 0, nil, err
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

func (c *Caller) wait(ctx context.Context, d time.Duration) bool {
	if c.sleep != nil {
		return c.sleep(ctx, d)
	}
	return wait.Sleep(ctx, d)
}

func (c *Caller) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// once makes one attempt. Config.Timeout bounds all of it, reading the body
// included, so a server that sends headers and then stalls is cut off too.
func (c *Caller) once(ctx context.Context, op, method, path string, payload []byte) (int, []byte, *Error) {
	if c.fast() {
		return c.onceFast(ctx, op, method, path, payload)
	}
	reqCtx := ctx
	if c.Config.Timeout > 0 {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, c.Config.Timeout)
		defer cancel()
	}
	// broken reports an exchange that failed midway. When ctx itself is done
	// the run is stopping, which is no reason to try again.
	broken := func(status int, err error) *Error {
		if ctx.Err() != nil {
			return c.fail(op, status, nil, err)
		}
		hint := ""
		if reqCtx.Err() != nil {
			err, hint = c.timedOut()
		}
		e := c.fail(op, status, nil, err)
		e.transient, e.Hint = true, hint
		return e
	}

	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(reqCtx, method, strings.TrimRight(c.Config.BaseURL, "/")+path, rd)
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
		return 0, nil, broken(0, err)
	}
	defer resp.Body.Close()
	limit := c.maxBody()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	return c.judge(op, resp.StatusCode, raw, err, limit, resp.Header.Get, broken)
}

// keepRedirect makes net/http hand back a 3xx reply as it is, for judge to
// refuse, instead of sending the request again to its Location.
func keepRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (c *Caller) maxBody() int64 {
	if c.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return c.MaxBody
}

// judge turns a reply into once's result: status is the reply's, raw what
// was read of its body (more than limit bytes means it is over the limit),
// err why reading the body stopped short, header reads a reply header.
func (c *Caller) judge(op string, status int, raw []byte, err error, limit int64, header func(string) string, broken func(int, error) *Error) (int, []byte, *Error) {
	if loc := header("Location"); status >= 300 && status <= 399 && loc != "" {
		// Neither transport follows redirects (see NewCaller), so the
		// request went no further than base_url.
		e := c.fail(op, status, raw, fmt.Errorf("the service redirected to %q, which evalrun does not follow", loc))
		e.Hint = "redirects are not followed so that the token and headers reach only " + c.key("base_url") + ": " +
			"if the service has moved, point " + c.key("base_url") + " at the new address"
		return 0, nil, e
	}
	if status < 200 || status > 299 {
		// The status says what went wrong; a body cut short or over the
		// limit only shortens what the user gets to read of it.
		e := c.fail(op, status, raw, nil)
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			e.RetryAfter = c.retryAfter(header("Retry-After"))
			if status == http.StatusTooManyRequests && e.RetryAfter > 0 {
				e.Hint += fmt.Sprintf("; it asked to wait %s", e.RetryAfter)
			}
		}
		return 0, nil, e
	}
	if err != nil {
		return 0, nil, broken(status, fmt.Errorf("read reply: %w", err))
	}
	var bad *Error
	switch {
	case int64(len(raw)) > limit:
		bad = c.tooLarge(op, status, limit)
	case status == http.StatusNoContent && len(bytes.TrimSpace(raw)) == 0:
		// 204 carries no body by definition.
	case !json.Valid(raw):
		cause := ErrNotJSON
		if ct := header("Content-Type"); ct != "" {
			cause = fmt.Errorf("%w (Content-Type %s)", ErrNotJSON, ct)
		}
		bad = c.fail(op, status, raw, cause)
		bad.Hint = "check that " + c.key("base_url") + " points at the API; a proxy or web page may have answered"
	}
	if bad != nil {
		bad.transient = true
		return 0, nil, bad
	}
	return status, raw, nil
}

// tooLarge is the error of a 2xx reply whose body is over limit.
func (c *Caller) tooLarge(op string, status int, limit int64) *Error {
	e := c.fail(op, status, nil, fmt.Errorf("%w: body exceeds %d bytes (%s)", ErrTooLarge, limit, c.key("max_body")))
	e.Hint = "raise " + c.key("max_body") + " if replies this large are expected"
	return e
}

// retryAfter reads a Retry-After header in either form: delta seconds or an
// HTTP date. It returns 0, meaning "use the backoff", for a missing, invalid,
// zero or past value.
func (c *Caller) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		// Clamped only so the multiplication cannot overflow; Do applies
		// MaxRetryAfter.
		return time.Duration(max(0, min(secs, 1<<32))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(0, at.Sub(c.clock()))
	}
	return 0
}

// fail builds the *Error for op, scrubbing the token from everything the
// service or the transport said, in case either echoes it back.
func (c *Caller) fail(op string, status int, body []byte, cause error) *Error {
	e := &Error{Provider: c.Provider, Op: op, Status: status, Hint: c.hint(status)}
	if cause != nil {
		e.Err = scrubbed{cause, c.Redact}
	}
	if len(body) > 0 {
		e.Body = c.Excerpt(body)
	}
	return e
}

// hint says what a user can do about a status. 4xx are not retried, so each
// names what to fix in the suite.
func (c *Caller) hint(status int) string {
	token := c.key("token")
	if len(c.Config.TokenVars) > 0 {
		token = "$" + strings.Join(c.Config.TokenVars, ", $")
	}
	switch {
	case (status == http.StatusUnauthorized || status == http.StatusForbidden) && c.Config.Token == "":
		return "the request carried no token: set " + c.key("token") + ", e.g. token: ${YOUR_TOKEN_VARIABLE}"
	case status == http.StatusUnauthorized:
		return "the service rejected the token: check " + token
	case status == http.StatusForbidden:
		return "the token is not allowed to do this: check " + token + " and what its key may access"
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return "the service refused the request body: check the suite's message, session and custom_data against what the reply says"
	case status == http.StatusNotFound:
		if c.Config.Section != "" {
			return "check " + c.key("base_url")
		}
		return "check provider.base_url and the ids the suite uses (bot_id, session)"
	case status == http.StatusRequestEntityTooLarge:
		return "the request payload is too large for the service: shorten the message, session or custom_data"
	case status == http.StatusTooManyRequests:
		return "the service is rate limiting: lower " + c.key("rate_limit") + " or run fewer conversations at once"
	case status >= 400 && status < 500:
		return "the service refused the request as it stands, so it is not retried: check " + c.key("base_url") + " and " + c.key("headers")
	}
	return ""
}

// key names a setting of the suite section that configured the service, as
// error messages and hints quote it: provider.timeout, judge.timeout.
func (c *Caller) key(name string) string {
	section := c.Config.Section
	if section == "" {
		section = "provider"
	}
	return section + "." + name
}

// timedOut is the cause and hint of an attempt cut off by Config.Timeout.
func (c *Caller) timedOut() (error, string) {
	who := "the bot"
	if c.Config.Section != "" {
		who = "the service"
	}
	return fmt.Errorf("%w: no complete reply within %s (%s)", ErrTimeout, c.Config.Timeout, c.key("timeout")),
		"raise " + c.key("timeout") + " if " + who + " is just slow"
}

// Redact removes the token and every other secret of the provider from s,
// in the escaped forms a server may echo them in too (see Redactor), so no
// message evalrun prints can carry them.
func (c *Caller) Redact(s string) string { return c.secrets().String(s) }

// secrets returns the Redactor for the provider's token and other secrets.
func (c *Caller) secrets() *Redactor {
	c.redactOnce.Do(func() {
		c.redactor = NewRedactor(append([]string{c.Config.Token}, c.Config.Secrets...)...)
	})
	return c.redactor
}

// Excerpt returns the start of a reply body for an error message. The token
// is replaced before the body is cut, so no part of it can survive at the cut.
//
// Only the start of a body can reach the excerpt, and redacting costs far
// more than reading, so only a prefix is redacted: the excerpt and the most a
// secret may take beyond it, doubled while collapsed white space and
// replaced secrets leave it too short. Redactor.Head keeps back the end of
// the prefix that could begin a secret, so the cut falls in text already
// redacted as if the whole body had been.
func (c *Caller) Excerpt(body []byte) string {
	r := c.secrets()
	for n := bodyExcerpt + 1 + r.MaxMatchLen(); n < len(body); n *= 2 {
		if s := collapseSpace(string(r.Head(body[:n]))); len(s) > bodyExcerpt {
			return excerpt(s, len(body))
		}
	}
	return excerpt(string(r.Bytes(body)), len(body))
}

// collapseSpace trims s and turns every run of white space in it into one
// space. Collapsing the start of a text gives the start of the collapsed
// text.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// excerpt shortens s, a body of size bytes, to its first bodyExcerpt bytes
// with white space collapsed.
func excerpt(s string, size int) string {
	s = collapseSpace(s)
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

// scrubbed wraps a cause so that its text never shows the token: transport
// errors quote URLs, and a redirect can put anything in one. It answers
// errors.Is for the whole chain but does not unwrap, so nothing that prints an
// inner error can reach the unscrubbed text.
type scrubbed struct {
	err    error
	redact func(string) string
}

func (s scrubbed) Error() string { return s.redact(s.err.Error()) }

func (s scrubbed) Is(target error) bool { return errors.Is(s.err, target) }

// Retryable reports whether trying the same request again may succeed: the
// exchange itself broke (no reply, a timeout, a 2xx reply cut short, too
// large or not JSON), or the service answered 429 or 5xx. Other statuses say
// the request itself is wrong.
func (e *Error) Retryable() bool {
	return e.transient || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Decode unmarshals a reply body into v, failing as an *Error of op.
func (c *Caller) Decode(op string, status int, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return c.fail(op, status, raw, fmt.Errorf("undecodable reply: %w", err))
	}
	return nil
}
