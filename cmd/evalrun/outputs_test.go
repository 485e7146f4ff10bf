package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/evalrun/evalrun/internal/term"
)

const simSuite = "provider: {type: opencx, base_url: sim}\nconversations:\n  - name: hello\n    turns: [{user: hello}]\n"

// inProcess runs evalrun with test streams and returns the exit code,
// stdout and stderr.
func inProcess(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	streams, out, errOut := term.Test()
	code := Main(context.Background(), args, streams)
	return code, out.String(), errOut.String()
}

// TestReportPathThatIsAnInputIsRefused covers `evalrun run --json g/*.yaml`,
// where the shell puts the first suite after --json, and every other way a
// report path can lead to an input: exit 2, nothing sent, inputs unchanged.
func TestReportPathThatIsAnInputIsRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":"s"}`))
	}))
	defer srv.Close()
	g := t.TempDir()
	suite := "provider: {type: opencx, base_url: " + srv.URL + "}\nconversations:\n  - name: a\n    turns: [{user: hi}]\n"
	a, b := filepath.Join(g, "a.yaml"), filepath.Join(g, "b.yaml")
	writeFile(t, a, strings.Replace(suite, "name: a", "name: first", 1))
	writeFile(t, b, suite)
	link := filepath.Join(g, "link.json")
	if err := os.Symlink("b.yaml", link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(g, "hard.json")
	if err := os.Link(b, hard); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{a: read(t, a), b: read(t, b)}

	for name, args := range map[string][]string{
		"a glob right after --json":    {"run", "--json", a, b},
		"a glob right after --junit":   {"run", "--junit", a, b},
		"an input as the report":       {"run", "--json", b, b},
		"an input spelt otherwise":     {"run", "--json", g + "/./b.yaml", b},
		"a symlink to an input":        {"run", "--json", link, b},
		"a hard link to an input":      {"run", "--junit", hard, b},
		"load: an input as the report": {"load", "--vus", "1", "--duration", "1s", "--json", b, b},
		"load: a glob":                 {"load", "--vus", "1", "--duration", "1s", "--json", a, b},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := inProcess(t, args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2: %s", code, errOut)
			}
			if !strings.Contains(errOut, "never overwrites") {
				t.Errorf("the message should say why: %s", errOut)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("a refused report path must send nothing; the server saw %d requests", hits.Load())
	}
	for path, text := range before {
		if read(t, path) != text {
			t.Errorf("%s was changed", path)
		}
	}
}

func TestTwoReportsAtOneFileAreRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	writeFile(t, p, simSuite)
	out := filepath.Join(dir, "r.out")
	writeFile(t, out, "earlier")
	hard := filepath.Join(dir, "hard.out")
	if err := os.Link(out, hard); err != nil {
		t.Fatal(err)
	}
	sym := filepath.Join(dir, "sym.out")
	if err := os.Symlink("r.out", sym); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for name, pair := range map[string][2]string{
		"./a.json and a.json":   {"./a.json", "a.json"},
		"absolute and relative": {filepath.Join(dir, "a.json"), "a.json"},
		"a hard link":           {out, hard},
		"a symlink":             {sym, out},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := inProcess(t, "run", "--junit", pair[0], "--json", pair[1], p)
			if code != exitUsage || !strings.Contains(errOut, "are the same file") {
				t.Fatalf("exit %d, want 2 naming both: %s", code, errOut)
			}
			if _, err := os.Stat("a.json"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused run must create no report: %v", err)
			}
		})
	}
	if read(t, out) != "earlier" {
		t.Error("a refused run must leave an existing file alone")
	}
}

func TestReportCommandRefusesToOverwriteItsRecord(t *testing.T) {
	dir := t.TempDir()
	p, js := filepath.Join(dir, "s.yaml"), filepath.Join(dir, "r.json")
	writeFile(t, p, simSuite)
	if code, _, errOut := inProcess(t, "run", "--no-progress", "--json", js, p); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	record := read(t, js)
	for _, args := range [][]string{{"report", js, "--json", js}, {"merge", "--json", js, js}} {
		if code, _, errOut := inProcess(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
	if read(t, js) != record {
		t.Error("the record was changed")
	}
}

// TestReportsAppearOnlyWhenComplete holds the bot's answer until the test
// has looked at the report paths: while the run is going nothing is there
// but a temporary file, and afterwards only the complete reports are.
func TestReportsAppearOnlyWhenComplete(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	if err := os.Mkdir(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	junit, js := filepath.Join(reports, "j.xml"), filepath.Join(reports, "r.json")
	looked := make(chan struct{})
	var during []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chat/sessions" {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"s1"}`))
			return
		}
		es, _ := os.ReadDir(reports)
		for _, e := range es {
			during = append(during, e.Name())
		}
		close(looked)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"success":true,"autopilotResponse":{"type":"text","value":{"error":false,"content":"hi"}}}`))
	}))
	defer srv.Close()
	p := filepath.Join(dir, "s.yaml")
	writeFile(t, p, "provider: {type: opencx, base_url: "+srv.URL+"}\nconversations:\n  - name: a\n    turns: [{user: hi}]\n")
	code, _, errOut := inProcess(t, "run", "--no-progress", "--junit", junit, "--json", js, p)
	<-looked
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(during) != 2 {
		t.Fatalf("during the run the folder should hold two temporary files, has %v", during)
	}
	for _, name := range during {
		if name == "j.xml" || name == "r.json" || !strings.HasSuffix(name, ".tmp") {
			t.Errorf("during the run %s was there; a report may appear only when complete", name)
		}
	}
	es, _ := os.ReadDir(reports)
	if len(es) != 2 {
		t.Errorf("temporary files left behind: %v", es)
	}
	assertComplete(t, junit, js)
}

func assertComplete(t *testing.T, junit, js string) {
	t.Helper()
	var record struct{ Schema string }
	if err := json.Unmarshal([]byte(read(t, js)), &record); err != nil || record.Schema != "evalrun/v1" {
		t.Errorf("%s is not a complete record: %v", js, err)
	}
	if err := xml.Unmarshal([]byte(read(t, junit)), new(struct{})); err != nil {
		t.Errorf("%s is not complete XML: %v", junit, err)
	}
}

// brokenPipe is a stdout whose reader went away, as after `| head`.
type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }

func TestBrokenStdoutStillWritesTheReports(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	writeFile(t, p, simSuite)
	for _, cmd := range []string{"run", "load"} {
		t.Run(cmd, func(t *testing.T) {
			junit, js := filepath.Join(dir, cmd+".xml"), filepath.Join(dir, cmd+".json")
			streams, _, errOut := term.Test()
			streams.Out = brokenPipe{}
			args := []string{cmd, "--no-progress", "--junit", junit, "--json", js, p}
			if cmd == "load" {
				args = append(args[:1], append([]string{"--vus", "1", "--duration", "200ms"}, args[1:]...)...)
			}
			code := Main(context.Background(), args, streams)
			if code != exitTrouble || !strings.Contains(errOut.String(), "broken pipe") {
				t.Errorf("exit %d, want %d and the error on stderr: %s", code, exitTrouble, errOut)
			}
			assertComplete(t, junit, js)
		})
	}
}
