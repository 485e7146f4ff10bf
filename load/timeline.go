package load

import (
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
)

// The timeline of a load record (Load.Timeline) is the run cut into
// intervals of Load.IntervalMS from its start: conversations begun, turns
// finished and errors in each, and the latency of the turns that finished
// in it, so that a freeze of a few seconds shows in a plot where the
// aggregates hide it.
//
// A turn belongs to the interval in which its reply came (or its error),
// and a conversation to the one in which it began. The recorder only hears
// of a conversation when it ends, so a turn's time is reconstructed from
// its conversation's start and the measured durations before it (session,
// waits for provider.rate_limit, the turns): it leaves out only the local
// work between two requests, microseconds.
//
// The timeline stays bounded: it starts at TimelineInterval and, when the
// run outlasts TimelineLimit intervals, the width doubles and each pair of
// neighbours merges into one. Counts and histograms add up exactly, so the
// timeline's turns, errors and histograms always sum to the run's totals; a
// 24 h run ends with 338 intervals of 256 s. The limit leaves a 10-minute
// run, with its 30 s of default grace, second by second.
//
// An interval's histogram is kept at two significant digits (1/128, under
// 1%): a full-precision one (three digits, about 184 KiB) per interval
// would cost 110 MB at the limit, and a plot does not need it. In memory an
// interval holds only the span of coarse buckets it has used, a few KiB for
// latencies over a few octaves: a day of replies spread from 1 ms to 10 s
// holds 5 MB (BenchmarkTimelineMemory). In the record it is an ordinary evalrun
// histogram (latency.Encode) in which each latency stands at the top of its
// coarse bucket, so merge decodes and adds it like any other, exactly, and
// the percentiles read from it err on the high side, as HDR ones do.
const (
	TimelineInterval = time.Second
	TimelineLimit    = 640
)

// coarseHalf is the number of coarse buckets per octave above 2·coarseHalf
// µs (below it, every µs has its own): two significant digits.
const coarseHalf = 128

// coarseIndex is the coarse bucket of v µs (v ≥ 0). The layout is
// HdrHistogram's for two digits from 1 µs: exact below 256, then 128
// buckets per octave.
func coarseIndex(v int64) int {
	if v < 2*coarseHalf {
		return int(v)
	}
	k := bits.Len64(uint64(v)) - 8 // v>>k is in [128, 256)
	return (k+1)*coarseHalf + int(v>>k) - coarseHalf
}

// coarseTop is the highest value, in µs, of coarse bucket i, within the
// histograms' range.
func coarseTop(i int) int64 {
	if i < 2*coarseHalf {
		return max(int64(i), latency.Lowest)
	}
	k := i/coarseHalf - 1
	low := int64(i%coarseHalf+coarseHalf) << k
	return min(low+1<<k-1, latency.Highest)
}

// coarse is a latency histogram at two significant digits that holds only
// the buckets from its lowest to its highest used one.
type coarse struct {
	base   int // the bucket of counts[0]
	counts []int64
}

func (c *coarse) add(us int64, n int64) {
	i := coarseIndex(us)
	switch {
	case len(c.counts) == 0:
		c.base = i
		c.counts = append(c.counts[:0], 0)
	case i < c.base:
		grow := c.base - i
		c.counts = append(make([]int64, grow, grow+len(c.counts)), c.counts...)
		c.base = i
	case i >= c.base+len(c.counts):
		c.counts = append(c.counts, make([]int64, i-c.base-len(c.counts)+1)...)
	}
	c.counts[i-c.base] += n
}

func (c *coarse) merge(o *coarse) {
	for j, n := range o.counts {
		if n > 0 {
			c.add(coarseTop(o.base+j), n)
		}
	}
}

// hdr records c into h (an evalrun histogram), each latency at the top of
// its coarse bucket.
func (c *coarse) hdr(h *hdrhistogram.Histogram) error {
	for j, n := range c.counts {
		if n > 0 {
			if err := h.RecordValues(coarseTop(c.base+j), n); err != nil {
				return fmt.Errorf("timeline: %w", err)
			}
		}
	}
	return nil
}

// fineTop is the highest value of v's bucket in an evalrun histogram
// (latency.Digits, three: 1024 buckets per octave above 2048 µs), which is
// where a percentile of a histogram holding v reads it.
func fineTop(v int64) int64 {
	if v < 2048 {
		return v
	}
	k := bits.Len64(uint64(v)) - 11 // v>>k is in [1024, 2048)
	return (v>>k)<<k + 1<<k - 1
}

