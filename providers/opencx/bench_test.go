package opencx

import (
	"os"
	"testing"
)

// BenchmarkDecodeReply decodes the simulator's refund reply (about 1.4 KB,
// one action call with arguments, two knowledge entries): the costliest
// part of a turn that evalrun itself owns.
func BenchmarkDecodeReply(b *testing.B) {
	raw, err := os.ReadFile("../../sim/testdata/opencx_send_refund.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		r, _, err := DecodeReply(raw)
		if err != nil || len(r.Actions) != 1 || len(r.Knowledge) != 1 || r.Text == "" {
			b.Fatalf("decoded %+v, %v", r, err)
		}
	}
}
