package baseline_test

import (
	"strings"
	"testing"

	"github.com/evalrun/evalrun/baseline"
	"github.com/evalrun/evalrun/results"
)

// TestComparingAPart: a shard may hold nothing, or nothing its part of the
// baseline holds. Compare refuses both, as a whole run against other
// suites; CompareWith a part takes them, everything in them new.
func TestComparingAPart(t *testing.T) {
	rec := func(id string, names ...string) *results.Run {
		r := &results.Run{Schema: results.Schema, RunID: id, Conversations: []*results.Conversation{}}
		for _, n := range names {
			r.Conversations = append(r.Conversations, &results.Conversation{Suite: "s", Name: n, Status: results.Skipped, Turns: []*results.Turn{}})
		}
		return r
	}
	for _, tt := range []struct {
		name      string
		base, now *results.Run
		refused   string
		new       int
	}{
		{"an empty part", rec("b"), rec("n"), "no conversations to compare", 0},
		{"an empty part of a baseline", rec("b", "old"), rec("n"), "no conversations to compare", 0},
		{"new conversations only", rec("b", "old"), rec("n", "new"), "shares no conversation", 1},
		{"new against an empty part", rec("b"), rec("n", "new", "newer"), "shares no conversation", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := baseline.Compare(tt.base, tt.now); err == nil || !strings.Contains(err.Error(), tt.refused) {
				t.Errorf("Compare: %v, want a refusal saying %q", err, tt.refused)
			}
			c, err := baseline.CompareWith(tt.base, tt.now, baseline.Options{Part: true})
			if err != nil {
				t.Fatalf("CompareWith a part: %v", err)
			}
			if len(c.New) != tt.new || len(c.Regressed)+len(c.Fixed)+len(c.StillFailing)+c.Unchanged != 0 {
				t.Errorf("comparison %+v, want %d new and nothing else compared", c, tt.new)
			}
		})
	}
}
