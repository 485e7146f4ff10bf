package sim

import (
	"testing"
	"time"
)

// The simulator's own figures are read at the same rank as evalrun's, so
// the two can be compared: p99 of 99 handling times is the slowest.
func TestHandlingTimesStandardRank(t *testing.T) {
	h := newHandlingTimes(time.Now())
	for i := range 98 {
		h.record("GET /x", time.Duration(10+i)*time.Millisecond)
	}
	h.record("GET /x", 1705*time.Millisecond)
	s := h.snapshot()
	for name, l := range map[string]LatencyStats{"all": s.All, "route": s.Routes["GET /x"]} {
		if l.P99 < 1705 || l.P99 > 1707 {
			t.Errorf("%s: p99 of 99 = %gms, want 1705ms", name, l.P99)
		}
	}
}
