package sim

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// What suites and tests may rely on: the bot's fixed replies and the ids,
// actions, knowledge sources and modes it reports. The package comment lists
// which message triggers which.
const (
	// BotName is the AI's sender name in OpenCX history.
	BotName = "Evalrun Sim"
	// SupervisorName and AngryCommentText are the sender and text of the
	// human_agent_comment an angry message adds to OpenCX history.
	SupervisorName   = "Supervisor"
	AngryCommentText = "Internal note: this customer is upset; keep an eye on the conversation."
	// BillingBotID is the Toolzz targetBotId of the billing bot the
	// billing rule moves a conversation to.
	BillingBotID = "7d2c1a9e-4b8f-4c3a-9e1d-5f6a7b8c9d0e"
	// FirstTicket is the number of the first refund ticket a server opens
	// (TCK-1001); each refund takes the next one.
	FirstTicket = 1001

	ActionCreateRefundTicket = "create_refund_ticket"
	ActionLookupTicket       = "lookup_ticket"
	// RefundReason is the reason argument of every create_refund_ticket call.
	RefundReason = "customer_request"

	KnowledgeRefundPolicy   = "refund-policy"
	KnowledgeTickets        = "tickets"
	KnowledgeShippingPolicy = "shipping-policy"
	KnowledgeBilling        = "billing-faq"

	ModeGeneral  = "general"
	ModeRefunds  = "refunds"
	ModeTickets  = "tickets"
	ModeShipping = "shipping"
	ModeBilling  = "billing"

	GreetingText      = "Hello! I'm the evalrun demo assistant. How can I help you today?"
	RefundAskText     = "I can help with a refund. What is your order number? It looks like ord_123."
	ShippingText      = "Standard shipping takes 3-5 business days; express delivery takes 1-2 business days."
	HandoffText       = "I'm handing you over to a human agent. A human will take over this conversation shortly."
	BillingText       = "Let me move you to our billing assistant, who can help with invoices, charges and payments."
	AngryText         = "I'm sorry for the trouble. I understand your frustration and I want to fix this. What went wrong?"
	ThanksText        = "You're welcome! Glad I could help. I'll close this conversation now. Have a great day!"
	FallbackText      = "I'm not sure I understand. I can help with refunds, ticket status, shipping and billing."
	refundTextFormat  = "I've opened refund ticket %s for order %s. The refund will reach your original payment method within 5 business days."
	statusTextFormat  = "Ticket %s for order %s is being processed. You will get an email as soon as the refund is done."
	unknownTextFormat = "I couldn't find ticket %s. Please check the number and try again."
	summaryFormat     = "The customer asked for a human agent. Last message: %q"
)

// Trigger words, matched against the message's words, case-insensitively. A
// trailing * matches any word that starts with the rest.
var (
	handoffWords  = []string{"human", "humans", "agent", "agents", "person"}
	angryWords    = []string{"terrible", "useless", "angry", "worst", "awful", "furious"}
	billingWords  = []string{"billing", "invoice*"}
	statusWords   = []string{"status", "ticket*", "update*", "progress"}
	refundWords   = []string{"refund*"}
	shippingWords = []string{"ship*", "deliver*"}
	thanksWords   = []string{"thank*", "thx"}
	greetingWords = []string{"hello", "hi", "hey"}

	orderIDPattern  = regexp.MustCompile(`(?i)\bord_[a-z0-9]+\b`)
	ticketIDPattern = regexp.MustCompile(`(?i)\btck-\d+\b`)
)

