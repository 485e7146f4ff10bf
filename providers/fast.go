package providers

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// fastHosts holds the fasthttp pool of each http host Callers with
// Config.FastHTTP send to, shared like transport is. The exchange runs in the
// goroutine that calls Do: no reader and writer goroutines per connection and
// no hand-offs between them, which is most of net/http's cost in a load test.
var fastHosts sync.Map // string → *fasthttp.HostClient

func fastHost(host string) *fasthttp.HostClient {
	if hc, ok := fastHosts.Load(host); ok {
		return hc.(*fasthttp.HostClient)
	}
	hc, _ := fastHosts.LoadOrStore(host, &fasthttp.HostClient{
		Addr: fasthttp.AddMissingPort(host, false),
		// A load test keeps thousands of requests in flight to one host;
		// Config.Timeout, not a wait for a free connection, bounds them.
		MaxConns:            1 << 16,
		MaxIdleConnDuration: time.Minute,
		// Requests and replies are a few hundred bytes; the read buffer
		// also bounds a reply's headers.
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 2 << 10,
		// roundTrip, not the pool's Do, sends evalrun's requests (see
		// quietErrors); should Do ever send one, it too must keep the
		// bytes of a broken reply out of its errors.
		SecureErrorLogMessage: true,
		// Dials run on a goroutine of their own (see dialAside).
		DialTimeout: dialAside,
	})
	return hc.(*fasthttp.HostClient)
}

// dialAside dials as fasthttp would by itself (tcp4, its DNS cache, the
// timeout AcquireConn gives), but on a goroutine of its own, which the
// caller waits for. net.Dialer's path is deep enough to grow the caller's
// 8 KiB stack to 16 KiB, and a goroutine keeps a grown stack while it waits
// for the reply deeper down; in a load test every conversation of the first
// wave dials, so ~2,800 of them in flight held ~20 MB more of stack at the
// peak. The dialling goroutine ends at once and gives its stack back.
func dialAside(addr string, timeout time.Duration) (net.Conn, error) {
	type dialed struct {
		conn net.Conn
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		var d dialed
		if timeout > 0 {
			d.conn, d.err = fasthttp.DialTimeout(addr, timeout)
		} else {
			d.conn, d.err = fasthttp.Dial(addr)
		}
		done <- d
	}()
	d := <-done
	return d.conn, d.err
}

// fast reports whether the Caller sends over fasthttp: Config.FastHTTP is set
// and the base URL is plain http. Over https, net/http speaks HTTP/2 where
// the service does, which shares one connection among all requests; a
// base URL that does not parse gets net/http's error.
func (c *Caller) fast() bool {
	if !c.Config.FastHTTP {
		return false
	}
	c.fastOnce.Do(func() {
		c.fastBase = strings.TrimRight(c.Config.BaseURL, "/")
		c.fastAuth = "Bearer " + c.Config.Token
		if u, err := url.Parse(c.fastBase); err == nil && u.Scheme == "http" && u.Host != "" {
			c.fastHC = fastHost(u.Host)
		}
	})
	return c.fastHC != nil
}

// onceFast is once over fasthttp: the same attempt, errors and limits.
func (c *Caller) onceFast(ctx context.Context, op, method, path string, payload []byte) (int, []byte, *Error) {
	var deadline time.Time
	if c.Config.Timeout > 0 {
		deadline = time.Now().Add(c.Config.Timeout)
	}
	broken := func(status int, err error) *Error {
		if ctx.Err() != nil {
			return c.fail(op, status, nil, err)
		}
		hint := ""
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			err, hint = c.timedOut()
		}
		e := c.fail(op, status, nil, err)
		e.transient, e.Hint = true, hint
		return e
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		// Past ctx's deadline the attempt is cut off like on cancel.
		deadline = d
	}

	hc := c.fastHC

	ex := exchanges.Get().(*fastExchange)
	defer ex.release()
	req, resp := &ex.req, &ex.resp
	req.SetRequestURI(c.fastBase + path)
	req.Header.SetMethod(method)
	if payload != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(payload)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range c.Config.Headers {
		req.Header.Set(k, v)
	}
	if c.Config.Token != "" {
		req.Header.Set("Authorization", c.fastAuth)
	}

	limit := c.maxBody()
	status, err := c.exchange(ctx, hc, req, resp, deadline, limit)
	if err != nil && status == 0 {
		return 0, nil, broken(0, err)
	}
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		if status >= 200 && status <= 299 {
			e := c.tooLarge(op, status, limit)
			e.transient = true
			return 0, nil, e
		}
		err = nil // the status says what went wrong
	}
	var raw []byte
	if body := resp.Body(); len(body) > 0 {
		raw = append([]byte(nil), body...) // resp goes back to its pool
	}
	header := func(k string) string { return string(resp.Header.Peek(k)) }
	return c.judge(op, status, raw, err, limit, header, broken)
}

