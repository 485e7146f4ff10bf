package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

// stubProvider answers every turn at once with the same reply, so that a
// benchmark measures the runner and nothing else.
type stubProvider struct{ reply *providers.Reply }

func (p stubProvider) Open(context.Context, providers.Session) (providers.Conversation, error) {
	return stubConversation(p), nil
}

type stubConversation struct{ reply *providers.Reply }

func (stubConversation) ID() string { return "stub-session" }

func (c stubConversation) Send(context.Context, providers.Message) (*providers.Reply, error) {
	return c.reply, nil
}

func (stubConversation) State(context.Context) (*providers.State, error) {
	return &providers.State{Status: "open"}, nil
}

// benchSuite is the three turns of examples/load.yaml, with the checks and
// the capture a real suite has.
const benchSuite = `name: bench
provider: {type: opencx, base_url: sim}
vars: {order: ord_42}
conversations:
  - name: refund with follow-up
    turns:
      - user: I want a refund for order {{order}}
        expect: {contains: refund, regex: "TCK-\\d+", mode: refunds}
        capture:
          ticket: {regex: "(TCK-\\d+)"}
      - user: "What is the status of ticket {{ticket}}?"
        expect: {contains: being processed, not_contains: "I don't know"}
      - user: Thanks!
        expect: {reply: true}
`

// BenchmarkPlayTurn measures the runner's own cost per turn (an op is one
// turn, so ns/op and allocs/op are per turn): templates, the provider call,
// checks, captures and the record, plus a third of opening a conversation,
// against a provider that answers instantly. "job" is the runner's job;
// "player" adds what Player.Play does for load runs.
//
//	go test -run '^$' -bench BenchmarkPlayTurn -benchmem ./runner/
func BenchmarkPlayTurn(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.yaml")
	if err := os.WriteFile(path, []byte(benchSuite), 0o644); err != nil {
		b.Fatal(err)
	}
	ss, err := suites.Load(path, suites.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		b.Fatal(err)
	}
	s := ss[0]
	full := s.Conversations[0]
	// byTurns[n] is the conversation cut to its first n turns, to end a
	// benchmark on exactly b.N turns.
	byTurns := make([]*suites.Conversation, len(full.Turns)+1)
	for n := 1; n <= len(full.Turns); n++ {
		c := *full
		c.Turns = full.Turns[:n]
		byTurns[n] = &c
	}
	prov := stubProvider{reply: &providers.Reply{
		Text:   "Ticket TCK-1001 for the refund of order ord_42 is being processed.",
		Mode:   "refunds",
		Status: 201,
		Raw:    []byte(`{"success":true,"autopilotResponse":{"value":{"content":"Ticket TCK-1001"}}}`),
	}}
	ctx := context.Background()
	turns := len(full.Turns)

	check := func(b *testing.B, status string) {
		if status != "passed" {
			b.Fatalf("the conversation %s, want it passed", status)
		}
	}
	b.Run("job", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i += turns {
			j := &job{suite: s, conv: byTurns[min(turns, b.N-i)], provider: prov, runID: "bench"}
			if o := j.run(ctx); o.Status != "passed" {
				check(b, string(o.Status))
			}
		}
	})
	b.Run("player", func(b *testing.B) {
		p := &Player{env: &environment{}, providers: map[*suites.Suite]providers.Provider{s: prov}, runID: "bench"}
		b.ReportAllocs()
		for i := 0; i < b.N; i += turns {
			if o := p.Play(ctx, s, byTurns[min(turns, b.N-i)]); o.Status != "passed" {
				check(b, string(o.Status))
			}
		}
	})
}