// percentiles returns latency.Percentiles of c as the record holds it
// (see hdr), read from the coarse buckets: the same figures, without
// walking the 23,552 buckets of an evalrun histogram, which at the end of
// a long run took 0.8 ms and 2 MB of garbage per interval.
func (c *coarse) percentiles() results.Percentiles {
	var n int64
	last := -1
	for j, k := range c.counts {
		n += k
		if k > 0 {
			last = j
		}
	}
	if n == 0 {
		return results.Percentiles{}
	}
	qs := [...]float64{50, 90, 95, 99, 99.9}
	var at [len(qs)]float64
	q, cum := 0, int64(0)
	for j, k := range c.counts {
		cum += k
		for q < len(qs) && latency.Rank(qs[q], n) <= cum {
			at[q] = float64(fineTop(coarseTop(c.base+j))) / 1000
			q++
		}
	}
	return results.Percentiles{
		P50: at[0], P90: at[1], P95: at[2], P99: at[3], P999: at[4],
		Max: float64(fineTop(coarseTop(c.base+last))) / 1000,
	}
}

// addEncoded adds the latencies of enc, an encoded histogram, to c, each
// in its coarse bucket, and returns how many there were. evalrun's own
// histograms (three digits from 1 µs) are read straight from their counts,
// whose buckets nest in the coarse ones; any other goes through
// latency.Decode. Either way, a value past evalrun's histograms is an
// error, as latency.Decode makes it.
func (c *coarse) addEncoded(enc string) (int64, error) {
	d, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		return 0, fmt.Errorf("decode histogram: %w: %v", latency.ErrCorrupt, err)
	}
	var total int64
	add := func(v, n int64) error {
		if n > math.MaxInt64-total {
			return fmt.Errorf("decode histogram: %w: counts past int64", latency.ErrCorrupt)
		}
		total += n
		c.add(v, n)
		return nil
	}
	if snap := d.Export(); snap.LowestTrackableValue == latency.Lowest && snap.SignificantFigures == latency.Digits {
		if len(snap.Counts) > fineLen {
			for _, n := range snap.Counts[fineLen:] {
				if n != 0 {
					return 0, fmt.Errorf("decode histogram: %w: values past 1h", latency.ErrCorrupt)
				}
			}
		}
		for i, n := range snap.Counts[:min(len(snap.Counts), fineLen)] {
			if n < 0 {
				return 0, fmt.Errorf("decode histogram: %w: a negative count", latency.ErrCorrupt)
			}
			if n > 0 {
				if err := add(fineValue(i), n); err != nil {
					return 0, err
				}
			}
		}
		return total, nil
	}
	h, err := latency.Decode(enc)
	if err != nil {
		return 0, err
	}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			if err := add(b.From, b.Count); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

// fineLen is the number of buckets of an evalrun histogram.
var fineLen = len(latency.New().Export().Counts)

// fineValue is the lowest value of bucket i of an evalrun histogram (its
// counts' layout: exact below 2048 µs, then 1024 buckets per octave).
func fineValue(i int) int64 {
	if i < 2048 {
		return int64(i)
	}
	return int64(i&1023+1024) << (i>>10 - 1)
}

// slot is one interval of the timeline as the recorder keeps it.
type slot struct {
	started, turns, errors int64
	lat                    coarse // corrected latencies of the turns that did not error
}

// timeline is the recorder's Load.Timeline.
type timeline struct {
	start time.Time
	width time.Duration
	limit int // TimelineLimit; tests lower it to widen short runs
	slots []slot
}

func newTimeline(start time.Time) timeline {
	return timeline{start: start, width: TimelineInterval, limit: TimelineLimit}
}

// cover makes the timeline reach offset d (≥ 0) from its start, widening
// it if d is past its last interval, and returns the slot that holds d.
func (t *timeline) cover(d time.Duration) *slot {
	i := int(d / t.width)
	for i >= t.limit {
		t.widen()
		i = int(d / t.width)
	}
	if i >= len(t.slots) {
		t.slots = append(t.slots, make([]slot, i+1-len(t.slots))...)
	}
	return &t.slots[i]
}

// widen doubles the width, merging each pair of neighbours.
func (t *timeline) widen() {
	t.width *= 2
	for i := range (len(t.slots) + 1) / 2 {
		s := t.slots[2*i]
		if 2*i+1 < len(t.slots) {
			n := &t.slots[2*i+1]
			s.started += n.started
			s.turns += n.turns
			s.errors += n.errors
			s.lat.merge(&n.lat)
		}
		t.slots[i] = s
	}
	n := (len(t.slots) + 1) / 2
	clear(t.slots[n:])
	t.slots = t.slots[:n]
}

