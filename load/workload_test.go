package load_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/suites"
)

// withLoad loads one suite file per section, a.yaml, b.yaml, ..., each
// with that load: section ("" for none), in that order.
func withLoad(t *testing.T, sections ...string) []*suites.Suite {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, sec := range sections {
		text := "name: s" + fmt.Sprint(i) + "\nprovider: {type: opencx, base_url: sim}\nconversations:\n  - name: c\n    turns: [{user: hi}]\n"
		if sec != "" {
			text += "load: " + sec + "\n"
		}
		p := filepath.Join(dir, string(rune('a'+i))+".yaml")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	ss, err := suites.LoadPaths(paths, suites.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

const sec = time.Second

func TestFromSuites(t *testing.T) {
	for _, c := range []struct {
		name     string
		sections []string
		want     load.Options
		err      string // with {a} and {b} for the files' paths
	}{
		{"no suite sets a load", []string{"", ""}, load.Options{}, ""},
		{"one suite's section", []string{`{rate: 5, stages: ["1s:50", "2s:10"], duration: 4s, max_in_flight: 7, grace: 5s}`},
			load.Options{Rate: 5, Stages: []load.Stage{{sec, 50}, {2 * sec, 10}}, Duration: 4 * sec, MaxInFlight: 7, Grace: 5 * sec}, ""},
		{"a closed model", []string{`{vus: 3, think_time: 100ms, duration: 1s}`},
			load.Options{VUs: 3, ThinkTime: 100 * time.Millisecond, Duration: sec}, ""},
		{"two suites add up their settings", []string{`{rate: 5}`, "", `{duration: 2s}`}, load.Options{Rate: 5, Duration: 2 * sec}, ""},
		{"two suites agreeing", []string{`{rate: 5, duration: 1s}`, `{rate: 5, duration: 1s}`}, load.Options{Rate: 5, Duration: sec}, ""},
		{"a grace of 0 is none", []string{`{grace: 0s}`}, load.Options{Grace: -1}, ""},
		{"two graces of 0 agree", []string{`{grace: 0s}`, `{grace: 0s}`}, load.Options{Grace: -1}, ""},
		// Whatever both suites say, the model is Validate's to judge.
		{"one suite open, one closed", []string{`{rate: 5}`, `{vus: 2}`}, load.Options{Rate: 5, VUs: 2}, ""},

		{"rates that differ", []string{`{rate: 5}`, `{rate: 6}`}, load.Options{}, "{b} sets load.rate differently from {a}; set it in one place, or with a flag"},
		{"users that differ", []string{`{vus: 5}`, `{vus: 6}`}, load.Options{}, "{b} sets load.vus differently from {a}"},
		{"durations that differ", []string{`{duration: 1s}`, `{duration: 2s}`}, load.Options{}, "{b} sets load.duration differently from {a}"},
		{"think times that differ", []string{`{think_time: 1s}`, `{think_time: 2s}`}, load.Options{}, "{b} sets load.think_time differently from {a}"},
		{"caps that differ", []string{`{max_in_flight: 1}`, `{max_in_flight: 2}`}, load.Options{}, "{b} sets load.max_in_flight differently from {a}"},
		{"graces that differ", []string{`{grace: 0s}`, `{grace: 5s}`}, load.Options{}, "{b} sets load.grace differently from {a}"},
		{"stages twice, even the same", []string{`{stages: ["1s:5"]}`, `{stages: ["1s:5"]}`}, load.Options{}, "{b} sets load.stages differently from {a}"},
		{"the third differs from the first", []string{`{rate: 5}`, "", `{rate: 6}`}, load.Options{}, "{c} sets load.rate differently from {a}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ss := withLoad(t, c.sections...)
			got, err := load.FromSuites(ss)
			if c.err != "" {
				want := c.err
				for i, s := range ss {
					want = strings.ReplaceAll(want, "{"+string(rune('a'+i))+"}", s.File)
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want %q", err, want)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	open := load.Options{Rate: 5, Stages: []load.Stage{{sec, 50}}, Duration: sec, MaxInFlight: 3, Grace: 5 * sec}
	closed := load.Options{VUs: 2, ThinkTime: 100 * time.Millisecond, Duration: sec, Grace: 5 * sec}
	for _, c := range []struct {
		name  string
		suite load.Options
		flags load.Flags
		want  load.Options
	}{
		{"nothing given keeps the suites'", open, load.Flags{}, open},
		{"a grace nobody set is the default, spelled out", load.Options{Rate: 1}, load.Flags{}, load.Options{Rate: 1, Grace: load.DefaultGrace}},
		{"a suite's grace of none stays", load.Options{Rate: 1, Grace: -1}, load.Flags{}, load.Options{Rate: 1, Grace: -1}},
		{"--grace wins", open, load.Flags{Grace: new(10 * sec)},
			load.Options{Rate: 5, Stages: open.Stages, Duration: sec, MaxInFlight: 3, Grace: 10 * sec}},
		{"--grace 0 asks for none", open, load.Flags{Grace: new(time.Duration(0))},
			load.Options{Rate: 5, Stages: open.Stages, Duration: sec, MaxInFlight: 3, Grace: -1}},
		{"--rate alone asks for a constant rate", open, load.Flags{Rate: new(8.0)},
			load.Options{Rate: 8, Duration: sec, MaxInFlight: 3, Grace: 5 * sec}},
		{"--rate with --stage ramps from it", open, load.Flags{Rate: new(8.0), Stages: []string{"2s:20", "1s:0"}},
			load.Options{Rate: 8, Stages: []load.Stage{{2 * sec, 20}, {sec, 0}}, Duration: sec, MaxInFlight: 3, Grace: 5 * sec}},
		{"--stage alone keeps the suite's starting rate", open, load.Flags{Stages: []string{"2s:20"}},
			load.Options{Rate: 5, Stages: []load.Stage{{2 * sec, 20}}, Duration: sec, MaxInFlight: 3, Grace: 5 * sec}},
		{"--duration and --max-in-flight win", open, load.Flags{Duration: new(3 * sec), MaxInFlight: new(9)},
			load.Options{Rate: 5, Stages: open.Stages, Duration: 3 * sec, MaxInFlight: 9, Grace: 5 * sec}},
		{"--vus and --think-time win", closed, load.Flags{VUs: new(4), ThinkTime: new(sec)},
			load.Options{VUs: 4, ThinkTime: sec, Duration: sec, Grace: 5 * sec}},

		// A flag for one model drops the suites' settings for the other.
		{"--vus drops the suite's rate, stages and cap", open, load.Flags{VUs: new(1), Duration: new(300 * time.Millisecond)},
			load.Options{VUs: 1, Duration: 300 * time.Millisecond, Grace: 5 * sec}},
		{"--rate drops the suite's users and think time", closed, load.Flags{Rate: new(5.0), Duration: new(300 * time.Millisecond)},
			load.Options{Rate: 5, Duration: 300 * time.Millisecond, Grace: 5 * sec}},
		{"--stage drops the suite's users and think time", closed, load.Flags{Stages: []string{"1s:5"}},
			load.Options{Stages: []load.Stage{{sec, 5}}, Duration: sec, Grace: 5 * sec}},
		// Flags that contradict each other stay, for Validate to refuse.
		{"--rate and --vus both stay", load.Options{}, load.Flags{Rate: new(5.0), VUs: new(2)},
			load.Options{Rate: 5, VUs: 2, Grace: load.DefaultGrace}},
		{"--rate and --think-time both stay", closed, load.Flags{Rate: new(5.0), ThinkTime: new(sec)},
			load.Options{Rate: 5, ThinkTime: sec, Duration: sec, Grace: 5 * sec}},
		{"--vus and --max-in-flight both stay", open, load.Flags{VUs: new(2), MaxInFlight: new(4)},
			load.Options{VUs: 2, MaxInFlight: 4, Duration: sec, Grace: 5 * sec}},
		// A setting of the other model from the suites stays when no flag
		// names a model: Validate refuses the suite's contradiction.
		{"no model flag keeps a contradiction", load.Options{Rate: 5, VUs: 2}, load.Flags{Duration: new(sec)},
			load.Options{Rate: 5, VUs: 2, Duration: sec, Grace: load.DefaultGrace}},
	} {
		t.Run(c.name, func(t *testing.T) {
			stages := append([]load.Stage(nil), c.suite.Stages...)
			got, err := c.suite.Override(c.flags)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, %v\nwant %+v", got, err, c.want)
			}
			if !reflect.DeepEqual(c.suite.Stages, stages) {
				t.Errorf("Override changed the stages it was given: %v, was %v", c.suite.Stages, stages)
			}
		})
	}
	for _, bad := range []struct{ stage, want string }{
		{"30s", `--stage "30s" is not DURATION:TARGET`},
		{"0s:5", `--stage "0s:5": the duration "0s" is not a positive duration`},
		{"1s:-5", `--stage "1s:-5": the target "-5" is not a rate`},
		{"1s:1e12", `--stage "1s:1e12": the target "1e12" is more than 100000`},
	} {
		if _, err := open.Override(load.Flags{Stages: []string{"1s:5", bad.stage}}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("--stage %s: err = %v, want %q", bad.stage, err, bad.want)
		}
	}
}

func TestShard(t *testing.T) {
	stages := []load.Stage{{sec, 30}, {2 * sec, 9}}
	for _, c := range []struct {
		name  string
		whole load.Options
		k, n  int
		want  load.Options
		err   string
	}{
		{"one shard is the whole", load.Options{Rate: 7, Stages: stages, MaxInFlight: 5}, 0, 1, load.Options{Rate: 7, Stages: stages, MaxInFlight: 5}, ""},
		{"rate and targets by n", load.Options{Rate: 9, Stages: stages, Duration: sec, Grace: sec}, 2, 3,
			load.Options{Rate: 3, Stages: []load.Stage{{sec, 10}, {2 * sec, 3}}, Duration: sec, Grace: sec, Slice: &load.Slice{K: 2, N: 3, Rate: 9, Stages: stages}}, ""},
		{"the cap's remainder to the first shards", load.Options{Rate: 9, MaxInFlight: 5}, 1, 3, load.Options{Rate: 3, MaxInFlight: 2, Slice: &load.Slice{K: 1, N: 3, Rate: 9}}, ""},
		{"the cap's last shard", load.Options{Rate: 9, MaxInFlight: 5}, 2, 3, load.Options{Rate: 3, MaxInFlight: 1, Slice: &load.Slice{K: 2, N: 3, Rate: 9}}, ""},
		{"users by n", load.Options{VUs: 10, ThinkTime: sec, Duration: sec}, 0, 2, load.Options{VUs: 5, ThinkTime: sec, Duration: sec}, ""},
		{"the users' remainder to the first shards", load.Options{VUs: 10}, 1, 4, load.Options{VUs: 3}, ""},
		{"the users' last shards", load.Options{VUs: 10}, 3, 4, load.Options{VUs: 2}, ""},
		{"one user each", load.Options{VUs: 4}, 2, 4, load.Options{VUs: 1}, ""},

		{"K past N", load.Options{Rate: 1}, 4, 4, load.Options{}, "--shard 4/4: want K/N with 0 <= K < N"},
		{"no shards", load.Options{Rate: 1}, 0, 0, load.Options{}, "--shard 0/0"},
		{"a negative K", load.Options{Rate: 1}, -1, 2, load.Options{}, "--shard -1/2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := append([]load.Stage(nil), c.whole.Stages...)
			got, err := c.whole.Shard(c.k, c.n)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, %v\nwant %+v", got, err, c.want)
			}
			if !reflect.DeepEqual(c.whole.Stages, before) {
				t.Errorf("Shard changed the whole's stages to %v", c.whole.Stages)
			}
		})
	}
	// A whole smaller than the shards is refused by every one of them, the
	// shards it would give a share too: they alone cannot be merged.
	for k := range 4 {
		for _, c := range []struct {
			whole load.Options
			want  string
		}{
			{load.Options{VUs: 3}, "3 virtual users cannot be split into 4 shards; give at least 4, or run at most 3 shards"},
			{load.Options{Rate: 10, MaxInFlight: 2}, "2 conversations in flight (--max-in-flight) cannot be split into 4 shards"},
		} {
			if _, err := c.whole.Shard(k, 4); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("--shard %d/4: %s", k, c.want)) {
				t.Errorf("%+v, shard %d/4: err = %v, want %q", c.whole, k, err, c.want)
			}
		}
	}
	// The whole-number shares add up to the whole, for every split that
	// leaves no shard without a share.
	for n := 1; n <= 9; n++ {
		for whole := n; whole <= 3*n+2; whole++ {
			vus, cap := 0, 0
			for k := range n {
				p, err := load.Options{VUs: whole}.Shard(k, n)
				if err != nil {
					t.Fatalf("%d users over %d, shard %d: %v", whole, n, k, err)
				}
				vus += p.VUs
				if p, err = (load.Options{Rate: 1, MaxInFlight: whole}).Shard(k, n); err != nil {
					t.Fatalf("a cap of %d over %d, shard %d: %v", whole, n, k, err)
				}
				cap += p.MaxInFlight
			}
			if vus != whole || cap != whole {
				t.Errorf("%d over %d shards: the users add up to %d, the caps to %d", whole, n, vus, cap)
			}
		}
	}
}

// Validate's wording is the command's: what is wrong, and the flag or key
// that would make it right.
func TestValidateModel(t *testing.T) {
	for _, c := range []struct {
		name string
		o    load.Options
		want string // the whole message; "" for valid
	}{
		{"open", load.Options{Rate: 5, Duration: sec}, ""},
		{"open by stages", load.Options{Stages: []load.Stage{{sec, 5}}}, ""},
		{"open with a cap", load.Options{Rate: 5, Duration: sec, MaxInFlight: 3}, ""},
		{"closed", load.Options{VUs: 2, Duration: sec, ThinkTime: sec}, ""},
		{"both models", load.Options{Rate: 5, VUs: 2, Duration: sec},
			"--rate/--stage (open model) and --vus (closed model) exclude each other; keep one"},
		{"stages and users", load.Options{Stages: []load.Stage{{sec, 5}}, VUs: 2},
			"--rate/--stage (open model) and --vus (closed model) exclude each other; keep one"},
		// The numbers first: each wrong one is a mistake of its own.
		{"a NaN rate and users", load.Options{Rate: math.NaN(), VUs: 2, Duration: sec},
			"rate NaN: want a number of new conversations per second, such as 50"},
		{"no load", load.Options{Duration: sec},
			"say how much load: --rate R (new conversations per second) or --vus N (virtual users), here or in a suite's load: section"},
		{"open, not how long", load.Options{Rate: 5},
			"say how long: --duration D (or --stage ramps, whose total is the duration)"},
		{"closed, not how long", load.Options{VUs: 2},
			"say how long: --duration D (or --stage ramps, whose total is the duration)"},
		{"stages that last nothing", load.Options{Stages: []load.Stage{{0, 5}}},
			"say how long: --duration D (or --stage ramps, whose total is the duration)"},
		{"a cap in the closed model", load.Options{VUs: 2, Duration: sec, MaxInFlight: 3},
			"--max-in-flight caps the open model; the closed model has --vus conversations in flight at most"},
		{"think time in the open model", load.Options{Rate: 5, Duration: sec, ThinkTime: sec},
			"--think-time paces the closed model's users; the open model (--rate/--stage) starts conversations on its own schedule"},
		{"a negative rate", load.Options{Rate: -3, Duration: sec}, "rate -3: want at least 0 new conversations per second"},
		{"a negative duration", load.Options{Rate: 1, Duration: -sec}, "duration -1s: want a duration of at least 0"},
		{"negative users", load.Options{VUs: -2, Duration: sec}, "vus -2: want at least 0 virtual users"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.Validate()
			if got := fmt.Sprint(err); (c.want == "" && err != nil) || (c.want != "" && got != c.want) {
				t.Errorf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
}

// Flags.Name renames the settings a flag gave after that flag, and leaves
// the suites' under their load: keys.
func TestFlagsName(t *testing.T) {
	bad := load.Options{Rate: math.NaN(), Duration: sec, MaxInFlight: -1, Grace: 1000 * time.Hour}
	all := load.Flags{Rate: new(math.NaN()), MaxInFlight: new(-1), Grace: new(1000 * time.Hour)}
	for _, c := range []struct {
		name    string
		flags   load.Flags
		sharded bool
		want    string
	}{
		{"from the suites", load.Flags{}, false,
			"rate NaN: want a number of new conversations per second, such as 50\nmax_in_flight -1: want at least 0 conversations in flight\ngrace 1000h0m0s: want at most 24h0m0s"},
		{"from flags", all, false,
			"--rate NaN: want a number of new conversations per second, such as 50\n--max-in-flight -1: want at least 0 conversations in flight\n--grace 1000h0m0s: want at most 24h0m0s"},
		{"some from flags", load.Flags{MaxInFlight: new(-1)}, false,
			"rate NaN: want a number of new conversations per second, such as 50\n--max-in-flight -1: want at least 0 conversations in flight\ngrace 1000h0m0s: want at most 24h0m0s"},
		{"a shard's part says so", all, true,
			"--rate NaN (this shard's part): want a number of new conversations per second, such as 50\n--max-in-flight -1 (this shard's part): want at least 0 conversations in flight\n--grace 1000h0m0s: want at most 24h0m0s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.flags.Name(bad.Validate(), c.sharded).Error(); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
	for _, o := range []load.Options{{Rate: 1, Duration: sec}, {Rate: 5, VUs: 5, Duration: sec}, {Stages: []load.Stage{{sec, math.Inf(1)}}}} {
		err := o.Validate()
		if got := all.Name(err, true); fmt.Sprint(got) != fmt.Sprint(err) {
			t.Errorf("%v renamed to %v", err, got)
		}
	}
}

// The command's steps together: the whole from the suites and flags, its
// part under --shard, and the bounds on the part.
func TestResolveWorkload(t *testing.T) {
	for _, c := range []struct {
		name     string
		sections []string
		flags    load.Flags
		k, n     int
		whole    load.Options
		part     load.Options
		err      string
	}{
		{"a suite's open test, sharded", []string{`{rate: 20, stages: ["10s:40"], max_in_flight: 5}`}, load.Flags{}, 0, 2,
			load.Options{Rate: 20, Stages: []load.Stage{{10 * sec, 40}}, MaxInFlight: 5, Grace: load.DefaultGrace},
			load.Options{Rate: 10, Stages: []load.Stage{{10 * sec, 20}}, MaxInFlight: 3, Grace: load.DefaultGrace,
				Slice: &load.Slice{K: 0, N: 2, Rate: 20, Stages: []load.Stage{{10 * sec, 40}}}}, ""},
		{"--vus over the suite's open test, sharded", []string{`{rate: 20, max_in_flight: 5, duration: 1s}`}, load.Flags{VUs: new(5)}, 1, 2,
			load.Options{VUs: 5, Duration: sec, Grace: load.DefaultGrace},
			load.Options{VUs: 2, Duration: sec, Grace: load.DefaultGrace}, ""},
		{"the bound holds per process", []string{""}, load.Flags{Rate: new(300000.0), Duration: new(sec)}, 0, 2,
			load.Options{}, load.Options{}, "--rate 150000 (this shard's part): want at most 100000 new conversations per second in one evalrun"},
		{"the whole may pass the bound", []string{""}, load.Flags{Rate: new(150000.0), Duration: new(sec)}, 0, 2,
			load.Options{Rate: 150000, Duration: sec, Grace: load.DefaultGrace},
			load.Options{Rate: 75000, Duration: sec, Grace: load.DefaultGrace, Slice: &load.Slice{K: 0, N: 2, Rate: 150000}}, ""},
		{"a suite's value keeps its key", []string{`{rate: 1, duration: 1s, max_in_flight: 100000}`}, load.Flags{MaxInFlight: new(200000)}, 0, 1,
			load.Options{}, load.Options{}, "--max-in-flight 200000: want at most 100000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			whole, err := load.FromSuites(withLoad(t, c.sections...))
			if err == nil {
				whole, err = whole.Override(c.flags)
			}
			part := whole
			if err == nil {
				part, err = whole.Shard(c.k, c.n)
			}
			if err == nil {
				err = c.flags.Name(part.Validate(), c.n > 1)
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(whole, c.whole) || !reflect.DeepEqual(part, c.part) {
				t.Errorf("got whole %+v, part %+v, %v\nwant whole %+v, part %+v", whole, part, err, c.whole, c.part)
			}
		})
	}
}