// exchange sends req on a connection of hc and reads the reply into resp,
// all before deadline (none if zero) and no longer than ctx lasts. status is
// 0 unless the reply's headers arrived.
func (c *Caller) exchange(ctx context.Context, hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time, limit int64) (status int, err error) {
	for try := 0; ; try++ {
		var timeout time.Duration
		if !deadline.IsZero() {
			if timeout = time.Until(deadline); timeout <= 0 {
				return 0, fasthttp.ErrTimeout
			}
		}
		cc, aerr := hc.AcquireConn(timeout, false)
		if aerr != nil {
			return 0, aerr
		}
		reused := cc.LastUseTime().After(cc.CreatedTime())
		conn := cc.Conn()
		// Cancelling ctx cuts the exchange off by expiring the connection's
		// deadline, which fails the read or write under way.
		stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
		status, err = c.roundTrip(hc, conn, req, resp, deadline, limit)
		if !stop() || err != nil || resp.ConnectionClose() {
			hc.CloseConn(cc)
		} else {
			hc.ReleaseConn(cc)
		}
		if ctx.Err() != nil {
			return status, ctx.Err()
		}
		// A kept-alive connection the server closed meanwhile fails before
		// any reply; as net/http does, try once more on a new one.
		var nothing fasthttp.ErrNothingRead
		if reused && try == 0 && errors.As(err, &nothing) {
			resp.Reset()
			continue
		}
		return status, err
	}
}

// roundTrip writes req to conn and reads the reply into resp. status is 0
// until the reply's headers have arrived.
func (c *Caller) roundTrip(hc *fasthttp.HostClient, conn net.Conn, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time, limit int64) (status int, err error) {
	if err := conn.SetDeadline(deadline); err != nil {
		return 0, err
	}
	bw := hc.AcquireWriter(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	hc.ReleaseWriter(bw)
	if err != nil {
		return 0, err
	}
	br := hc.AcquireReader(conn)
	defer hc.ReleaseReader(br)
	return readReply(br, resp, req.Header.IsHead(), limit)
}

// fastExchange is the request and reply of one fasthttp attempt. They come
// from exchanges, not fasthttp's own pools, so that every one has been
// through quietErrors.
type fastExchange struct {
	req  fasthttp.Request
	resp fasthttp.Response
}

var exchanges = sync.Pool{New: func() any {
	ex := new(fastExchange)
	quietErrors(&ex.req, &ex.resp)
	return ex
}}

func (ex *fastExchange) release() {
	ex.req.Reset()
	ex.resp.Reset()
	exchanges.Put(ex)
}

// secureErrors is never dialled: quietErrors uses it only to set
// SecureErrorLogMessage on a request and its reply.
var secureErrors = &fasthttp.HostClient{Addr: "secure-errors.invalid", IsTLS: true, SecureErrorLogMessage: true}

// quietErrors makes fasthttp leave the bytes of req and resp out of the
// errors it builds while reading or writing them. Unparseable reply headers
// otherwise come back quoted in full (up to the read buffer's 4 KiB), and a
// hostile server can echo the token into them; cut at the buffer's end, a
// token is no longer whole for a redactor to find. fasthttp sets the flag
// only in HostClient.Do, which roundTrip does not use, and offers no setter:
// Do on secureErrors sets it and then, before any I/O, refuses a request
// that is not https on a TLS client. Reset keeps the flag.
func quietErrors(req *fasthttp.Request, resp *fasthttp.Response) {
	_ = secureErrors.Do(req, resp)
}

// quoted matches the Go-quoted strings in fasthttp's errors: even with
// SecureErrorLogMessage a few of them quote a header value or a version.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// unquotedError is an error of fasthttp's with its quoted reply bytes left
// out. It unwraps to the original, for errors.Is and errors.As.
type unquotedError struct{ err error }

func (e unquotedError) Error() string { return quoted.ReplaceAllString(e.err.Error(), `"…"`) }

func (e unquotedError) Unwrap() error { return e.err }

// readReply reads a reply's headers, skipping interim 1xx replies, and then
// its body of at most limit bytes. Its errors quote no bytes of the reply.
func readReply(br *bufio.Reader, resp *fasthttp.Response, head bool, limit int64) (int, error) {
	status, err := readReplyBytes(br, resp, head, limit)
	if err != nil && strings.Contains(err.Error(), `"`) {
		err = unquotedError{err}
	}
	return status, err
}

func readReplyBytes(br *bufio.Reader, resp *fasthttp.Response, head bool, limit int64) (int, error) {
	for n := 0; ; n++ {
		if err := resp.Header.Read(br); err != nil {
			return 0, err
		}
		code := resp.Header.StatusCode()
		if code < 100 || code > 199 || code == fasthttp.StatusSwitchingProtocols {
			break
		}
		if n >= 10 {
			return 0, errors.New("too many interim replies")
		}
	}
	status := resp.Header.StatusCode()
	if head || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified {
		return status, nil
	}
	if err := resp.ReadBody(br, int(min(limit, 1<<40))); err != nil {
		return status, err
	}
	if resp.Header.ContentLength() == -1 { // chunked: trailers follow
		if err := resp.Header.ReadTrailer(br); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return status, err
		}
	}
	return status, nil
}
