package load

import (
	"math"
	"testing"
	"time"
)

// simulate runs a scheduler on a fake clock: it sleeps what p says, wakes
// oversleep late every time, and returns the due time of every start.
func simulate(t *testing.T, p Pacer, oversleep time.Duration) []time.Duration {
	t.Helper()
	var elapsed time.Duration
	var dues []time.Duration
	for hits := uint64(0); ; hits++ {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			return dues
		}
		dues = append(dues, elapsed+wait)
		if wait > 0 {
			elapsed += wait + oversleep
		}
		if hits > 1e6 {
			t.Fatal("the pacer never stops")
		}
	}
}

func TestPacerSchedule(t *testing.T) {
	tests := []struct {
		name  string
		p     Ramp
		want  int
		first time.Duration
		// at returns when start i should be due, in seconds; nil to skip.
		at func(i float64) float64
		// gaps: +1 for gaps that grow, -1 for gaps that shrink, 0 constant.
		gaps int
	}{
		{
			name: "constant 50/s for 10s", p: Ramp{Start: 50, Duration: 10 * time.Second},
			want: 500, at: func(i float64) float64 { return i / 50 },
		},
		{
			name: "ramp 0 to 100/s over 10s", p: Ramp{Stages: []Stage{{10 * time.Second, 100}}},
			want: 500, gaps: -1,
			// ∫0^t 10s ds = 5t² = i
			at: func(i float64) float64 { return math.Sqrt(i / 5) },
		},
		{
			name: "ramp 100 to 0/s over 10s", p: Ramp{Start: 100, Stages: []Stage{{10 * time.Second, 0}}},
			want: 500, gaps: +1,
			// 100t - 5t² = i
			at: func(i float64) float64 { return (100 - math.Sqrt(100*100-20*i)) / 10 },
		},
		{
			name: "rate 10, ramp to 50 over 10s, hold to 20s",
			p:    Ramp{Start: 10, Stages: []Stage{{10 * time.Second, 50}}, Duration: 20 * time.Second},
			want: 300 + 500,
		},
		{
			name: "step then hold",
			p:    Ramp{Stages: []Stage{{0, 20}, {5 * time.Second, 20}}},
			want: 100, at: func(i float64) float64 { return i / 20 },
		},
		{
			name: "duration cuts the ramp short",
			p:    Ramp{Stages: []Stage{{10 * time.Second, 100}}, Duration: 5 * time.Second},
			want: 125, gaps: -1,
		},
		{
			name: "several stages",
			p:    Ramp{Stages: []Stage{{2 * time.Second, 10}, {2 * time.Second, 30}, {0, 5}, {2 * time.Second, 5}}},
			want: 10 + 40 + 10,
		},
		{name: "rate zero for good", p: Ramp{Stages: []Stage{{10 * time.Second, 0}}}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dues := simulate(t, tt.p, 0)
			if d := len(dues) - tt.want; d < -1 || d > 1 {
				t.Fatalf("%d starts, want %d ± 1", len(dues), tt.want)
			}
			if len(dues) > 0 && dues[0] != 0 {
				t.Errorf("first start due at %s, want at once", dues[0])
			}
			for i, due := range dues {
				if due < 0 || due >= tt.p.End() {
					t.Fatalf("start %d due at %s, outside [0, %s)", i, due, tt.p.End())
				}
				if i > 0 && due < dues[i-1] {
					t.Fatalf("start %d due at %s, before start %d at %s", i, due, i-1, dues[i-1])
				}
				if tt.at != nil {
					want := time.Duration(tt.at(float64(i)) * 1e9)
					if diff := (due - want).Abs(); diff > time.Microsecond {
						t.Fatalf("start %d due at %s, want %s", i, due, want)
					}
				}
			}
			if tt.gaps != 0 && len(dues) > 3 {
				first, last := dues[1]-dues[0], dues[len(dues)-1]-dues[len(dues)-2]
				if (tt.gaps < 0) != (last < first) {
					t.Errorf("gaps go from %s to %s, want them to %s", first, last, map[bool]string{true: "shrink", false: "grow"}[tt.gaps < 0])
				}
				for i := 2; i < len(dues); i++ {
					prev, gap := dues[i-1]-dues[i-2], dues[i]-dues[i-1]
					if tt.gaps < 0 && gap > prev+time.Nanosecond || tt.gaps > 0 && gap < prev-time.Nanosecond {
						t.Fatalf("gap %d is %s after %s: not monotone", i, gap, prev)
					}
				}
			}
		})
	}
}

func TestPacerDoesNotDriftWhenCalledLate(t *testing.T) {
	for _, p := range []Ramp{
		{Start: 50, Duration: 10 * time.Second},
		{Stages: []Stage{{10 * time.Second, 100}}},
	} {
		onTime := simulate(t, p, 0)
		// A scheduler that always wakes 7ms late, and so runs behind at
		// 100/s, still gets the same due times: they come from the start.
		late := simulate(t, p, 7*time.Millisecond)
		if len(late) != len(onTime) {
			t.Fatalf("%+v: %d starts when waking late, %d on time", p, len(late), len(onTime))
		}
		for i := range late {
			if late[i] != onTime[i] {
				t.Fatalf("%+v: start %d due at %s when waking late, %s on time", p, i, late[i], onTime[i])
			}
		}
		for _, i := range []uint64{0, 1, 99, 250} {
			due, _ := p.Pace(0, i)
			for _, at := range []time.Duration{due + time.Millisecond, due + 3*time.Second} {
				wait, stop := p.Pace(at, i)
				if stop || at+wait != due || wait >= 0 {
					t.Errorf("%+v: Pace(%s, %d) = %s, %v; want %s (overdue), false", p, at, i, wait, stop, due-at)
				}
			}
		}
	}
}

func TestPacerRate(t *testing.T) {
	p := Ramp{Start: 10, Stages: []Stage{{10 * time.Second, 50}, {0, 20}, {time.Second, 20}}, Duration: 15 * time.Second}
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{
		{0, 10}, {5 * time.Second, 30}, {10 * time.Second, 20}, {10500 * time.Millisecond, 20},
		{14 * time.Second, 20}, {15 * time.Second, 0}, {-time.Second, 0},
	} {
		if got := p.Rate(c.at); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Rate(%s) = %g, want %g", c.at, got, c.want)
		}
	}
}

func TestCountDue(t *testing.T) {
	p := Ramp{Start: 20, Duration: time.Second}
	for _, c := range []struct {
		from uint64
		at   time.Duration
		want int64
	}{
		{0, time.Second, 20}, {0, 2 * time.Second, 20}, {5, time.Second, 15},
		{0, 500 * time.Millisecond, 10}, {0, 501 * time.Millisecond, 11}, {0, 0, 0}, {20, time.Second, 0},
	} {
		if got := countDue(p, c.from, c.at); got != c.want {
			t.Errorf("countDue(from %d, before %s) = %d, want %d", c.from, c.at, got, c.want)
		}
	}
}
