package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/results"
)

// judgeToken is the judge's token in the tests below, with characters every
// encoder escapes differently.
const judgeToken = `sk-judge_W&<y>"Q/7+ü`

// hostileJudge answers like an OpenAI-compatible judge with its token in
// everything it writes: a failing verdict's reason for a rubric with "echo",
// a 500's error body for one with "fail", and embeddings' errors. It counts
// the requests it gets.
func hostileJudge(t *testing.T, requests *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var body struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		prompt := ""
		if len(body.Messages) > 0 {
			prompt = body.Messages[len(body.Messages)-1].Content
		}
		switch {
		case r.URL.Path == "/v1/chat/completions" && strings.Contains(prompt, "echo"):
			answer, _ := json.Marshal(map[string]any{"pass": false, "score": 0, "reason": "your key " + judgeToken + " is " + allEscaped(judgeToken)})
			_ = json.NewEncoder(w).Encode(map[string]any{
				"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": string(answer)}, "finish_reason": "stop"}},
				"usage":   map[string]int{"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
			})
		default:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error":{"message":"key %s rejected, %s"}}`, allEscaped(judgeToken), jsonString(judgeToken))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestJudgeCannotLeakItsToken: a judge that echoes its token into a
// verdict's reason and into its error bodies shows it in no output.
func TestJudgeCannotLeakItsToken(t *testing.T) {
	t.Setenv("EVALRUN_JUDGE_TOKEN", judgeToken)
	var requests atomic.Int64
	srv := hostileJudge(t, &requests)
	dir := t.TempDir()
	p := filepath.Join(dir, "judged.yaml")
	writeFile(t, p, `name: judged
provider: {type: opencx, base_url: sim}
judge: {base_url: "`+srv.URL+`/v1", model: m, embedding_model: e, token: "${EVALRUN_JUDGE_TOKEN}", retries: 0}
conversations:
  - name: reason echoes
    turns: [{user: Hello!, expect: {judge: "echo the key"}}]
  - name: error echoes
    turns: [{user: Hello!, expect: {judge: "fail now"}}]
  - name: embeddings echo
    turns: [{user: Hello!, expect: {similar: {to: hello, min: 0.5}}}]
  - name: final echoes
    turns: [{user: Hello!}]
    final: {judge: "fail at the end"}
`)
	junit, js := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json")
	md, html := filepath.Join(dir, "r.md"), filepath.Join(dir, "r.html")
	streams, out, errOut := term.Test()
	code := Main(context.Background(), []string{"run", "-c", "1", "--junit", junit, "--json", js, "--md", md, "--html", html, p}, streams)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The run really met the echoes: a failure and three errors, hidden.
	for _, want := range []string{"FAILED", "ERRORED", "judge (m): chat completion", "judge (e): embeddings", providersRedacted} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	outputs := map[string]string{"stdout": out.String(), "stderr": errOut.String(), "junit": read(t, junit), "json": read(t, js),
		"markdown": read(t, md), "html": read(t, html)}
	for form, text := range leakForms(judgeToken) {
		for name, o := range outputs {
			if strings.Contains(o, text) {
				t.Errorf("%s shows the judge's token (%s form %q):\n%s", name, form, text, o)
			}
		}
	}
	if requests.Load() == 0 {
		t.Error("the judge was never asked")
	}
}

// TestLoadSkipsJudgedChecksUnlessAsked: under load the judged checks cost an
// LLM request each, so they run only with --judge: without it the judge is
// never asked and its failing verdicts count for nothing.
func TestLoadSkipsJudgedChecksUnlessAsked(t *testing.T) {
	var requests atomic.Int64
	srv := hostileJudge(t, &requests)
	p := writeSuite(t, `name: judged-load
provider: {type: opencx, base_url: sim}
judge: {base_url: "`+srv.URL+`/v1", model: m, retries: 0}
conversations:
  - name: judged
    turns: [{user: Hello!, expect: {contains: hello, judge: "echo a verdict"}}]
    final: {judge: "echo the whole"}
`)
	js := filepath.Join(t.TempDir(), "r.json")
	type record struct {
		Summary struct {
			Passed, Failed int
			Judge          *struct{ Calls int }
		} `json:"summary"`
	}
	load := func(extra ...string) (result, record) {
		args := append([]string{"load", "--no-progress", "--rate", "5", "--duration", "400ms", "--json", js}, extra...)
		r := evalrun(t, nil, append(args, p)...)
		var rec record
		if err := json.Unmarshal([]byte(read(t, js)), &rec); err != nil {
			t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
		}
		return r, rec
	}

	r, rec := load()
	if r.code != 0 || rec.Summary.Failed != 0 || rec.Summary.Passed == 0 || rec.Summary.Judge != nil || requests.Load() != 0 {
		t.Errorf("without --judge: exit %d, summary %+v, %d judge requests; want a pass that asked no judge\n%s%s",
			r.code, rec.Summary, requests.Load(), r.stdout, r.stderr)
	}

	r, rec = load("--judge")
	if r.code != 1 || rec.Summary.Failed == 0 || rec.Summary.Judge == nil || rec.Summary.Judge.Calls == 0 || requests.Load() == 0 {
		t.Errorf("with --judge: exit %d, summary %+v, %d judge requests; want the judge's failures\n%s%s",
			r.code, rec.Summary, requests.Load(), r.stdout, r.stderr)
	}
}