// rules are tried in order; the first whose when holds answers. Order is what
// resolves mixed messages: asking for a human beats everything, anger beats
// the topic, and a greeting only answers when nothing else was asked.
var rules = []rule{
	{name: "handoff", when: hasAny(handoffWords), reply: handoffReply},
	{name: "angry", when: hasAny(angryWords), reply: angryReply},
	{name: "billing", when: hasAny(billingWords), reply: billingReply},
	{name: "ticket_status", when: func(m *message) bool { return m.ticketID != "" && m.has(statusWords) }, reply: statusReply},
	{name: "refund", when: func(m *message) bool {
		// "It's ord_42" right after the bot asked for the order number
		// finishes the refund it asked about.
		return m.orderID != "" && (m.has(refundWords) || m.lastRule == "refund_ask")
	}, reply: refundReply},
	{name: "refund_ask", when: hasAny(refundWords), reply: fixed(RefundAskText, ModeRefunds, KnowledgeRefundPolicy)},
	{name: "shipping", when: hasAny(shippingWords), reply: shippingReply},
	{name: "thanks", when: hasAny(thanksWords), reply: thanksReply},
	{name: "greeting", when: hasAny(greetingWords), reply: fixed(GreetingText, ModeGeneral, "")},
	{name: "fallback", when: func(*message) bool { return true }, reply: fixed(FallbackText, "", "")},
}

type rule struct {
	name  string
	when  func(m *message) bool
	reply func(b *brain, m *message) answer
}

// message is a user message as the rules see it.
type message struct {
	text     string
	words    []string // lower case
	orderID  string   // first ord_… in the text, as written
	ticketID string   // first TCK-n in the text, upper case
	lastRule string   // the rule that answered the session's previous message
}

func newMessage(text, lastRule string) *message {
	lower := strings.ToLower(text)
	m := &message{
		text: text,
		words: strings.FieldsFunc(lower, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '_'
		}),
		orderID:  orderIDPattern.FindString(text),
		ticketID: strings.ToUpper(ticketIDPattern.FindString(text)),
		lastRule: lastRule,
	}
	return m
}

func (m *message) has(keys []string) bool {
	for _, k := range keys {
		prefix, isPrefix := strings.CutSuffix(k, "*")
		for _, w := range m.words {
			if w == k || isPrefix && strings.HasPrefix(w, prefix) {
				return true
			}
		}
	}
	return false
}

func hasAny(keys []string) func(*message) bool {
	return func(m *message) bool { return m.has(keys) }
}

// answer is the bot's reply to one message and what it does to the session.
type answer struct {
	rule         string
	text         string
	mightSolve   bool
	fullyCovered bool
	actions      []actionCall
	knowledge    []string // knowledge source names
	mode         string   // slug; "" when the bot is in no mode
	handoff      bool     // hand the session to a human
	targetBot    string   // Toolzz: move the conversation to this bot
	resolve      bool     // the issue is settled: close the session as resolved
	sentiment    string   // "" leaves the session's sentiment as it is
	opened       string   // the refund ticket this answer opened, if any
}

type actionCall struct {
	name   string
	args   map[string]any
	result map[string]any
}

// brain is the bot's memory across sessions: the refund tickets it opened.
// It is guarded by Server.mu.
type brain struct {
	nextTicket int
	tickets    map[string]string // ticket id → order id
}

func newBrain() brain {
	return brain{nextTicket: FirstTicket, tickets: make(map[string]string)}
}

// answer picks the rule for text and returns its reply; fallback makes the
// last rule, the fallback, answer whatever the text (Options.Flaky).
func (b *brain) answer(text, lastRule string, fallback bool) answer {
	m := newMessage(text, lastRule)
	candidates := rules
	if fallback {
		candidates = rules[len(rules)-1:]
	}
	for _, r := range candidates {
		if r.when(m) {
			a := r.reply(b, m)
			a.rule = r.name
			// Anger shows in the sentiment whatever the rule that answered,
			// so "this is useless, get me a human" hands off an angry
			// customer.
			if m.has(angryWords) {
				a.sentiment = SentimentAngry
			}
			return a
		}
	}
	panic("sim: no rule matched; the fallback rule must come last")
}

func fixed(text, mode, knowledge string) func(*brain, *message) answer {
	return func(*brain, *message) answer {
		a := answer{text: text, mode: mode}
		if knowledge != "" {
			a.knowledge = []string{knowledge}
		}
		return a
	}
}

func handoffReply(*brain, *message) answer {
	return answer{text: HandoffText, handoff: true}
}

