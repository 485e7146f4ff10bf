package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// readFullRun reads a record whole, as results holds it.
func readFullRun(t *testing.T, path string) *results.Run {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r results.Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// tokenSuite reads its token from the environment: shards with different
// tokens run the same test.
const tokenSuite = `name: l
provider: {type: opencx, base_url: "sim", token: "${EVALRUN_IDENTITY_TOKEN}"}
conversations:
  - name: two turns
    turns:
      - user: hello
        expect: {contains: hello}
      - user: how long does shipping take?
        expect: {contains: business days}
`

// Every load record says which test it belongs to and which shard it is;
// shards of one test agree on the test whatever the suite's path or token,
// and a test of other suites or another workload differs.
func TestLoadRecordsNameTheirTest(t *testing.T) {
	dir := t.TempDir()
	suiteAt := func(sub string) string {
		p := filepath.Join(dir, sub, "l.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, tokenSuite)
		return p
	}
	a, b := suiteAt("a"), suiteAt("mnt/b")
	loadRun := func(name, suite, token string, extra ...string) *results.Run {
		t.Helper()
		t.Setenv("EVALRUN_IDENTITY_TOKEN", token)
		js := filepath.Join(dir, name+".json")
		args := append([]string{"load", "--no-progress", "--rate", "20", "--duration", "200ms", "--grace", "5s",
			"--threshold", "error_rate<0.01", "--json", js}, extra...)
		if code, out, errOut := inProcess(t, append(args, suite)...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", name, code, out, errOut)
		}
		return readFullRun(t, js)
	}
	s0 := loadRun("s0", a, "tok-1", "--shard", "0/2")
	s1 := loadRun("s1", b, "tok-2", "--shard", "1/2")
	whole := loadRun("whole", a, "tok-1")
	for _, r := range []*results.Run{s0, s1, whole} {
		tt := r.Test
		if tt == nil {
			t.Fatalf("run %s has no test", r.RunID)
		}
		if tt.Version == "" || tt.Workload != "open 20/s for 200ms, grace 5s" || tt.PlannedStart != nil || tt.LateMS != 0 || tt.RanMS != 0 ||
			tt.Start.IsZero() || tt.End.Before(tt.Start) || !strings.HasPrefix(tt.ID, "t-") {
			t.Errorf("run %s: test %+v", r.RunID, tt)
		}
		if strings.Contains(mustJSON(t, r), "tok-") {
			t.Errorf("run %s: the token is in the record", r.RunID)
		}
	}
	ident := func(tt *results.Test) [5]string {
		return [5]string{tt.ID, tt.Digest, tt.SuitesDigest, tt.WorkloadDigest, tt.Workload}
	}
	if ident(s0.Test) != ident(s1.Test) || ident(s0.Test) != ident(whole.Test) {
		t.Errorf("shards and the whole run name different tests:\n%v\n%v\n%v", ident(s0.Test), ident(s1.Test), ident(whole.Test))
	}
	if !reflect.DeepEqual(s0.Shard, &results.Shard{Index: 0, Count: 2}) || !reflect.DeepEqual(s1.Shard, &results.Shard{Index: 1, Count: 2}) || whole.Shard != nil {
		t.Errorf("shards %+v, %+v, %+v; want 0/2, 1/2 and none", s0.Shard, s1.Shard, whole.Shard)
	}

	// Another workload, base URL, threshold or suite is another test.
	for _, c := range []struct {
		name  string
		args  []string
		suite string // the suite's text, when not tokenSuite
	}{
		{"rate", []string{"--rate", "21"}, ""},
		{"base url", []string{"--base-url", "sim"}, ""},
		{"threshold", []string{"--threshold", "dropped==0"}, ""},
		{"suite", nil, strings.Replace(tokenSuite, "hello\n", "hello there\n", 1)},
	} {
		p := a
		if c.suite != "" {
			p = filepath.Join(dir, "other.yaml")
			writeFile(t, p, c.suite)
		}
		r := loadRun("other-"+strings.ReplaceAll(c.name, " ", "-"), p, "tok-1", c.args...)
		if r.Test.Digest == whole.Test.Digest || r.Test.ID == whole.Test.ID {
			t.Errorf("%s: same test %s as the whole run", c.name, r.Test.ID)
		}
		if (c.suite != "") != (r.Test.SuitesDigest != whole.Test.SuitesDigest) || (c.suite != "") == (r.Test.WorkloadDigest != whole.Test.WorkloadDigest) {
			t.Errorf("%s: suites digest %s, workload digest %s; the whole run's %s, %s", c.name, r.Test.SuitesDigest, r.Test.WorkloadDigest, whole.Test.SuitesDigest, whole.Test.WorkloadDigest)
		}
	}

	// An id given names the test as given.
	if r := loadRun("named", a, "tok-1", "--test-id", "nightly-42"); r.Test.ID != "nightly-42" || r.Test.Digest != whole.Test.Digest {
		t.Errorf("--test-id nightly-42: test %+v", r.Test)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTestIDAndStartAtRefused(t *testing.T) {
	p := writeSuite(t, loadSuite)
	for _, c := range []struct {
		flag, value, want string
	}{
		{"--test-id", "Nightly", `--test-id "Nightly": 'N' at 1`},
		{"--test-id", "a_b", "Kubernetes label"},
		{"--test-id", "-a", "begins or ends with '-'"},
		{"--test-id", strings.Repeat("a", 64), "64 characters"},
		{"--start-at", "10:30", `--start-at "10:30": want an RFC 3339 time`},
		{"--start-at", "2026-12-01T10:30:00", "with its zone"},
		{"--start-at", "+soon", `"+soon": want +D`},
		{"--start-at", "+48h", "at most 24h0m0s ahead"},
	} {
		code, _, errOut := inProcess(t, "load", "--rate", "5", "--duration", "1s", c.flag, c.value, p)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%s %q: exit %d, stderr %q; want 2 and %q", c.flag, c.value, code, errOut, c.want)
		}
	}
}

// A shard records and shows its thresholds and its failed conversations,
// but exits 0: its slice is not the test. merge judges the whole, and
// fails it.
func TestShardsDoNotJudgeTheirSlice(t *testing.T) {
	p := writeSuite(t, twoTurnSuite) // one of its two conversations fails
	dir := t.TempDir()
	crossed := "turn_latency.max<1us"
	shard := func(k string) (string, int, string, string) {
		js := filepath.Join(dir, "shard"+k+".json")
		code, out, errOut := inProcess(t, "load", "--no-progress", "--rate", "20", "--duration", "300ms", "--grace", "5s",
			"--shard", k+"/2", "--threshold", crossed, "--json", js, p)
		return js, code, out, errOut
	}
	var wg sync.WaitGroup
	type got struct {
		js, out, errOut string
		code            int
	}
	gots := make([]got, 2)
	for i, k := range []string{"0", "1"} {
		wg.Add(1)
		go func() { // side by side, as shards run
			defer wg.Done()
			js, code, out, errOut := shard(k)
			gots[i] = got{js, out, errOut, code}
		}()
	}
	wg.Wait()
	failed := 0
	for i, g := range gots {
		if g.code != exitOK || !strings.Contains(g.out, "FAIL") {
			t.Errorf("shard %d: exit %d; want 0 with the threshold shown failed\n%s%s", i, g.code, g.out, g.errOut)
		}
		if want := "evalrun: shard " + []string{"0", "1"}[i] + "/2: thresholds are judged by merge on the whole test"; !strings.Contains(g.errOut, want) {
			t.Errorf("shard %d: stderr lacks %q:\n%s", i, want, g.errOut)
		}
		r := readFullRun(t, g.js)
		if len(r.Load.Thresholds) != 1 || r.Load.Thresholds[0].Passed {
			t.Errorf("shard %d: thresholds %+v; want the crossed threshold recorded", i, r.Load.Thresholds)
		}
		failed += r.Summary.Failed
	}
	// Each shard plays the conversations the whole test plays at its
	// starts: with two conversations over two shards, shard 1 plays the
	// failing one, and records its failures.
	if failed == 0 {
		t.Error("no shard recorded the failed conversations")
	}

	// Without --shard, the same run fails, on the threshold or, with none,
	// on its failed conversations.
	if code, out, errOut := inProcess(t, "load", "--no-progress", "--rate", "20", "--duration", "100ms", "--threshold", crossed, p); code != exitFailed || strings.Contains(errOut, "judged by merge") {
		t.Errorf("a whole run with a crossed threshold: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := inProcess(t, "load", "--no-progress", "--rate", "20", "--duration", "100ms", p); code != exitFailed {
		t.Errorf("a whole run with failed conversations: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := inProcess(t, "load", "--no-progress", "--rate", "20", "--duration", "100ms", "--shard", "1/2", "--json", filepath.Join(dir, "failing.json"), p); code != exitOK {
		t.Errorf("a shard with failed conversations: exit %d\n%s", code, errOut)
	}

	// merge judges the whole test.
	code, out, errOut := inProcess(t, "merge", "--json", filepath.Join(dir, "merged.json"), gots[0].js, gots[1].js)
	if code != exitFailed || !strings.Contains(out, "FAIL") || strings.Contains(errOut, "judged by merge") {
		t.Errorf("merge: exit %d; want 1 on the crossed threshold\n%s%s", code, out, errOut)
	}
}

// options returns the whole test's workload, the same for every shard and
// for no shard, beside this process's part; a shard's part divides the
// stages' targets without touching the whole's.
func TestOptionsKeepTheWholeWorkload(t *testing.T) {
	ss := []*suites.Suite{{Name: "s", Conversations: []*suites.Conversation{{Name: "c"}}}}
	flags := func(shard string) *loadFlags {
		return &loadFlags{set: map[string]bool{"rate": true, "stage": true, "max-in-flight": true}, rate: 8, stages: repeated{"10s:40", "20s:40"}, maxInFlight: 10, grace: load.DefaultGrace, shard: shard}
	}
	want, _, err := flags("").options(ss)
	if err != nil {
		t.Fatal(err)
	}
	if want.Rate != 8 || len(want.Stages) != 2 || want.Stages[0].Target != 40 || want.MaxInFlight != 10 {
		t.Fatalf("whole %+v", want)
	}
	id := load.Identify(ss, want, load.Setup{})
	for _, sh := range []string{"0/4", "3/4"} {
		whole, part, err := flags(sh).options(ss)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(whole, want) || load.Identify(ss, whole, load.Setup{}) != id {
			t.Errorf("--shard %s: whole %+v, want %+v", sh, whole, want)
		}
		if part.Rate != 2 || part.Stages[0].Target != 10 || part.Stages[1].Target != 10 || whole.Stages[0].Target != 40 {
			t.Errorf("--shard %s: part %+v of whole %+v", sh, part, whole)
		}
	}
}
