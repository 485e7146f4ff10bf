package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

var binary string

// TestMain builds the real command once, so these tests run evalrun exactly
// as a user or a CI job does.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "evalrun-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "evalrun")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build evalrun: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func evalrun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), append([]string{"CI=true"}, env...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestQuickstartPassesOffline(t *testing.T) {
	dir := t.TempDir()
	junit, js := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "run.json")
	r := evalrun(t, nil, "run", "--junit", junit, "--json", js, "examples/quickstart.yaml")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var run struct {
		Schema  string `json:"schema"`
		Summary struct {
			Conversations, Passed, Failed, Errored, Turns int
			Judge                                         *struct {
				Calls, Failed int
				TotalTokens   int `json:"total_tokens"`
			}
		} `json:"summary"`
		Suites        []struct{ Provider string } `json:"suites"`
		Conversations []struct {
			Status string
			Final  []struct {
				Check  string
				Passed bool
			}
			Turns []struct {
				User, Reply string
				Assertions  []struct {
					Check  string
					Passed bool
				}
			}
		} `json:"conversations"`
	}
	raw, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &run); err != nil {
		t.Fatal(err)
	}
	if run.Schema != "evalrun/v1" || run.Summary.Conversations == 0 || run.Summary.Passed != run.Summary.Conversations {
		t.Fatalf("summary %+v", run.Summary)
	}
	providers := map[string]bool{}
	for _, s := range run.Suites {
		providers[s.Provider] = true
	}
	if !providers["opencx"] || !providers["toolzz"] {
		t.Errorf("the quickstart must cover both providers, has %v", providers)
	}
	checks := map[string]bool{}
	for _, c := range run.Conversations {
		for _, a := range c.Final {
			checks[a.Check] = checks[a.Check] || a.Passed
		}
		for _, tr := range c.Turns {
			for _, a := range tr.Assertions {
				checks[a.Check] = checks[a.Check] || a.Passed
			}
		}
	}
	// Every key, the judged ones included, must have run and passed at
	// least once, offline against the simulator's judge.
	for _, k := range []string{"contains", "not_contains", "equals", "regex", "might_solve", "fully_covered", "handoff",
		"transfer_bot", "action", "knowledge", "mode", "reply", "max_latency", "json", "judge", "similar",
		"final.status", "final.sentiment", "final.closure", "final.handoff", "final.custom_data", "final.judge"} {
		if !checks[k] {
			t.Errorf("the quickstart never exercises %q", k)
		}
	}
	if _, err := os.Stat(junit); err != nil {
		t.Error(err)
	}
	validateJUnit(t, junit)
	if !strings.Contains(r.stdout, "passed") {
		t.Errorf("no table on stdout:\n%s", r.stdout)
	}
	// What the judge cost, apart from the bot's latency, in every output.
	if j := run.Summary.Judge; j == nil || j.Calls == 0 || j.Failed != 0 || j.TotalTokens == 0 {
		t.Errorf("summary.judge %+v, want calls with tokens and no failure", j)
	}
	if !strings.Contains(r.stdout, "\njudge: ") || !strings.Contains(r.stdout, " tokens, ") {
		t.Errorf("no judge line under the table:\n%s", r.stdout)
	}
	if !strings.Contains(read(t, junit), `<property name="evalrun.judge.checks"`) {
		t.Errorf("the JUnit report does not say what the judge cost:\n%s", read(t, junit))
	}
}

func validateJUnit(t *testing.T, path string) {
	t.Helper()
	checkJUnitSchema(t, path)
}

// countingServer counts requests, to prove that nothing was sent.
func countingServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func writeSuite(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBrokenSuiteExits2AndSendsNothing(t *testing.T) {
	srv, hits := countingServer(t, 201, `{"id":"x"}`)
	good := writeSuite(t, "provider: {type: opencx, base_url: "+srv.URL+"}\nconversations:\n  - name: a\n    turns: [{user: hi}]\n")
	bad := writeSuite(t, "provider: {type: opencx, base_url: "+srv.URL+"}\nconversations:\n  - name: a\n    turns:\n      - user: hi\n        expect: {contians: x}\n")
	junit := filepath.Join(t.TempDir(), "j.xml")
	r := evalrun(t, nil, "run", "--junit", junit, good, bad)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, bad+":6:18:") || !strings.Contains(r.stderr, "contians") {
		t.Errorf("stderr should point at the unknown key: %s", r.stderr)
	}
	if hits.Load() != 0 {
		t.Errorf("a broken suite must send nothing; the server saw %d requests", hits.Load())
	}
	if _, err := os.Stat(junit); err == nil {
		t.Error("no report may be written for a run that never started")
	}
	if r.stdout != "" {
		t.Errorf("no partial results on stdout: %q", r.stdout)
	}
}

