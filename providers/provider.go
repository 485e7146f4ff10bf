// Package providers defines how evalrun talks to a chat service: a Provider
// opens conversations, a Conversation sends turns and reads final state. The
// sub-packages implement it for OpenCX and Toolzz.
package providers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// Provider opens conversations with one chat service. It is safe for
// concurrent use.
type Provider interface {
	// Open starts a fresh conversation. For OpenCX it creates a session; for
	// Toolzz it sends nothing (the first Send mints the conversation).
	Open(ctx context.Context, s Session) (Conversation, error)
}

// Conversation is one open chat with a bot. Its methods are called from one
// goroutine at a time, turn after turn.
type Conversation interface {
	// ID returns the service's id for the conversation, "" until it has one.
	ID() string
	// Send delivers one user message and returns the bot's reply to it.
	Send(ctx context.Context, m Message) (*Reply, error)
	// State reads the conversation's state after its last turn, for final checks.
	State(ctx context.Context) (*State, error)
}

// Config is what a provider needs to reach its service.
type Config struct {
	BaseURL string
	Token   string
	// TokenVars names the environment variables the token came from; errors
	// name them so a user knows what to check. The token itself never appears.
	TokenVars []string
	// Secrets are further values that must never appear in any output:
	// every value the suite's provider section read from the environment.
	Secrets []string
	BotID   string
	Timeout time.Duration // per request; 0 means no limit beyond ctx
	Retries int           // extra attempts after a failure that may pass
	Headers map[string]string
	// Client sends the requests; nil means a client of the provider's own.
	// Its CheckRedirect is replaced: no transport follows redirects.
	Client *http.Client
	// FastHTTP sends every request to a plain-http base URL with a fasthttp
	// connection pool shared by all Callers instead of Client: no goroutines
	// per connection, so less CPU and memory with thousands of requests in
	// flight. evalrun load sets it. https base URLs keep Client, for HTTP/2.
	FastHTTP bool
	// MaxBody caps the bytes read of any reply; 0 means DefaultMaxBody.
	MaxBody int64
	// Limiter, when set, paces every request (retries included). Providers
	// that share a key share a Limiter, so a rate limit holds across all
	// conversations of a run.
	Limiter *rate.Limiter
	// PollInterval and ReplyTimeout govern reading a reply from OpenCX's
	// session history when the send reply carries only a message id.
	PollInterval time.Duration
	ReplyTimeout time.Duration
	// Section is the suite section these settings came from, as error
	// messages and hints name them ("judge" gives judge.timeout); "" means
	// provider.
	Section string
}

// Session is what a new conversation starts with.
type Session struct {
	Contact    map[string]any
	CustomData map[string]any
}

// Message is one turn's message.
type Message struct {
	Text       string
	CustomData map[string]any
	// Agent marks a message from a human agent instead of the contact
	// (OpenCX sender "agent"); the AI is not expected to answer it.
	Agent bool
	// TakeOver asks OpenCX to hand the session from the AI to a human
	// (should_take_over_session_from_ai).
	TakeOver bool
}

// Reply is what the bot answered to one turn, normalised across services. A
// nil pointer means the service did not report that field in this reply, which
// checks treat differently from false.
type Reply struct {
	Text         string
	Silent       bool // the bot said nothing (OpenCX autopilotResponse null)
	MightSolve   *bool
	FullyCovered *bool
	Handoff      *bool
	TransferBot  string // Toolzz targetBotId
	Actions      []Action
	Knowledge    []string // knowledge sources used
	Mode         string   // mode slug
	// Sparse marks a reply shape that carries only text (OpenCX legacy
	// replies and answers read from the history): actions, knowledge and
	// mode were not reported, which is not the same as none.
	Sparse bool
	Status int    // HTTP status of the reply
	Raw    []byte // the reply body as received, for json checks and captures
}

// Action is one tool or action the bot called while answering.
type Action struct {
	Name string         `json:"name"`
	Args map[string]any `json:"args,omitempty"`
}

// State is a conversation's state as the service reports it. Empty strings
// and nil pointers mean "not reported".
type State struct {
	Status     string
	Sentiment  string
	Closure    string
	Handoff    *bool
	CustomData map[string]any
	Raw        []byte
}

// Error is a failure of the service rather than of the bot: the request could
// not be made, or the service answered with an error status or an unreadable
// body. It makes a conversation "errored", never "failed".
type Error struct {
	Provider string // "opencx", "toolzz"
	Op       string // what was being done: "create session", "send", "get session"
	Status   int    // HTTP status; 0 when no response arrived
	Body     string // the start of the response body, for the user to read
	Err      error  // the underlying cause, if any
	Hint     string // what the user could do about it
	// Attempts is how many requests Caller.Do sent before giving up; 0 when
	// it sent none or the error was built elsewhere.
	Attempts int
	// RetryAfter is the wait a 429 or 503 asked for in its Retry-After
	// header, as the service said it (Do waits at most MaxRetryAfter).
	RetryAfter time.Duration

	// transient marks a failure of the exchange itself (no reply, a timeout,
	// a reply cut short, too large or not JSON), which a new attempt may not
	// meet. Only the Caller sets it, so an error a provider builds from a
	// well-formed reply is never retried on its say-so.
	transient bool
}

func (e *Error) Error() string {
	msg := e.Provider + ": " + e.Op
	if e.Status != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }
