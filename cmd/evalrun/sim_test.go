package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/sim"
)

func TestSimFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		want  sim.Options
		shown string
	}{
		{nil, sim.Options{}, ""},
		{[]string{"--latency", "300ms"}, sim.Options{Latency: 300 * time.Millisecond}, "latency=300ms"},
		{[]string{"--admin", "--latency", "1s"}, sim.Options{Admin: true, Latency: time.Second}, "admin=true&latency=1s"},
		{
			[]string{"--latency", "lognormal:200ms:0.5", "--fault", "503:0.1", "--fault", "drop:0.05", "--shape", "id-only", "--seed", "7", "--token", "s3cret", "--flaky", "0.2"},
			sim.Options{LatencyDist: sim.Lognormal{Median: 200 * time.Millisecond, Sigma: 0.5}, Faults: []sim.Fault{{Kind: sim.Fault503, Rate: 0.1}, {Kind: sim.FaultDrop, Rate: 0.05}}, Shape: sim.ShapeIDOnly, Seed: 7, Token: "s3cret", Flaky: 0.2},
			"latency=lognormal:200ms:0.5&fault=503:0.1&fault=drop:0.05&shape=id-only&seed=7&flaky=0.2",
		},
		{
			[]string{"--fault", "429:0.5", "--retry-after", "2", "--retry-after-date", "--oversize-bytes", "1MiB", "--history-delay", "1s"},
			sim.Options{Faults: []sim.Fault{{Kind: sim.Fault429, Rate: 0.5}}, RetryAfter: 2 * time.Second, RetryAfterDate: true, OversizeBytes: 1 << 20, HistoryDelay: time.Second},
			"fault=429:0.5&retry_after=2&retry_after_date=true&oversize_bytes=1MiB&history_delay=1s",
		},
		{[]string{"--shape", "id-only", "--history-ids", "none"}, sim.Options{Shape: sim.ShapeIDOnly, HistoryIDs: sim.HistoryIDsNone}, "shape=id-only&history_ids=none"},
		{
			[]string{"--spec", "sim?latency=uniform:1ms:2ms&token=x", "--fault", "hang:0.5"},
			sim.Options{LatencyDist: sim.Uniform{Min: time.Millisecond, Max: 2 * time.Millisecond}, Token: "x", Faults: []sim.Fault{{Kind: sim.FaultHang, Rate: 0.5}}},
			"latency=uniform:1ms:2ms&fault=hang:0.5",
		},
	} {
		fs, cfg := simFlags()
		if _, err := parseArgs(fs, tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		got, err := cfg.options()
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.args, got, tc.want)
		}
		if s := cfg.shown(); s != tc.shown {
			t.Errorf("%q: shown as %q, want %q", tc.args, s, tc.shown)
		}
	}

	for args, want := range map[string]string{
		"--latency fast":                 "sim spec: latency=fast: want a duration such as 300ms",
		"--fault 504:0.1":                "sim spec: fault=504:0.1: want KIND:RATE",
		"--spec latency=1s --latency 2s": "sim spec: latency is given twice",
		"--shape wrapped":                "sim spec: shape=wrapped: want one of flat, data, legacy, id-only",
		"--history-ids random":           "sim spec: history_ids=random: want one of same, none, unrelated",
	} {
		fs, cfg := simFlags()
		if _, err := parseArgs(fs, strings.Fields(args)); err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		if _, err := cfg.options(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %s…", args, err, want)
		}
	}
}