func TestFailingCheckExits1WithDetails(t *testing.T) {
	p := writeSuite(t, `name: demo
provider: {type: opencx, base_url: sim}
conversations:
  - name: wrong expectation
    turns:
      - user: hello
      - user: what about shipping?
        expect: {contains: "pigeon post"}
`)
	r := evalrun(t, nil, "run", p)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"wrong expectation", "failed", "turn 2", "contains", "pigeon post"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestTokenNeverInAnyOutput(t *testing.T) {
	const token = "ocx_live_SHOULD_NOT_LEAK_42"
	srv, _ := countingServer(t, 401, `{"statusCode":401,"message":"key `+token+` rejected","error":"Unauthorized"}`)
	p := writeSuite(t, "provider: {type: opencx, base_url: "+srv.URL+", token: \"${EVALRUN_TEST_KEY}\"}\nconversations:\n  - name: a\n    turns: [{user: hi}]\n")
	dir := t.TempDir()
	junit, js := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json")
	r := evalrun(t, []string{"EVALRUN_TEST_KEY=" + token}, "run", "--junit", junit, "--json", js, p)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (errored)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "errored") || !strings.Contains(r.stdout, "EVALRUN_TEST_KEY") {
		t.Errorf("the table should show the error and name the variable:\n%s", r.stdout)
	}
	for name, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "junit": read(t, junit), "json": read(t, js)} {
		if strings.Contains(text, token) {
			t.Errorf("%s shows the token", name)
		}
	}
}

func TestBaseURLOverride(t *testing.T) {
	srv, hits := countingServer(t, 500, `{}`)
	p := writeSuite(t, "provider: {type: opencx, base_url: sim, retries: 0}\nconversations:\n  - name: a\n    turns: [{user: hi}]\n")
	r := evalrun(t, nil, "run", "--base-url", srv.URL, p)
	if r.code != 1 || hits.Load() == 0 {
		t.Fatalf("exit %d, %d hits: --base-url must replace base_url", r.code, hits.Load())
	}
}

func TestValidate(t *testing.T) {
	r := evalrun(t, nil, "validate", "examples/quickstart.yaml")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ok: ") {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	bad := writeSuite(t, "provider: {type: nosuch}\nconversations: []\n")
	r = evalrun(t, nil, "validate", bad)
	if r.code != 2 || !strings.Contains(r.stderr, bad+":1:") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"run"}, {"run", "--concurrency", "0", "x.yaml"}, {"run", "--nope", "x.yaml"},
		{"run", "--filter", "(", "examples/quickstart.yaml"}, {"run", "--repeat", "-1", "examples/quickstart.yaml"},
		{"run", "--tags", ",", "examples/quickstart.yaml"}, {"run", "--base-url", "sim?latency=fast", "examples/quickstart.yaml"},
		{"run", "--base-url", "ftp://x", "examples/quickstart.yaml"}, {"run", "--junit", "same.out", "--json", "same.out", "examples/quickstart.yaml"}} {
		if r := evalrun(t, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
	if r := evalrun(t, nil, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "evalrun ") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSelectionAndFailFastFlags(t *testing.T) {
	js := filepath.Join(t.TempDir(), "r.json")
	r := evalrun(t, nil, "run", "--tags", "refunds", "--json", js, "examples/quickstart.yaml")
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	var run struct {
		Summary       struct{ Passed, Skipped int }
		Conversations []struct{ Name, Status, Reason string }
	}
	if err := json.Unmarshal([]byte(read(t, js)), &run); err != nil {
		t.Fatal(err)
	}
	if run.Summary.Passed != 1 || run.Summary.Skipped != 5 {
		t.Errorf("--tags refunds: %+v", run.Summary)
	}

	r = evalrun(t, nil, "run", "--filter", "quickstart/shipping", "--repeat", "3", "--json", js, "examples/quickstart.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "3/3") {
		t.Errorf("--filter with --repeat 3: exit %d\n%s", r.code, r.stdout)
	}

	p := writeSuite(t, "provider: {type: opencx, base_url: sim}\nconversations:\n"+
		"  - {name: broken, turns: [{user: hello, expect: {contains: zebra}}]}\n"+
		"  - {name: fine, turns: [{user: hello}]}\n")
	r = evalrun(t, nil, "run", "-c", "1", "--fail-fast", "--json", js, p)
	if r.code != 1 || !strings.Contains(r.stderr, "fail-fast") || !strings.Contains(read(t, js), `"unfinished": 1`) {
		t.Errorf("--fail-fast: exit %d\nstderr: %s\njson: %s", r.code, r.stderr, read(t, js))
	}
}