// record returns the timeline as the record holds it, reaching to wall
// after the start: the intervals at the end in which nothing happened are
// part of the run, too.
func (t *timeline) record(wall time.Duration) (float64, []results.Interval, error) {
	if wall > 0 {
		t.cover(wall - 1) // the last interval that began before the end
	}
	out := make([]results.Interval, len(t.slots))
	h := latency.New()
	for i := range t.slots {
		s := &t.slots[i]
		h.Reset()
		if err := s.lat.hdr(h); err != nil {
			return 0, nil, err
		}
		iv, err := interval(float64(i)*ms(t.width), s.started, s.turns, s.errors, h, s.lat.percentiles)
		if err != nil {
			return 0, nil, err
		}
		out[i] = iv
	}
	return ms(t.width), out, nil
}

// interval is the record of one interval, with h its turns' latencies and
// pct their percentiles (latency.Percentiles of h, or the same figures
// found faster).
func interval(startMS float64, started, turns, errs int64, h *hdrhistogram.Histogram, pct func() results.Percentiles) (results.Interval, error) {
	iv := results.Interval{StartMS: startMS, Started: started, Turns: turns, Errors: errs}
	if h.TotalCount() == 0 {
		return iv, nil
	}
	enc, err := latency.Encode(h)
	if err != nil {
		return iv, fmt.Errorf("load: timeline: %w", err)
	}
	iv.Histogram, iv.LatencyMS = enc, pct()
	return iv, nil
}

// mergeTimelines combines the timelines of runs on one grid from start
// (the earliest of their starts), by absolute time: shards of one test run
// side by side against one service, and a freeze of the service happens at
// the same moment for all of them, whenever each shard began.
//
// The merged width is the widest of the shards', doubled while the span
// would need more than TimelineLimit intervals. An interval is never split:
// each shard's interval goes whole into the merged interval that holds its
// middle. Shards that began together (or a whole number of intervals apart)
// merge into exactly the timeline one recorder would have made of all their
// turns; others move by at most half an interval. Counts and histograms add
// up exactly either way. The merged histograms are coarse, as the
// recorder's are (a finer one, from a record built by hand, is coarsened);
// a histogram that does not decode, or holds more latencies than its
// interval has turns, is an error that names its record.
//
// When a record has no timeline (one from before timelines, or a record
// built by hand) while others do, the merged record has none either: a
// timeline missing one shard's turns would draw a dip that never happened.
func mergeTimelines(runs []*results.Run, start time.Time) (float64, []results.Interval, error) {
	width := 0.0
	for _, r := range runs {
		if len(r.Load.Timeline) == 0 {
			return 0, nil, nil
		}
		width = max(width, r.Load.IntervalMS)
	}
	// Where each shard interval goes, by its middle's offset from start.
	type part struct {
		run, iv int
		mid     float64
	}
	var parts []part
	end := 0.0
	for i, r := range runs {
		off := float64(r.StartedAt.Sub(start).Microseconds()) / 1000
		w := r.Load.IntervalMS
		for j, iv := range r.Load.Timeline {
			parts = append(parts, part{i, j, off + iv.StartMS + w/2})
			end = max(end, off+iv.StartMS+w)
		}
	}
	// Compared as floats: the count only becomes an int once it is known
	// to be small.
	for math.Ceil(end/width) > TimelineLimit {
		width *= 2
	}
	n := int(math.Ceil(end / width))
	groups := make([][]part, n)
	for _, p := range parts {
		k := min(int(p.mid/width), n-1)
		groups[k] = append(groups[k], p)
	}
	out := make([]results.Interval, n)
	h := latency.New()
	var acc coarse
	for k, g := range groups {
		acc.counts = acc.counts[:0]
		var started, turns, errs, latencies int64
		for _, p := range g {
			iv := runs[p.run].Load.Timeline[p.iv]
			started += iv.Started
			turns += iv.Turns
			errs += iv.Errors
			if iv.Histogram == "" {
				continue
			}
			r := runs[p.run]
			n, err := acc.addEncoded(iv.Histogram)
			if err != nil {
				return 0, nil, fmt.Errorf("record %d (run %s): load.timeline[%d]: %w", p.run+1, r.RunID, p.iv, err)
			}
			if n > iv.Turns {
				return 0, nil, fmt.Errorf("record %d (run %s): load.timeline[%d]: the histogram holds %d latencies, but only %d turns finished", p.run+1, r.RunID, p.iv, n, iv.Turns)
			}
			if n > math.MaxInt64-latencies {
				return 0, nil, fmt.Errorf("timeline histogram counts add up past %d", int64(math.MaxInt64))
			}
			latencies += n
		}
		h.Reset()
		if err := acc.hdr(h); err != nil {
			return 0, nil, err
		}
		iv, err := interval(float64(k)*width, started, turns, errs, h, acc.percentiles)
		if err != nil {
			return 0, nil, err
		}
		out[k] = iv
	}
	return width, out, nil
}
