package threshold

import (
	"testing"

	"github.com/evalrun/evalrun/results"
)

func pct(base float64) results.Percentiles {
	return results.Percentiles{P50: base, P90: base + 1, P95: base + 2, P99: base + 3, P999: base + 4, Max: base + 5}
}

func turnStats(index int, latency, service float64) results.TurnStats {
	return results.TurnStats{Index: index, Count: 100, Errors: 2, LatencyMS: pct(latency), ServiceMS: pct(service)}
}

// loadRun is a load run whose every latency statistic is distinct:
// overall 1000+, service 900+, turn 1 100+, turn 2 2000+, conversations
// 5000+, sessions 50+.
func loadRun() *results.Run {
	errRate, passRate, dropped := 0.02, 0.95, 3
	return &results.Run{
		Schema: results.Schema,
		Summary: results.Summary{
			Conversations: 100, Passed: 95, Failed: 5, Turns: 200, TurnErrors: 4,
			LatencyMS: pct(1000), ServiceLatencyMS: new(pct(900)),
			ErrorRate: &errRate, PassRate: &passRate, Dropped: &dropped,
		},
		Load: &results.Load{
			Model: "open", Rate: 10, Started: 100, Late: 7, Dropped: 3, AchievedRate: 9.5, Throughput: 19.25,
			Turns:        []results.TurnStats{turnStats(1, 100, 90), turnStats(2, 2000, 1900)},
			Overall:      turnStats(0, 1000, 900),
			Conversation: turnStats(0, 5000, 4900),
			Session:      turnStats(0, 50, 40),
		},
	}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		expr     string
		measured float64
		passed   bool
	}{
		{"turn_latency.p50 < 1001ms", 1000, true},
		{"turn_latency.p50 < 1000ms", 1000, false},
		{"turn_latency.p90<=1001ms", 1001, true},
		{"turn_latency.p90<1001ms", 1001, false},
		{"turn_latency.p95 < 2s", 1002, true},
		{"turn_latency.p95 < 1s", 1002, false},
		{"turn_latency.p99 >= 1003ms", 1003, true},
		{"turn_latency.p99 > 1003ms", 1003, false},
		{"turn_latency.p99.9 == 1004ms", 1004, true},
		{"turn_latency.p99.9 != 1004ms", 1004, false},
		{"turn_latency.max < 1.1s", 1005, true},
		{"turn_latency.max < 1s", 1005, false},
		{"turn_latency[1].p95 < 200ms", 102, true},
		{"turn_latency[1].p95 < 100ms", 102, false},
		{"turn_latency[2].p99.9 <= 1500ms", 2004, false},
		{"turn_latency[2].p99.9 <= 2.5s", 2004, true},
		{"turn_service_latency.p95 < 1s", 902, true},
		{"turn_service_latency.p95 < 900ms", 902, false},
		{"turn_service_latency[2].max < 2s", 1905, true},
		{"turn_service_latency[2].max < 1.9s", 1905, false},
		{"conversation_latency.p99 < 30s", 5003, true},
		{"conversation_latency.p99 < 5s", 5003, false},
		{"conversation_service_latency.p50 < 5s", 4900, true},
		{"conversation_service_latency.p50 > 5s", 4900, false},
		{"session_latency.max < 5s", 55, true},
		{"session_latency.max < 50ms", 55, false},
		{"error_rate < 0.05", 0.02, true},
		{"error_rate < 1%", 0.02, false},
		{"pass_rate >= 0.95", 0.95, true},
		{"pass_rate > 95%", 0.95, false},
		{"dropped <= 3", 3, true},
		{"dropped == 0", 3, false},
		{"dropped == 3", 3, true},
		{"dropped != 3", 3, false},
		{"late == 0", 7, false},
		{"late < 10", 7, true},
		{"throughput > 19", 19.25, true},
		{"throughput > 20/s", 19.25, false},
		{"achieved_rate >= 9.5", 9.5, true},
		{"achieved_rate >= 10", 9.5, false},
	}
	run := loadRun()
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			th := MustParse(tt.expr)
			got := th.Evaluate(run)
			unit := ""
			if th.Stat != "" {
				unit = "ms"
			}
			want := results.Threshold{Expr: tt.expr, Measured: tt.measured, Unit: unit, Passed: tt.passed}
			if got != want {
				t.Errorf("Evaluate = %+v, want %+v", got, want)
			}
		})
	}
}

