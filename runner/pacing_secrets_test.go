package runner_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// TestPacingIsNotLatency runs conversations that rate_limit holds back by
// seconds against a simulator that answers at once: the waits are evalrun's
// own pacing, so no turn may fail max_latency because of them.
func TestPacingIsNotLatency(t *testing.T) {
	var convs strings.Builder
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&convs, "  - {name: c%d, turns: [{user: hello, expect: {max_latency: 200ms}}]}\n", i)
	}
	// 8 requests at 8/s: the last waits most of a second for its slot.
	ss := load(t, "provider: {type: opencx, base_url: sim, rate_limit: 8/s}\nconversations:\n"+convs.String())
	r := run(t, ss, runner.Options{Concurrency: 4})
	if r.Summary.Passed != 4 {
		for _, c := range r.Conversations {
			t.Errorf("%s", describe(c))
		}
	}
	if r.Summary.LatencyMS.Max >= 150 {
		t.Errorf("max turn latency %gms: pacing waits were counted as the bot's latency", r.Summary.LatencyMS.Max)
	}
	if r.DurationMS < 700 {
		t.Errorf("the run took %gms; rate_limit 8/s should have spread 8 requests over about a second", r.DurationMS)
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
