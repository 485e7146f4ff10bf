package sim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator. The zero value is a usable, open simulator.
type Options struct {
	// Token, when set, must arrive on every request as
	// "Authorization: Bearer <Token>"; anything else is a 401. When empty,
	// any token, or none, is accepted.
	Token string
	// Latency delays every response of a known route (0 = none). A request
	// whose client goes away, or whose server closes, stops waiting.
	Latency time.Duration
	// HistoryPageSize is the number of events per page of
	// GET /chat/sessions/{id}/history; 0 means 20.
	HistoryPageSize int
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
}

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
	s := &Server{
		opts:     opts,
		sessions: make(map[string]*session),
		brain:    newBrain(),
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
	// OpenCX.
	mux.Handle("POST /chat/sessions", s.endpoint(APIOpenCX, s.createSession))
	mux.Handle("GET /chat/sessions/{id}", s.endpoint(APIOpenCX, s.getSession))
	mux.Handle("PATCH /chat/sessions/{id}", s.endpoint(APIOpenCX, s.patchSession))
	mux.Handle("POST /chat/sessions/{id}/send", s.endpoint(APIOpenCX, s.sendMessage))
	mux.Handle("GET /chat/sessions/{id}/history", s.endpoint(APIOpenCX, s.history))
	// Toolzz.
	mux.Handle("POST /api/v1/chat/send-message", s.endpoint(APIToolzz, s.toolzzSend))

	// A known path with a method-less pattern catches the methods the
	// patterns above do not serve, so they get a 405 in the API's own error
	// body rather than ServeMux's plain text.
	mux.Handle("/chat/sessions", methodNotAllowed(APIOpenCX, "POST"))
	mux.Handle("/chat/sessions/{id}", methodNotAllowed(APIOpenCX, "GET, HEAD, PATCH"))
	mux.Handle("/chat/sessions/{id}/send", methodNotAllowed(APIOpenCX, "POST"))
	mux.Handle("/chat/sessions/{id}/history", methodNotAllowed(APIOpenCX, "GET, HEAD"))
	mux.Handle("/api/v1/chat/send-message", methodNotAllowed(APIToolzz, "POST"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The wording NestJS, which serves OpenCX, uses for unknown routes.
		writeError(w, APIOpenCX, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// endpoint wraps a handler of an API route with what every such request goes
// through: the token check and the configured latency. It is the single place
// where behaviour common to all API calls (such as injected faults) belongs.
func (s *Server) endpoint(api string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeError(w, api, http.StatusUnauthorized, "Unauthorized")
			return
		}
		if !s.wait(r, s.opts.Latency) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h(w, r)
	})
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

// wait sleeps d, or less if the request is cancelled, and reports whether the
// request should still be answered.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func methodNotAllowed(api, allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, api, http.StatusMethodNotAllowed, "Method Not Allowed")
	})
}

// writeError writes an error in the body the API uses: OpenCX's
// {"statusCode","message","error"}, or Toolzz's {"error"} (Toolzz does not
// document its error bodies; this is the simulator's choice).
func writeError(w http.ResponseWriter, api string, status int, message string) {
	if api == APIToolzz {
		writeJSON(w, status, map[string]string{"error": message})
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
