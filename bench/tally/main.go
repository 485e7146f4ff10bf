// Command tally reads what bench/run.sh left in a folder (GNU time lines,
// evalrun and k6 JSON, the simulator's stats) and prints the figures as
// Markdown, each against its target.
//
//	go run ./bench/tally DIR
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/sim"
)

// Targets of issue 4.
const (
	cpuRatioTarget = 0.5 // evalrun's CPU per turn over k6's, at most
	rssTargetMB    = 96  // evalrun's peak RSS, at most
	accuracyTarget = 5.0 // % between evalrun's percentiles and the simulator's, at most
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tally DIR")
		os.Exit(2)
	}
	t := &tally{dir: os.Args[1], w: os.Stdout}
	t.machine()
	t.cpu()
	t.rss()
	t.accuracy()
	t.freeze()
}

type tally struct {
	dir string
	w   io.Writer
}

func (t *tally) printf(format string, args ...any) { fmt.Fprintf(t.w, format, args...) }

func (t *tally) path(name string) string { return filepath.Join(t.dir, name) }

func (t *tally) exists(name string) bool {
	_, err := os.Stat(t.path(name))
	return err == nil
}

// timing is one GNU time line: -f '%U %S %M %e'.
type timing struct {
	user, sys, wall float64
	rssKiB          int64
}

