package latency

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// loaded is a histogram shaped like a load run's: 100,000 latencies around
// 200ms with an exponential tail into seconds.
func loaded(b *testing.B) *hdrhistogram.Histogram {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	h := New()
	for range 100_000 {
		d := 150*time.Millisecond + time.Duration(rng.ExpFloat64()*float64(50*time.Millisecond))
		if err := h.RecordValue(Micros(d)); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// BenchmarkAt is the cost of one percentile, which the load recorder pays
// every second under its lock.
func BenchmarkAt(b *testing.B) {
	h := loaded(b)
	b.ReportAllocs()
	for b.Loop() {
		At(h, 95)
	}
}

// BenchmarkPercentiles is the cost of the five reported percentiles.
func BenchmarkPercentiles(b *testing.B) {
	h := loaded(b)
	b.ReportAllocs()
	for b.Loop() {
		Percentiles(h)
	}
}
