package opencx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/sim"
)

// These tests drive the real provider through whole conversations with the
// built-in simulator, so the provider and the simulator cannot drift apart
// on shapes, status codes or session state.

func startSim(t *testing.T, opts sim.Options) *sim.Running {
	t.Helper()
	srv, err := sim.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// turnWant is what one reply must carry. Flags are compared as reported:
// the simulator always reports them, so nil would be a decoding bug.
type turnWant struct {
	text         string // exact, unless contains is set
	contains     []string
	silent       bool
	handoff      bool
	mightSolve   bool
	fullyCovered bool
	actions      []providers.Action
	knowledge    []string
	mode         string
}

func checkReply(t *testing.T, turn int, r *providers.Reply, want turnWant) {
	t.Helper()
	if r.Status != http.StatusCreated {
		t.Errorf("turn %d: status %d, want 201", turn, r.Status)
	}
	if len(want.contains) == 0 && r.Text != want.text {
		t.Errorf("turn %d: text %q, want %q", turn, r.Text, want.text)
	}
	for _, s := range want.contains {
		if !strings.Contains(r.Text, s) {
			t.Errorf("turn %d: text %q lacks %q", turn, r.Text, s)
		}
	}
	if r.Silent != want.silent {
		t.Errorf("turn %d: silent %v, want %v", turn, r.Silent, want.silent)
	}
	if r.Handoff == nil || *r.Handoff != want.handoff {
		t.Errorf("turn %d: handoff %v, want %v", turn, deref(r.Handoff), want.handoff)
	}
	if want.silent {
		// A null autopilotResponse reports no flags, actions or mode at all.
		if r.MightSolve != nil || r.FullyCovered != nil || r.Actions != nil || r.Knowledge != nil || r.Mode != "" {
			t.Errorf("turn %d: a silent reply reported bot details: %+v", turn, r)
		}
		return
	}
	if r.MightSolve == nil || *r.MightSolve != want.mightSolve {
		t.Errorf("turn %d: might_solve %v, want %v", turn, deref(r.MightSolve), want.mightSolve)
	}
	if r.FullyCovered == nil || *r.FullyCovered != want.fullyCovered {
		t.Errorf("turn %d: fully_covered %v, want %v", turn, deref(r.FullyCovered), want.fullyCovered)
	}
	if len(r.Actions) != 0 || len(want.actions) != 0 {
		if !reflect.DeepEqual(r.Actions, want.actions) {
			t.Errorf("turn %d: actions %+v, want %+v", turn, r.Actions, want.actions)
		}
	}
	if strings.Join(r.Knowledge, ",") != strings.Join(want.knowledge, ",") {
		t.Errorf("turn %d: knowledge %v, want %v", turn, r.Knowledge, want.knowledge)
	}
	if r.Mode != want.mode {
		t.Errorf("turn %d: mode %q, want %q", turn, r.Mode, want.mode)
	}
}

func deref(b *bool) any {
	if b == nil {
		return "<nil>"
	}
	return *b
}

func TestSimRefundConversation(t *testing.T) {
	srv := startSim(t, sim.Options{})
	p := New(providers.Config{BaseURL: srv.URL(), Token: "ocx_test_token"})
	ctx := context.Background()

	conv, err := p.Open(ctx, providers.Session{
		Contact: map[string]any{"name": "Ana", "email": "ana@example.com", "custom_data": map[string]any{"plan": "pro"}},
		// The runner adds its run id under an evalrun_ key; the service
		// must store it beside the suite's own keys.
		CustomData: map[string]any{"source": "sim-test", "evalrun_run_id": "run-7"},
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, ok := srv.Server().Session(conv.ID())
	if !ok || snap.API != sim.APIOpenCX || snap.Contact.Name != "Ana" || snap.Contact.Email != "ana@example.com" {
		t.Fatalf("session %q after create: ok %v, %+v", conv.ID(), ok, snap)
	}

	ticket := fmt.Sprintf("TCK-%d", sim.FirstTicket)
	turns := []struct {
		msg  providers.Message
		want turnWant
	}{
		{
			msg:  providers.Message{Text: "Hi, I would like a refund please."},
			want: turnWant{text: sim.RefundAskText, mode: sim.ModeRefunds, knowledge: []string{sim.KnowledgeRefundPolicy}},
		},
		{
			msg: providers.Message{Text: "Sure, it is ord_42.", CustomData: map[string]any{"order_id": "ord_42"}},
			want: turnWant{
				contains:   []string{ticket, "ord_42"},
				mightSolve: true,
				actions: []providers.Action{{Name: sim.ActionCreateRefundTicket,
					Args: map[string]any{"order_id": "ord_42", "reason": sim.RefundReason}}},
				knowledge: []string{sim.KnowledgeRefundPolicy},
				mode:      sim.ModeRefunds,
			},
		},
		{
			msg: providers.Message{Text: "What is the status of ticket " + ticket + "?", CustomData: map[string]any{"evalrun_turn": 3}},
			want: turnWant{
				contains:     []string{ticket, "being processed"},
				mightSolve:   true,
				fullyCovered: true,
				actions:      []providers.Action{{Name: sim.ActionLookupTicket, Args: map[string]any{"ticket_id": ticket}}},
				knowledge:    []string{sim.KnowledgeTickets},
				mode:         sim.ModeTickets,
			},
		},
		{
			msg:  providers.Message{Text: "Great, thank you!", CustomData: map[string]any{"csat": true}},
			want: turnWant{text: sim.ThanksText, mightSolve: true, fullyCovered: true, mode: sim.ModeGeneral},
		},
	}
	for i, tt := range turns {
		r, err := conv.Send(ctx, tt.msg)
		if err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
		checkReply(t, i+1, r, tt.want)
		if !json.Valid(r.Raw) {
			t.Errorf("turn %d: raw reply is not JSON: %s", i+1, r.Raw)
		}
	}

	st, err := conv.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != sim.StatusClosedResolved || st.Sentiment != sim.SentimentHappy ||
		st.Closure != sim.ClosureAssumedResolved || st.Handoff == nil || *st.Handoff {
		t.Errorf("state: status %q sentiment %q closure %q handoff %v", st.Status, st.Sentiment, st.Closure, deref(st.Handoff))
	}
	// Session, contact and per-turn custom data all end up in one map;
	// numbers come back as JSON numbers.
	wantData := map[string]any{
		"plan": "pro", "source": "sim-test", "evalrun_run_id": "run-7",
		"order_id": "ord_42", "evalrun_turn": float64(3), "csat": true,
	}
	if !reflect.DeepEqual(st.CustomData, wantData) {
		t.Errorf("custom_data %v, want %v", st.CustomData, wantData)
	}
	if !json.Valid(st.Raw) || !strings.Contains(string(st.Raw), conv.ID()) {
		t.Errorf("raw state %s", st.Raw)
	}
}

func TestSimHandoffThenSilence(t *testing.T) {
	srv := startSim(t, sim.Options{})
	p := New(providers.Config{BaseURL: srv.URL()})
	ctx := context.Background()
	conv, err := p.Open(ctx, providers.Session{})
	if err != nil {
		t.Fatal(err)
	}

	turns := []struct {
		text string
		want turnWant
	}{
		{"This is the worst service ever.", turnWant{text: sim.AngryText, mode: sim.ModeGeneral}},
		{"I want to talk to a human.", turnWant{text: sim.HandoffText, handoff: true}},
		{"Hello? Is anyone there?", turnWant{silent: true, handoff: true}},
		{"Thanks anyway.", turnWant{silent: true, handoff: true}}, // not even thanks wakes the AI
	}
	for i, tt := range turns {
		r, err := conv.Send(ctx, providers.Message{Text: tt.text})
		if err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
		checkReply(t, i+1, r, tt.want)
		if tt.want.silent && !strings.Contains(string(r.Raw), sim.CodeAssignedToHuman) {
			t.Errorf("turn %d: silent reply without code %s: %s", i+1, sim.CodeAssignedToHuman, r.Raw)
		}
	}

	st, err := conv.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != sim.StatusOpen || st.Sentiment != sim.SentimentAngry ||
		st.Closure != sim.ClosureHandedOff || st.Handoff == nil || !*st.Handoff {
		t.Errorf("state: status %q sentiment %q closure %q handoff %v", st.Status, st.Sentiment, st.Closure, deref(st.Handoff))
	}

	// The session itself must say it was handed off, not only the replies
	// this conversation saw: read it through a conversation that sent nothing.
	fresh := &conversation{call: p.call, id: conv.ID()}
	if st, err := fresh.State(ctx); err != nil || st.Handoff == nil || !*st.Handoff {
		t.Errorf("state read from the session alone: %+v, %v", st, err)
	}

	snap, _ := srv.Server().Session(conv.ID())
	if !snap.HandedOff || snap.Handoff == nil || snap.Handoff.Sentiment != sim.SentimentAngry {
		t.Errorf("sim session %+v", snap)
	}
	ai := 0
	for _, ev := range snap.Events {
		if ev.Type == sim.EventMessage && ev.SenderType == sim.SenderAI {
			ai++
		}
	}
	if ai != 2 {
		t.Errorf("the AI answered %d messages, want 2 (none after the handoff)", ai)
	}
}

func TestSimErrors(t *testing.T) {
	ctx := context.Background()
	open := startSim(t, sim.Options{})
	locked := startSim(t, sim.Options{Token: "right"})

	tests := []struct {
		name    string
		do      func() error
		status  int
		op      string
		has     []string
		hasNone []string
	}{
		{
			name: "send to an unknown session",
			do: func() error {
				c := &conversation{call: New(providers.Config{BaseURL: open.URL()}).call, id: "0b7f9a52-1c3e-4d5a-8b6c-7d8e9f0a1b2c"}
				_, err := c.Send(ctx, providers.Message{Text: "hello"})
				return err
			},
			status: http.StatusNotFound, op: "send", has: []string{"Session not found"},
		},
		{
			name: "state of an unknown session",
			do: func() error {
				c := &conversation{call: New(providers.Config{BaseURL: open.URL()}).call, id: "no-such-session"}
				_, err := c.State(ctx)
				return err
			},
			status: http.StatusNotFound, op: "get session",
		},
		{
			name: "wrong token",
			do: func() error {
				p := New(providers.Config{BaseURL: locked.URL(), Token: "wrong", TokenVars: []string{"OPENCX_API_KEY"}, Retries: 2})
				_, err := p.Open(ctx, providers.Session{})
				return err
			},
			status: http.StatusUnauthorized, op: "create session",
			has: []string{"$OPENCX_API_KEY"}, hasNone: []string{"wrong"},
		},
		{
			name: "no token where one is needed",
			do: func() error {
				_, err := New(providers.Config{BaseURL: locked.URL()}).Open(ctx, providers.Session{})
				return err
			},
			status: http.StatusUnauthorized, op: "create session", has: []string{"provider.token"},
		},
		{
			name: "nested custom data",
			do: func() error {
				_, err := New(providers.Config{BaseURL: open.URL()}).Open(ctx, providers.Session{
					CustomData: map[string]any{"order": map[string]any{"id": "ord_42"}}})
				return err
			},
			status: http.StatusBadRequest, op: "create session", has: []string{"custom_data.order"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			var perr *providers.Error
			if !errors.As(err, &perr) {
				t.Fatalf("want *providers.Error, got %T: %v", err, err)
			}
			if perr.Status != tt.status || perr.Op != tt.op || perr.Provider != "opencx" || perr.Retryable() {
				t.Errorf("got %s %q HTTP %d (retryable %v), want opencx %q HTTP %d",
					perr.Provider, perr.Op, perr.Status, perr.Retryable(), tt.op, tt.status)
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

	// The same simulator lets the right token through.
	p := New(providers.Config{BaseURL: locked.URL(), Token: "right"})
	conv, err := p.Open(ctx, providers.Session{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := conv.Send(ctx, providers.Message{Text: "hello"}); err != nil || r.Text != sim.GreetingText {
		t.Errorf("with the right token: %+v, %v", r, err)
	}
}

// simTurn is a message and what its reply must hold.
type simTurn struct {
	text     string
	contains string // "" means silent
	handoff  bool
}

// The id-only shape against the simulator, with history items that carry the
// send's message id, no id, or ids of their own: the answers are the same.
// The answers show in the history a little after each send, on pages of two,
// so turns poll and read across pages; the history also holds a supervisor's
// comment before the answer to an angry message and an ai_resolved_issue
// event after the thanks, neither of which is an answer.
func TestSimIDOnlyUnderEveryHistoryIDs(t *testing.T) {
	ticket := fmt.Sprintf("TCK-%d", sim.FirstTicket)
	conversations := []struct {
		name              string
		turns             []simTurn
		status, sentiment string
		handoff           bool
	}{
		{"refund", []simTurn{
			{"Hi, I would like a refund please.", sim.RefundAskText, false},
			{"Sure, it is ord_42.", ticket, false},
			{"What is the status of ticket " + ticket + "?", "being processed", false},
			{"Great, thank you!", sim.ThanksText, false},
		}, sim.StatusClosedResolved, sim.SentimentHappy, false},
		{"angry, then handed off", []simTurn{
			{"This is the worst service ever.", sim.AngryText, false},
			{"This is the worst service ever.", sim.AngryText, false}, // the same text again
			{"I want to talk to a human.", sim.HandoffText, true},
			{"Hello? Is anyone there?", "", true},
		}, sim.StatusOpen, sim.SentimentAngry, true},
	}
	for _, ids := range []sim.HistoryIDs{sim.HistoryIDsSame, sim.HistoryIDsNone, sim.HistoryIDsUnrelated} {
		for _, cv := range conversations {
			t.Run(string(ids)+"/"+cv.name, func(t *testing.T) {
				srv := startSim(t, sim.Options{Shape: sim.ShapeIDOnly, HistoryIDs: ids,
					HistoryDelay: 20 * time.Millisecond, HistoryPageSize: 2})
				p := New(providers.Config{BaseURL: srv.URL(), PollInterval: 5 * time.Millisecond, ReplyTimeout: 10 * time.Second})
				ctx := context.Background()
				conv, err := p.Open(ctx, providers.Session{})
				if err != nil {
					t.Fatal(err)
				}
				for i, turn := range cv.turns {
					r, err := conv.Send(ctx, providers.Message{Text: turn.text})
					if err != nil {
						t.Fatalf("turn %d: %v", i+1, err)
					}
					if turn.contains == "" && (!r.Silent || r.Text != "") ||
						turn.contains != "" && (r.Silent || !strings.Contains(r.Text, turn.contains)) {
						t.Errorf("turn %d: text %q silent %v, want %q", i+1, r.Text, r.Silent, turn.contains)
					}
					if r.Handoff == nil || *r.Handoff != turn.handoff {
						t.Errorf("turn %d: handoff %v, want %v", i+1, deref(r.Handoff), turn.handoff)
					}
				}
				st, err := conv.State(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if st.Status != cv.status || st.Sentiment != cv.sentiment || st.Handoff == nil || *st.Handoff != cv.handoff {
					t.Errorf("state: status %q sentiment %q handoff %v", st.Status, st.Sentiment, deref(st.Handoff))
				}
			})
		}
	}
}
