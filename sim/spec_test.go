package sim

import (
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Options
	}{
		{"", Options{}},
		{"latency=300ms", Options{Latency: 300 * time.Millisecond}},
		{"latency=uniform:100ms:500ms", Options{LatencyDist: Uniform{100 * time.Millisecond, 500 * time.Millisecond}}},
		{"latency=lognormal:200ms:0.5", Options{LatencyDist: Lognormal{200 * time.Millisecond, 0.5}}},
		{"fault=503:0.1&fault=drop:0.05&fault=429:0", Options{Faults: []Fault{{Fault503, 0.1}, {FaultDrop, 0.05}, {Fault429, 0}}}},
		{"fault=hang:1", Options{Faults: []Fault{{FaultHang, 1}}}},
		{"retry_after=3&retry_after_date=1", Options{RetryAfter: 3 * time.Second, RetryAfterDate: true}},
		{"retry_after=2s&retry_after_date=false", Options{RetryAfter: 2 * time.Second}},
		{"oversize_bytes=4096", Options{OversizeBytes: 4096}},
		{"oversize_bytes=11MiB", Options{OversizeBytes: 11 << 20}},
		{"oversize_bytes=512KiB", Options{OversizeBytes: 512 << 10}},
		{"shape=id-only&history_delay=250ms", Options{Shape: ShapeIDOnly, HistoryDelay: 250 * time.Millisecond}},
		{"shape=id-only&history_ids=none", Options{Shape: ShapeIDOnly, HistoryIDs: HistoryIDsNone}},
		{"history_ids=unrelated", Options{HistoryIDs: HistoryIDsUnrelated}},
		{"history_ids=same", Options{HistoryIDs: HistoryIDsSame}},
		{"idle=90s", Options{Idle: 90 * time.Second}},
		{"idle=never", Options{Idle: -1}},
		{"shape=flat", Options{Shape: ShapeFlat}},
		{"shape=data", Options{Shape: ShapeData}},
		{"shape=legacy", Options{Shape: ShapeLegacy}},
		{"flaky=0.3&seed=7", Options{Flaky: 0.3, Seed: 7}},
		{"token=ocx%20live&", Options{Token: "ocx live"}},
		{"latency=lognormal%3A200ms%3A0.5&fault=503:0.1&shape=id-only&seed=7", Options{
			LatencyDist: Lognormal{200 * time.Millisecond, 0.5}, Faults: []Fault{{Fault503, 0.1}}, Shape: ShapeIDOnly, Seed: 7,
		}},
	} {
		got, err := ParseSpec(tc.spec)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSpec(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	const latencyWant = "want a duration such as 300ms, uniform:MIN:MAX such as uniform:100ms:500ms, or lognormal:MEDIAN:SIGMA such as lognormal:200ms:0.5"
	const faultWant = "want KIND:RATE, KIND one of 500, 502, 503, 429, drop, malformed, oversize, hang and RATE from 0 to 1, such as 503:0.1"
	for _, tc := range []struct{ spec, want string }{
		{"latancy=1s", `sim spec: unknown parameter "latancy"; want one of latency, fault, retry_after, retry_after_date, oversize_bytes, shape, history_delay, history_ids, flaky, judge_shape, seed, token, idle, admin`},
		{"latency", "sim spec: latency has no value; want latency=VALUE, VALUE a duration such as 300ms, uniform:MIN:MAX such as uniform:100ms:500ms, or lognormal:MEDIAN:SIGMA such as lognormal:200ms:0.5"},
		{"latency=fast", "sim spec: latency=fast: " + latencyWant},
		{"latency=-1s", "sim spec: latency=-1s: " + latencyWant},
		{"latency=uniform:500ms:100ms", "sim spec: latency=uniform:500ms:100ms: " + latencyWant},
		{"latency=uniform:100ms", "sim spec: latency=uniform:100ms: " + latencyWant},
		{"latency=lognormal:200ms", "sim spec: latency=lognormal:200ms: " + latencyWant},
		{"latency=lognormal:0s:0.5", "sim spec: latency=lognormal:0s:0.5: " + latencyWant},
		{"latency=lognormal:200ms:-1", "sim spec: latency=lognormal:200ms:-1: " + latencyWant},
		{"latency=1s&latency=2s", "sim spec: latency is given twice; give it once (only fault may repeat)"},
		{"fault=503", "sim spec: fault=503: " + faultWant},
		{"fault=504:0.1", "sim spec: fault=504:0.1: " + faultWant},
		{"fault=503:1.5", "sim spec: fault=503:1.5: " + faultWant},
		{"fault=503:0.6&fault=429:0.6", "sim spec: the fault rates add up to 1.2; want at most 1 (one draw per request picks at most one fault)"},
		{"retry_after=0", "sim spec: retry_after=0: want whole seconds, at least 1, such as 2 or 2s"},
		{"retry_after=1.5s", "sim spec: retry_after=1.5s: want whole seconds, at least 1, such as 2 or 2s"},
		{"retry_after_date=yes", "sim spec: retry_after_date=yes: want 1 (send Retry-After as an HTTP date) or 0 (as seconds)"},
		{"oversize_bytes=11MB", "sim spec: oversize_bytes=11MB: want a size of at least 1 byte such as 11534336, 512KiB or 11MiB"},
		{"oversize_bytes=0", "sim spec: oversize_bytes=0: want a size of at least 1 byte such as 11534336, 512KiB or 11MiB"},
		{"shape=wrapped", "sim spec: shape=wrapped: want one of flat, data, legacy, id-only"},
		{"history_delay=soon", "sim spec: history_delay=soon: want a duration such as 500ms"},
		{"history_ids=random", "sim spec: history_ids=random: want one of same, none, unrelated"},
		{"idle=0", "sim spec: idle=0: want a duration of at least 1s such as 10m, or never"},
		{"idle=500ms", "sim spec: idle=500ms: want a duration of at least 1s such as 10m, or never"},
		{"idle=forever", "sim spec: idle=forever: want a duration of at least 1s such as 10m, or never"},
		{"flaky=2", "sim spec: flaky=2: want a probability from 0 to 1 such as 0.3"},
		{"seed=-1", "sim spec: seed=-1: want a whole number such as 7"},
		{"token=%zz", `sim spec: token: "%zz" is not URL-escaped correctly: invalid URL escape "%zz"`},
	} {
		_, err := ParseSpec(tc.spec)
		if err == nil {
			t.Errorf("ParseSpec(%q) succeeded, want %q", tc.spec, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("ParseSpec(%q):\n got %s\nwant %s", tc.spec, err, tc.want)
		}
	}
}

func TestParseDirectives(t *testing.T) {
	d, err := parseDirectives("refund ord_1 [sim fault=503 times=2] [sim shape=legacy\tlatency=50ms]")
	if err != nil {
		t.Fatal(err)
	}
	o := d.apply(Options{Shape: ShapeData, LatencyDist: Uniform{1, 2}, Faults: []Fault{{Fault500, 1}}})
	if d.fault != Fault503 || d.times != 2 || o.Shape != ShapeLegacy || o.Latency != 50*time.Millisecond || o.LatencyDist != nil {
		t.Errorf("directive %+v applied: %+v", d, o)
	}
	if d, err := parseDirectives("no directive [simulated]"); d != nil || err != nil {
		t.Errorf("a text without directives gave %+v, %v", d, err)
	}

	for text, want := range map[string]string{
		"hi [sim fault=503:0.5]":     "sim directive [sim fault=503:0.5]: fault=503:0.5: want one of 500, 502, 503, 429, drop, malformed, oversize, hang (a directive takes no rate)",
		"hi [sim times=2]":           "sim directive: times=2 needs a fault, as in [sim fault=503 times=2]",
		"hi [sim fault=503 times=0]": "sim directive [sim fault=503 times=0]: times=0: want a number of attempts, at least 1, such as 2",
		"hi [sim seed=7]":            `sim directive [sim seed=7]: unknown key "seed"; want fault, times, latency, retry_after, retry_after_date, oversize_bytes, shape, history_delay or flaky`,
		"hi [sim shape]":             `sim directive [sim shape]: "shape" is not KEY=VALUE`,
		"hi [sim shape=round]":       "sim directive [sim shape=round]: shape=round: want one of flat, data, legacy, id-only",
	} {
		if _, err := parseDirectives(text); err == nil || err.Error() != want {
			t.Errorf("parseDirectives(%q):\n got %v\nwant %s", text, err, want)
		}
	}

	for in, want := range map[string]string{
		"hello [sim fault=503 times=2]":      "hello",
		"[sim shape=legacy] refund ord_42":   "refund ord_42",
		"refund [sim latency=1ms] ord_42":    "refund ord_42",
		"a [sim]\n[sim flaky=1]b":            "a\nb",
		"no [simulation] here, [sim] there.": "no [simulation] here, there.",
	} {
		if got := stripDirectives(in); got != want {
			t.Errorf("stripDirectives(%q) = %q, want %q", in, got, want)
		}
	}
}

// The samplers are tested by drawing many delays from a seeded source,
// without sleeping.
func TestLatencySamplers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20001

	u := Uniform{Min: 100 * time.Millisecond, Max: 500 * time.Millisecond}
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for range n {
		d := u.Sample(rng)
		if d < u.Min || d > u.Max {
			t.Fatalf("uniform sample %v outside [%v, %v]", d, u.Min, u.Max)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo > 101*time.Millisecond || hi < 499*time.Millisecond {
		t.Errorf("uniform samples span only [%v, %v]", lo, hi)
	}
	if d := (Uniform{Min: time.Second, Max: time.Second}).Sample(rng); d != time.Second {
		t.Errorf("uniform:1s:1s drew %v", d)
	}

	l := Lognormal{Median: 200 * time.Millisecond, Sigma: 0.5}
	samples := make([]time.Duration, n)
	var sumLog, sumLog2 float64
	for i := range samples {
		samples[i] = l.Sample(rng)
		if samples[i] <= 0 {
			t.Fatalf("lognormal sample %v", samples[i])
		}
		x := math.Log(float64(samples[i]))
		sumLog, sumLog2 = sumLog+x, sumLog2+x*x
	}
	slices.Sort(samples)
	if median := samples[n/2]; median < 190*time.Millisecond || median > 210*time.Millisecond {
		t.Errorf("lognormal median %v, want about 200ms", median)
	}
	mean := sumLog / n
	if sigma := math.Sqrt(sumLog2/n - mean*mean); math.Abs(sigma-0.5) > 0.02 {
		t.Errorf("lognormal sigma %.3f, want about 0.5", sigma)
	}
	if d := (Lognormal{Median: time.Second, Sigma: 0}).Sample(rng); d != time.Second {
		t.Errorf("lognormal:1s:0 drew %v", d)
	}
	if d := (Lognormal{Median: time.Hour, Sigma: 10}).Sample(rand.New(constSource(math.MaxUint64 >> 1))); d < 0 {
		t.Errorf("a huge lognormal draw overflowed to %v", d)
	}
}

// constSource always returns the same value, to drive NormFloat64 to its
// extremes.
type constSource uint64

func (c constSource) Uint64() uint64 { return uint64(c) }

func TestDrawFaultRates(t *testing.T) {
	s := New(Options{Seed: 42})
	faults := []Fault{{Fault503, 0.2}, {Fault429, 0.1}, {FaultDrop, 0}}
	counts := map[FaultKind]int{}
	const n = 20000
	for range n {
		counts[s.drawFault(faults)]++
	}
	for kind, want := range map[FaultKind]float64{Fault503: 0.2, Fault429: 0.1, FaultDrop: 0, "": 0.7} {
		if got := float64(counts[kind]) / n; math.Abs(got-want) > 0.015 {
			t.Errorf("fault %q hit %.3f of requests, want %.2f", kind, got, want)
		}
	}
	if k := s.drawFault([]Fault{{FaultHang, 1}}); k != FaultHang {
		t.Errorf("a fault at rate 1 missed: %q", k)
	}
}

func TestSeedReproduces(t *testing.T) {
	opts := Options{Seed: 7, LatencyDist: Lognormal{Median: time.Millisecond, Sigma: 1}}
	a, b, c := New(opts), New(opts), New(Options{Seed: 8, LatencyDist: opts.LatencyDist})
	var da, db, dc []time.Duration
	for range 20 {
		da = append(da, a.drawDelay(a.opts))
		db = append(db, b.drawDelay(b.opts))
		dc = append(dc, c.drawDelay(c.opts))
	}
	if !slices.Equal(da, db) {
		t.Errorf("the same seed drew %v and %v", da, db)
	}
	if slices.Equal(da, dc) {
		t.Errorf("seeds 7 and 8 drew the same delays")
	}
}

func TestSpecParamsListed(t *testing.T) {
	var known []string
	for k := range commonParams {
		known = append(known, k)
	}
	for k := range specOnlyParams {
		known = append(known, k)
	}
	listed := slices.Clone(SpecParams)
	slices.Sort(known)
	slices.Sort(listed)
	if !slices.Equal(known, listed) {
		t.Errorf("SpecParams %v, parsers for %v", SpecParams, known)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range SpecParams {
		if !strings.Contains(string(doc), "//\t"+k+"=") {
			t.Errorf("the package comment does not document %s=", k)
		}
	}
}
