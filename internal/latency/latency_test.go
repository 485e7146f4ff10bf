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

// hdrRank is hdrhistogram-go v1.4.0's percentileRank, copied: the rank its
// ValueAtQuantile reads for a percentile p of n samples.
func hdrRank(p float64, n int64) int64 {
	if p > 100 {
		p = 100
	}
	rank := (p/100)*float64(n) + 0.5
	if !(rank >= 1) {
		return 1
	}
	if rank >= float64(n) {
		return n
	}
	return int64(rank)
}

// TestAtRankRoundTrips checks the claim At rests on: the percentile atRank
// gives is read back by hdrhistogram-go as exactly the rank it was made
// from, for every rank of every n up to 10,000 and for ranks drawn at
// random up to exactRanks.
func TestAtRankRoundTrips(t *testing.T) {
	for n := int64(1); n <= 10_000; n++ {
		for r := int64(1); r <= n; r++ {
			if got := hdrRank(atRank(r, n), n); got != r {
				t.Fatalf("n=%d: rank %d reads back as %d", n, r, got)
			}
		}
	}
	rng := rand.New(rand.NewPCG(48, 1))
	check := func(r, n int64) {
		if got := hdrRank(atRank(r, n), n); got != r {
			t.Fatalf("n=%d: rank %d reads back as %d", n, r, got)
		}
	}
	for range 2_000_000 {
		n := 10_001 + rng.Int64N(exactRanks-10_000)
		check(1+rng.Int64N(n), n)
		for _, r := range []int64{1, 2, n / 2, n - 1, n} {
			check(r, n)
		}
	}
	for _, n := range []int64{exactRanks, exactRanks - 1, 1 << 40, 1e12 + 1} {
		for d := int64(0); d < 1000; d++ {
			check(n-d, n)
			check(1+d, n)
		}
	}
}

// TestAtReadsTheLibraryAtTheRank checks the same against hdrhistogram-go
// itself, on histograms whose samples 1..n are each their own bucket, so the
// value read is the rank.
func TestAtReadsTheLibraryAtTheRank(t *testing.T) {
	for n := int64(1); n <= 1000; n++ {
		h := New()
		for v := int64(1); v <= n; v++ {
			_ = h.RecordValue(v)
		}
		for r := int64(1); r <= n; r++ {
			if got := h.ValueAtQuantile(atRank(r, n)); got != r {
				t.Fatalf("n=%d: rank %d reads sample %d", n, r, got)
			}
		}
	}
}

// TestAtHugeCounts covers counts near and past exactRanks, recorded in bulk:
// below it At asks the library, past it At walks the buckets, and both must
// land on the sample at the standard rank.
func TestAtHugeCounts(t *testing.T) {
	for _, n := range []int64{exactRanks - 1, exactRanks, exactRanks + 1, 1 << 60} {
		h := New()
		// n-100 samples of 10µs, 99 of 2000µs and one of 50,000µs.
		if err := h.RecordValues(10, n-100); err != nil {
			t.Fatal(err)
		}
		_ = h.RecordValues(2000, 99)
		_ = h.RecordValue(50_000)
		sample := func(r int64) int64 {
			switch {
			case r <= n-100:
				return 10
			case r < n:
				return 2000
			}
			return equivalent(50_000)
		}
		nf := float64(n)
		for _, q := range []float64{0, 50, 100 * (nf - 100) / nf, 100 * (nf - 50) / nf, 100 * (nf - 1) / nf, 100} {
			if got, want := At(h, q), sample(Rank(q, n)); got != want {
				t.Errorf("n=%d q=%v (rank %d): At = %d, want %d", n, q, Rank(q, n), got, want)
			}
		}
		for _, r := range []int64{1, n - 100, n - 99, n - 1, n} {
			if got, want := walk(h, r), sample(r); got != want {
				t.Errorf("n=%d: walk at rank %d = %d, want %d", n, r, got, want)
			}
		}
	}
}
