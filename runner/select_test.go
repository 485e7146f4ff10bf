package runner_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/evalrun/evalrun/suites"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/sim"
)

const selectionSuite = `
name: shop
provider: {type: opencx, base_url: sim}
conversations:
  - name: refund smoke
    tags: [refunds, smoke]
    turns: [{user: hello}]
  - name: refund deep
    tags: [refunds]
    turns: [{user: hello}]
  - name: shipping
    tags: [shipping]
    turns: [{user: hello}]
  - name: untagged
    turns: [{user: hello}]
`

func TestSelectionByTagsAndFilter(t *testing.T) {
	ss := load(t, selectionSuite)
	tests := []struct {
		name   string
		opts   runner.Options
		passed []string
		reason string
	}{
		{"one tag", runner.Options{Tags: []string{"smoke"}}, []string{"refund smoke"}, "not selected: has none of the tags smoke"},
		{"any of several tags", runner.Options{Tags: []string{"refunds", "shipping"}}, []string{"refund smoke", "refund deep", "shipping"}, "not selected: has none of the tags refunds,shipping"},
		{"filter on suite/name", runner.Options{Filter: regexp.MustCompile(`^shop/refund`)}, []string{"refund smoke", "refund deep"}, "does not match --filter ^shop/refund"},
		{"tags and filter both apply", runner.Options{Tags: []string{"refunds"}, Filter: regexp.MustCompile(`deep`)}, []string{"refund deep"}, "not selected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, ss, tt.opts)
			var passed []string
			for _, c := range r.Conversations {
				switch c.Status {
				case results.Passed:
					passed = append(passed, c.Name)
				case results.Skipped:
					if !strings.Contains(c.Reason, tt.reason) {
						t.Errorf("%s skipped with reason %q, want it to say %q", c.Name, c.Reason, tt.reason)
					}
				default:
					t.Errorf("%s: %s", c.Name, c.Status)
				}
			}
			if strings.Join(passed, ",") != strings.Join(tt.passed, ",") {
				t.Errorf("ran %v, want %v", passed, tt.passed)
			}
			if r.Summary.Skipped != 4-len(tt.passed) || r.Summary.Turns != len(tt.passed) {
				t.Errorf("summary %+v", r.Summary)
			}
		})
	}
}

func TestRepeatOverridesTheSuite(t *testing.T) {
	ss := load(t, `
provider: {type: opencx, base_url: sim}
conversations:
  - name: a
    repeat: 5
    turns: [{user: hello}]
`)
	r := run(t, ss, runner.Options{Repeat: 3})
	if c := r.Conversations[0]; c.Runs != 3 || c.PassedRuns != 3 || c.Status != results.Passed {
		t.Errorf("--repeat 3: %s", describe(c))
	}
	if r.Summary.Turns != 3 {
		t.Errorf("turns %d, want 3", r.Summary.Turns)
	}
}

func TestFailFastStopsTheRest(t *testing.T) {
	var convs strings.Builder
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&convs, "  - name: later %d\n    turns: [{user: hello}, {user: hello}]\n", i)
	}
	ss := load(t, `
provider: {type: opencx, base_url: sim}
conversations:
  - name: broken
    turns: [{user: hello, expect: {contains: nothing like this}}]
`+convs.String())
	r := run(t, ss, runner.Options{Concurrency: 1, FailFast: true, Sim: runner.SimOptions{Latency: 20 * time.Millisecond}})
	if c := r.Conversations[0]; c.Status != results.Failed {
		t.Fatalf("the failing conversation: %s", describe(c))
	}
	if r.Interrupted != runner.ErrFailFast.Error() {
		t.Errorf("Interrupted = %q", r.Interrupted)
	}
	if r.Summary.Unfinished == 0 || r.Summary.Failed != 1 || r.Summary.Passed+r.Summary.Unfinished != 6 {
		t.Errorf("after the first failure the rest must end unfinished: %+v", r.Summary)
	}
	for _, c := range r.Conversations[1:] {
		if c.Status == results.Unfinished && c.Reason == "" {
			t.Errorf("%s is unfinished without a reason", c.Name)
		}
	}

	// Without --fail-fast the same suite runs to the end.
	r = run(t, ss, runner.Options{Concurrency: 1})
	if r.Interrupted != "" || r.Summary.Passed != 6 {
		t.Errorf("without fail-fast: %+v interrupted %q", r.Summary, r.Interrupted)
	}
}

