package latency

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/testtool"
)

// decodeWithJS is a node script that decodes each encoded histogram on
// stdin with hdr-histogram-js and prints its percentiles.
const decodeWithJS = `
let hdr;
try { hdr = require("hdr-histogram-js"); } catch (e) { console.log("MISSING"); process.exit(0); }
let input = "";
process.stdin.on("data", d => input += d);
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(c => {
    const h = hdr.decodeFromCompressedBase64(c.enc);
    return [h.totalCount, ...c.qs.map(q => h.getValueAtPercentile(q))];
  });
  console.log(JSON.stringify(out));
});
`

// TestAgreesWithHdrHistogramJS decodes evalrun's encoded histograms with
// the JavaScript HdrHistogram users read records with, and expects the
// same percentiles. It needs node and the npm package hdr-histogram-js
// (found through NODE_PATH, e.g. after npm install hdr-histogram-js in a
// directory whose node_modules NODE_PATH names), and skips without them.
func TestAgreesWithHdrHistogramJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testtool.Missing(t, "node is not installed: skipping the comparison with hdr-histogram-js")
	}
	qs := []float64{50, 90, 95, 99, 99.9, 100}
	type histCase struct {
		Enc string    `json:"enc"`
		Qs  []float64 `json:"qs"`
	}
	rng := rand.New(rand.NewPCG(9, 9))
	var cases []histCase
	var want [][]int64 // evalrun's percentiles of each case
	for n := 1; n <= 200; n += 1 + n/10 {
		h := New()
		for range n {
			_ = h.RecordValue(Micros(time.Duration(rng.ExpFloat64() * float64(300*time.Millisecond))))
		}
		_ = h.RecordValue(Micros(1705 * time.Millisecond)) // n+1 samples, one slow
		enc, err := Encode(h)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, histCase{enc, qs})
		at := make([]int64, 0, len(qs))
		for _, q := range qs {
			at = append(at, At(h, q))
		}
		want = append(want, at)
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(node, "-e", decodeWithJS)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	if strings.TrimSpace(string(out)) == "MISSING" {
		testtool.Missing(t, "the npm package hdr-histogram-js is not installed (npm install hdr-histogram-js; point NODE_PATH at its node_modules): skipping the comparison")
	}
	var got [][]int64
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	for i, js := range got {
		for j, q := range qs {
			if js[j+1] != want[i][j] {
				t.Errorf("histogram %d (%d samples): p%g is %dµs in hdr-histogram-js, %dµs in evalrun", i, js[0], q, js[j+1], want[i][j])
			}
		}
	}
}
