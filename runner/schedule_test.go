package runner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// manyConversations is a suite of n conversations of three turns each against baseURL.
func manyConversations(baseURL string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: many\nprovider: {type: opencx, base_url: %q, retries: 0, timeout: 5s}\nconversations:\n", baseURL)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - name: conv %02d\n    turns:\n", i)
		for turn := 1; turn <= 3; turn++ {
			fmt.Fprintf(&b, "      - user: \"conv %02d turn %d\"\n        expect: {contains: \"turn %d\"}\n", i, turn, turn)
		}
	}
	return b.String()
}

func TestConcurrencyIsALimitAndTurnsStayInOrder(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprintf("concurrency %d", limit), func(t *testing.T) {
			srv := newOpenCX(t, nil)
			// Every send waits, while in flight, until the limit's worth of
			// sends overlap (or a while has passed), then lingers a little:
			// a runner that allows the limit reaches it for sure, and one
			// that exceeds it is caught overlapping.
			reached := make(chan struct{})
			var once sync.Once
			srv.hold = func() {
				srv.mu.Lock()
				if srv.peak >= limit {
					once.Do(func() { close(reached) })
				}
				srv.mu.Unlock()
				select {
				case <-reached:
				case <-time.After(500 * time.Millisecond):
				}
				time.Sleep(5 * time.Millisecond)
			}
			r := run(t, load(t, manyConversations(srv.URL, 10)), runner.Options{Concurrency: limit})

			sessions, sends, peak := srv.snapshot()
			if peak != limit {
				t.Errorf("peak of concurrent sends = %d, want exactly %d", peak, limit)
			}
			if len(sessions) != 10 || len(sends) != 30 {
				t.Fatalf("server saw %d sessions and %d sends, want 10 and 30", len(sessions), len(sends))
			}
			perSession := map[string][]string{}
			for _, s := range sends {
				perSession[s.Session] = append(perSession[s.Session], s.Text)
			}
			for id, texts := range perSession {
				prefix := strings.TrimSuffix(texts[0], " turn 1")
				want := []string{prefix + " turn 1", prefix + " turn 2", prefix + " turn 3"}
				if !slices.Equal(texts, want) {
					t.Errorf("session %s got turns %q, want %q", id, texts, want)
				}
			}
			if r.Summary.Passed != 10 || r.Summary.Turns != 30 {
				t.Errorf("summary %+v, want 10 passed over 30 turns", r.Summary)
			}
			for i, c := range r.Conversations {
				if want := fmt.Sprintf("conv %02d", i+1); c.Name != want {
					t.Errorf("conversation %d is %q, want %q (suite order)", i, c.Name, want)
				}
			}
		})
	}
}

func TestAFailingCheckLeavesTheOthersAlone(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", `
name: alpha
provider: {type: opencx, base_url: sim}
conversations:
  - name: a1
    turns: [{user: hello, expect: {contains: help}}]
  - name: a2 fails
    turns:
      - user: hello
        expect: {contains: banana}
      - user: How long does delivery take?
        expect: {contains: business days}
  - name: a3
    turns: [{user: "How long does shipping take?", expect: {contains: business days}}]
`)
	write("b.yaml", `
name: beta
provider: {type: opencx, base_url: sim}
conversations:
  - name: b1
    turns: [{user: hi, expect: {mode: general}}]
---
name: gamma
provider: {type: toolzz, base_url: sim, bot_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6}
conversations:
  - name: g1 fails
    turns: [{user: hey, expect: {handoff: true}}]
  - name: g2
    turns: [{user: hey, expect: {contains: help}}]
`)
	ss, err := suites.LoadPaths([]string{dir}, suites.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, ss, runner.Options{Concurrency: 4})

	want := []string{"a1=passed", "a2 fails=failed", "a3=passed", "b1=passed", "g1 fails=failed", "g2=passed"}
	if got := statuses(r); !slices.Equal(got, want) {
		t.Fatalf("verdicts in order %q, want %q", got, want)
	}
	var suiteNames []string
	for _, c := range r.Conversations {
		suiteNames = append(suiteNames, c.Suite)
	}
	if want := []string{"alpha", "alpha", "alpha", "beta", "gamma", "gamma"}; !slices.Equal(suiteNames, want) {
		t.Errorf("suites in order %q, want %q", suiteNames, want)
	}

	a2 := byName(t, r, "a2 fails")
	if len(a2.Turns) != 2 {
		t.Fatalf("a failed check must not stop the conversation; turns:\n%s", describe(a2))
	}
	f := a2.Failures()
	if len(f) != 1 || f[0].Turn != 1 || f[0].Check != "contains" || !strings.Contains(f[0].Message, "banana") {
		t.Errorf("failures of a2 = %+v", f)
	}
	if a2.Reason != "" {
		t.Errorf("a failed conversation has no error reason, got %q", a2.Reason)
	}
	if r.Summary.Passed != 4 || r.Summary.Failed != 2 || r.Summary.Errored != 0 {
		t.Errorf("summary %+v", r.Summary)
	}
}

func TestOnDoneOncePerConversationAndBaseURLOverridesEverySuite(t *testing.T) {
	wrong := newOpenCX(t, nil) // every suite names this one; none may reach it
	right := newOpenCX(t, nil)
	ss := load(t, fmt.Sprintf(`
name: first
provider: {type: opencx, base_url: %q, retries: 0}
conversations:
  - name: one
    repeat: 3
    turns: [{user: hello, expect: {contains: "echo: hello"}}]
  - name: skipped
    skip: waiting on BOT-12
    turns: [{user: hello}]
---
name: second
provider: {type: opencx, base_url: sim, retries: 0}
conversations:
  - name: two
    turns: [{user: hello, expect: {contains: "echo: hello"}}]
`, wrong.URL))

	var mu sync.Mutex
	calls := map[string]int{}
	var badStatus []string
	r := run(t, ss, runner.Options{BaseURL: right.URL, Concurrency: 2, OnDone: func(c *results.Conversation) {
		mu.Lock()
		defer mu.Unlock()
		calls[c.Name]++
		if c.Status == "" {
			badStatus = append(badStatus, c.Name)
		}
	}})

	if want := map[string]int{"one": 1, "skipped": 1, "two": 1}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("OnDone calls %v, want %v", calls, want)
	}
	if len(badStatus) > 0 {
		t.Errorf("OnDone saw conversations without a verdict: %v", badStatus)
	}
	if got := statuses(r); !slices.Equal(got, []string{"one=passed", "skipped=skipped", "two=passed"}) {
		t.Errorf("verdicts %q", got)
	}
	if s, sends, _ := wrong.snapshot(); len(s)+len(sends) > 0 {
		t.Errorf("the suites' own base_url got %d sessions and %d sends despite Options.BaseURL", len(s), len(sends))
	}
	if s, sends, _ := right.snapshot(); len(s) != 4 || len(sends) != 4 {
		t.Errorf("Options.BaseURL got %d sessions and %d sends, want 4 and 4 (3 repeats + 1)", len(s), len(sends))
	}
}

func TestBaseURLSimOverridesAURL(t *testing.T) {
	wrong := newOpenCX(t, nil)
	ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q}
conversations:
  - name: greeting
    turns: [{user: hello, expect: {contains: demo assistant}}]
`, wrong.URL))
	r := run(t, ss, runner.Options{BaseURL: suites.SimURL})
	if c := r.Conversations[0]; c.Status != results.Passed {
		t.Errorf("against the simulator:\n%s", describe(c))
	}
	if s, _, _ := wrong.snapshot(); len(s) > 0 {
		t.Errorf("the suite's own base_url was used")
	}
}
