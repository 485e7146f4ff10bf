package latency

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// quantiles are the statistics evalrun reports, in thousandths of a percent,
// so that the brute force below can take ranks in exact integers.
var quantiles = []int64{50_000, 90_000, 95_000, 99_000, 99_900}

// bruteRank is the definition of the standard rank, by search: the smallest
// k such that k of n samples make up at least qMilli/1000 percent of them.
func bruteRank(qMilli int64, n int) int {
	for k := 1; ; k++ {
		if int64(k)*100_000 >= qMilli*int64(n) {
			return k
		}
	}
}

// equivalent is the value a histogram reports for a sample v: the highest
// value the histogram cannot tell from v, found by bisection (a bucket is
// never wider than 0.1% of its values, so it ends before 2v).
func equivalent(v int64) int64 {
	lo, hi := v, 2*v+1 // lo is equivalent to v, hi is not
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; geometry.ValuesAreEquivalent(v, mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

var geometry = New()

func TestAtIsTheOrderStatisticAtTheCeilRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 4))
	for n := 1; n <= 200; n++ {
		for trial := range 5 {
			samples := make([]int64, n)
			h := New()
			for i := range samples {
				// Spread over every scale the histogram covers, with ties.
				switch trial {
				case 0:
					samples[i] = 1 + rng.Int64N(2000)
				case 1:
					samples[i] = 1 + rng.Int64N(10)
				default:
					samples[i] = Micros(time.Duration(rng.ExpFloat64() * float64(200*time.Millisecond)))
				}
				if err := h.RecordValue(samples[i]); err != nil {
					t.Fatal(err)
				}
			}
			sorted := slices.Clone(samples)
			slices.Sort(sorted)
			if got, want := At(h, 99), equivalent(sorted[bruteRank(99_000, n)-1]); got != want {
				t.Fatalf("n=%d trial %d: p99 = %dµs, want %dµs (sample %d of %v)", n, trial, got, want, bruteRank(99_000, n), sorted)
			}
			p := Percentiles(h)
			got := []float64{p.P50, p.P90, p.P95, p.P99, p.P999}
			for i, qm := range quantiles {
				if want := float64(equivalent(sorted[bruteRank(qm, n)-1])) / 1000; got[i] != want {
					t.Fatalf("n=%d: Percentiles field %d = %gms, want %gms", n, i, got[i], want)
				}
			}
			if want := float64(equivalent(sorted[n-1])) / 1000; p.Max != want {
				t.Fatalf("n=%d: max = %gms, want %gms", n, p.Max, want)
			}
		}
	}
}

func TestExactAgreesWithTheHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 8))
	for n := 1; n <= 200; n++ {
		ds := make([]time.Duration, n)
		h := New()
		for i := range ds {
			ds[i] = time.Duration(1+rng.Int64N(3_000_000)) * time.Microsecond
			_ = h.RecordValue(Micros(ds[i]))
		}
		e, p := Exact(ds), Percentiles(h)
		exact := []float64{e.P50, e.P90, e.P95, e.P99, e.P999, e.Max}
		hist := []float64{p.P50, p.P90, p.P95, p.P99, p.P999, p.Max}
		for i := range exact {
			// The same sample, read exactly and to the histogram's precision.
			us := int64(exact[i]*1000 + 0.5)
			if want := float64(equivalent(us)) / 1000; hist[i] != want {
				t.Fatalf("n=%d field %d: histogram %gms, exact %gms (equivalent %gms)", n, i, hist[i], exact[i], want)
			}
		}
	}
}

// TestP99OfNinetyNine is the case that let a p99<1s gate pass: 98 samples
// up to 680ms and one of 1.705s. The standard p99 is the 99th sample;
// rounding the rank, as hdrhistogram-go does, takes the 98th.
func TestP99OfNinetyNine(t *testing.T) {
	h := New()
	var ds []time.Duration
	for i := range 98 {
		d := time.Duration(100+i*armStep) * time.Millisecond / 10
		ds = append(ds, d)
		_ = h.RecordValue(Micros(d))
	}
	ds = append(ds, 1705*time.Millisecond)
	_ = h.RecordValue(Micros(1705 * time.Millisecond))

	if rounded := h.ValueAtQuantile(99); rounded > 700_000 {
		t.Fatalf("the library's own p99 is %dµs; this test no longer shows the rounded rank", rounded)
	}
	if got := Percentiles(h).P99; got < 1705 || got > 1707 {
		t.Errorf("p99 of 99 samples = %gms, want the 99th sample, 1705ms to the histogram's precision", got)
	}
	if got := Exact(ds).P99; got != 1705 {
		t.Errorf("exact p99 of 99 samples = %gms, want 1705ms", got)
	}
}

// armStep spreads the 98 fast samples of TestP99OfNinetyNine from 10ms to
// 680ms.
const armStep = 69

func TestRank(t *testing.T) {
	for _, c := range []struct {
		q    float64
		n    int64
		want int64
	}{
		{99, 99, 99}, {99, 100, 99}, {99, 101, 100},
		{99.9, 1000, 999}, {99.9, 1001, 1000},
		{50, 1, 1}, {50, 2, 1}, {50, 3, 2},
		{95, 20, 19}, {90, 10, 9},
		{0, 10, 1}, {-3, 10, 1}, {100, 10, 10}, {250, 10, 10},
		{33.33333, 3, 1}, {66.7, 3, 3},
		{99, 0, 0},
		{99, 1e12, 990_000_000_000}, {99.9, 1e12 + 1, 999_000_000_001},
	} {
		if got := Rank(c.q, c.n); got != c.want {
			t.Errorf("Rank(%g, %d) = %d, want %d", c.q, c.n, got, c.want)
		}
	}
}

func TestEmpty(t *testing.T) {
	if p := Percentiles(New()); p.P99 != 0 || p.Max != 0 {
		t.Errorf("empty histogram: %+v", p)
	}
	if p := Exact(nil); p.P99 != 0 {
		t.Errorf("no latencies: %+v", p)
	}
	if v := At(New(), 99); v != 0 {
		t.Errorf("At of empty = %d", v)
	}
}

func TestDecodeRoundTripAndCorrupt(t *testing.T) {
	h := New()
	for _, v := range []int64{1, 900, 1500, 2_000_000} {
		_ = h.RecordValue(v)
	}
	enc, err := Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(enc)
	if err != nil || !back.Equals(h) {
		t.Fatalf("round trip: %v", err)
	}
	wide := hdrhistogram.New(1, 10*Highest, 3)
	_ = wide.RecordValue(5 * Highest)
	wideEnc, _ := Encode(wide)
	for name, enc := range map[string]string{
		"not base64":     "not base64!",
		"not hdr":        "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgaGlzdG9ncmFt",
		"truncated":      enc[:len(enc)/2],
		"out of range":   wideEnc,
		"short":          "AAAA",
		"bad cookie":     "AAAAAAAAAAAAAAAA",
		"trailing bytes": enc[:len(enc)-4] + "AAAA",
	} {
		_, err := Decode(enc)
		if err == nil {
			t.Errorf("%s: decoded", name)
			continue
		}
		if !strings.Contains(err.Error(), "histogram") {
			t.Errorf("%s: error %q does not say what it was reading", name, err)
		}
	}
}
