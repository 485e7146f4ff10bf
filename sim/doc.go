// Package sim is evalrun's built-in simulator: a local HTTP server that speaks
// the OpenCX and Toolzz chat APIs, with their status codes, reply shapes and
// session state, and answers with a small scripted bot, so suites and tests
// run without network or tokens.
//
// # Routes
//
// OpenCX: POST /chat/sessions (201), POST /chat/sessions/{id}/send (201),
// GET /chat/sessions/{id}, GET /chat/sessions/{id}/history?cursor=, and
// PATCH /chat/sessions/{id}. Toolzz: POST /api/v1/chat/send-message (200).
// Errors: 400 for a bad body, 401 for a bad token (only when Options.Token is
// set), 404 for an unknown session, conversation or path, 405 for a wrong
// method on a known path, 413 for a body over 1 MiB. OpenCX errors are
// {"statusCode","message","error"}; Toolzz errors are {"error"}.
//
// # The bot
//
// One brain answers both APIs. It reads the words of each message, case
// insensitively, and the first rule that matches answers (a trailing * below
// matches any word with that start):
//
//	rule           when the message has                  reply
//	handoff        human, humans, agent, agents, person  HandoffText; hands off (see below)
//	angry          terrible, useless, angry, worst,      AngryText, mode general
//	               awful, furious
//	billing        billing, invoice*                     BillingText, mode billing, knowledge billing-faq,
//	                                                     might_solve; Toolzz targetBotId BillingBotID
//	ticket_status  TCK-<n> and status, ticket*,          "Ticket TCK-<n> for order <order> is being processed. …",
//	               update* or progress                   action lookup_ticket{ticket_id}, knowledge tickets,
//	                                                     mode tickets, might_solve and fully_covered; a
//	                                                     ticket this server never opened gets "I couldn't
//	                                                     find ticket TCK-<n>. …" and neither flag
//	refund         ord_<x> and refund*, or ord_<x>       "I've opened refund ticket TCK-<n> for order
//	               right after refund_ask                ord_<x>. The refund will reach …", action
//	                                                     create_refund_ticket{order_id, reason:
//	                                                     customer_request} → {ticket_id, status: created},
//	                                                     knowledge refund-policy, mode refunds, might_solve
//	refund_ask     refund* without an order id           RefundAskText, mode refunds, knowledge refund-policy
//	shipping       ship*, deliver*                       ShippingText, mode shipping, knowledge
//	                                                     shipping-policy, might_solve and fully_covered
//	thanks         thank*, thx                           ThanksText, mode general, might_solve and
//	                                                     fully_covered; closes the session (status
//	                                                     closed_resolved, ai_closure_type assumed_resolved)
//	                                                     with sentiment happy
//	greeting       hello, hi, hey                        GreetingText, mode general
//	fallback       anything else                         FallbackText, no mode
//
// Flags not named are false. Tickets are numbered per server from FirstTicket
// (TCK-1001) up. A session's sentiment becomes neutral on its first message;
// an angry word in any later or mixed message (even one another rule answers)
// makes it angry, and the thanks rule makes it happy.
//
// A handoff sets sessionIsHandedOff (Toolzz: transferToAgent),
// ai_closure_type handed_off and handoff{summary, sentiment}, and adds a
// handoff event to the history. From then on the AI is silent: OpenCX answers
// with a null autopilotResponse and code session_assigned_to_human_agent;
// Toolzz with empty content and transferToAgent true. An OpenCX message with
// should_take_over_session_from_ai does the same without the AI's summary. A
// message from sender "agent" is stored as the human agent's and never
// answered. A contact message to a closed session reopens it.
package sim
