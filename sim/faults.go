package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/evalrun/evalrun/internal/wait"
	"io"
	"net/http"
	"strconv"
	"time"
)

// plan is what the simulator decided for one API request before serving it.
type plan struct {
	opts     Options // the server's, with the message's directives applied
	delay    time.Duration
	fault    FaultKind // "" when the request is served
	fallback bool      // flaky: the bot answers with FallbackText
}

type planKey struct{}

// planOf returns the plan endpoint made for r.
func planOf(r *http.Request) plan {
	p, _ := r.Context().Value(planKey{}).(plan)
	return p
}

// messageFunc finds the message text of a send request's body and the key
// that counts the attempts to send it; cycle says the count starts again
// once an attempt gets through.
type messageFunc func(r *http.Request, body []byte) (text string, key attemptKey, cycle bool)

// attemptKey names a message within a conversation.
type attemptKey struct{ conversation, text string }

func openCXMessage(r *http.Request, body []byte) (string, attemptKey, bool) {
	var in struct {
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	json.Unmarshal(body, &in) // a bad body has no directive; the handler says what is wrong
	return in.Message.Text, attemptKey{r.PathValue("id"), in.Message.Text}, false
}

func toolzzMessageOf(_ *http.Request, body []byte) (string, attemptKey, bool) {
	var in struct {
		Message        string `json:"message"`
		BotID          string `json:"botId"`
		ConversationID string `json:"conversationId"`
	}
	json.Unmarshal(body, &in)
	if in.ConversationID == "" {
		// No conversation exists yet to count in: count per bot, afresh
		// for every conversation that gets through.
		return in.Message, attemptKey{"new conversation with " + in.BotID, in.Message}, true
	}
	return in.Message, attemptKey{in.ConversationID, in.Message}, false
}

// endpoint wraps a handler of an API route with what every such request goes
// through: the token check, a freeze, then the message's directives (send
// routes, which pass a messageFunc), the latency, and a fault or the
// handler. With Options.Admin it measures all of that, by route pattern.
func (s *Server) endpoint(pattern, api string, h http.HandlerFunc, message messageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.times != nil {
			began := time.Now()
			defer func() {
				// A request whose client went away got no answer to time.
				if r.Context().Err() == nil {
					s.times.record(pattern, time.Since(began))
				}
			}()
		}
		if !s.authorized(r) {
			writeError(w, api, http.StatusUnauthorized, "Unauthorized")
			return
		}
		if !s.frozen.wait(r.Context()) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		p := plan{opts: s.opts}
		var d *directive
		var key attemptKey
		var cycle bool
		if message != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				writeBodyError(w, api, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var text string
			text, key, cycle = message(r, body)
			if d, err = parseDirectives(text); err != nil {
				writeError(w, api, http.StatusBadRequest, err.Error())
				return
			}
			if d != nil {
				p.opts = d.apply(p.opts)
			}
		}

		if d != nil && d.fault != "" {
			p.fault = s.directedFault(d, key, cycle)
		} else {
			p.fault = s.drawFault(p.opts.Faults)
		}
		p.delay = s.drawDelay(p.opts)
		if message != nil && p.opts.Flaky > 0 {
			p.fallback = s.draw() < p.opts.Flaky
		}

		if !wait.Sleep(r.Context(), p.delay) {
			return
		}
		s.serve(w, r.WithContext(context.WithValue(r.Context(), planKey{}, p)), api, p, h)
	})
}

