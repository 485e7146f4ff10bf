package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// TestPacingIsNotLatency plays a conversation that rate_limit holds back
// against a simulator that answers at once. Whatever the machine's speed,
// the session, every turn's latency and every pacing wait are disjoint parts
// of the conversation, measured on one clock: they add up to no more than its
// duration. Were a wait counted in a latency as well, it would count twice
// and the sum would exceed the duration by that much.
func TestPacingIsNotLatency(t *testing.T) {
	// 4 requests (the session and three turns) at 4/s: each after the
	// first waits for its slot unless a request takes a quarter second.
	ss := load(t, `
provider: {type: opencx, base_url: sim, rate_limit: 4/s}
conversations:
  - name: paced
    turns: [{user: hello}, {user: hello}, {user: hello}]
`)
	p, err := runner.NewPlayer(ss, runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o := p.Play(context.Background(), ss[0], ss[0].Conversations[0])
	if o.Status != results.Passed || len(o.Turns) != 3 {
		t.Fatalf("%s: %s, %d turns", o.Status, o.Reason, len(o.Turns))
	}
	parts, paced := o.Session+o.SessionPaced, o.SessionPaced
	for _, tu := range o.Turns {
		parts += tu.Latency + tu.Paced
		paced += tu.Paced
		if tu.Record.LatencyMS != float64(tu.Latency.Microseconds())/1000 {
			t.Errorf("turn %d records %gms, not its measured latency %v", tu.Record.Index, tu.Record.LatencyMS, tu.Latency)
		}
	}
	if parts > o.Duration {
		t.Errorf("session, latencies and pacing waits add up to %v, more than the conversation's %v: a wait was counted as latency", parts, o.Duration)
	}
	if paced == 0 {
		t.Error("no request waited for rate_limit, so nothing was tested")
	}
	// The limiter spaces the 4 requests a quarter second apart at least.
	if o.Duration < 750*time.Millisecond {
		t.Errorf("the conversation took %v; rate_limit 4/s should have spread 4 requests over 750ms", o.Duration)
	}
}

// TestEnvironmentSecretsInRepliesAndErrors uses an http bot whose key sits
// in the URL and a header, read from the environment, and a server that
// echoes both back in its replies and its errors: replies are judged as they
// came, errors the provider builds hide the key.
func TestEnvironmentSecretsInRepliesAndErrors(t *testing.T) {
	const key = "sk-live-DO-NOT-PRINT-7f3a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		echo := r.URL.RawQuery + " " + r.Header.Get("X-Key")
		if strings.Contains(r.URL.Path, "fail") {
			w.WriteHeader(http.StatusBadRequest)
		}
		json.NewEncoder(w).Encode(map[string]string{"reply": "you sent " + echo})
	}))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/chat", "/fail"} {
		file := writeSuite(t, "http.yaml", fmt.Sprintf(`
provider:
  type: http
  base_url: %s
  retries: 0
  request: {path: "%s?key=${BOT_KEY}", headers: {X-Key: "${BOT_KEY}"}, body: {message: "{{message}}"}}
  response: {text: $.reply}
conversations:
  - name: echo
    turns:
      - user: hello
        expect: {contains: you sent}
        capture: {all: {json: "$.reply"}}
      - user: "again {{all}}"
`, srv.URL, path))
		ss, err := suites.LoadPaths([]string{file}, suites.Options{LookupEnv: func(name string) (string, bool) {
			if name == "BOT_KEY" {
				return key, true
			}
			return "", false
		}})
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, ss, runner.Options{})
		c := r.Conversations[0]
		if path == "/chat" {
			// Judged and captured as it came; hiding the key is the
			// output writers' job, not the record's.
			if c.Status != results.Passed || len(c.Turns) != 2 || !strings.Contains(c.Turns[1].User, key) {
				t.Errorf("%s: the capture did not see the reply as it came: %s", path, describe(c))
			}
			continue
		}
		// The error is a message the provider builds: it hides the key.
		b, _ := json.Marshal(r)
		if c.Status != results.Errored || strings.Contains(string(b), key) || !strings.Contains(string(b), "[redacted]") {
			t.Errorf("%s: %s\n%s", path, describe(c), b)
		}
	}
}