func angryReply(*brain, *message) answer {
	return answer{text: AngryText, mode: ModeGeneral}
}

func billingReply(*brain, *message) answer {
	return answer{text: BillingText, mode: ModeBilling, knowledge: []string{KnowledgeBilling}, mightSolve: true, targetBot: BillingBotID}
}

func refundReply(b *brain, m *message) answer {
	ticket := fmt.Sprintf("TCK-%d", b.nextTicket)
	b.nextTicket++
	b.tickets[ticket] = m.orderID
	return answer{
		opened:     ticket,
		text:       fmt.Sprintf(refundTextFormat, ticket, m.orderID),
		mightSolve: true,
		actions: []actionCall{{
			name:   ActionCreateRefundTicket,
			args:   map[string]any{"order_id": m.orderID, "reason": RefundReason},
			result: map[string]any{"ticket_id": ticket, "status": "created"},
		}},
		knowledge: []string{KnowledgeRefundPolicy},
		mode:      ModeRefunds,
	}
}

func statusReply(b *brain, m *message) answer {
	a := answer{
		mode:      ModeTickets,
		knowledge: []string{KnowledgeTickets},
		actions: []actionCall{{
			name: ActionLookupTicket,
			args: map[string]any{"ticket_id": m.ticketID},
		}},
	}
	order, ok := b.tickets[m.ticketID]
	if !ok {
		a.text = fmt.Sprintf(unknownTextFormat, m.ticketID)
		a.actions[0].result = map[string]any{"found": false}
		return a
	}
	a.text = fmt.Sprintf(statusTextFormat, m.ticketID, order)
	a.actions[0].result = map[string]any{"found": true, "ticket_id": m.ticketID, "order_id": order, "status": "processing"}
	a.mightSolve, a.fullyCovered = true, true
	return a
}

func shippingReply(*brain, *message) answer {
	return answer{text: ShippingText, mode: ModeShipping, knowledge: []string{KnowledgeShippingPolicy}, mightSolve: true, fullyCovered: true}
}

func thanksReply(*brain, *message) answer {
	return answer{text: ThanksText, mode: ModeGeneral, mightSolve: true, fullyCovered: true, resolve: true, sentiment: SentimentHappy}
}

// knowledgeBase describes the sources rules cite, as OpenCX reports them.
var knowledgeBase = map[string]struct{ sourceType, url, content string }{
	KnowledgeRefundPolicy:   {"website", "https://help.example.com/refund-policy", "Refunds are paid to the original payment method within 5 business days."},
	KnowledgeTickets:        {"file", "https://help.example.com/tickets", "Refund tickets are processed in the order they arrive."},
	KnowledgeShippingPolicy: {"website", "https://help.example.com/shipping", "Standard shipping: 3-5 business days. Express: 1-2 business days."},
	KnowledgeBilling:        {"website", "https://help.example.com/billing", "The billing assistant handles invoices, charges and payment methods."},
}

// modes are the OpenCX modes rules work in, with stable ids.
var modes = map[string]struct{ id, name string }{
	ModeGeneral:  {"1b7d4c0e-2f36-4a51-9c8e-0d3f6a2b7e10", "General"},
	ModeRefunds:  {"2c8e5d1f-3a47-4b62-8d9f-1e4a7b3c8f21", "Refunds"},
	ModeTickets:  {"3d9f6e2a-4b58-4c73-9ea0-2f5b8c4d9a32", "Tickets"},
	ModeShipping: {"4ea07f3b-5c69-4d84-8fb1-3a6c9d5eab43", "Shipping"},
	ModeBilling:  {"5fb1804c-6d7a-4e95-9ac2-4b7dae6fbc54", "Billing"},
}

// actionIDs are the stable ids of the actions the bot can call.
var actionIDs = map[string]string{
	ActionCreateRefundTicket: "6ac2915d-7e8b-4fa6-8bd3-5c8ebf70cd65",
	ActionLookupTicket:       "7bd3a26e-8f9c-40b7-9ce4-6d9fc081de76",
}