func (t *tally) timing(name string) (timing, error) {
	b, err := os.ReadFile(t.path(name + ".time"))
	if err != nil {
		return timing{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	// A non-zero exit adds a line before the format's.
	var tm timing
	if _, err := fmt.Sscanf(lines[len(lines)-1], "%f %f %d %f", &tm.user, &tm.sys, &tm.rssKiB, &tm.wall); err != nil {
		return timing{}, fmt.Errorf("%s.time: %q: %w", name, lines[len(lines)-1], err)
	}
	return tm, nil
}

func (tm timing) cpu() float64   { return tm.user + tm.sys }
func (tm timing) rssMB() float64 { return float64(tm.rssKiB) / 1024 }
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (t *tally) evalrun(name string) (*results.Run, error) {
	var run results.Run
	if err := readJSON(t.path(name+".json"), &run); err != nil {
		return nil, err
	}
	if run.Load == nil || run.Summary.Dropped == nil || run.Summary.ServiceLatencyMS == nil {
		return nil, fmt.Errorf("%s.json is not an evalrun load record", name)
	}
	return &run, nil
}

// k6Summary is what k6 --summary-export writes, as far as it is read here.
type k6Summary struct {
	Metrics map[string]map[string]float64 `json:"metrics"`
}

func (s k6Summary) get(metric, field string) float64 { return s.Metrics[metric][field] }

func (t *tally) k6(name string) (k6Summary, error) {
	var s k6Summary
	err := readJSON(t.path(name+".json"), &s)
	return s, err
}

// nethttpTurns reads the turns the bare client completed.
func (t *tally) nethttpTurns(name string) (int64, error) {
	b, err := os.ReadFile(t.path(name + ".out"))
	if err != nil {
		return 0, err
	}
	var turns, failures int64
	if _, err := fmt.Sscanf(string(b), "turns %d failures %d", &turns, &failures); err != nil {
		return 0, fmt.Errorf("%s.out: %w", name, err)
	}
	return turns, nil
}

func (t *tally) machine() {
	model, mem := "?", "?"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		for _, line := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kib); err == nil {
				mem = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
				break
			}
		}
	}
	k6 := "not run"
	if b, err := os.ReadFile(t.path("k6-version.txt")); err == nil {
		k6 = strings.TrimSpace(string(b))
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	t.printf("## Machine\n\n")
	t.printf("%s, %d CPUs (%s), %s memory, %s/%s; %s; k6: %s\n\n",
		time.Now().Format("2006-01-02"), runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, goVersion, k6)
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

func (t *tally) cpu() {
	if !t.exists("cpu-evalrun.time") {
		return
	}
	t.printf("## CPU per turn: 500 conversations/s of 3 turns for 20 s, immediate replies\n\n")
	t.printf("| client | turns | failed | user s | sys s | CPU µs/turn |\n|---|---:|---:|---:|---:|---:|\n")
	var evalrunPer, k6Per float64
	if tm, err := t.timing("cpu-evalrun"); err != nil {
		t.printf("| evalrun | %v | | | | |\n", err)
	} else if run, err := t.evalrun("cpu-evalrun"); err != nil {
		t.printf("| evalrun | %v | | | | |\n", err)
	} else {
		s := run.Summary
		evalrunPer = tm.cpu() / float64(s.Turns) * 1e6
		t.printf("| evalrun | %d | %d conv. | %.2f | %.2f | **%.0f** |\n", s.Turns, s.Failed+s.Errored+s.Unfinished+*s.Dropped, tm.user, tm.sys, evalrunPer)
	}
	if t.exists("cpu-k6.time") {
		if tm, err := t.timing("cpu-k6"); err != nil {
			t.printf("| k6 | %v | | | | |\n", err)
		} else if s, err := t.k6("cpu-k6"); err != nil {
			t.printf("| k6 | %v | | | | |\n", err)
		} else {
			turns := s.get("turns", "count")
			k6Per = tm.cpu() / turns * 1e6
			t.printf("| k6 | %.0f | %.0f checks, %.0f dropped | %.2f | %.2f | **%.0f** |\n", turns, s.get("checks", "fails"), s.get("dropped_iterations", "count"), tm.user, tm.sys, k6Per)
		}
	}
	if tm, err := t.timing("cpu-nethttp"); err == nil {
		if turns, err := t.nethttpTurns("cpu-nethttp"); err == nil {
			t.printf("| net/http alone (bench/nethttp) | %d | | %.2f | %.2f | %.0f |\n", turns, tm.user, tm.sys, tm.cpu()/float64(turns)*1e6)
		}
	}
	if evalrunPer > 0 && k6Per > 0 {
		r := evalrunPer / k6Per
		t.printf("\nevalrun / k6 = **%.2f**; target at most %.2f: %s\n\n", r, cpuRatioTarget, verdict(r <= cpuRatioTarget))
	} else {
		t.printf("\n")
	}
}

func (t *tally) rss() {
	if !t.exists("rss-evalrun.time") {
		return
	}
	t.printf("## Peak RSS: 700 conversations/s of 3 turns for 15 s, every reply after 1 s\n\n")
	t.printf("| client | conversations | dropped | in flight | peak RSS MB |\n|---|---:|---:|---:|---:|\n")
	if tm, err := t.timing("rss-evalrun"); err != nil {
		t.printf("| evalrun | %v | | | |\n", err)
	} else if run, err := t.evalrun("rss-evalrun"); err != nil {
		t.printf("| evalrun | %v | | | |\n", err)
	} else {
		s, l := run.Summary, run.Load
		// Little's law: arrivals per second times how long each stays.
		inFlight := l.AchievedRate * l.Conversation.ServiceMS.P50 / 1000
		ok := tm.rssMB() <= rssTargetMB && *s.Dropped == 0
		t.printf("| evalrun | %d (%d passed) | %d | ≈%.0f | **%.1f** |\n", s.Conversations, s.Passed, *s.Dropped, inFlight, tm.rssMB())
		defer t.printf("\nevalrun: target at most %d MB with none dropped: %s\n\n", rssTargetMB, verdict(ok))
	}
	if t.exists("rss-k6.time") {
		if tm, err := t.timing("rss-k6"); err != nil {
			t.printf("| k6 | %v | | | |\n", err)
		} else if s, err := t.k6("rss-k6"); err != nil {
			t.printf("| k6 | %v | | | |\n", err)
		} else {
			t.printf("| k6 (%.0f VUs) | %.0f | %.0f | | **%.1f** |\n", s.get("vus_max", "max"), s.get("iterations", "count"), s.get("dropped_iterations", "count"), tm.rssMB())
		}
	}
	if tm, err := t.timing("rss-nethttp"); err == nil {
		t.printf("| net/http alone (bench/nethttp) | | | | %.1f |\n", tm.rssMB())
	}
}

func (t *tally) accuracy() {
	if !t.exists("accuracy-evalrun.json") {
		return
	}
	t.printf("## Accuracy: 50 conversations/s for 30 s, replies lognormal (median 200 ms, σ 0.5)\n\n")
	run, err := t.evalrun("accuracy-evalrun")
	if err != nil {
		t.printf("%v\n\n", err)
		return
	}
	var st sim.Stats
	if err := readJSON(t.path("accuracy-sim.json"), &st); err != nil {
		t.printf("%v\n\n", err)
		return
	}
	send, ok := st.Routes["POST /chat/sessions/{id}/send"]
	if !ok {
		t.printf("the simulator counted no sends\n\n")
		return
	}
	ev := *run.Summary.ServiceLatencyMS
	t.printf("| ms | count | p50 | p90 | p95 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	t.printf("| evalrun service time, all turns | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", run.Summary.Turns, ev.P50, ev.P90, ev.P95, ev.P99, ev.P999, ev.Max)
	t.printf("| simulator, its sends | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", send.Count, send.P50, send.P90, send.P95, send.P99, send.P999, send.Max)
	diff := func(a, b float64) float64 { return (a - b) / b * 100 }
	worst := 0.0
	var cells []string
	for _, p := range [][2]float64{{ev.P50, send.P50}, {ev.P90, send.P90}, {ev.P95, send.P95}, {ev.P99, send.P99}, {ev.P999, send.P999}, {ev.Max, send.Max}} {
		d := diff(p[0], p[1])
		worst = math.Max(worst, math.Abs(d))
		cells = append(cells, fmt.Sprintf("%+.2f%%", d))
	}
	t.printf("| difference | | %s |\n", strings.Join(cells, " | "))
	for _, ts := range run.Load.Turns {
		s := ts.ServiceMS
		t.printf("| evalrun turn %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", ts.Index, ts.Count, s.P50, s.P90, s.P95, s.P99, s.P999, s.Max)
	}
	t.printf("\nLargest difference %.2f%%; target at most %.0f%%: %s\n\n", worst, accuracyTarget, verdict(worst <= accuracyTarget && int64(run.Summary.Turns) == send.Count))
}

func (t *tally) freeze() {
	if !t.exists("freeze-evalrun.json") {
		return
	}
	t.printf("## Coordinated omission: a 2 s freeze 8 s into 20 s at 50 conversations/s, --max-in-flight 20, replies after 20 ms\n\n")
	run, err := t.evalrun("freeze-evalrun")
	if err != nil {
		t.printf("%v\n\n", err)
		return
	}
	var st sim.Stats
	if err := readJSON(t.path("freeze-sim.json"), &st); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.printf("%v\n\n", err)
	}
	s, l := run.Summary, run.Load
	co, svc := s.LatencyMS, *s.ServiceLatencyMS
	t.printf("| all turns, ms | p50 | p90 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n")
	t.printf("| latency from the due time (evalrun's p99) | %.1f | %.1f | %.1f | **%.1f** | %.1f |\n", co.P50, co.P90, co.P95, co.P99, co.Max)
	t.printf("| service time from the send | %.1f | %.1f | %.1f | **%.1f** | %.1f |\n", svc.P50, svc.P90, svc.P95, svc.P99, svc.Max)
	t.printf("| simulator, all requests | %.1f | %.1f | %.1f | %.1f | %.1f |\n", st.All.P50, st.All.P90, st.All.P95, st.All.P99, st.All.Max)
	visible := co.P99 >= 1000 && svc.P99 < co.P99/2
	t.printf("\n%d conversations started, %d late, %d dropped. The freeze shows in p99 (≥ 1 s) while the service p99 stays below half of it: %s\n\n",
		l.Started, l.Late, l.Dropped, verdict(visible))
}
