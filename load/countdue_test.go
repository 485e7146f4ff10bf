package load

import (
	"math/rand/v2"
	"testing"
	"time"
)

// countDue bisects; it must agree with counting the starts one by one.
func TestCountDueAgreesWithCountingOneByOne(t *testing.T) {
	linear := func(p Pacer, from uint64, at time.Duration) int64 {
		var n int64
		for h := from; ; h++ {
			if wait, stop := p.Pace(at, h); stop || wait >= 0 {
				return n
			}
			n++
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		r := Ramp{Start: float64(rng.IntN(50))}
		for range rng.IntN(4) {
			r.Stages = append(r.Stages, Stage{Duration: time.Duration(rng.IntN(3000)) * time.Millisecond, Target: float64(rng.IntN(80))})
		}
		if rng.IntN(2) == 0 || r.End() == 0 {
			r.Duration = time.Duration(1+rng.IntN(4000)) * time.Millisecond
		}
		at := time.Duration(rng.Int64N(int64(r.End() + time.Second)))
		from := uint64(rng.IntN(40))
		if got, want := countDue(r, from, at), linear(r, from, at); got != want {
			t.Fatalf("case %d: %+v from %d at %s: countDue %d, one by one %d", i, r, from, at, got, want)
		}
	}
	// A week at the highest rate is counted at once.
	week := Ramp{Start: MaxRate, Duration: MaxDuration}
	if got, want := countDue(week, 0, MaxDuration), int64(MaxRate*MaxDuration.Seconds()); got != want {
		t.Errorf("a week at %d/s: %d starts, want %d", MaxRate, got, want)
	}
}
