// Package latency is evalrun's one definition of a latency histogram and of
// a percentile: every histogram is made with the settings here, and every
// percentile evalrun reports, gates on or prints is read at the rank Rank
// gives: the nearest-rank definition, which HdrHistogram's Java and
// JavaScript implementations follow.
package latency

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/results"
)

// Latencies are recorded in microseconds from 1µs to one hour with three
// significant digits: exact to 0.1% at any scale, in a fixed ~184 KiB of
// counts (about 23,000 buckets of 8 bytes).
const (
	Lowest  int64 = 1
	Highest int64 = int64(time.Hour / time.Microsecond)
	Digits        = 3
)

// New returns an empty latency histogram in evalrun's units (µs).
func New() *hdrhistogram.Histogram {
	return hdrhistogram.New(Lowest, Highest, Digits)
}

// Micros is d in the histograms' unit, clamped to their range: a value out
// of range would be lost, which is worse than one at the edge.
func Micros(d time.Duration) int64 {
	return min(max(d.Microseconds(), Lowest), Highest)
}

// Rank returns the 1-based rank of the q-th percentile (q in percent) among
// n samples: ceil(q/100·n), at least 1 and at most n (0 when n is 0). The
// q-th percentile is then the smallest sample such that at least q% of the
// samples are at or below it.
//
// hdrhistogram-go rounds the rank instead (int(q/100·n+0.5)), which at
// n = 99 puts p99 on the 98th sample: a lower value than HdrHistogram Java
// or JS report for the same histogram, and one a gate could pass on.
//
// A q given to a thousandth of a percent (every statistic evalrun reports)
// is computed in integers, so no floating-point residue moves a rank: 99.9%
// of 1000 is rank 999, never 1000. Other q follow HdrHistogram Java, which
// takes one ulp off q before rounding up.
func Rank(q float64, n int64) int64 {
	switch {
	case n <= 0:
		return 0
	case !(q > 0): // also NaN
		return 1
	case q >= 100:
		return n
	}
	if milli := math.Round(q * 1000); math.Abs(q*1000-milli) < 1e-6 {
		hi, lo := bits.Mul64(uint64(milli), uint64(n))
		if hi == 0 && lo <= math.MaxUint64-99_999 {
			return min(max(int64((lo+99_999)/100_000), 1), n)
		}
	}
	r := math.Ceil(math.Nextafter(q, math.Inf(-1)) / 100 * float64(n))
	if r >= float64(n) {
		return n
	}
	return max(int64(r), 1)
}

// At returns the q-th percentile of h (q in percent), in µs: the sample at
// Rank(q, n), read as the highest value equivalent to it in h, as
// hdrhistogram-go's ValueAtQuantile and HdrHistogram Java and JS read it, so
// the figures match what those libraries print for the same histogram. An
// empty histogram has 0.
func At(h *hdrhistogram.Histogram, q float64) int64 {
	n := h.TotalCount()
	if n <= 0 {
		return 0
	}
	if n > exactRanks {
		return walk(h, Rank(q, n))
	}
	return h.ValueAtQuantile(atRank(Rank(q, n), n))
}

// exactRanks is the most samples for which atRank is exact. hdrhistogram-go
// turns a percentile p back into the rank int(p/100·n + 0.5). From
// p = 100·r/n that is r·(1+δ) plus a half, where δ comes of four float64
// roundings (100·r, /n, /100, ·n), so |δ| is a hair over 4·2⁻⁵³ and r·δ
// about 1/8 at most for r ≤ n ≤ 2⁴⁸. Adding the half, whose own rounding
// moves the sum by at most 2⁻⁵ there, leaves it within 0.4 of r+0.5, so the
// truncation gives r (and r = n reaches the clamp at n). TestAtRankRoundTrips
// checks it by exhaustion for small n and at random up to this bound.
const exactRanks = 1 << 48

// atRank returns the percentile (in percent) that hdrhistogram-go reads as
// the rank r of n samples, for 1 ≤ r ≤ n ≤ exactRanks.
func atRank(r, n int64) float64 {
	return 100 * float64(r) / float64(n)
}

// walk returns the highest value equivalent to the sample at rank r of h by
// walking its buckets: exact at any count, but it builds a slice of them
// all, so it is kept for counts past exactRanks.
func walk(h *hdrhistogram.Histogram, r int64) int64 {
	var cum int64
	for _, b := range h.Distribution() {
		if cum += b.Count; b.Count > 0 && cum >= r {
			return b.To
		}
	}
	return 0
}

