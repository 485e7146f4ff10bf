package assert

import (
	"testing"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

func TestCapture(t *testing.T) {
	body := providers.Reply{Text: "Created TCK-1234 for order ord_42.", Raw: []byte(openCXBody)}
	cases := []struct {
		name    string
		capture suites.Capture
		reply   providers.Reply
		want    string
		err     string // "" means it must succeed
	}{
		{name: "regex first group", capture: suites.Capture{Name: "ticket", Regex: `(TCK-\d+) for order (\w+)`}, reply: body, want: "TCK-1234"},
		{name: "regex named group", capture: suites.Capture{Name: "ticket", Regex: `TCK-(?P<n>\d+)`}, reply: body, want: "1234"},
		{name: "regex non-capturing group", capture: suites.Capture{Name: "ticket", Regex: `(?:TCK|INC)-\d+`}, reply: body, want: "TCK-1234"},
		{name: "regex whole match", capture: suites.Capture{Name: "ticket", Regex: `TCK-\d+`}, reply: body, want: "TCK-1234"},
		{name: "regex empty group", capture: suites.Capture{Name: "ticket", Regex: `TCK-(x*)`}, reply: body, want: ""},
		{name: "regex no match", capture: suites.Capture{Name: "ticket", Regex: `INC-\d+`}, reply: body,
			err: `capture ticket: /INC-\d+/ matched nothing in the reply "Created TCK-1234 for order ord_42."`},
		{name: "regex group took no part", capture: suites.Capture{Name: "ticket", Regex: `(INC-\d+)?TCK`}, reply: body,
			err: `capture ticket: /(INC-\d+)?TCK/ matched "TCK", but its first group took no part in the match`},
		{name: "regex on silence", capture: suites.Capture{Name: "ticket", Regex: `TCK-\d+`}, reply: providers.Reply{Silent: true},
			err: `capture ticket: /TCK-\d+/ found nothing: the bot said nothing`},
		{name: "json string", capture: suites.Capture{Name: "slug", JSON: "$.autopilotResponse.mode.slug"}, reply: body, want: "refunds"},
		{name: "json number keeps its form", capture: suites.Capture{Name: "n", JSON: "$.count"}, reply: body, want: "42.0"},
		{name: "json integer", capture: suites.Capture{Name: "n", JSON: "$.items[1].id"}, reply: body, want: "2"},
		{name: "json bool", capture: suites.Capture{Name: "b", JSON: "$.success"}, reply: body, want: "true"},
		{name: "json object in document order", capture: suites.Capture{Name: "m", JSON: "$.autopilotResponse.mode"}, reply: body, want: `{"slug":"refunds","name":"Refunds"}`},
		{name: "json list", capture: suites.Capture{Name: "l", JSON: "$.items"}, reply: body, want: `[{"id":1,"sku":"A"},{"id":2,"sku":"B"}]`},
		{name: "json nothing", capture: suites.Capture{Name: "x", JSON: "$.missing"}, reply: body,
			err: "capture x: $.missing selected nothing"},
		{name: "json several", capture: suites.Capture{Name: "x", JSON: "$.items[*].id"}, reply: body,
			err: "capture x: $.items[*].id selected 2 nodes; a capture needs exactly one"},
		{name: "json null", capture: suites.Capture{Name: "x", JSON: "$.nothing"}, reply: body,
			err: "capture x: $.nothing selected null"},
		{name: "json not JSON", capture: suites.Capture{Name: "x", JSON: "$.a"}, reply: providers.Reply{Text: "hi", Raw: []byte("<html>")},
			err: "capture x: the reply body is not JSON (invalid character '<' looking for beginning of value)"},
		{name: "neither kind", capture: suites.Capture{Name: "x"}, reply: body,
			err: "capture x: neither regex nor json is set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Capture(c.capture, NewObservation(&c.reply, 0))
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %s", err, c.err)
				}
				if got != "" {
					t.Errorf("value %q alongside an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
