package toolzz

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/sim"
)

// These tests drive the real provider through whole conversations with the
// built-in simulator's Toolzz API.

const testBotID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

func startSim(t *testing.T, opts sim.Options) *sim.Running {
	t.Helper()
	srv, err := sim.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

type turnWant struct {
	text        string
	silent      bool
	handoff     bool
	transferBot string
}

func send(t *testing.T, conv providers.Conversation, turn int, text string, want turnWant) *providers.Reply {
	t.Helper()
	r, err := conv.Send(context.Background(), providers.Message{Text: text})
	if err != nil {
		t.Fatalf("turn %d: %v", turn, err)
	}
	if r.Status != http.StatusOK || r.Text != want.text || r.Silent != want.silent ||
		r.Handoff == nil || *r.Handoff != want.handoff || r.TransferBot != want.transferBot {
		t.Errorf("turn %d: got status %d text %q silent %v handoff %v transfer %q; want %+v",
			turn, r.Status, r.Text, r.Silent, r.Handoff != nil && *r.Handoff, r.TransferBot, want)
	}
	return r
}

func finalHandoff(t *testing.T, conv providers.Conversation) bool {
	t.Helper()
	st, err := conv.State(context.Background())
	if err != nil || st.Handoff == nil {
		t.Fatalf("state: %+v, %v", st, err)
	}
	return *st.Handoff
}

func TestSimConversationIDIsMintedAndReused(t *testing.T) {
	srv := startSim(t, sim.Options{Token: "tz_token"})
	p := New(providers.Config{BaseURL: srv.URL(), Token: "tz_token", BotID: testBotID})

	conv, err := p.Open(context.Background(), providers.Session{})
	if err != nil {
		t.Fatal(err)
	}
	if conv.ID() != "" {
		t.Fatalf("id %q before the first turn; Toolzz mints it", conv.ID())
	}
	send(t, conv, 1, "Hey there", turnWant{text: sim.GreetingText})
	id := conv.ID()
	snap, ok := srv.Server().Session(id)
	if !ok || snap.API != sim.APIToolzz || snap.BotID != testBotID {
		t.Fatalf("conversation %q after the first turn: ok %v, %+v", id, ok, snap)
	}

	send(t, conv, 2, "How long does delivery take?", turnWant{text: sim.ShippingText})
	send(t, conv, 3, "I have a question about my billing.", turnWant{text: sim.BillingText, transferBot: sim.BillingBotID})
	if conv.ID() != id {
		t.Errorf("id changed from %q to %q", id, conv.ID())
	}
	if finalHandoff(t, conv) {
		t.Error("final handoff true without a transfer to a person")
	}

	// Had a later turn gone without the id, the simulator would have
	// opened a new conversation for it: all six messages must be in one.
	snap, _ = srv.Server().Session(id)
	if len(snap.Events) != 6 || snap.BotID != sim.BillingBotID {
		t.Errorf("conversation holds %d events with bot %q, want 6 with %q", len(snap.Events), snap.BotID, sim.BillingBotID)
	}

	// A second conversation from the same provider is a new one.
	other, _ := p.Open(context.Background(), providers.Session{})
	send(t, other, 1, "Hello", turnWant{text: sim.GreetingText})
	if other.ID() == "" || other.ID() == id {
		t.Errorf("second conversation id %q, first %q", other.ID(), id)
	}
	if snap, _ := srv.Server().Session(id); len(snap.Events) != 6 {
		t.Errorf("the second conversation wrote into the first: %d events", len(snap.Events))
	}
}

func TestSimTransferToPersonThenSilence(t *testing.T) {
	srv := startSim(t, sim.Options{})
	p := New(providers.Config{BaseURL: srv.URL(), BotID: testBotID})
	conv, _ := p.Open(context.Background(), providers.Session{})

	send(t, conv, 1, "Where is my order? It should have shipped by now.", turnWant{text: sim.ShippingText})
	send(t, conv, 2, "Can I speak to a person, please?", turnWant{text: sim.HandoffText, handoff: true})
	r := send(t, conv, 3, "Hello?", turnWant{silent: true, handoff: true})
	if !strings.Contains(string(r.Raw), `"transferToAgent":true`) {
		t.Errorf("raw reply %s", r.Raw)
	}
	send(t, conv, 4, "I need billing help", turnWant{silent: true, handoff: true}) // no transfer once a human has it
	if !finalHandoff(t, conv) {
		t.Error("final handoff false after a transfer to a person")
	}
	if snap, _ := srv.Server().Session(conv.ID()); !snap.HandedOff || len(snap.Events) != 7 {
		t.Errorf("sim conversation: handed off %v, %d events (want 4 user, 2 AI, 1 handoff)", snap.HandedOff, len(snap.Events))
	}
}

// A first turn that got no reply must not stop the next one: there is no
// conversation yet, so the next turn starts one.
func TestSimFirstTurnFailureLeavesNoConversation(t *testing.T) {
	srv := startSim(t, sim.Options{})
	conv, _ := New(providers.Config{BaseURL: srv.URL(), BotID: testBotID}).Open(context.Background(), providers.Session{})

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := conv.Send(cancelled, providers.Message{Text: "Hello"}); err == nil {
		t.Fatal("a send with a cancelled context succeeded")
	}
	send(t, conv, 2, "Hello", turnWant{text: sim.GreetingText})
	if conv.ID() == "" {
		t.Error("no conversation id after a successful turn")
	}
}

func TestSimErrors(t *testing.T) {
	ctx := context.Background()
	open := startSim(t, sim.Options{})
	locked := startSim(t, sim.Options{Token: "right"})

	tests := []struct {
		name    string
		cfg     providers.Config
		id      string // a conversation id to continue, "" for a first turn
		status  int
		has     []string
		hasNone []string
	}{
		{
			name:   "unknown conversation",
			cfg:    providers.Config{BaseURL: open.URL(), BotID: testBotID},
			id:     "0b7f9a52-1c3e-4d5a-8b6c-7d8e9f0a1b2c",
			status: http.StatusNotFound, has: []string{"conversation not found"},
		},
		{
			name:   "wrong token",
			cfg:    providers.Config{BaseURL: locked.URL(), Token: "wrong", TokenVars: []string{"TOOLZZ_TOKEN"}, BotID: testBotID},
			status: http.StatusUnauthorized, has: []string{"$TOOLZZ_TOKEN"}, hasNone: []string{"wrong"},
		},
		{
			name:   "missing bot id",
			cfg:    providers.Config{BaseURL: open.URL()},
			status: http.StatusBadRequest, has: []string{"botId is required"},
		},
		{
			name:   "bot id that is not a uuid",
			cfg:    providers.Config{BaseURL: open.URL(), BotID: "my-bot"},
			status: http.StatusBadRequest, has: []string{"UUID"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Retries = 2
			p := New(tt.cfg)
			var conv providers.Conversation = &conversation{p: p, id: tt.id}
			if tt.id == "" {
				conv, _ = p.Open(ctx, providers.Session{})
			}
			_, err := conv.Send(ctx, providers.Message{Text: "hello"})
			var perr *providers.Error
			if !errors.As(err, &perr) {
				t.Fatalf("want *providers.Error, got %T: %v", err, err)
			}
			if perr.Status != tt.status || perr.Op != "send" || perr.Provider != "toolzz" || perr.Retryable() {
				t.Errorf("got %s %q HTTP %d (retryable %v), want toolzz send HTTP %d",
					perr.Provider, perr.Op, perr.Status, perr.Retryable(), tt.status)
			}
			for _, s := range tt.has {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			for _, s := range tt.hasNone {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows %q", err, s)
				}
			}
		})
	}
}
