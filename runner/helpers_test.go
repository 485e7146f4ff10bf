package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// testToken is what suites read from ${EVALRUN_TEST_TOKEN}.
const testToken = "ocx_live_T0PS3CR3T_runner_test"

var testEnv = map[string]string{"EVALRUN_TEST_TOKEN": testToken}

func lookupEnv(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// writeSuite writes a suite file into a fresh temporary folder and returns its path.
func writeSuite(t *testing.T, name, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// load loads a suite file the way the command does.
func load(t *testing.T, yaml string) []*suites.Suite {
	t.Helper()
	ss, err := suites.Load(writeSuite(t, "suite.yaml", yaml), suites.Options{LookupEnv: lookupEnv})
	if err != nil {
		t.Fatalf("load suite: %v\n%s", err, yaml)
	}
	return ss
}

// run runs ss with a deadline, so that a hung runner fails the test instead of the package.
func run(t *testing.T, ss []*suites.Suite, opts runner.Options) *results.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := runner.Run(ctx, ss, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run hit the test deadline")
	}
	return r
}

func byName(t *testing.T, r *results.Run, name string) *results.Conversation {
	t.Helper()
	for _, c := range r.Conversations {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no conversation %q in the run", name)
	return nil
}

func statuses(r *results.Run) []string {
	var out []string
	for _, c := range r.Conversations {
		out = append(out, c.Name+"="+string(c.Status))
	}
	return out
}

// describe prints a conversation with its failures, for test messages.
func describe(c *results.Conversation) string {
	b, _ := json.MarshalIndent(c, "", "  ")
	return string(b)
}

// flat is an OpenCX send reply in the documented flat shape.
func flat(text string) string {
	b, _ := json.Marshal(map[string]any{
		"success": true,
		"code":    "ai_replied",
		"autopilotResponse": map[string]any{
			"type":                "text",
			"value":               map[string]any{"error": false, "content": text},
			"id":                  "m1",
			"mightSolveUserIssue": false,
		},
		"uiResponse":         nil,
		"sessionIsHandedOff": false,
	})
	return string(b)
}

// created is one POST /chat/sessions as an OpenCX server saw it.
type created struct {
	ID   string
	Body map[string]any
	Auth string
}

// sent is one POST /chat/sessions/{id}/send as an OpenCX server saw it.
type sent struct {
	Session string
	Text    string
	Auth    string
}

// opencxServer is an httptest OpenCX: it creates sessions, answers sends with
// reply (which picks status and body), and records everything it was sent.
type opencxServer struct {
	*httptest.Server

	// reply answers a send to session id (the n-th session created, 1-based).
	reply func(id string, n int, text string) (int, string)
	// hold is called inside every send while it counts as in flight.
	hold func()
	// create, when set, answers POST /chat/sessions instead of the default 201.
	create func(n int, body map[string]any) (int, string)
	// getStatus, when set, answers GET /chat/sessions/{id} with this status and no body.
	getStatus int

	mu       sync.Mutex
	sessions []created
	sends    []sent
	inFlight int
	peak     int
}

func newOpenCX(t *testing.T, reply func(id string, n int, text string) (int, string)) *opencxServer {
	t.Helper()
	s := &opencxServer{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *opencxServer) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	auth := r.Header.Get("Authorization")
	w.Header().Set("Content-Type", "application/json")

	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/chat/sessions":
		s.mu.Lock()
		n := len(s.sessions) + 1
		id := fmt.Sprintf("sess-%d", n)
		s.sessions = append(s.sessions, created{ID: id, Body: body, Auth: auth})
		s.mu.Unlock()
		if s.create != nil {
			status, out := s.create(n, body)
			w.WriteHeader(status)
			io.WriteString(w, out)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)

	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/chat/sessions/") && strings.HasSuffix(r.URL.Path, "/send"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/chat/sessions/"), "/send")
		msg, _ := body["message"].(map[string]any)
		text, _ := msg["text"].(string)
		s.mu.Lock()
		n := 0
		for i, c := range s.sessions {
			if c.ID == id {
				n = i + 1
			}
		}
		s.sends = append(s.sends, sent{Session: id, Text: text, Auth: auth})
		s.inFlight++
		s.peak = max(s.peak, s.inFlight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		if s.hold != nil {
			s.hold()
		}
		if n == 0 {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"statusCode":404,"message":"Session not found","error":"Not Found"}`)
			return
		}
		status, out := http.StatusCreated, flat("echo: "+text)
		if s.reply != nil {
			status, out = s.reply(id, n, text)
		}
		w.WriteHeader(status)
		io.WriteString(w, out)

	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/chat/sessions/"):
		id := strings.TrimPrefix(r.URL.Path, "/chat/sessions/")
		if s.getStatus != 0 {
			w.WriteHeader(s.getStatus)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"status":"open","ai_closure_type":null,"sentiment":"neutral","custom_data":{}}`, id)

	default:
		http.NotFound(w, r)
	}
}

func (s *opencxServer) snapshot() (sessions []created, sends []sent, peak int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]created(nil), s.sessions...), append([]sent(nil), s.sends...), s.peak
}

// recorder wraps a handler (the simulator's, usually) and records every
// request line and body, so tests can check what reached the server.
type recorder struct {
	h    http.Handler
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path, Auth string
	Body               map[string]any
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, r.Header.Get("Authorization"), body})
	rc.mu.Unlock()
	r.Body = io.NopCloser(strings.NewReader(string(raw)))
	rc.h.ServeHTTP(w, r)
}

func (rc *recorder) requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

// stamp records when each request arrived before handing it to h.
func stamp(h http.Handler, mu *sync.Mutex, at *[]time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*at = append(*at, time.Now())
		mu.Unlock()
		h.ServeHTTP(w, r)
	})
}
