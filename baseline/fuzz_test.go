package baseline

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// small is a minimal record: the fixtures are large, and the fuzzer spends
// its time shrinking what it finds in them.
const small = `{"schema":"evalrun/v1","run_id":"r","conversations":[{"suite":"s","name":"a","status":"failed",` +
	`"turns":[{"index":1,"latency_ms":5,"assertions":[{"check":"contains","passed":false,"message":"m"}]}],` +
	`"final":[{"check":"final.status","passed":true}]},{"suite":"s","name":"b","status":"passed","turns":[]}]}`

func seeds(f *testing.F) [][]byte {
	out := [][]byte{[]byte(small)}
	for _, pattern := range []string{"testdata/*.json", "testdata/bad/*"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data)
		}
	}
	return out
}

// FuzzDecode feeds Decode arbitrary files: it never panics, returns a record
// or an error (never both, never neither), and a record it accepts compares
// with itself as wholly unchanged, renders, and encodes back to JSON.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := Decode("fuzz.json", data)
		if (run == nil) == (err == nil) {
			t.Fatalf("Decode returned %v and error %v", run, err)
		}
		if err != nil {
			return
		}
		cmp, err := Compare(run, run)
		if err != nil {
			t.Fatalf("a record does not compare with itself: %v", err)
		}
		if n := len(cmp.Regressed) + len(cmp.Fixed) + len(cmp.New) + len(cmp.Removed); n != 0 {
			t.Fatalf("a record compared with itself has %d changes: %+v", n, cmp)
		}
		for _, l := range cmp.Latency {
			if l.P50Change != 0 || l.P95Change != 0 {
				t.Fatalf("latency changed against itself: %+v", l)
			}
		}
		usable(t, cmp, run)
	})
}

// FuzzCompare compares two arbitrary records that Decode accepts: it never
// panics, and what it returns can be gated, rendered and encoded.
func FuzzCompare(f *testing.F) {
	ss := seeds(f)
	for _, a := range ss {
		for _, b := range ss[:4] {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		base, err := Decode("base.json", a)
		if err != nil {
			return
		}
		now, err := Decode("now.json", b)
		if err != nil {
			return
		}
		cmp, err := Compare(base, now)
		if (cmp == nil) == (err == nil) {
			t.Fatalf("Compare returned %v and error %v", cmp, err)
		}
		if err != nil {
			return
		}
		usable(t, cmp, now)
	})
}

// usable is what any comparison must allow: gating, rendering, encoding.
func usable(t *testing.T, cmp *results.Comparison, run *results.Run) {
	t.Helper()
	Gate(cmp, run, false)
	Gate(cmp, run, true)
	if err := WriteText(io.Discard, cmp, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(cmp); err != nil {
		t.Fatalf("the comparison does not encode: %v", err)
	}
}
