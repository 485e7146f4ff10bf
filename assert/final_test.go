package assert

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

func TestFinal(t *testing.T) {
	state := &providers.State{
		Status:     "closed_resolved",
		Sentiment:  "happy",
		Closure:    "assumed_resolved",
		Handoff:    boolp(false),
		CustomData: map[string]any{"plan": "pro", "seats": float64(3), "limits": map[string]any{"calls": json.Number("10"), "region": "eu"}},
	}
	cases := []struct {
		name    string
		final   legacyFinal
		state   *providers.State
		check   string
		message string // "" means pass
	}{
		{name: "status", final: legacyFinal{Status: strp("closed_resolved")}, state: state, check: "final.status"},
		{name: "status differs", final: legacyFinal{Status: strp("open")}, state: state, check: "final.status",
			message: `expected final status "open", got "closed_resolved"`},
		{name: "status not reported", final: legacyFinal{Status: strp("open")}, state: &providers.State{}, check: "final.status",
			message: `expected final status "open", but it was not reported`},
		{name: "sentiment", final: legacyFinal{Sentiment: strp("happy")}, state: state, check: "final.sentiment"},
		{name: "sentiment differs", final: legacyFinal{Sentiment: strp("angry")}, state: state, check: "final.sentiment",
			message: `expected final sentiment "angry", got "happy"`},
		{name: "sentiment not reported", final: legacyFinal{Sentiment: strp("happy")}, state: &providers.State{}, check: "final.sentiment",
			message: `expected final sentiment "happy", but it was not reported`},
		{name: "closure", final: legacyFinal{Closure: strp("assumed_resolved")}, state: state, check: "final.closure"},
		{name: "closure differs", final: legacyFinal{Closure: strp("handed_off")}, state: state, check: "final.closure",
			message: `expected final closure "handed_off", got "assumed_resolved"`},
		{name: "closure not reported", final: legacyFinal{Closure: strp("resolved")}, state: nil, check: "final.closure",
			message: `expected final closure "resolved", but it was not reported`},
		{name: "handoff", final: legacyFinal{Handoff: boolp(false)}, state: state, check: "final.handoff"},
		{name: "handoff differs", final: legacyFinal{Handoff: boolp(true)}, state: state, check: "final.handoff",
			message: "expected final handoff to be true, got false"},
		{name: "handoff not reported", final: legacyFinal{Handoff: boolp(false)}, state: &providers.State{}, check: "final.handoff",
			message: "expected final handoff to be false, but it was not reported"},
		{name: "custom_data subset", final: legacyFinal{CustomData: map[string]any{"plan": "pro"}}, state: state, check: "final.custom_data"},
		{name: "custom_data numbers and nested subset", final: legacyFinal{CustomData: map[string]any{"seats": 3, "limits": map[string]any{"calls": 10.0}}}, state: state, check: "final.custom_data"},
		{name: "custom_data differs", final: legacyFinal{CustomData: map[string]any{"plan": "free"}}, state: state, check: "final.custom_data",
			message: `expected final custom_data to include {"plan":"free"}, got {"limits":{"calls":10,"region":"eu"},"plan":"pro","seats":3} (plan: expected "free", got "pro")`},
		{name: "custom_data string is not number", final: legacyFinal{CustomData: map[string]any{"seats": "3"}}, state: state, check: "final.custom_data",
			message: `expected final custom_data to include {"seats":"3"}, got {"limits":{"calls":10,"region":"eu"},"plan":"pro","seats":3} (seats: expected "3" (a string), got 3 (a number))`},
		{name: "custom_data key missing", final: legacyFinal{CustomData: map[string]any{"limits": map[string]any{"zone": "b"}}}, state: state, check: "final.custom_data",
			message: `expected final custom_data to include {"limits":{"zone":"b"}}, got {"limits":{"calls":10,"region":"eu"},"plan":"pro","seats":3} (limits.zone: missing)`},
		{name: "custom_data not reported", final: legacyFinal{CustomData: map[string]any{"plan": "pro"}}, state: &providers.State{}, check: "final.custom_data",
			message: `expected final custom_data to include {"plan":"pro"}, but it was not reported`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Final(lf(&c.final), c.state)
			if len(got) != 1 {
				t.Fatalf("got %d assertions, want 1", len(got))
			}
			a := got[0]
			wellFormed(t, a)
			if a.Check != c.check {
				t.Errorf("check = %q, want %q", a.Check, c.check)
			}
			if c.message == "" {
				if !a.Passed {
					t.Fatalf("failed, want pass: %s", a.Message)
				}
				return
			}
			if a.Passed {
				t.Fatalf("passed, want failure %q", c.message)
			}
			if a.Message != c.message {
				t.Errorf("message:\n got %s\nwant %s", a.Message, c.message)
			}
		})
	}
}

func TestFinalOrder(t *testing.T) {
	f := &legacyFinal{
		Status:    strp("open"),
		Sentiment: strp("happy"),
		Handoff:   boolp(true),
		Keys:      []suites.Key{{Name: "handoff"}, {Name: "status"}, {Name: "mood"}},
	}
	var names []string
	for _, a := range Final(lf(f), &providers.State{Status: "open", Sentiment: "happy", Handoff: boolp(true)}) {
		names = append(names, a.Check)
		if a.Check == "final.mood" {
			if a.Passed || a.Message != `evalrun has no final check named "mood"` {
				t.Errorf("unknown key: %+v", a)
			}
		} else if !a.Passed {
			t.Errorf("%s: %s", a.Check, a.Message)
		}
	}
	if got, want := strings.Join(names, " "), "final.handoff final.status final.mood final.sentiment"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
	if Final(nil, nil) != nil {
		t.Error("Final(nil) should give nothing")
	}
}
