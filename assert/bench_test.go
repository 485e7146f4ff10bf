package assert

import (
	"testing"
	"time"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

// BenchmarkTurnChecks judges one reply against a typical expect, the way the
// runner does on every turn: build the checks, wrap the reply, run them all.
func BenchmarkTurnChecks(b *testing.B) {
	legacy := &legacyExpect{
		Contains:   []string{"refund"},
		Regex:      []string{`TCK-\d+`},
		MightSolve: boolp(true),
		JSON:       []suites.JSONExpect{{Path: "$.autopilotResponse.didExitMode", Want: false}},
		Keys:       []suites.Key{{Name: "contains"}, {Name: "regex"}, {Name: "might_solve"}, {Name: "json"}},
	}
	e := lx(legacy)
	r := &providers.Reply{
		Text:       "Your refund for order ord_42 is being processed. Your ticket is TCK-1234; we will write to you within two days.",
		MightSolve: boolp(true),
		Raw:        []byte(openCXBody),
	}
	b.Run("build and check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o := NewObservation(r, time.Second)
			for _, c := range Turn(e) {
				if a := c.Check(o); !a.Passed {
					b.Fatal(a.Message)
				}
			}
		}
	})
	b.Run("check only", func(b *testing.B) {
		checks := Turn(e)
		b.ReportAllocs()
		for b.Loop() {
			o := NewObservation(r, time.Second)
			for _, c := range checks {
				if a := c.Check(o); !a.Passed {
					b.Fatal(a.Message)
				}
			}
		}
	})
}
