package judge

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/evalrun/evalrun/providers"
)

// Kind says which part of a judge call failed.
type Kind string

// The kinds of Error. None of them is a verdict on the bot: a check that
// meets one makes its conversation errored, not failed.
const (
	// KindSetup: the Config lacks what the call needs (a model).
	KindSetup Kind = "setup"
	// KindService: no usable reply arrived: no connection, a timeout, a
	// 4xx, or a 429, a 5xx or a broken body after the retries. Err is the
	// *providers.Error, or the context's error when the caller gave up.
	KindService Kind = "service"
	// KindReply: the service answered 2xx with JSON that is not a chat
	// completion or an embeddings list (no choices, a vector missing).
	KindReply Kind = "reply"
	// KindAnswer: the judge's message is not the one JSON object asked
	// for (see ParseAnswer). Answer holds its start.
	KindAnswer Kind = "answer"
)

// Error is a failure of the judge rather than of the bot.
type Error struct {
	Kind  Kind
	Op    string // "chat completion" or "embeddings"
	Model string // the model asked, "" when none was set
	// Answer is the start of the judge's message content, secrets removed;
	// set for KindAnswer.
	Answer string
	// Err is the cause: a *providers.Error for KindService, a description
	// for the other kinds.
	Err error
}

func (e *Error) Error() string {
	var pe *providers.Error
	if e.Kind == KindService && errors.As(e.Err, &pe) {
		// It already reads "judge (MODEL): OP: …", with the hint.
		return pe.Error()
	}
	msg := callerName(e.Model) + ": " + e.Op + ": "
	switch e.Kind {
	case KindAnswer:
		msg += "the answer is not the JSON object {\"pass\", \"score\", \"reason\"} evalrun asked for: " + e.Err.Error()
		if e.Answer != "" {
			msg += fmt.Sprintf("; it began %q", e.Answer)
		}
	case KindReply:
		msg += "the reply is not an OpenAI-compatible " + e.Op + ": " + e.Err.Error() +
			" (check that judge.base_url points at an OpenAI-compatible API root, such as https://api.openai.com/v1)"
	default:
		msg += e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// service wraps a failure of Caller.Do, rewording the hints that only make
// sense for a chat provider.
func (c *Client) service(op, model string, err error) *Error {
	var pe *providers.Error
	if errors.As(err, &pe) {
		if h := hint(pe); h != "" {
			pe.Hint = h
		}
	}
	return &Error{Kind: KindService, Op: op, Model: model, Err: err}
}

// hint says what to do about a status in judge terms; "" keeps the Caller's.
func hint(pe *providers.Error) string {
	switch pe.Status {
	case http.StatusNotFound:
		return "check judge.base_url (the API root, such as https://api.openai.com/v1, without /chat/completions) and the model name"
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "the service refused the request: check judge.model and judge.embedding_model against what the reply says"
	case http.StatusRequestEntityTooLarge:
		return "the request is too large for the service: a conversation this long may need a model with a larger context"
	}
	return ""
}
