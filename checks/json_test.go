package checks

import (
	"sync"
	"testing"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"github.com/evalrun/evalrun/providers"
)

const openCXBody = `{"count": 42.0, "id": "42"}`

func TestDecodeJSONKeepsOrderAndLiterals(t *testing.T) {
	root, err := jsonpath.DecodeJSON([]byte(`{"z": 1, "a": [1.50, -0, 1e3, true, null, "x\"y"], "m": {"b": {}, "a": []}, "z": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"z":3,"a":[1.50,-0,1e3,true,null,"x\"y"],"m":{"b":{},"a":[]}}`
	if got := string(appendNode(nil, root)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestObservationDecodesOnceConcurrently(t *testing.T) {
	o := NewObservation(&providers.Reply{Text: "Refund TCK-1234", Raw: []byte(openCXBody)}, 0)
	checks := []Check{Contains("refund"), JSON("$.count", 42), JSON("$.id", "42")}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range checks {
				if a := c.Check(o); !a.Passed {
					t.Error(a.Message)
				}
			}
		}()
	}
	wg.Wait()
	first, _ := o.document()
	again, _ := o.document()
	if first != again {
		t.Error("the body was decoded twice")
	}
}

// longReply is 212 characters, so that messages cut it.
var longReply = "Sorry, I can only help with questions about orders, refunds and deliveries. " +
	"For anything else, please write to support@example.com and a person from our team will get back to you " +
	"within two working days. Thanks!!"
