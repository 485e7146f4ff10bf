package load

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// TestASampledFailureIsExplained plays conversations that fail against the
// simulator and samples them as a load run does: the sample names the turn,
// the check, what was expected and what came back, as evalrun run does.
func TestASampledFailureIsExplained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.yaml")
	if err := os.WriteFile(path, []byte(`name: shop
provider: {type: opencx, base_url: sim}
conversations:
  - name: wrong in turn 2
    turns:
      - user: hello
        expect: {contains: help}
      - user: I want a refund
        expect: {contains: no refunds here, mode: refunds}
  - name: wrong at the end
    turns: [{user: hello}]
    final: {sentiment: angry}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ss, err := suites.Load(path, suites.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.NewPlayer(ss, runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	s := ss[0]

	o := p.Play(context.Background(), s, s.Conversations[0])
	c := sampleOf(s, s.Conversations[0], &o)
	if c.Status != results.Failed || !strings.HasPrefix(c.Reason, `turn 2: contains: expected the reply to contain "no refunds here"`) {
		t.Errorf("reason %q, want the first failure, located", c.Reason)
	}
	if len(c.Turns) != 2 || c.Turns[1].User != "I want a refund" || c.Turns[1].Reply == "" || c.SessionID == "" {
		t.Fatalf("sample without its transcript: %+v", c)
	}
	var failed []results.Assertion
	for _, a := range c.Turns[1].Assertions {
		if !a.Passed {
			failed = append(failed, a)
		}
	}
	if len(failed) != 1 || failed[0].Check != "contains" || failed[0].Expected != "no refunds here" || failed[0].Actual == "" {
		t.Errorf("turn 2's failed assertions %+v, want contains with what was expected and what came back", failed)
	}
	if f := c.Failures(); len(f) != 1 || f[0].Turn != 2 || f[0].Check != "contains" {
		t.Errorf("failures %+v", f)
	}

	o = p.Play(context.Background(), s, s.Conversations[1])
	c = sampleOf(s, s.Conversations[1], &o)
	if !strings.HasPrefix(c.Reason, "final.sentiment: ") || len(c.Final) != 1 || c.Final[0].Expected != "angry" {
		t.Errorf("reason %q, final %+v", c.Reason, c.Final)
	}
}
