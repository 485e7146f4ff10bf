package sim

import (
	"container/list"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a simulator. The zero value is a usable, open simulator
// that answers at once, never fails and uses the flat reply shape.
// ParseSpec builds Options from a spec string; the package comment describes
// each field by its spec parameter. Latency, faults and shapes apply to the
// API routes only, after the token check.
type Options struct {
	// Token, when set, must arrive on every request as
	// "Authorization: Bearer <Token>"; anything else is a 401. When empty,
	// any token, or none, is accepted. Spec: token.
	Token string
	// Latency delays every response of a known route (0 = none). A request
	// whose client goes away, or whose server closes, stops waiting.
	// Spec: latency=300ms.
	Latency time.Duration
	// LatencyDist, when set, draws each response's delay instead of
	// Latency. Spec: latency=uniform:MIN:MAX, latency=lognormal:MEDIAN:SIGMA.
	LatencyDist Distribution
	// Faults replace the answer to a share of API requests. One draw per
	// request picks at most one fault, so rates should add up to at most 1.
	// Spec: fault=KIND:RATE, repeatable.
	Faults []Fault
	// RetryAfter is the Retry-After of a 429 (0 means DefaultRetryAfter);
	// when set, a 503 carries it too. Whole seconds. Spec: retry_after.
	RetryAfter time.Duration
	// RetryAfterDate sends Retry-After as an HTTP date (Now+RetryAfter,
	// rounded up to the second) instead of seconds. Spec: retry_after_date.
	RetryAfterDate bool
	// OversizeBytes is the length of an oversize body; 0 means
	// DefaultOversizeBytes. Spec: oversize_bytes.
	OversizeBytes int64
	// Shape is the body of OpenCX send replies; "" means ShapeFlat.
	// Spec: shape.
	Shape Shape
	// HistoryDelay keeps the AI's answer to a message (and a handoff it
	// makes) out of the history for this long after the send was answered,
	// to make clients of the id-only shape poll. Spec: history_delay.
	HistoryDelay time.Duration
	// Flaky is the probability that the bot answers a message with
	// FallbackText instead of its rule. Spec: flaky.
	Flaky float64
	// Seed seeds the draws of latency, faults and flakiness; 0 picks a
	// random seed. Draws are shared by all requests, so a seed reproduces a
	// run when its requests arrive in the same order (one conversation at a
	// time). Spec: seed.
	Seed uint64
	// HistoryIDs is what the items of GET /chat/sessions/{id}/history carry
	// as their id; "" means HistoryIDsSame. OpenCX promises neither that
	// items have an id nor that it is the one a send reply gave.
	// Spec: history_ids.
	HistoryIDs HistoryIDs
	// HistoryPageSize is the number of events per page of
	// GET /chat/sessions/{id}/history; 0 means 20.
	HistoryPageSize int
	// JudgeShape is how the judge route writes its verdict in the message
	// content; "" means JudgeBare. Spec: judge_shape.
	JudgeShape JudgeShape
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
	// Admin serves the simulator's own routes under /sim/: the handling
	// times of API requests (GET /sim/stats, POST /sim/stats/reset) and a
	// freeze (POST /sim/freeze?for=2s). Off, they are unknown paths (404)
	// and nothing is measured. Spec: admin=1.
	Admin bool
	// Idle is how long a session (an OpenCX session or a Toolzz
	// conversation) is kept after a request last found it. Then it is
	// forgotten, with the refund tickets it opened and the attempt counts of
	// its directives, and requests for it get the 404 of an unknown session.
	// This bounds the memory of a long load test: the store holds about
	// rate × (conversation length + Idle) sessions. 0 means DefaultIdle; a
	// negative value keeps every session. Spec: idle=10m, idle=never.
	Idle time.Duration
}

// DefaultIdle is Options.Idle when it is 0.
const DefaultIdle = 10 * time.Minute

const defaultHistoryPageSize = 20

// maxBody bounds request bodies; chat messages are small and a simulator
// should not be made to buffer arbitrary uploads.
const maxBody = 1 << 20

// Server is the simulator: an http.Handler that serves the OpenCX and Toolzz
// chat APIs over one in-memory store. It is safe for concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux

	// mu guards everything below: sessions and the bot's memory across
	// sessions (ticket numbers). Handlers hold it only while they read or
	// change state, never while they wait.
	mu       sync.Mutex
	sessions map[string]*session
	brain    brain
	attempts map[string]map[string]int // conversation → text → attempts, per message with a fault directive
	byUse    *list.List                // *session, least recently used first (Options.Idle)

	rngMu sync.Mutex
	rng   *rand.Rand

	times  *handlingTimes // nil unless Options.Admin
	frozen freeze

	completions atomic.Uint64 // chat completions answered, for their ids
}

var _ http.Handler = (*Server)(nil)