func TestAgentTurnsAndTakeOverReachTheWire(t *testing.T) {
	rec := &recorder{h: sim.New(sim.Options{})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	ss := load(t, fmt.Sprintf(`
provider: {type: opencx, base_url: %q}
conversations:
  - name: a human agent joins
    turns:
      - user: hello
      - agent: "Hi, Maria here."
        take_over: true
        expect: {reply: false}
      - user: thanks Maria
        expect: {reply: false, handoff: true}
`, srv.URL))
	r := run(t, ss, runner.Options{})
	if c := r.Conversations[0]; c.Status != results.Passed {
		t.Fatalf("%s", describe(c))
	}
	var sends []map[string]any
	for _, req := range rec.requests() {
		if strings.HasSuffix(req.Path, "/send") {
			sends = append(sends, req.Body)
		}
	}
	if len(sends) != 3 {
		t.Fatalf("%d sends", len(sends))
	}
	if sends[0]["sender"] != "contact" || sends[1]["sender"] != "agent" || sends[1]["should_take_over_session_from_ai"] != true {
		t.Errorf("sends on the wire: %v", sends)
	}
	if _, has := sends[0]["should_take_over_session_from_ai"]; has {
		t.Errorf("a contact turn must not ask for a take-over: %v", sends[0])
	}
}

func TestRateLimitPacesAllConversationsTogether(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	rec := &recorder{h: sim.New(sim.Options{})}
	srv := httptest.NewServer(stamp(rec, &mu, &at))
	t.Cleanup(srv.Close)
	var convs strings.Builder
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&convs, "  - name: c%d\n    turns: [{user: hello}, {user: hello}]\n", i)
	}
	// 20 requests a second: 4 sessions + 8 sends = 12 requests, at least 50ms apart.
	ss := load(t, fmt.Sprintf("provider: {type: opencx, base_url: %q, rate_limit: 20/s}\nconversations:\n%s", srv.URL, convs.String()))
	r, err := runner.Run(context.Background(), ss, runner.Options{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Passed != 4 {
		t.Fatalf("summary %+v", r.Summary)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 12 {
		t.Fatalf("%d requests, want 12", len(at))
	}
	// The limiter grants one request every 50ms; arrival times jitter by a
	// few milliseconds each way, so bound each arrival from the first one
	// rather than the gap between neighbours.
	for i := 1; i < len(at); i++ {
		if since := at[i].Sub(at[0]); since < time.Duration(i)*50*time.Millisecond-25*time.Millisecond {
			t.Errorf("request %d arrived %v after the first; rate_limit 20/s allows it no sooner than %v", i+1, since, time.Duration(i)*50*time.Millisecond)
		}
	}
}

func TestSharedRateLimitTakesTheStricter(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(stamp(sim.New(sim.Options{}), &mu, &at))
	t.Cleanup(srv.Close)
	// Two suites on one service and key: 100/s and 10/s. Five requests must
	// then take at least 4 x 100ms, not 4 x 10ms.
	dir := t.TempDir()
	a := writeSuiteAt(t, dir, "a.yaml", fmt.Sprintf("provider: {type: opencx, base_url: %q, rate_limit: 100/s}\nconversations:\n  - {name: a, turns: [{user: hello}]}\n", srv.URL))
	b := writeSuiteAt(t, dir, "b.yaml", fmt.Sprintf("provider: {type: opencx, base_url: %q, rate_limit: 10/s}\nconversations:\n  - {name: b, turns: [{user: hello}, {user: hello}]}\n", srv.URL))
	ss, err := suites.LoadPaths([]string{a, b}, suites.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, ss, runner.Options{Concurrency: 2})
	if r.Summary.Passed != 2 {
		t.Fatalf("summary %+v", r.Summary)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 5 {
		t.Fatalf("%d requests, want 5", len(at))
	}
	if span := at[4].Sub(at[0]); span < 350*time.Millisecond {
		t.Errorf("5 requests took %v; the stricter 10/s needs about 400ms", span)
	}
}

func writeSuiteAt(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestASelectionThatRunsNothingIsAnError: tags or a filter that match no
// conversation to run are an error that names what there is, returned
// before anything is sent, so a typo cannot make a green run of nothing.
func TestASelectionThatRunsNothingIsAnError(t *testing.T) {
	ss := load(t, selectionSuite+`  - name: parked
    tags: [billing]
    skip: waiting on BOT-7
    turns: [{user: hello}]
`)
	rec := &recorder{h: sim.New(sim.Options{})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	tests := []struct {
		name string
		opts runner.Options
		want []string
	}{
		{"a tag nothing has", runner.Options{Tags: []string{"smoek"}},
			[]string{"--tags smoek selects no conversation", "tags there are: billing, refunds, shipping, smoke", "suites there are: shop ("}},
		{"a filter nothing matches", runner.Options{Filter: regexp.MustCompile(`^other/`)},
			[]string{"--filter ^other/ selects no conversation"}},
		{"tags and filter that exclude each other", runner.Options{Tags: []string{"shipping"}, Filter: regexp.MustCompile(`refund`)},
			[]string{"--tags shipping with --filter refund selects no conversation"}},
		{"only skipped conversations", runner.Options{Tags: []string{"billing"}},
			[]string{"selects no conversation to run (it selects only conversations their suites skip: 1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.BaseURL = srv.URL
			r, err := runner.Run(context.Background(), ss, tt.opts)
			var sel *runner.SelectionError
			if !errors.As(err, &sel) || r != nil {
				t.Fatalf("Run = %v, %v; want a *runner.SelectionError and no record", r, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("a selection of nothing sent %d requests", n)
	}
	// A selection that runs one conversation is no error.
	if r := run(t, ss, runner.Options{Tags: []string{"billing", "shipping"}}); r.Summary.Passed != 1 {
		t.Errorf("summary %+v", r.Summary)
	}
}
