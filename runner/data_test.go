package runner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// TestDataRowsPlayOneConversationEach: a conversation with three data rows
// plays three conversations against the simulator, each sending its own
// row's values and checked against them.
func TestDataRowsPlayOneConversationEach(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "refunds.yaml")
	yaml := `
provider: {type: opencx, base_url: sim}
conversations:
  - name: "refund for {{order}}"
    data: orders.csv
    turns:
      - user: "I want a refund for order {{order}}, {{who}} here"
        expect: {contains: "order {{order}}", regex: "TCK-\\d+"}
`
	csv := "order,who\nord_a1,Ana\nord_b2,Bo\nord_c3,\"Cy, Jr\"\n"
	for name, data := range map[string]string{suite: yaml, filepath.Join(dir, "orders.csv"): csv} {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := suites.Load(suite, suites.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, ss, runner.Options{})
	if len(r.Conversations) != 3 {
		t.Fatalf("%d conversations played, want one per row: %v", len(r.Conversations), statuses(r))
	}
	for _, row := range [][2]string{{"ord_a1", "Ana"}, {"ord_b2", "Bo"}, {"ord_c3", "Cy, Jr"}} {
		c := byName(t, r, "refund for "+row[0])
		if c.Status != results.Passed {
			t.Errorf("%s: %s %s", c.Name, c.Status, c.Reason)
		}
		want := fmt.Sprintf("I want a refund for order %s, %s here", row[0], row[1])
		if len(c.Turns) != 1 || c.Turns[0].User != want {
			t.Errorf("%s sent %+v, want %q", c.Name, c.Turns, want)
			continue
		}
		if !strings.Contains(c.Turns[0].Reply, "for order "+row[0]) {
			t.Errorf("%s: the simulator answered %q, not about %s", c.Name, c.Turns[0].Reply, row[0])
		}
	}
}