// Percentiles returns the reported percentiles of h, in milliseconds.
func Percentiles(h *hdrhistogram.Histogram) results.Percentiles {
	if h.TotalCount() <= 0 {
		return results.Percentiles{}
	}
	// The maximum is the 100th percentile: the same value h.Max() gives,
	// without its walk through every bucket up to the last sample.
	ms := func(q float64) float64 { return float64(At(h, q)) / 1000 }
	return results.Percentiles{
		P50: ms(50), P90: ms(90), P95: ms(95), P99: ms(99), P999: ms(99.9),
		Max: ms(100),
	}
}

// Exact returns the reported percentiles of a few latencies (a
// conversation's turns), where a histogram would be needless: the samples
// at the same ranks as Percentiles, read exactly rather than to the
// histogram's precision.
func Exact(ds []time.Duration) results.Percentiles {
	if len(ds) == 0 {
		return results.Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := int64(len(s))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(q float64) float64 { return ms(s[Rank(q, n)-1]) }
	return results.Percentiles{
		P50: at(50), P90: at(90), P95: at(95), P99: at(99), P999: at(99.9),
		Max: ms(s[n-1]),
	}
}

// Encode returns h as a base64 HdrHistogram V2 compressed encoding, the form
// the JSON record carries and HdrHistogram Java and JS decode.
func Encode(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// ErrCorrupt is wrapped by every error Decode returns for an encoding that
// is not a histogram it can use.
var ErrCorrupt = errors.New("not an HdrHistogram V2 encoding of latencies in µs")

// Decode reads a histogram Encode wrote (or HdrHistogram Java or JS did)
// into evalrun's settings, so that histograms of any origin merge. The empty
// string is an empty histogram. A value outside 1µs..1h is an error, not a
// value silently dropped.
func Decode(enc string) (*hdrhistogram.Histogram, error) {
	h := New()
	if enc == "" {
		return h, nil
	}
	d, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w: %v", ErrCorrupt, err)
	}
	if lost := h.Merge(d); lost > 0 {
		return nil, fmt.Errorf("decode histogram: %w: %d values outside 1µs..1h, or counts past int64", ErrCorrupt, lost)
	}
	return h, nil
}

// Refresh decodes the two histograms of ts (from the intended start, co,
// and from the actual one, service), checks them against its counts, and
// sets its percentiles from them, so that a record written with another
// percentile rule reads as a new one would.
//
// A record's counts are never negative, its errors never more than its
// count, and a histogram holds one latency per sample that did not error:
// an absent histogram ("") is an empty one, which only a metric with
// nothing measured (count - errors == 0) may have, so that emptying a
// histogram cannot hide the latencies it held. The corrected histogram is
// never below the service one at any rank, as each corrected latency is the
// service latency plus how late the request was sent: two swapped
// histograms are refused. Anything else is a corrupt record, and an error
// that says which part.
func Refresh(ts *results.TurnStats) (co, service *hdrhistogram.Histogram, err error) {
	switch {
	case ts.Count < 0 || ts.Errors < 0:
		return nil, nil, fmt.Errorf("count %d and errors %d must not be negative", ts.Count, ts.Errors)
	case ts.Errors > ts.Count:
		return nil, nil, fmt.Errorf("errors %d are more than the count %d", ts.Errors, ts.Count)
	}
	if co, err = Decode(ts.Histogram); err != nil {
		return nil, nil, err
	}
	if service, err = Decode(ts.Service); err != nil {
		return nil, nil, fmt.Errorf("service %w", err)
	}
	for _, x := range []struct {
		enc  string
		h    *hdrhistogram.Histogram
		what string
		to   *results.Percentiles
	}{{ts.Histogram, co, "histogram", &ts.LatencyMS}, {ts.Service, service, "service histogram", &ts.ServiceMS}} {
		n, want := x.h.TotalCount(), ts.Count-ts.Errors
		switch {
		case n != want && x.enc == "":
			return nil, nil, fmt.Errorf("the %s is absent (\"\"), but count - errors is %d: only a metric that measured nothing has none", x.what, want)
		case n != want:
			return nil, nil, fmt.Errorf("the %s holds %d latencies, but count - errors is %d", x.what, n, want)
		}
		*x.to = Percentiles(x.h)
	}
	if err := CheckCorrected(co, service); err != nil {
		return nil, nil, err
	}
	return co, service, nil
}

// CheckCorrected checks that the corrected histogram co is at or above the
// service one at every rank: that no more corrected latencies than service
// ones are at or below any value. Both must hold as many latencies (Refresh
// checks that first) in evalrun's settings (New, Decode).
func CheckCorrected(co, service *hdrhistogram.Histogram) error {
	n := co.TotalCount()
	if n == 0 || n != service.TotalCount() {
		return nil
	}
	c, s := co.Export().Counts, service.Export().Counts
	if len(c) != len(s) {
		return nil
	}
	var below, svc int64
	for i := range c {
		below += c[i]
		svc += s[i]
		if below > svc {
			// The sample at rank svc+1 is at or below this bucket among the
			// corrected latencies, above it among the service ones.
			r := svc + 1
			return fmt.Errorf("the histogram (corrected latency, %s ms at rank %d of %d) is below the service histogram (%s ms) there; "+
				"a corrected latency is never less than its service latency: are the two histograms swapped?",
				msText(walk(co, r)), r, n, msText(walk(service, r)))
		}
	}
	return nil
}

func msText(us int64) string { return strconv.FormatFloat(float64(us)/1000, 'f', -1, 64) }

// Metric is one latency metric of a load record, by where it is: Name is
// its place in the JSON ("load.turns[1] (turn 2)", "load.overall").
type Metric struct {
	Name  string
	Stats *results.TurnStats
}

// Metrics lists every latency metric of l, turns first.
func Metrics(l *results.Load) []Metric {
	out := make([]Metric, 0, len(l.Turns)+3)
	for i := range l.Turns {
		out = append(out, Metric{fmt.Sprintf("load.turns[%d] (turn %d)", i, i+1), &l.Turns[i]})
	}
	return append(out, Metric{"load.overall", &l.Overall}, Metric{"load.conversation", &l.Conversation}, Metric{"load.session", &l.Session})
}

// RefreshLoad refreshes every metric of l (Refresh), and checks that the
// turns add up to overall, which records every turn's measurement too: the
// turns' counts and errors sum to overall's, and their histograms merged
// are overall's, bucket for bucket. A per-turn metric swapped with overall,
// or counts edited in one place, are refused. Errors name the metric.
func RefreshLoad(l *results.Load) error {
	var errs []error
	type pair struct{ co, service *hdrhistogram.Histogram }
	got := make([]pair, 0, len(l.Turns)+3)
	for _, m := range Metrics(l) {
		co, service, err := Refresh(m.Stats)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.Name, err))
		}
		got = append(got, pair{co, service})
	}
	if err := errors.Join(errs...); err != nil || len(l.Turns) == 0 {
		return err
	}
	var count, errored int64
	co, service := New(), New()
	for i, ts := range l.Turns {
		count += ts.Count
		errored += ts.Errors
		if co.Merge(got[i].co)+service.Merge(got[i].service) > 0 {
			return fmt.Errorf("load.turns: histogram counts add up past %d", int64(math.MaxInt64))
		}
	}
	o := l.Overall
	switch {
	case count != o.Count || errored != o.Errors:
		return fmt.Errorf("load.overall: count %d and errors %d, but the turns add up to %d and %d; overall counts every turn", o.Count, o.Errors, count, errored)
	case !co.Equals(got[len(l.Turns)].co):
		return fmt.Errorf("load.overall: the histogram differs from the turns' histograms merged (%s); overall holds every turn's latency", difference(got[len(l.Turns)].co, co))
	case !service.Equals(got[len(l.Turns)].service):
		return fmt.Errorf("load.overall: the service histogram differs from the turns' service histograms merged (%s); overall holds every turn's latency", difference(got[len(l.Turns)].service, service))
	}
	return nil
}

// difference says where two histograms of evalrun's settings first differ:
// "at 50.015 ms it holds 0 latencies, they 1".
func difference(it, they *hdrhistogram.Histogram) string {
	a, b := it.Distribution(), they.Distribution()
	for i := range min(len(a), len(b)) {
		if a[i].Count != b[i].Count {
			return fmt.Sprintf("at %s ms it holds %d latencies, they %d", msText(a[i].To), a[i].Count, b[i].Count)
		}
	}
	return fmt.Sprintf("it holds %d latencies, they %d", it.TotalCount(), they.TotalCount())
}
