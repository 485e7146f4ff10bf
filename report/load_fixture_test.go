package report

import (
	"time"

	"github.com/evalrun/evalrun/results"
)

// pct is a latency distribution from p50 to max, in milliseconds.
func pct(p50, p90, p95, p99, max float64) results.Percentiles {
	return results.Percentiles{P50: p50, P90: p90, P95: p95, P99: p99, P999: max, Max: max}
}

// openLoadRun is a hand-built open-model load run with a ramp, a cap on
// conversations in flight, coordinated-omission latency above the service
// time, thresholds that pass, fail and have no data (the provider opens no
// sessions), and a sample of conversations that did not pass.
func openLoadRun() *results.Run {
	passRate, errorRate, dropped := 0.9823, 0.0041, 3
	return &results.Run{
		Schema:     results.Schema,
		RunID:      "load-2025-01-02-0001",
		StartedAt:  time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC),
		DurationMS: 70012.5,
		Summary: results.Summary{
			Conversations: 2988, Passed: 2935, Failed: 40, Errored: 12, Unfinished: 1,
			Turns: 8952, TurnErrors: 37,
			LatencyMS:        pct(812, 1450, 1834.6, 4210, 9120),
			ServiceLatencyMS: &results.Percentiles{P50: 790, P90: 1210, P95: 1390, P99: 2050, Max: 7010},
			Dropped:          &dropped, ErrorRate: &errorRate, PassRate: &passRate,
		},
		Conversations: []*results.Conversation{
			{
				Suite: "refunds", File: "examples/refunds.yaml", Line: 31, Name: "refund with ticket follow-up",
				Status: results.Failed, Runs: 1,
				Turns: []*results.Turn{
					{Index: 1, LatencyMS: 900, Assertions: []results.Assertion{{Check: "contains", Passed: true}}},
					{Index: 2, LatencyMS: 2400, Assertions: []results.Assertion{{Check: "contains", Message: `expected the reply to contain "being processed", got "I don't know which ticket you mean."`}}},
				},
			},
			{
				Suite: "refunds", File: "examples/refunds.yaml", Line: 52, Name: "angry customer\nis handed off",
				Status: results.Errored, Runs: 1, Reason: "opencx: send-message: 503 Service Unavailable",
				Turns: []*results.Turn{
					{Index: 1, LatencyMS: 950, Assertions: []results.Assertion{{Check: "contains", Passed: true}}},
					{Index: 2, LatencyMS: 30000, Error: "opencx: send-message: 503 Service Unavailable"},
				},
			},
			{
				Suite: "billing", File: "suites/billing.yaml", Line: 9, Name: "invoice copy",
				Status: results.Errored, Runs: 1,
				Reason: "opencx: create session: dial tcp 127.0.0.1:1: connect: connection refused",
			},
			{
				Suite: "billing", File: "suites/billing.yaml", Line: 44, Name: "cut short by the end of the grace period",
				Status: results.Unfinished, Runs: 1, Reason: "still in flight when the grace period ended",
			},
		},
		Load: &results.Load{
			Model: "open", Rate: 20,
			Stages: []results.Stage{
				{DurationMS: 10_000, Target: 50},
				{DurationMS: 45_000, Target: 50},
				{DurationMS: 5_000, Target: 12.5},
			},
			DurationMS: 60_000, GraceMS: 10_000, MaxInFlight: 200,
			Started: 2988, Late: 12, Dropped: 3,
			TargetRate: 50, AchievedRate: 49.8, Throughput: 149.2,
			Turns: []results.TurnStats{
				{Index: 1, Count: 2985, Errors: 2, LatencyMS: pct(640, 980, 1210, 2980, 7400), ServiceMS: pct(630, 950, 1100, 1800, 5200)},
				{Index: 2, Count: 2983, Errors: 25, LatencyMS: pct(905, 1620, 2010, 5120, 9120), ServiceMS: pct(880, 1400, 1590, 2300, 7010)},
				{Index: 3, Count: 2984, Errors: 10, LatencyMS: pct(850, 1500, 1790.2, 4020, 8800), ServiceMS: pct(840, 1300, 1450, 2100, 6300)},
			},
			Overall:      results.TurnStats{Count: 8952, Errors: 37, LatencyMS: pct(812, 1450, 1834.6, 4210, 9120), ServiceMS: pct(790, 1210, 1390, 2050, 7010)},
			Conversation: results.TurnStats{Count: 2987, Errors: 12, LatencyMS: pct(2610, 4300, 5120, 31240, 62010), ServiceMS: pct(2590, 4010, 4600, 7200, 40100)},
			Thresholds: []results.Threshold{
				{Expr: "turn_latency.p95<2s", Measured: 1834.6, Unit: "ms", Passed: true},
				{Expr: "conversation_latency.p99<30s", Measured: 31240, Unit: "ms"},
				{Expr: "error_rate<0.01", Measured: 0.0041, Passed: true},
				{Expr: "pass_rate>=0.95", Measured: 0.9823, Passed: true},
				{Expr: "dropped==0", Measured: 3},
				{Expr: "achieved_rate >= 45", Measured: 49.8, Passed: true},
				{Expr: "session_latency.p99<500ms", Unit: "ms", Missing: true},
			},
		},
	}
}

// closedLoadRun is a closed-model load run merged from two machines, without
// thresholds, where every conversation passed.
func closedLoadRun() *results.Run {
	passRate, errorRate, dropped := 1.0, 0.0, 0
	lat := func(p50, p90, p95, p99, max float64) (results.Percentiles, results.Percentiles) {
		p := pct(p50, p90, p95, p99, max)
		return p, p
	}
	t1, s1 := lat(420, 610, 700, 980, 1450)
	t2, s2 := lat(505, 720, 790, 1120, 2210)
	all, sall := lat(460, 680, 750, 1060, 2210)
	conv, sconv := lat(2480, 2790, 2900, 3400, 4100)
	sess, ssess := lat(35, 52, 61, 120, 310)
	return &results.Run{
		Schema:     results.Schema,
		RunID:      "load-merged",
		StartedAt:  time.Date(2025, 1, 2, 16, 0, 0, 0, time.UTC),
		DurationMS: 121_500, // the last conversations ended 1.5s into the grace period
		Summary: results.Summary{
			Conversations: 4120, Passed: 4120, Turns: 8240,
			LatencyMS: all, ServiceLatencyMS: &sall,
			Dropped: &dropped, ErrorRate: &errorRate, PassRate: &passRate,
		},
		Load: &results.Load{
			Model: "closed", VUs: 20, ThinkTimeMS: 1500,
			DurationMS: 120_000, GraceMS: 30_000,
			Shards:  []string{"load-a", "load-b"},
			Started: 4120, AchievedRate: 34.3, Throughput: 68.7,
			Turns: []results.TurnStats{
				{Index: 1, Count: 4120, LatencyMS: t1, ServiceMS: s1},
				{Index: 2, Count: 4120, LatencyMS: t2, ServiceMS: s2},
			},
			Overall:      results.TurnStats{Count: 8240, LatencyMS: all, ServiceMS: sall},
			Conversation: results.TurnStats{Count: 4120, LatencyMS: conv, ServiceMS: sconv},
			Session:      results.TurnStats{Count: 4120, Errors: 0, LatencyMS: sess, ServiceMS: ssess},
		},
	}
}
