// Package sim is evalrun's built-in simulator: a local HTTP server that speaks
// the OpenCX and Toolzz chat APIs, with their status codes, reply shapes and
// session state, and answers with a small scripted bot, so suites and tests
// run without network or tokens. It also serves an OpenAI-compatible judge
// and embeddings, so judged and similarity checks run offline too.
//
// # Routes
//
// OpenCX: POST /chat/sessions (201), POST /chat/sessions/{id}/send (201),
// GET /chat/sessions/{id}, GET /chat/sessions/{id}/history?cursor=, and
// PATCH /chat/sessions/{id}. Toolzz: POST /api/v1/chat/send-message (200).
// OpenAI-compatible, under OpenAIPath (/v1, so a judge's base_url is
// Running.OpenAIURL()): POST /v1/chat/completions and POST /v1/embeddings
// (200; see Judge and embeddings below).
// Errors: 400 for a bad body, 401 for a bad token (only when Options.Token is
// set), 404 for an unknown session, conversation or path, 405 for a wrong
// method on a known path, 413 for a body over 1 MiB. OpenCX errors are
// {"statusCode","message","error"}; Toolzz errors are {"error"}; errors of
// the /v1 routes are OpenAI's {"error":{"message","type","param","code"}}.
//
// # The bot
//
// One brain answers both APIs. It reads the words of each message, case
// insensitively, and the first rule that matches answers (a trailing * below
// matches any word with that start):
//
//	rule           when the message has                  reply
//	handoff        human, humans, agent, agents, person  HandoffText; hands off (see below)
//	angry          terrible, useless, angry, worst,      AngryText, mode general; in OpenCX history a
//	               awful, furious                        human_agent_comment comes first (see below)
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
// Flags not named are false. OpenCX history holds two events besides
// messages and handoffs, for clients to tell apart from the AI's answer: an
// angry message is followed, before the AI answers, by a human_agent_comment
// from "Supervisor" (AngryCommentText), an internal note the contact never
// sees; and the thanks rule's answer by an ai_resolved_issue event with empty
// text. Neither is a message, and Toolzz conversations have neither. Tickets are numbered per server from FirstTicket
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
//
// # Faults and shapes
//
// Options (or a spec, read by ParseSpec) make the simulator slow, failing,
// nondeterministic, or answer OpenCX sends in another documented shape. A
// suite selects them in its base URL, after "sim?"; the evalrun sim command
// takes the same parameters as flags:
//
//	base_url: "sim?latency=lognormal:200ms:0.5&fault=503:0.1&shape=id-only&seed=7"
//	evalrun sim --latency lognormal:200ms:0.5 --fault 503:0.1 --shape id-only --seed 7
//
// A spec is key=value pairs joined by &, URL-escaped where needed. Every key
// but fault may appear once:
//
//	latency=300ms                 every API response waits 300ms (Options.Latency)
//	latency=uniform:100ms:500ms   a delay drawn evenly from 100ms to 500ms (Uniform)
//	latency=lognormal:200ms:0.5   a delay with median 200ms whose logarithm has
//	                              standard deviation 0.5 (Lognormal)
//	fault=KIND:RATE               KIND replaces the answer to a share RATE (0 to 1)
//	                              of API requests; repeatable, e.g.
//	                              fault=503:0.1&fault=drop:0.05. One draw per
//	                              request picks at most one fault, so the rates
//	                              must add up to at most 1
//	retry_after=N                 seconds in the Retry-After of a 429 (default 1);
//	                              when given, 503s carry it too
//	retry_after_date=1            Retry-After as an HTTP date, now+N rounded up to
//	                              the second, instead of seconds
//	oversize_bytes=N              length of an oversize body: bytes, or with KiB,
//	                              MiB or GiB (default 11MiB)
//	shape=flat|data|legacy|id-only  the body of OpenCX send replies (default flat)
//	history_delay=D               the AI's answer (and a handoff event) shows in the
//	                              history only D after the send was answered
//	history_ids=same|none|unrelated  what history items carry as their id: the
//	                              id of the message (default), no id member at
//	                              all, as in OpenCX's current docs, or an id of
//	                              their own that no send reply gave
//	flaky=P                       with probability P the bot answers FallbackText
//	                              instead of its rule, with the fallback's effects
//	                              (no mode, ticket or handoff): a nondeterministic
//	                              bot. The judge and embeddings ignore it
//	judge_shape=bare|fenced|prose  how the judge writes its verdict in the
//	                              message content: the JSON object alone
//	                              (default), inside a ```json code fence, or
//	                              inside a sentence, which evalrun refuses as
//	                              a judge error
//	seed=N                        seeds every draw (latency, faults, flaky); 0 or
//	                              none is a random seed. A seed reproduces a run
//	                              whose requests arrive in the same order
//	token=T                       as Options.Token
//	idle=D|never                  forget a session D after a request last found it
//	                              (default 10m), so a long load test does not
//	                              grow without bound; never keeps them all. As
//	                              Options.Idle
//	admin=1                       serve the admin routes (see Admin routes
//	                              below); as Options.Admin
//
// The fault kinds:
//
//	500, 502, 503  that status, with the API's error body, message
//	               "Simulated fault: Service Unavailable" and so on
//	429            status 429 with Retry-After and the error body, message
//	               "ThrottlerException: Too Many Requests" ("Rate limit
//	               reached for requests" on the /v1 routes)
//	drop           the connection is closed without a response
//	malformed      the usual status with the first half of the usual body:
//	               invalid JSON
//	oversize       the usual status and body, grown to oversize_bytes by a
//	               "sim_padding" member placed first: valid JSON, exact
//	               Content-Length
//	hang           no response until the client gives up or the server
//	               closes
//
// The /v1 judge and embeddings routes are API routes like the others.
// Latency and faults apply to the API routes only (a 404 for an unknown
// path or a 405 comes at once), after the token check, so a bad token is
// always a 401. The latency comes before the fault, as a slow failing
// service's does. A request that gets a status fault, drop or hang is never
// served: it changes no state, so a client's retry is a clean one. A
// malformed or oversize reply is one to a request that was served — the
// message was stored and answered, a ticket opened — and only the reply was
// broken on the way, which is how a retried send reaches a bot twice.
//
// The shapes of an OpenCX send reply (Toolzz has one shape):
//
//	flat     {success, code, autopilotResponse, uiResponse, sessionIsHandedOff}
//	data     {success, data{code, autopilotResponse, uiResponse, sessionIsHandedOff}}
//	legacy   {ai_response{text}}; {ai_response: null} when the AI is silent
//	id-only  {success, data{message{id}}}, the id of the message the send
//	         stored; the AI's answer follows it in
//	         GET /chat/sessions/{id}/history
//
// With history_delay, the AI's events are dated that much later and the
// history shows events only up to the first whose date has not come, so a
// client polls until the answer appears. OpenCX promises neither that history
// items carry an id nor that it is the one the send gave: history_ids=none
// and history_ids=unrelated make the id-only shape's clients find their
// message some other way (evalrun's: by its text, after what they have read).
//
// # Directives
//
// A message can ask for behaviour of its own, so that a test fails one turn
// deterministically. A directive is "[sim", white space, KEY=VALUE pairs
// separated by white space, and "]", anywhere in the text of an OpenCX send
// (message.text) or a Toolzz send (message):
//
//	I want a refund for ord_42 [sim fault=503 times=2]
//	[sim fault=429 retry_after=1 retry_after_date=1] hello
//	hello [sim shape=legacy]
//	hello [sim latency=50ms]
//	hello [sim fault=hang]
//	hello [sim history_delay=300ms shape=id-only]
//	hello [sim flaky=1]
//
// The keys are those of a spec but seed and token, with two differences:
// fault=KIND takes no rate, and times=N (which needs a fault) makes only the
// first N attempts to send this exact text in this conversation fail; later
// ones are served. Without times every attempt fails. A directive with a
// fault decides the request's fault alone: the run's faults do not apply to
// it, so times=2 means exactly two failures. Other keys override the run's
// options for that request; Toolzz ignores shape and history_delay.
//
// The bot reads the text without its directives (and the spaces before
// them), and so does a handoff summary; the history keeps the message as it
// was sent. A Toolzz message without a conversationId belongs to no
// conversation yet, so its attempts are counted per botId, afresh each time
// one gets through: every new conversation that opens with it sees the same
// N failures, as long as such conversations run one at a time. A directive
// that cannot be read is a 400 that says which key is wrong and what would
// be right.
//
// The judge reads directives only in the <rubric> section of its prompt (see
// below), so that a directive meant for the bot, which the conversation
// section quotes, does not reach the judge too; attempts are counted per
// prompt. The embeddings route reads them in every input, counting attempts
// per list of inputs, and embeds the inputs without them. A rubric such as
// "confirms the refund [sim fault=503 times=2]" makes a judged check's first
// two attempts fail, and "… [sim judge_shape=prose]" gets an answer evalrun
// refuses.
//
// # Judge and embeddings
//
// POST /v1/chat/completions takes {model, messages[{role, content}]} (content
// a string; other members are ignored) and answers a chat completion: {id
// "chatcmpl-sim-N", object, created, model (the request's), choices[{index,
// message{role assistant, content}, finish_reason stop}], usage}. The content
// is one JSON object {"pass", "score", "reason"}, bare unless judge_shape
// says otherwise. It is decided by a rule, not a model, from the last user
// message, read as evalrun's judge package writes it (judge.Prompt): a
// <rubric> section, a <conversation> section of "[user] …", "[agent] …" and
// "[bot] …" lines (a message's later lines indented by two spaces), and for
// a judged reply a <reply> section.
//
//   - The judged text is the <reply> section or, without one (a final judge
//     of the whole conversation), the [bot] messages of <conversation>.
//   - The rubric's terms are its quoted phrases, between "…" or “…”, and
//     outside them its content words: words (runs of letters, digits and _,
//     lowercased, lone letters dropped) that are not stop words. The stop
//     words are common English ones (the, and, should, …) and the words
//     rubrics use about the bot rather than about what it says: bot, reply,
//     response, answer, assistant, user, customer, message, must, politely,
//     clearly, ask, mention, say, state, tell, include, contain and their
//     -s forms.
//   - Words are compared by stem: a word loses the first of the endings
//     ing, ed, es and s that leaves at least three letters (s not after s),
//     so refunds meets refund and opened meets opening. A content word is
//     found when the judged text has a word with its stem; a quoted phrase
//     when the judged text has its words, stop words included, in a row.
//   - score is the share of the terms found, rounded to two decimals; pass
//     is score >= 0.5 with every quoted phrase found. reason lists the terms
//     found and missing: "found 2 of 3 rubric terms in the reply: refund,
//     ticket; missing: confirms".
//   - A rubric with no terms, or a prompt with no <rubric> section, gets
//     pass false and score 0, with a reason that says so.
//
// The rule only rewards what is present: "does not promise a date" passes a
// reply that mentions a date. usage counts white-space separated words as
// tokens: prompt_tokens over every message's content, completion_tokens over
// the answer.
//
// POST /v1/embeddings takes {model, input} (input a string or an array of
// non-empty strings) and answers {object list, data[{object embedding,
// index, embedding}], model, usage{prompt_tokens, total_tokens}}, tokens
// counted as words. The embedding (Embedding) is a bag of words: each content
// word's stem (stop words left out, as above) is hashed with FNV-1a to one of
// EmbeddingDims (256) dimensions and counted, and the vector is scaled to
// length 1. So texts with the same content words, in any order and
// inflection, have cosine similarity 1; a paraphrase that keeps most of them
// scores high (texts of m and n distinct content words sharing k score
// k/√(m·n)); texts with no content word in common score 0, unless two of
// their words hash to the same dimension (about one pair in 256), which adds
// 1/√(m·n) for that pair. A text with only stop words embeds as a fixed
// direction of its own.
//
// # Admin routes
//
// With Options.Admin (spec admin=1, evalrun sim --admin) the simulator also
// serves three routes of its own, for benchmarks that check what a client
// reports against what the server saw. They take the token check when
// Options.Token is set, and no latency, fault or freeze:
//
//	GET  /sim/stats          200, a Stats: count, mean, p50, p90, p95, p99,
//	                         p99.9 and max, in milliseconds, of all API
//	                         requests ("all") and per route pattern
//	                         ("routes", e.g. "POST /chat/sessions/{id}/send"),
//	                         since the start or the last reset ("since")
//	POST /sim/stats/reset    204; the stats start again, empty
//	POST /sim/freeze?for=2s  200 {"for_ms","until"}; every API request that
//	                         arrives in the next 2s waits until then, and is
//	                         then handled as usual (latency, faults). A new
//	                         freeze replaces the one under way; for=0 ends it
//
// A request's handling time runs from when its handler starts (the request
// line and headers have been read) to when it has written the whole reply
// (net/http then flushes it), and so includes reading the body, a freeze,
// the injected latency and a fault. Requests whose client went away before
// the answer are not counted. The times go into HDR histograms of
// microseconds with 3 significant digits, as evalrun load's do, so the two
// compare directly. Without Options.Admin nothing is measured and /sim/
// paths are unknown (404); Server.Stats and Server.Freeze serve programs
// that embed the simulator.
package sim