// New returns a simulator with an empty store.
func New(opts Options) *Server {
	if opts.HistoryPageSize <= 0 {
		opts.HistoryPageSize = defaultHistoryPageSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Idle == 0 {
		opts.Idle = DefaultIdle
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Server{
		opts:     opts,
		sessions: make(map[string]*session),
		brain:    newBrain(),
		attempts: make(map[string]map[string]int),
		byUse:    list.New(),
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	if opts.Admin {
		s.times = newHandlingTimes(time.Now())
	}
	s.mux = s.routes()
	return s
}

// ServeHTTP serves one request of either API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	route := func(pattern, api string, h http.HandlerFunc, message messageFunc) {
		mux.Handle(pattern, s.endpoint(pattern, api, h, message))
	}
	// OpenCX.
	route("POST /chat/sessions", APIOpenCX, s.createSession, nil)
	route("GET /chat/sessions/{id}", APIOpenCX, s.getSession, nil)
	route("PATCH /chat/sessions/{id}", APIOpenCX, s.patchSession, nil)
	route("POST /chat/sessions/{id}/send", APIOpenCX, s.sendMessage, openCXMessage)
	route("GET /chat/sessions/{id}/history", APIOpenCX, s.history, nil)
	// Toolzz.
	route("POST /api/v1/chat/send-message", APIToolzz, s.toolzzSend, toolzzMessageOf)
	// OpenAI-compatible judge and embeddings.
	route("POST "+OpenAIPath+"/chat/completions", APIOpenAI, s.chatCompletions, judgeMessage)
	route("POST "+OpenAIPath+"/embeddings", APIOpenAI, s.embeddings, embeddingsMessage)
	if s.opts.Admin {
		s.adminRoutes(mux)
	}

	// A known path with a method-less pattern catches the methods the
	// patterns above do not serve, so they get a 405 in the API's own error
	// body rather than ServeMux's plain text.
	mux.Handle("/chat/sessions", methodNotAllowed(APIOpenCX, "POST"))
	mux.Handle("/chat/sessions/{id}", methodNotAllowed(APIOpenCX, "GET, HEAD, PATCH"))
	mux.Handle("/chat/sessions/{id}/send", methodNotAllowed(APIOpenCX, "POST"))
	mux.Handle("/chat/sessions/{id}/history", methodNotAllowed(APIOpenCX, "GET, HEAD"))
	mux.Handle("/api/v1/chat/send-message", methodNotAllowed(APIToolzz, "POST"))
	mux.Handle(OpenAIPath+"/chat/completions", methodNotAllowed(APIOpenAI, "POST"))
	mux.Handle(OpenAIPath+"/embeddings", methodNotAllowed(APIOpenAI, "POST"))
	mux.HandleFunc(OpenAIPath+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, APIOpenAI, http.StatusNotFound, fmt.Sprintf("Unknown request URL: %s %s", r.Method, r.URL.Path))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The wording NestJS, which serves OpenCX, uses for unknown routes.
		writeError(w, APIOpenCX, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.Token)) == 1
}

func methodNotAllowed(api, allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, api, http.StatusMethodNotAllowed, "Method Not Allowed")
	})
}

// writeError writes an error in the body the API uses: OpenCX's
// {"statusCode","message","error"}, Toolzz's {"error"} (Toolzz does not
// document its error bodies; this is the simulator's choice), or OpenAI's
// {"error":{"message","type","param","code"}}.
func writeError(w http.ResponseWriter, api string, status int, message string) {
	switch api {
	case APIToolzz:
		writeJSON(w, status, map[string]string{"error": message})
		return
	case APIOpenAI:
		writeJSON(w, status, map[string]openAIError{"error": newOpenAIError(status, message)})
		return
	}
	writeJSON(w, status, openCXError{StatusCode: status, Message: message, Error: http.StatusText(status)})
}

type openCXError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value written is built by this package from JSON-safe
		// types; failing here is a bug, reported as such to the client.
		status = http.StatusInternalServerError
		body = []byte(`{"statusCode":500,"message":"simulator: cannot encode reply","error":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// Running is a simulator listening on a TCP address.
type Running struct {
	sim  *Server
	http *http.Server
	url  string
	done chan struct{} // closed when Serve has returned
	once sync.Once
	err  error // from Serve, other than ErrServerClosed
}

// Start listens on addr ("127.0.0.1:0" picks a free loopback port; "" means
// that too) and serves a new simulator there until Close.
func Start(addr string, opts Options) (*Running, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	sim := New(opts)
	run := &Running{
		sim:  sim,
		http: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second},
		url:  "http://" + dialAddr(ln.Addr()),
		done: make(chan struct{}),
	}
	go func() {
		defer close(run.done)
		if err := run.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			run.err = err
		}
	}()
	return run, nil
}

// dialAddr turns the listener's address into one a client can dial: a server
// listening on every interface is reached through loopback.
func dialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// URL returns the base URL clients use, e.g. "http://127.0.0.1:41234", with
// no trailing slash.
func (r *Running) URL() string { return r.url }

// Server returns the simulator being served, for inspecting its sessions.
func (r *Running) Server() *Server { return r.sim }

// Close stops listening, drops open connections (cutting short any latency
// wait), and returns once the server has stopped. It is safe to call more
// than once.
func (r *Running) Close() error {
	var err error
	r.once.Do(func() {
		err = r.http.Close()
		<-r.done
		if err == nil {
			err = r.err
		}
	})
	return err
}
