package load_test

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// suite loads a suite from yaml and returns it with a player for it.
func suite(t *testing.T, yaml string) ([]*suites.Suite, *runner.Player) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "load.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ss, err := suites.Load(path, suites.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("load suite: %v\n%s", err, yaml)
	}
	p, err := runner.NewPlayer(ss, runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return ss, p
}

// oneTurn is a suite of one single-turn conversation against baseURL.
func oneTurn(baseURL string) string {
	return fmt.Sprintf(`name: one-turn
provider: {type: opencx, base_url: %q, retries: 0, timeout: 10s}
conversations:
  - name: hello
    turns:
      - user: hello
        expect: {contains: echo}
`, baseURL)
}

// run runs a load test with a deadline, so that a hung engine fails the test.
func run(t *testing.T, p load.Player, ss []*suites.Suite, opts load.Options) *results.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := load.Run(ctx, p, ss, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run hit the test deadline")
	}
	return r
}

// server is an httptest OpenCX that answers every send with its text,
// after hold, and counts what it saw.
type server struct {
	*httptest.Server
	// hold runs inside every send, with the number of the send (1-based).
	hold func(r *http.Request, n int)

	mu                     sync.Mutex
	sessions, sends, peak  int
	inFlight, cancelledReq int
}

func newServer(t *testing.T, hold func(r *http.Request, n int)) *server {
	t.Helper()
	s := &server{hold: hold}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/chat/sessions":
		s.mu.Lock()
		s.sessions++
		n := s.sessions
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":"sess-%d"}`, n)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/send"):
		s.mu.Lock()
		s.sends++
		n := s.sends
		s.inFlight++
		s.peak = max(s.peak, s.inFlight)
		s.mu.Unlock()
		if s.hold != nil {
			s.hold(r, n)
		}
		s.mu.Lock()
		s.inFlight--
		if r.Context().Err() != nil {
			s.cancelledReq++
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		b, _ := json.Marshal(map[string]any{
			"success": true, "code": "ai_replied", "sessionIsHandedOff": false,
			"autopilotResponse": map[string]any{"type": "text", "id": "m1", "value": map[string]any{"error": false, "content": "echo"}},
		})
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

func (s *server) counts() (sessions, sends, peak int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions, s.sends, s.peak
}

// sleep waits d or until the request is cancelled.
func sleep(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// TestEndToEndAgainstTheSimulator is the CI load run: 50 conversations of 3
// turns a second for 1s against the built-in simulator.
func TestEndToEndAgainstTheSimulator(t *testing.T) {
	ss, p := suite(t, `name: e2e
provider: {type: opencx, base_url: sim}
conversations:
  - name: refund with follow-up
    turns:
      - user: I want a refund for order ord_42
        expect: {contains: refund}
        capture:
          ticket: {regex: "(TCK-\\d+)"}
      - user: "What is the status of ticket {{ticket}}?"
        expect: {contains: being processed}
      - user: Thanks!
        expect: {reply: true}
  - name: skipped
    skip: true
    turns:
      - user: hello
`)
	var mu sync.Mutex
	var ticks []load.Snapshot
	began := time.Now()
	r := run(t, p, ss, load.Options{Rate: 50, Duration: time.Second, OnTick: func(s load.Snapshot) {
		mu.Lock()
		ticks = append(ticks, s)
		mu.Unlock()
	}})
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("the run took %s, want it well under 3s", took)
	}

	s, l := r.Summary, r.Load
	if l.Started != 50 || l.Dropped != 0 || *s.Dropped != 0 || s.Conversations != 50 {
		t.Errorf("started %d, dropped %d, conversations %d; want 50, 0, 50", l.Started, l.Dropped, s.Conversations)
	}
	finished := s.Passed + s.Failed + s.Errored
	if s.Passed != 50 || finished != 50 {
		t.Errorf("summary %+v; samples %s", s, describe(r.Conversations))
	}
	if s.Turns != 3*finished || s.TurnErrors != 0 || *s.ErrorRate != 0 || *s.PassRate != 1 {
		t.Errorf("turns %d, errors %d, error rate %g, pass rate %g", s.Turns, s.TurnErrors, *s.ErrorRate, *s.PassRate)
	}
	if len(l.Turns) != 3 {
		t.Fatalf("%d turn indexes, want 3", len(l.Turns))
	}
	for i, ts := range l.Turns {
		if ts.Index != i+1 || ts.Count != 50 || ts.Errors != 0 || ts.LatencyMS.P50 <= 0 || ts.Histogram == "" || ts.Service == "" {
			t.Errorf("turn %d: %+v", i+1, ts)
		}
	}
	if l.Overall.Count != 150 || l.Conversation.Count != 50 || l.Session.Count != 50 {
		t.Errorf("overall %d, conversation %d, session %d", l.Overall.Count, l.Conversation.Count, l.Session.Count)
	}
	lat := s.LatencyMS
	if lat.P50 <= 0 || lat.P50 > lat.P90 || lat.P90 > lat.P95 || lat.P95 > lat.P99 || lat.P99 > lat.P999 || lat.P999 > lat.Max {
		t.Errorf("latency percentiles out of order: %+v", lat)
	}
	if sv := s.ServiceLatencyMS; sv == nil || sv.Max > lat.Max || sv.P50 > lat.P50 {
		t.Errorf("service latency %+v above latency from the intended start %+v", sv, lat)
	}
	if l.Model != "open" || l.Rate != 50 || l.TargetRate != 50 || l.AchievedRate < 45 || l.AchievedRate > 55 || l.Throughput <= 0 {
		t.Errorf("workload %+v", l)
	}
	if r.RunID != p.RunID() || r.Interrupted != "" || len(r.Conversations) != 0 || len(r.Suites) != 1 || r.Suites[0].DurationMS <= 0 {
		t.Errorf("run id %q (player's %q), interrupted %q, %d samples, suites %+v", r.RunID, p.RunID(), r.Interrupted, len(r.Conversations), r.Suites)
	}
	var started, turns int64
	for _, iv := range l.Timeline {
		started, turns = started+iv.Started, turns+iv.Turns
	}
	if l.IntervalMS != 1000 || len(l.Timeline) == 0 || started != 50 || turns != 150 {
		t.Errorf("timeline of %d intervals of %gms with %d begun and %d turns, want 1s ones with 50 and 150", len(l.Timeline), l.IntervalMS, started, turns)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("the record does not marshal: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := len(ticks); n == 0 || !ticks[n-1].Done || ticks[n-1].Started != 50 || ticks[n-1].Turns != 150 || ticks[n-1].InFlight != 0 {
		t.Errorf("snapshots %+v, want the last one done with 50 started", ticks)
	}
	for _, tk := range ticks[:len(ticks)-1] {
		// The ticker's first tick comes at about 1s, as the starting window
		// closes: on either side of it the target is the rate, or nothing.
		want := 50.0
		if tk.Elapsed >= time.Second {
			want = 0
		}
		if tk.Done || tk.TargetRate != want {
			t.Errorf("snapshot while running %+v, want a target of %g/s", tk, want)
		}
	}
}

// TestMaxInFlightDropsWhatCannotStart: 20 starts in 1s, 2 slots, and each
// conversation holds its slot 300ms. Each slot serves a queue of late starts
// until the second ends; the rest are dropped, never sent.
func TestMaxInFlightDropsWhatCannotStart(t *testing.T) {
	srv := newServer(t, func(r *http.Request, _ int) { sleep(r, 300*time.Millisecond) })
	ss, p := suite(t, oneTurn(srv.URL))
	r := run(t, p, ss, load.Options{Rate: 20, Duration: time.Second, MaxInFlight: 2, Grace: 5 * time.Second})

	l := r.Load
	t.Logf("started %d (late %d), dropped %d", l.Started, l.Late, l.Dropped)
	if l.Started+l.Dropped != 20 {
		t.Errorf("started %d + dropped %d = %d, want the 20 scheduled", l.Started, l.Dropped, l.Started+l.Dropped)
	}
	// About 2 + 2·(1s/300ms); far from 20.
	if l.Started < 2 || l.Started > 12 || l.Dropped <= 0 {
		t.Errorf("started %d, dropped %d; want 2 to 12 started and the rest dropped", l.Started, l.Dropped)
	}
	if l.Late < 1 || l.Late > l.Started-1 {
		t.Errorf("%d late of %d started; want all but the first few late", l.Late, l.Started)
	}
	sessions, sends, peak := srv.counts()
	if sessions != l.Started || sends != l.Started || peak > 2 {
		t.Errorf("server saw %d sessions, %d sends, %d at once; want %d, %d, at most 2", sessions, sends, peak, l.Started, l.Started)
	}
	s := r.Summary
	if *s.Dropped != l.Dropped || s.Conversations != l.Started || s.Passed != l.Started {
		t.Errorf("summary %+v, want %d conversations passed, %d dropped", s, l.Started, l.Dropped)
	}
	// The late starts count from their due time: the queue shows.
	if s.LatencyMS.Max < s.ServiceLatencyMS.Max+100 {
		t.Errorf("latency max %gms, service max %gms: the queue for slots does not show", s.LatencyMS.Max, s.ServiceLatencyMS.Max)
	}
}

// TestCoordinatedOmission: the server freezes every send for 1s from the
// 10th on, and one conversation at a time may be in flight, so the generator
// stalls with it. Only one send measures the freeze itself; the starts due
// during it begin late, and their turns count from when they were due.
func TestCoordinatedOmission(t *testing.T) {
	const freeze = time.Second
	var mu sync.Mutex
	var thaw time.Time
	srv := newServer(t, func(r *http.Request, n int) {
		mu.Lock()
		if n == 10 {
			thaw = time.Now().Add(freeze)
		}
		until := thaw
		mu.Unlock()
		sleep(r, time.Until(until))
	})
	ss, p := suite(t, oneTurn(srv.URL))
	r := run(t, p, ss, load.Options{Rate: 60, Duration: 2 * time.Second, MaxInFlight: 1})

	s, l := r.Summary, r.Load
	if l.Started < 101 || s.Turns != l.Started {
		// Fewer than 101 turns would put the one frozen send at the p99.
		t.Fatalf("started %d, turns %d; want over 100 of each", l.Started, s.Turns)
	}
	co, service := s.LatencyMS, *s.ServiceLatencyMS
	t.Logf("started %d (late %d), dropped %d; p99 %gms from the intended start, %gms service", l.Started, l.Late, l.Dropped, co.P99, service.P99)
	freezeMS := float64(freeze / time.Millisecond)
	if co.P99 < 0.8*freezeMS {
		t.Errorf("p99 from the intended start %gms, want at least %gms: the freeze is hidden", co.P99, 0.8*freezeMS)
	}
	if service.P99 >= 0.5*freezeMS {
		t.Errorf("service p99 %gms, want it well below the freeze of %gms", service.P99, freezeMS)
	}
	if service.Max < 0.8*freezeMS {
		t.Errorf("service max %gms: the frozen send is missing", service.Max)
	}
	if l.Late < 10 {
		t.Errorf("%d late starts, want those due during the freeze", l.Late)
	}
	for i, ts := range l.Turns {
		if ts.LatencyMS.P99 < 0.8*freezeMS || ts.ServiceMS.P99 >= 0.5*freezeMS {
			t.Errorf("turn %d: p99 %gms from the intended start, %gms service", i+1, ts.LatencyMS.P99, ts.ServiceMS.P99)
		}
	}
	if l.Conversation.LatencyMS.P99 < 0.8*freezeMS || l.Conversation.ServiceMS.P99 >= 0.5*freezeMS {
		t.Errorf("conversations: p99 %gms from the intended start, %gms service", l.Conversation.LatencyMS.P99, l.Conversation.ServiceMS.P99)
	}
}

// TestClosedModel: users loop over the conversations with a think time, and
// their latency is service time.
func TestClosedModel(t *testing.T) {
	srv := newServer(t, func(r *http.Request, _ int) { sleep(r, 20*time.Millisecond) })
	ss, p := suite(t, oneTurn(srv.URL))
	r := run(t, p, ss, load.Options{VUs: 3, ThinkTime: 30 * time.Millisecond, Duration: 600 * time.Millisecond})

	s, l := r.Summary, r.Load
	// Each user loops about every 50ms+: at most 600/50 + 1 conversations.
	if l.Model != "closed" || l.VUs != 3 || l.Started < 3 || l.Started > 3*13 || l.Dropped != 0 || l.Late != 0 {
		t.Errorf("workload %+v", l)
	}
	_, _, peak := srv.counts()
	if peak > 3 {
		t.Errorf("%d sends at once from 3 users", peak)
	}
	if s.Passed != l.Started || s.Turns != l.Started {
		t.Errorf("summary %+v, want %d passed", s, l.Started)
	}
	if s.LatencyMS != *s.ServiceLatencyMS || l.Conversation.LatencyMS != l.Conversation.ServiceMS {
		t.Errorf("closed model: latency %+v differs from service %+v", s.LatencyMS, *s.ServiceLatencyMS)
	}
	if s.LatencyMS.P50 < 15 {
		t.Errorf("p50 %gms, want the server's 20ms", s.LatencyMS.P50)
	}
}

// TestGraceThenCancel: conversations still in flight when the grace period
// ends are cancelled and unfinished; their cut turns count nowhere.
func TestGraceThenCancel(t *testing.T) {
	srv := newServer(t, func(r *http.Request, n int) {
		if n%2 == 0 {
			sleep(r, 10*time.Second)
		}
	})
	ss, p := suite(t, oneTurn(srv.URL))
	began := time.Now()
	r := run(t, p, ss, load.Options{Rate: 20, Duration: 500 * time.Millisecond, Grace: 300 * time.Millisecond})
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("the run took %s; the grace period was 300ms", took)
	}
	s, l := r.Summary, r.Load
	if l.Started != 10 || s.Passed+s.Unfinished != 10 || s.Unfinished < 4 || s.Unfinished > 6 {
		t.Errorf("started %d: %d passed, %d unfinished; want about half unfinished", l.Started, s.Passed, s.Unfinished)
	}
	if s.Turns != s.Passed || s.TurnErrors != 0 || r.Interrupted != "" {
		t.Errorf("turns %d, errors %d, interrupted %q; want only the passed ones' turns", s.Turns, s.TurnErrors, r.Interrupted)
	}
	for _, c := range r.Conversations {
		if c.Status != results.Unfinished || !strings.Contains(c.Reason, load.ErrGraceOver.Error()) {
			t.Errorf("sample %+v", c)
		}
	}
}

// TestInterrupt: cancelling the context stops the run at once, with what
// was recorded so far.
func TestInterrupt(t *testing.T) {
	srv := newServer(t, func(r *http.Request, _ int) { sleep(r, 10*time.Second) })
	ss, p := suite(t, oneTurn(srv.URL))
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(300*time.Millisecond, func() { cancel(errors.New("interrupt")) })
	began := time.Now()
	r, err := load.Run(ctx, p, ss, load.Options{Rate: 20, Duration: 10 * time.Second, MaxInFlight: 3})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	if took > 3*time.Second {
		t.Errorf("the run took %s after an interrupt at 300ms", took)
	}
	s, l := r.Summary, r.Load
	if r.Interrupted != "interrupt" {
		t.Errorf("interrupted %q, want the cause", r.Interrupted)
	}
	// 3 slots hold the first starts: 3 started, and every other start of
	// the 10s window (200 at 20/s) dropped, those due after the interrupt
	// too.
	if l.Started != 3 || s.Unfinished != 3 || s.Turns != 0 || l.Dropped != 200-3 || *s.Dropped != l.Dropped {
		t.Errorf("started %d, unfinished %d, turns %d, dropped %d in %s", l.Started, s.Unfinished, s.Turns, l.Dropped, took)
	}
	// Counted over the time that ran, not the 10s planned.
	if min := 0.9 * float64(l.Started) / took.Seconds(); l.AchievedRate < min {
		t.Errorf("achieved rate %g, want at least %g: it should count over the time that ran, not the 10s planned", l.AchievedRate, min)
	}
}

func TestOptionsRefused(t *testing.T) {
	ss, p := suite(t, oneTurn("http://127.0.0.1:1"))
	for _, c := range []struct {
		name string
		opts load.Options
		want string
	}{
		{"no workload", load.Options{Duration: time.Second}, "say how much load"},
		{"both models", load.Options{Rate: 1, VUs: 1, Duration: time.Second}, "exclude each other"},
		{"open without duration", load.Options{Rate: 1}, "say how long"},
		{"closed without duration", load.Options{VUs: 1}, "say how long"},
		{"negative rate", load.Options{Rate: -1, Duration: time.Second}, "rate -1: want at least 0"},
		{"negative stage", load.Options{Stages: []load.Stage{{time.Second, -5}}}, "stage 1 (1s:-5) target -5: want at least 0"},
		{"think time, open", load.Options{Rate: 1, Duration: time.Second, ThinkTime: time.Second}, "--think-time paces the closed model"},
		{"cap, closed", load.Options{VUs: 1, Duration: time.Second, MaxInFlight: 2}, "--max-in-flight caps the open model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := load.Run(context.Background(), p, ss, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one that says %q", err, c.want)
			}
		})
	}
	skipped := []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "c", Skip: "skipped in suite"}}}}
	if _, err := load.Run(context.Background(), p, skipped, load.Options{Rate: 1, Duration: time.Second}); err == nil || !strings.Contains(err.Error(), "no conversation to play") {
		t.Errorf("every conversation skipped: err = %v", err)
	}
}

func describe(cs []*results.Conversation) string {
	b, _ := json.MarshalIndent(cs, "", "  ")
	return string(b)
}
