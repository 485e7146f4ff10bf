package load_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/suites"
)

// identityInputs is one test's suites, whole workload and setup.
type identityInputs struct {
	ss    []*suites.Suite
	whole load.Options
	setup load.Setup
}

func baseIdentity() identityInputs {
	return identityInputs{
		ss: []*suites.Suite{
			{Name: "billing", File: "/mnt/a/billing.yaml", Digest: strings.Repeat("a", 64)},
			{Name: "greeting", File: "/mnt/a/greeting.yaml", Digest: strings.Repeat("b", 64)},
		},
		whole: load.Options{Rate: 40, Stages: []load.Stage{{Duration: time.Minute, Target: 80}}, Duration: 5 * time.Minute, MaxInFlight: 100, Grace: 10 * time.Second},
		setup: load.Setup{BaseURL: "https://bot.example", Thresholds: []string{"turn_latency.p95<2s", "error_rate<0.01"}},
	}
}

func (in identityInputs) identify() load.Identity { return load.Identify(in.ss, in.whole, in.setup) }

// Identify is pure, covers every setting of what is sent and judged, and
// nothing else.
func TestIdentify(t *testing.T) {
	base := baseIdentity().identify()
	if again := baseIdentity().identify(); again != base {
		t.Fatalf("the same inputs gave %+v, then %+v", base, again)
	}
	hex := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	for _, d := range []string{base.Digest, base.SuitesDigest, base.WorkloadDigest} {
		if !hex.MatchString(d) {
			t.Errorf("digest %q, want sha256: and 64 hex digits", d)
		}
	}
	if base.SuitesDigest == base.WorkloadDigest || base.Digest == base.SuitesDigest || base.Digest == base.WorkloadDigest {
		t.Errorf("digests coincide: %+v", base)
	}
	if want := "t-" + strings.TrimPrefix(base.Digest, "sha256:")[:12]; base.ID != want {
		t.Errorf("derived id %q, want %q", base.ID, want)
	}
	if err := load.CheckTestID(base.ID); err != nil {
		t.Errorf("derived id %q: %v", base.ID, err)
	}
	if want := "open 40/s then 1m0s to 80/s for 5m0s, at most 100 in flight, grace 10s"; base.Workload != want {
		t.Errorf("workload %q, want %q", base.Workload, want)
	}

	// Each of these changes what is sent or judged, so the workload's
	// digest (or the suites') and the digest.
	closed := func(in *identityInputs) {
		in.whole = load.Options{VUs: 20, Duration: time.Minute, ThinkTime: time.Second}
	}
	for _, c := range []struct {
		name   string
		change func(*identityInputs)
		suites bool // the suites' digest changes, not the workload's
	}{
		{"rate", func(in *identityInputs) { in.whole.Rate = 41 }, false},
		{"stage target", func(in *identityInputs) { in.whole.Stages[0].Target = 81 }, false},
		{"stage duration", func(in *identityInputs) { in.whole.Stages[0].Duration = 2 * time.Minute }, false},
		{"another stage", func(in *identityInputs) {
			in.whole.Stages = append(in.whole.Stages, load.Stage{Duration: time.Minute, Target: 80})
		}, false},
		{"duration", func(in *identityInputs) { in.whole.Duration = 6 * time.Minute }, false},
		{"max in flight", func(in *identityInputs) { in.whole.MaxInFlight = 101 }, false},
		{"grace", func(in *identityInputs) { in.whole.Grace = -1 }, false},
		{"closed model", closed, false},
		{"vus", func(in *identityInputs) { closed(in); in.whole.VUs = 21 }, false},
		{"think time", func(in *identityInputs) { closed(in); in.whole.ThinkTime = 2 * time.Second }, false},
		{"base URL", func(in *identityInputs) { in.setup.BaseURL = "sim" }, false},
		{"judge", func(in *identityInputs) { in.setup.Judge = true }, false},
		{"a threshold more", func(in *identityInputs) { in.setup.Thresholds = append(in.setup.Thresholds, "pass_rate>0.9") }, false},
		{"a threshold less", func(in *identityInputs) { in.setup.Thresholds = in.setup.Thresholds[:1] }, false},
		{"a suite's content", func(in *identityInputs) { in.ss[0].Digest = strings.Repeat("c", 64) }, true},
		{"a suite's name", func(in *identityInputs) { in.ss[0].Name = "billing-2" }, true},
		{"a suite less", func(in *identityInputs) { in.ss = in.ss[:1] }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := baseIdentity()
			c.change(&in)
			got := in.identify()
			if got.Digest == base.Digest || got.ID == base.ID {
				t.Errorf("digest %s and id %s unchanged", got.Digest, got.ID)
			}
			if changed := got.SuitesDigest != base.SuitesDigest; changed != c.suites {
				t.Errorf("suites' digest changed: %t, want %t", changed, c.suites)
			}
			if changed := got.WorkloadDigest != base.WorkloadDigest; changed == c.suites {
				t.Errorf("workload's digest changed: %t, want %t", changed, !c.suites)
			}
		})
	}

	// These do not change what is sent: paths (pods mount the suites
	// elsewhere), the order of suites and thresholds, a threshold given
	// twice, the progress and record settings, and the default grace
	// period said in two ways.
	for _, c := range []struct {
		name   string
		change func(*identityInputs)
	}{
		{"paths", func(in *identityInputs) { in.ss[0].File, in.ss[1].File = "billing.yaml", "x/greeting.yaml" }},
		{"suite order", func(in *identityInputs) { in.ss[0], in.ss[1] = in.ss[1], in.ss[0] }},
		{"threshold order", func(in *identityInputs) {
			in.setup.Thresholds = []string{in.setup.Thresholds[1], in.setup.Thresholds[0], in.setup.Thresholds[1]}
		}},
		{"progress and record", func(in *identityInputs) {
			in.whole.OnTick, in.whole.SampleLimit, in.whole.RunID = func(load.Snapshot) {}, 3, "r-1"
			in.whole.OnStart = func(time.Time) {}
		}},
	} {
		t.Run("same "+c.name, func(t *testing.T) {
			in := baseIdentity()
			c.change(&in)
			if got := in.identify(); got != base {
				t.Errorf("identity %+v, want %+v", got, base)
			}
		})
	}
	dflt, explicit := baseIdentity(), baseIdentity()
	dflt.whole.Grace, explicit.whole.Grace = 0, load.DefaultGrace
	if a, b := dflt.identify(), explicit.identify(); a != b {
		t.Errorf("grace 0 (the default) and %s: %+v and %+v", load.DefaultGrace, a, b)
	}

	// A planned start names the test, without changing its digests; an id
	// given is kept as it is.
	at := baseIdentity()
	at.whole.StartAt = time.Date(2026, 12, 1, 11, 30, 5, 0, time.FixedZone("CET", 3600))
	got := at.identify()
	if want := base.ID + "-20261201t103005"; got.ID != want || got.Digest != base.Digest {
		t.Errorf("with --start-at: id %q, digest %s; want %q, %s", got.ID, got.Digest, want, base.Digest)
	}
	if err := load.CheckTestID(got.ID); err != nil {
		t.Errorf("derived id %q: %v", got.ID, err)
	}
	at.setup.TestID = "nightly-42"
	if got := at.identify(); got.ID != "nightly-42" || got.Digest != base.Digest {
		t.Errorf("given id: %q, digest %s", got.ID, got.Digest)
	}
}