func TestEvaluateMissing(t *testing.T) {
	noSession := loadRun()
	noSession.Load.Session = results.TurnStats{}
	allErrored := loadRun() // every session creation failed: no latency was measured
	allErrored.Load.Session.Errors = allErrored.Load.Session.Count
	positional := loadRun() // turn stats without their Index are taken by position
	positional.Load.Turns[0].Index, positional.Load.Turns[1].Index = 0, 0
	noRates := loadRun()
	noRates.Summary.ErrorRate, noRates.Summary.PassRate, noRates.Summary.Dropped = nil, nil, nil
	plain := &results.Run{Summary: results.Summary{ // an `evalrun run` record
		Conversations: 4, Passed: 2, Flaky: 1, Failed: 1, Skipped: 3, Turns: 10, TurnErrors: 1, LatencyMS: pct(300),
	}}
	empty := &results.Run{}

	tests := []struct {
		name     string
		run      *results.Run
		expr     string
		measured float64 // when not missing
		missing  bool
	}{
		{"turn the run never reached", loadRun(), "turn_latency[3].p95 < 2s", 0, true},
		{"service of a turn never reached", loadRun(), "turn_service_latency[9].p50 < 2s", 0, true},
		{"no session data", noSession, "session_latency.max < 5s", 0, true},
		{"every session creation errored", allErrored, "session_latency.p95 < 1s", 0, true},
		{"positional turns", positional, "turn_latency[2].p50 < 5s", 2000, false},
		{"nil run", nil, "error_rate < 0.01", 0, true},
		{"error rate from the overall stats", noRates, "error_rate < 0.05", 0.02, false},
		{"pass rate without a summary rate or conversations", &results.Run{}, "pass_rate >= 0.9", 0, true},
		{"dropped from the load record", noRates, "dropped == 3", 3, false},
		{"plain run: turn latency from the summary", plain, "turn_latency.p95 < 2s", 302, false},
		{"plain run: no service latency", plain, "turn_service_latency.p95 < 2s", 0, true},
		{"plain run: no per-turn stats", plain, "turn_latency[1].p95 < 2s", 0, true},
		{"plain run: no conversation latency", plain, "conversation_latency.p95 < 2s", 0, true},
		{"plain run: no session latency", plain, "session_latency.p95 < 2s", 0, true},
		{"plain run: error rate from turns", plain, "error_rate < 0.5", 0.1, false},
		{"plain run: pass rate counts flaky as passed", plain, "pass_rate >= 0.5", 0.75, false},
		{"interrupted run: unfinished did not pass", &results.Run{Summary: results.Summary{Passed: 3, Unfinished: 1}}, "pass_rate >= 0.5", 0.75, false},
		{"plain run: no dropped", plain, "dropped == 0", 0, true},
		{"plain run: no late starts", plain, "late == 0", 0, true},
		{"plain run: no throughput", plain, "throughput > 0", 0, true},
		{"plain run: no achieved rate", plain, "achieved_rate > 0", 0, true},
		{"empty run: no turns", empty, "turn_latency.p50 < 1s", 0, true},
		{"empty run: no error rate", empty, "error_rate < 1", 0, true},
		{"plain run with service latency", &results.Run{Summary: results.Summary{Turns: 1, ServiceLatencyMS: new(pct(7))}}, "turn_service_latency.max < 1s", 12, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustParse(tt.expr).Evaluate(tt.run)
			if got.Missing != tt.missing {
				t.Fatalf("Missing = %v, want %v (%+v)", got.Missing, tt.missing, got)
			}
			if tt.missing {
				if got.Passed || got.Measured != 0 {
					t.Errorf("a missing metric gave %+v, want not passed and nothing measured", got)
				}
				return
			}
			if got.Measured != tt.measured || !got.Passed {
				t.Errorf("Evaluate = %+v, want measured %v and passed", got, tt.measured)
			}
		})
	}
}

func TestEvaluateExprDefaultsToCanonical(t *testing.T) {
	th := Threshold{Metric: "dropped", Op: "==", Value: 3}
	if got := th.Evaluate(loadRun()); got.Expr != "dropped == 3" || !got.Passed {
		t.Errorf("Evaluate = %+v, want expr %q, passed", got, "dropped == 3")
	}
}

// Exact comparison: 2^53+1 is not a float64, so counts stay below it; at
// 2^53 the neighbours must still differ.
func TestEvaluateCountsExactly(t *testing.T) {
	run := loadRun()
	big := 1 << 53
	run.Summary.Dropped = &big
	if !MustParse("dropped == 9007199254740992").Evaluate(run).Passed {
		t.Error("dropped == 2^53 did not hold")
	}
	if MustParse("dropped == 9007199254740990").Evaluate(run).Passed {
		t.Error("dropped == 2^53-2 held")
	}
}

func TestEvaluateAll(t *testing.T) {
	run := loadRun()
	pass := []Threshold{MustParse("turn_latency.p95<2s"), MustParse("dropped<=3")}
	out, ok := EvaluateAll(pass, run)
	if !ok || len(out) != 2 || !out[0].Passed || !out[1].Passed {
		t.Errorf("EvaluateAll(passing) = %+v, %v; want both passed, true", out, ok)
	}

	mixed := []Threshold{MustParse("turn_latency.p95<2s"), MustParse("error_rate<1%"), MustParse("pass_rate>=0.9")}
	out, ok = EvaluateAll(mixed, run)
	if ok || len(out) != 3 || !out[0].Passed || out[1].Passed || !out[2].Passed {
		t.Errorf("EvaluateAll(mixed) = %+v, %v; want pass, fail, pass and false", out, ok)
	}
	if out[1].Expr != "error_rate<1%" || out[1].Measured != 0.02 {
		t.Errorf("crossed threshold = %+v, want the expression as written and 0.02 measured", out[1])
	}

	missing := []Threshold{MustParse("turn_latency[7].p95<2s")}
	if out, ok = EvaluateAll(missing, run); ok || !out[0].Missing {
		t.Errorf("EvaluateAll(missing) = %+v, %v; want missing and false", out, ok)
	}

	if out, ok = EvaluateAll(nil, run); !ok || len(out) != 0 {
		t.Errorf("EvaluateAll(nil) = %+v, %v; want nothing and true", out, ok)
	}
}
