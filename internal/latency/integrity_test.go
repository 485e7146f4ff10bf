package latency

import (
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
)

// stats is a metric of the given service latencies, each sent late by the
// matching lateness, with errs errored samples besides.
func stats(t *testing.T, service, late []time.Duration, errs int64) results.TurnStats {
	t.Helper()
	co, svc := New(), New()
	for i, d := range service {
		if err := svc.RecordValue(Micros(d)); err != nil {
			t.Fatal(err)
		}
		if err := co.RecordValue(Micros(d + late[i])); err != nil {
			t.Fatal(err)
		}
	}
	ce, err := Encode(co)
	if err != nil {
		t.Fatal(err)
	}
	se, err := Encode(svc)
	if err != nil {
		t.Fatal(err)
	}
	return results.TurnStats{Count: int64(len(service)) + errs, Errors: errs, Histogram: ce, Service: se}
}

func ms(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

// loadOf is a record of two turns and overall, consistent.
func loadOf(t *testing.T) *results.Load {
	t1 := stats(t, ms(10, 20, 30), ms(0, 50, 0), 1)
	t2 := stats(t, ms(40, 50), ms(5, 0), 0)
	all := stats(t, ms(10, 20, 30, 40, 50), ms(0, 50, 0, 5, 0), 1)
	t1.Index, t2.Index = 1, 2
	return &results.Load{Turns: []results.TurnStats{t1, t2}, Overall: all}
}

func TestRefreshLoadAcceptsAConsistentRecord(t *testing.T) {
	l := loadOf(t)
	if err := RefreshLoad(l); err != nil {
		t.Fatal(err)
	}
	if l.Overall.LatencyMS.Max != 70.015 || l.Overall.ServiceMS.Max != 50.015 {
		t.Errorf("percentiles not refreshed: %+v", l.Overall)
	}
	// A metric that measured nothing may have no histograms.
	l.Session = results.TurnStats{Count: 3, Errors: 3}
	if err := RefreshLoad(l); err != nil {
		t.Errorf("all errored, no histograms: %v", err)
	}
}

func TestRefreshLoadRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(l *results.Load)
		want  string
	}{
		{"edited count", func(l *results.Load) { l.Turns[1].Count = 4 },
			"load.turns[1] (turn 2): the histogram holds 2 latencies, but count - errors is 4"},
		{"emptied histogram", func(l *results.Load) { l.Turns[0].Histogram = "" },
			`load.turns[0] (turn 1): the histogram is absent (""), but count - errors is 3`},
		{"emptied service histogram", func(l *results.Load) { l.Overall.Service = "" },
			`load.overall: the service histogram is absent (""), but count - errors is 5`},
		{"turn swapped with overall", func(l *results.Load) { l.Turns[0], l.Overall = l.Overall, l.Turns[0] },
			"load.overall: count 4 and errors 1, but the turns add up to 8 and 1"},
		{"histograms swapped between turns", func(l *results.Load) {
			l.Turns[0].Histogram, l.Turns[1].Histogram = l.Turns[1].Histogram, l.Turns[0].Histogram
		}, "load.turns[0] (turn 1): the histogram holds 2 latencies, but count - errors is 3"},
		{"corrected and service swapped", func(l *results.Load) {
			l.Turns[0].Histogram, l.Turns[0].Service = l.Turns[0].Service, l.Turns[0].Histogram
		}, "load.turns[0] (turn 1): the histogram (corrected latency, 20.015 ms at rank 2 of 3) is below the service histogram (30.015 ms) there"},
		{"overall not the turns' latencies", func(l *results.Load) {
			o := stats(t, ms(10, 20, 30, 40, 51), ms(0, 50, 0, 5, 0), 1)
			l.Overall.Histogram, l.Overall.Service = o.Histogram, o.Service
		}, "load.overall: the histogram differs from the turns' histograms merged (at 50.015 ms it holds 0 latencies, they 1)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := loadOf(t)
			c.spoil(l)
			err := RefreshLoad(l)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant one that says %q", err, c.want)
			}
		})
	}
}

func TestCheckCorrectedAtEveryRank(t *testing.T) {
	// Above at p50 and max, below at one rank only: still refused.
	co, svc := New(), New()
	for _, v := range []int64{100, 200, 300, 400} {
		_ = svc.RecordValue(v)
	}
	for _, v := range []int64{100, 150, 350, 400} {
		_ = co.RecordValue(v)
	}
	if err := CheckCorrected(co, svc); err == nil || !strings.Contains(err.Error(), "rank 2 of 4") {
		t.Errorf("err = %v, want the corrected histogram below at rank 2", err)
	}
	if err := CheckCorrected(svc, svc); err != nil {
		t.Errorf("equal histograms (nothing was late): %v", err)
	}
}