func TestWorkloadText(t *testing.T) {
	for _, c := range []struct {
		opts load.Options
		want string
	}{
		{load.Options{Rate: 40, Duration: 5 * time.Minute}, "open 40/s for 5m0s, grace 30s"},
		{load.Options{Rate: 2.5, Stages: []load.Stage{{Duration: 30 * time.Second, Target: 10}}, Grace: -1}, "open 2.5/s then 30s to 10/s for 30s, grace 0s"},
		{load.Options{VUs: 20, Duration: time.Minute, ThinkTime: time.Second, Grace: time.Second}, "closed 20 vus for 1m0s, think 1s, grace 1s"},
	} {
		if got := load.WorkloadText(c.opts); got != c.want {
			t.Errorf("%+v: %q, want %q", c.opts, got, c.want)
		}
	}
}

func TestCheckTestID(t *testing.T) {
	for _, ok := range []string{"a", "0", "nightly-42", "t-0123456789ab-20261201t103005", strings.Repeat("x", 63)} {
		if err := load.CheckTestID(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, c := range []struct{ id, want string }{
		{"", "empty"},
		{strings.Repeat("x", 64), "64 characters"},
		{"Nightly", `'N' at 1`},
		{"a_b", `'_' at 2`},
		{"a/b", `'/' at 2`},
		{"a b", `' ' at 2`},
		{"-a", "begins or ends with '-'"},
		{"a-", "begins or ends with '-'"},
		{"é", "at 1"},
	} {
		err := load.CheckTestID(c.id)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Kubernetes label") {
			t.Errorf("%q: %v, want an error that says %q and what is wanted", c.id, err, c.want)
		}
	}
}
