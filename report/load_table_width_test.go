package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

func renderLoadTable(t *testing.T, run *results.Run, opts TableOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := LoadTable(&buf, run, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestLoadTableWidthGoldens(t *testing.T) {
	tests := []struct {
		golden string
		run    func() *results.Run
		opts   TableOptions
	}{
		{"load-open-80.txt", openLoadRun, TableOptions{Width: 80}},
		{"load-open-200.txt", openLoadRun, TableOptions{Width: 200}},
		{"load-open-60.txt", openLoadRun, TableOptions{Width: 60}},
		{"load-open-80-ascii.txt", openLoadRun, TableOptions{Width: 80, ASCII: true}},
		{"load-closed-80.txt", closedLoadRun, TableOptions{Width: 80}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out := renderLoadTable(t, tt.run(), tt.opts)
			checkGolden(t, tt.golden, []byte(out))
			checkFits(t, out, tt.opts.Width)
		})
	}
}

func TestLoadTableFitsEveryWidth(t *testing.T) {
	// Below 50 columns the latency table keeps its last four columns and
	// may be wider than the screen.
	for width := 50; width <= 220; width++ {
		for _, run := range []*results.Run{openLoadRun(), closedLoadRun()} {
			checkFits(t, renderLoadTable(t, run, TableOptions{Width: width}), width)
		}
	}
}

func TestLoadTableASCII(t *testing.T) {
	out := renderLoadTable(t, openLoadRun(), TableOptions{Width: 80, ASCII: true})
	for i, r := range out {
		if r > 0x7f {
			t.Fatalf("non-ASCII %q at byte %d:\n%s", r, i, out)
		}
	}
	for _, want := range []string{"| PASS", "| FAIL", "| MISSING", "+---"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q:\n%s", want, out)
		}
	}
}

func TestLoadTableDropsColumnsInOrder(t *testing.T) {
	out := renderLoadTable(t, openLoadRun(), TableOptions{Width: 80})
	var header string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "COUNT") || strings.Contains(line, "ERR %") {
			header = line
			break
		}
	}
	for _, gone := range []string{"P90", "SVC P99"} {
		if strings.Contains(header, " "+gone+" ") {
			t.Errorf("%s should be the first to go at 80 columns: %s", gone, header)
		}
	}
	for _, kept := range []string{"ERR %", "P95", "P99"} {
		if !strings.Contains(header, " "+kept+" ") {
			t.Errorf("%s must stay: %s", kept, header)
		}
	}
}
