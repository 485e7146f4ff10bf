package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/evalrun/evalrun/results"
)

// maxLoadTableWidth is the terminal the load table is laid out for.
const maxLoadTableWidth = 100

func TestLoadTableGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		run    func() *results.Run
		opts   TableOptions
	}{
		{"open", "load-open.txt", openLoadRun, TableOptions{}},
		{"open color", "load-open-color.txt", openLoadRun, TableOptions{Color: true}},
		{"closed", "load-closed.txt", closedLoadRun, TableOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := LoadTableReporter(tt.opts).Report(&buf, tt.run()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, buf.Bytes())
			if tt.opts.Color {
				return
			}
			for i, line := range strings.Split(buf.String(), "\n") {
				if w := twwidth.Width(line); w > maxLoadTableWidth {
					t.Errorf("line %d is %d columns wide, more than %d:\n%s", i+1, w, maxLoadTableWidth, line)
				}
			}
		})
	}
}

func TestLoadTableSameBytes(t *testing.T) {
	var a, b bytes.Buffer
	if err := LoadTable(&a, openLoadRun(), TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := LoadTable(&b, openLoadRun(), TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same record rendered two different tables")
	}
}

func TestLoadTableErrors(t *testing.T) {
	tests := []struct {
		name string
		run  *results.Run
		want string
	}{
		{"no run", nil, "no run"},
		{"not a load run", fixtureRun(), "no load record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := LoadTable(&buf, tt.run, TableOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadTable = %v, want an error containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("LoadTable wrote %q before failing", buf.String())
			}
		})
	}
}

func TestLoadTableEmptyRecord(t *testing.T) {
	run := &results.Run{Schema: results.Schema, Load: &results.Load{Model: "open", Rate: 10, DurationMS: 5000}}
	var buf bytes.Buffer
	if err := LoadTable(&buf, run, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{"Open model: target 10.0/s, achieved 0.0/s", "Ran 5s: 0 started, 0 late, 0 dropped", "all turns"} {
		if !strings.Contains(got, want) {
			t.Errorf("empty load table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "THRESHOLD") || strings.Contains(got, "did not pass") {
		t.Errorf("empty load table has sections it has no data for:\n%s", got)
	}
}

func TestFormatMeasured(t *testing.T) {
	tests := []struct {
		name string
		th   results.Threshold
		want string
	}{
		{"latency seconds", results.Threshold{Expr: "turn_latency.p95<2s", Measured: 1834.6, Unit: "ms"}, "1.83s"},
		{"latency ms", results.Threshold{Expr: "turn_latency.p50<1s", Measured: 812.4, Unit: "ms"}, "812ms"},
		{"latency small", results.Threshold{Expr: "session_latency.p50<1s", Measured: 4.213, Unit: "ms"}, "4.21ms"},
		{"latency rounds up a unit", results.Threshold{Expr: "turn_latency.p50<1s", Measured: 999.7, Unit: "ms"}, "1.00s"},
		{"latency minutes", results.Threshold{Expr: "conversation_latency.max<1m", Measured: 83_450, Unit: "ms"}, "1m23.5s"},
		{"error rate", results.Threshold{Expr: "error_rate<0.01", Measured: 0.004}, "0.4%"},
		{"pass rate", results.Threshold{Expr: "pass_rate >= 0.95", Measured: 0.98234}, "98.2%"},
		{"whole pass rate", results.Threshold{Expr: "pass_rate>=0.95", Measured: 1}, "100%"},
		{"zero rate", results.Threshold{Expr: "error_rate<0.01", Measured: 0}, "0%"},
		{"count", results.Threshold{Expr: "dropped==0", Measured: 0}, "0"},
		{"large count", results.Threshold{Expr: "dropped<100000", Measured: 123456}, "123456"},
		{"fraction", results.Threshold{Expr: "something<1", Measured: 0.123456}, "0.1235"},
		{"other unit", results.Threshold{Expr: "rss<96MB", Measured: 81.5, Unit: "MB"}, "81.5 MB"},
		{"throughput", results.Threshold{Expr: "throughput>100", Measured: 149.23}, "149.2/s"},
		{"achieved rate is not a fraction", results.Threshold{Expr: "achieved_rate>=49", Measured: 49.8}, "49.8/s"},
		{"rate in percent", results.Threshold{Expr: " error_rate < 1%", Measured: 0.0123}, "1.23%"},
		{"missing", results.Threshold{Expr: "session_latency.p99<1s", Unit: "ms", Missing: true}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatMeasured(tt.th); got != tt.want {
				t.Errorf("formatMeasured(%+v) = %q, want %q", tt.th, got, tt.want)
			}
		})
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0%"},
		{0.004, "0.4%"},
		{0.0041, "0.41%"},
		{0.00001234, "0.0012%"},
		{0.125, "12.5%"},
		{0.98234, "98.2%"},
		{1, "100%"},
	}
	for _, tt := range tests {
		if got := formatPercent(tt.f); got != tt.want {
			t.Errorf("formatPercent(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestFormatErrorPercent(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0%"},
		{0.00001, "<0.01%"},
		{0.000838, "0.08%"},
		{0.00838, "0.84%"},
		{0.004, "0.4%"},
		{0.125, "12.5%"},
		{1, "100%"},
	}
	for _, tt := range tests {
		if got := formatErrorPercent(tt.f); got != tt.want {
			t.Errorf("formatErrorPercent(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// LoadTable is given records in process too, unchecked by ReadRecord: a
// sampled conversation with a missing turn is reported, not a panic.
func TestLoadTableSkipsMissingTurns(t *testing.T) {
	run := openLoadRun()
	run.Conversations[0].Turns = append([]*results.Turn{nil}, run.Conversations[0].Turns...)
	var b strings.Builder
	if err := LoadTable(&b, run, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "being processed") {
		t.Errorf("the failed check is not reported:\n%s", b.String())
	}
}