// directedFault counts an attempt at a message whose directive names a fault
// and says whether this attempt gets it: every attempt, or the first
// d.times.
func (s *Server) directedFault(d *directive, key attemptKey, cycle bool) FaultKind {
	if d.times == 0 {
		return d.fault
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := s.attempts[key.conversation]
	if counts == nil {
		counts = make(map[string]int)
		s.attempts[key.conversation] = counts
	}
	n := counts[key.text] + 1
	if n > d.times && cycle {
		delete(counts, key.text)
	} else {
		counts[key.text] = n
	}
	if n > d.times {
		return ""
	}
	return d.fault
}

// drawFault picks at most one fault with a single draw, so that each fault
// hits its own rate of requests.
func (s *Server) drawFault(faults []Fault) FaultKind {
	if len(faults) == 0 {
		return ""
	}
	u := s.draw()
	for _, f := range faults {
		if u < f.Rate {
			return f.Kind
		}
		u -= f.Rate
	}
	return ""
}

func (s *Server) drawDelay(o Options) time.Duration {
	if o.LatencyDist == nil {
		return o.Latency
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return o.LatencyDist.Sample(s.rng)
}

func (s *Server) draw() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

// serve answers r with h, or with the fault p chose instead. Status faults,
// drop and hang never reach h, so the request changes nothing; malformed and
// oversize garble the reply of a request h has served.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, api string, p plan, h http.HandlerFunc) {
	switch p.fault {
	case "":
		h(w, r)
	case Fault500, Fault502, Fault503:
		status, _ := strconv.Atoi(string(p.fault))
		if p.fault == Fault503 && p.opts.RetryAfter > 0 {
			w.Header().Set("Retry-After", s.retryAfter(p.opts))
		}
		writeError(w, api, status, "Simulated fault: "+http.StatusText(status))
	case Fault429:
		w.Header().Set("Retry-After", s.retryAfter(p.opts))
		// The message of NestJS's throttler, which OpenCX runs on, or
		// the start of OpenAI's.
		msg := "ThrottlerException: Too Many Requests"
		if api == APIOpenAI {
			msg = "Rate limit reached for requests"
		}
		writeError(w, api, http.StatusTooManyRequests, msg)
	case FaultDrop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			// HTTP/2 cannot hand over its connection; aborting the
			// handler resets the stream, which the client sees the same.
			panic(http.ErrAbortHandler)
		}
		conn.Close()
	case FaultHang:
		<-r.Context().Done()
	case FaultMalformed, FaultOversize:
		var rec bufferedResponse
		rec.header = w.Header()
		h(&rec, r)
		body := rec.body.Bytes()
		if p.fault == FaultMalformed {
			// Half an object is never valid JSON: the closing brace is
			// in the other half.
			body = body[:len(body)/2]
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.statusOr200())
			w.Write(body)
			return
		}
		writeOversize(w, rec.statusOr200(), body, p.opts.OversizeBytes)
	}
}

// retryAfter renders the Retry-After header value of o.
func (s *Server) retryAfter(o Options) string {
	d := o.RetryAfter
	if d <= 0 {
		d = DefaultRetryAfter
	}
	d = (d + time.Second - 1).Truncate(time.Second)
	if !o.RetryAfterDate {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	// HTTP dates have whole seconds; rounding up keeps the wait at least d.
	at := s.opts.Now().Add(d)
	if t := at.Truncate(time.Second); !t.Equal(at) {
		at = t.Add(time.Second)
	}
	return at.UTC().Format(http.TimeFormat)
}

// paddingKey is the member an oversize body is padded with.
const paddingKey = "sim_padding"

// writeOversize writes body, a JSON object, grown to size bytes by a padding
// member placed first, so that a client must read it all to decode the
// object. A body already that long is written as it is.
func writeOversize(w http.ResponseWriter, status int, body []byte, size int64) {
	if size <= 0 {
		size = DefaultOversizeBytes
	}
	head := []byte(`{"` + paddingKey + `":"`)
	var tail []byte
	obj := bytes.TrimSpace(body)
	switch {
	case len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}':
		// Not an object: nothing to pad; the status says what it is.
	case bytes.Equal(obj, []byte("{}")):
		tail = []byte(`"}`)
	default:
		tail = append([]byte(`",`), obj[1:]...)
	}
	pad := size - int64(len(head)) - int64(len(tail))
	if tail == nil || pad < 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(status)
	if _, err := w.Write(head); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	for pad > 0 {
		n := min(pad, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			return // the client stopped reading, as a body limit makes it
		}
		pad -= n
	}
	w.Write(tail)
}

// bufferedResponse holds a handler's reply so a fault can garble it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) statusOr200() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}
