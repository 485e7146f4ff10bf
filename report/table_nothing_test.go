package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// A conversation whose only turn errored, or was cut short, measured no
// latency: its row and the TOTAL row say "-", not a 0ms percentile of
// nothing.
func TestTableShowsNoLatencyFromNothing(t *testing.T) {
	for _, turnErr := range []string{"opencx: send: HTTP 500", "stopped: interrupted (SIGINT)"} {
		t.Run(turnErr, func(t *testing.T) {
			run := &results.Run{
				Summary: results.Summary{Conversations: 1, Errored: 1, Turns: 1, TurnErrors: 1},
				Conversations: []*results.Conversation{{
					Suite: "s", Name: "c", Status: results.Errored, Runs: 1,
					Turns: []*results.Turn{{Index: 1, User: "hi", Error: turnErr, LatencyMS: 3}},
				}},
			}
			if strings.HasPrefix(turnErr, "stopped") {
				run.Summary = results.Summary{Conversations: 1, Unfinished: 1}
				run.Conversations[0].Status = results.Unfinished
			}
			var b bytes.Buffer
			if err := Table(&b, run, TableOptions{}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "0ms") {
				t.Errorf("a latency from no measurement:\n%s", b.String())
			}
		})
	}
}
