package baseline

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/evalrun/evalrun/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

// TestQuickstartRegressed compares two real records of the quickstart
// suites, read from files as --baseline reads them: the comparison's JSON
// and its terminal rendering are golden files, for the reports built on
// them.
func TestQuickstartRegressed(t *testing.T) {
	basePath := filepath.Join("testdata", "quickstart.json")
	base, err := Read(basePath)
	if err != nil {
		t.Fatal(err)
	}
	now, err := Read(filepath.Join("testdata", "regressed.json"))
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := Compare(base, now)
	if err != nil {
		t.Fatal(err)
	}
	cmp.BaselineFile = basePath

	if len(cmp.Regressed) != 2 || cmp.Unchanged != 4 {
		t.Fatalf("regressed %+v, unchanged %d", cmp.Regressed, cmp.Unchanged)
	}
	refund, shipping := cmp.Regressed[0], cmp.Regressed[1]
	if refund.Name != "refund with ticket follow-up" || refund.Turn != 2 || refund.Check != "regex" || refund.Now != results.Failed {
		t.Errorf("refund regression %+v", refund)
	}
	if shipping.Name != "shipping question" || shipping.Turn != 1 || shipping.Check != "error" || shipping.Now != results.Errored {
		t.Errorf("shipping regression %+v", shipping)
	}
	if fail, why := Gate(cmp, now, false); !fail || len(why) != 2 {
		t.Errorf("Gate = %v, %q; want a failure for the regressions and the error", fail, why)
	}

	var text bytes.Buffer
	if err := WriteText(&text, cmp, 0); err != nil {
		t.Fatal(err)
	}
	// The text shows p95 only, which is the maximum of these few turns
	// under any nearest-rank definition; the JSON leaves latency out, as
	// its percentiles are the runner's to define (TestLatencyPairsTurns
	// pins the pairing against them).
	golden(t, "regressed.txt", text.Bytes())

	if len(cmp.Latency) != 4 {
		t.Errorf("latency for %d turn indexes, want 4", len(cmp.Latency))
	}
	cmp.Latency = nil
	js, err := json.MarshalIndent(cmp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "regressed.comparison.json", append(js, '\n'))
}