// TestValidateWithoutTheJudgeToken: validate warns of an unset judge token
// as of a provider's, and run still refuses it before sending anything.
func TestValidateWithoutTheJudgeToken(t *testing.T) {
	unsetEnv(t, "EVALRUN_TEST_UNSET_JUDGE")
	p := writeSuite(t, `provider: {type: opencx, base_url: sim}
judge: {base_url: "https://judge.invalid/v1", model: m, token: "${EVALRUN_TEST_UNSET_JUDGE}"}
conversations:
  - name: greeting
    turns: [{user: hello, expect: {judge: greets}}]
`)
	code, out, errOut := inProcess(t, "validate", p)
	wantWarn := p + ":2:64: warning: environment variable EVALRUN_TEST_UNSET_JUDGE is not set; the value is left out here, but run and load need it\n"
	if code != exitOK || errOut != wantWarn || out != "ok: 1 suite, 1 conversation, 1 turn (1 warning)\n" {
		t.Errorf("validate: exit %d\nstdout: %q\nstderr: %q\nwant exit 0 and the warning %q", code, out, errOut, wantWarn)
	}
	code, _, errOut = inProcess(t, "run", p)
	if want := p + ":2:64: environment variable EVALRUN_TEST_UNSET_JUDGE is not set; set it"; code != exitUsage || !strings.Contains(errOut, want) {
		t.Errorf("run: exit %d, stderr:\n%s\nwant exit 2 and %q", code, errOut, want)
	}
}

// Under load, a judge that fails errors the conversation but is not a
// request error of the bot: error_rate counts what the bot was sent, and
// the bot answered every turn.
func TestLoadJudgeOutageIsNotTheBotsError(t *testing.T) {
	p := writeSuite(t, `name: judged
provider: {type: opencx, base_url: sim}
judge: {base_url: sim, model: sim-judge, retries: 0}
conversations:
  - name: greets
    turns: [{user: Hello!, expect: {judge: "greets [sim fault=500]"}}]
`)
	js := filepath.Join(t.TempDir(), "load.json")
	code, _, stderr := inProcess(t, "load", "--judge", "--no-progress", "--vus", "1", "--duration", "1s", "--json", js, p)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (the conversations errored)\n%s", code, stderr)
	}
	raw, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rec results.Run
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	s := rec.Summary
	if s.Errored == 0 || s.ErrorRate == nil || *s.ErrorRate != 0 || s.TurnErrors != 0 {
		t.Errorf("errored %d, error_rate %v, turn_errors %d: want errored conversations and no request errors", s.Errored, s.ErrorRate, s.TurnErrors)
	}
	if rec.Load.Overall.Count == 0 || rec.Load.Overall.Errors != 0 {
		t.Errorf("turn latency count %d, errors %d: the bot's replies must be measured", rec.Load.Overall.Count, rec.Load.Overall.Errors)
	}
}

// Without --judge a load test sends nothing to the judge, so an unset judge
// token does not stop it; with --judge it does, as in run.
func TestLoadWithoutJudgeNeedsNoJudgeToken(t *testing.T) {
	t.Setenv("EVALRUN_UNSET_JUDGE_TOKEN", "")
	os.Unsetenv("EVALRUN_UNSET_JUDGE_TOKEN")
	p := writeSuite(t, `name: judged
provider: {type: opencx, base_url: sim}
judge: {base_url: "https://judge.invalid/v1", model: m, token: "${EVALRUN_UNSET_JUDGE_TOKEN}"}
conversations:
  - name: greets
    turns: [{user: Hello!, expect: {contains: demo, judge: "greets"}}]
`)
	if code, _, stderr := inProcess(t, "load", "--no-progress", "--vus", "1", "--duration", "300ms", p); code != exitOK {
		t.Errorf("load without --judge: exit %d, want 0\n%s", code, stderr)
	}
	if code, _, stderr := inProcess(t, "load", "--judge", "--no-progress", "--vus", "1", "--duration", "300ms", p); code != exitUsage || !strings.Contains(stderr, "EVALRUN_UNSET_JUDGE_TOKEN") {
		t.Errorf("load --judge: exit %d, want 2 naming the variable\n%s", code, stderr)
	}
}
