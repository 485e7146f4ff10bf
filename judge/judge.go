package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Message is one message of the conversation a judge sees.
type Message struct {
	Role string // RoleUser, RoleAgent or RoleBot
	Text string // "" for a bot that said nothing
}

// The roles of a Message, as the prompt labels them.
const (
	RoleUser  = "user"  // the contact
	RoleAgent = "agent" // a human agent
	RoleBot   = "bot"   // the bot under test
)

// Request is one judged check.
type Request struct {
	Rubric string
	// Transcript is the conversation before Reply, ending with the message
	// Reply answers; for a Final request, the whole conversation.
	Transcript []Message
	// Reply is the bot's reply being judged; unused when Final.
	Reply string
	// Final judges the whole Transcript (a final: judge) instead of Reply.
	Final bool
	// MinScore, when above 0, is the least score that passes: the verdict
	// passes only when the judge says pass and its score is at least
	// MinScore. It is not part of the prompt, so checks that differ only in
	// MinScore share one call.
	MinScore float64
}

// Verdict is a judge's grade of one Request.
type Verdict struct {
	Pass      bool    // JudgePass, and Score at least MinScore when one is set
	JudgePass bool    // the judge's own "pass"
	Score     float64 // the judge's "score", 0 to 1
	MinScore  float64 // the Request's
	Reason    string  // the judge's "reason"; may be ""
	// Usage is what this call's request cost; zero when Cached.
	Usage Usage
	// Duration is how long this call took, waiting for a shared request
	// included; about zero for a cache hit.
	Duration time.Duration
	// Cached says the answer came from an identical earlier call, or one
	// still in flight, instead of a request of its own.
	Cached bool
}

// Message returns what a failed check should say: the judge's reason, and
// the score when it was below MinScore.
func (v Verdict) Message() string {
	reason := v.Reason
	if reason == "" {
		reason = "the judge gave no reason"
	}
	if v.JudgePass && !v.Pass {
		return fmt.Sprintf("score %.2g is below min_score %.2g: %s", v.Score, v.MinScore, reason)
	}
	return reason
}

// Answer is the judge's JSON object.
type Answer struct {
	Pass   bool    `json:"pass"`
	Score  float64 `json:"score"`
	Reason string  `json:"reason"`
}

// graded is what the cache keeps of a judge call.
type graded struct {
	Answer
	usage Usage
}

// Judge asks the judge to grade req. Identical requests (same model, rubric,
// transcript and reply) are sent once per Client; concurrent ones share the
// request. A failure is an *Error and is not remembered: an identical call
// later tries again.
func (c *Client) Judge(ctx context.Context, req Request) (Verdict, error) {
	start := time.Now()
	const op = "chat completion"
	if c.cfg.Model == "" {
		return Verdict{}, &Error{Kind: KindSetup, Op: op, Err: errors.New("no model is set (judge.model)")}
	}
	system, user := Prompt(req)
	a, shared, err := c.verdicts.do(ctx, key(c.cfg.Model, system, user), func() (graded, error) {
		return c.complete(ctx, system, user)
	})
	if err != nil {
		if _, ok := err.(*Error); !ok {
			err = &Error{Kind: KindService, Op: op, Model: c.cfg.Model, Err: err}
		}
		return Verdict{}, err
	}
	v := Verdict{
		JudgePass: a.Pass,
		Score:     a.Score,
		MinScore:  req.MinScore,
		Reason:    a.Reason,
		Pass:      a.Pass && (req.MinScore <= 0 || a.Score >= req.MinScore),
		Cached:    shared,
		Duration:  time.Since(start),
	}
	if shared {
		c.count(func(s *Stats) { s.Cached++ })
	} else {
		v.Usage = a.usage
	}
	return v, nil
}

// chatRequest is the body of POST {base_url}/chat/completions.
type chatRequest struct {
	Model          string         `json:"model"`
	Messages       []chatMessage  `json:"messages"`
	Temperature    float64        `json:"temperature"`
	ResponseFormat *responseShape `json:"response_format,omitempty"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type responseShape struct {
	Type string `json:"type"`
}

// chatResponse is the part of a chat completion evalrun reads. Content is a
// pointer because a refusal or a tool call leaves it null.
type chatResponse struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage Usage `json:"usage"`
}

// complete makes one chat completion request and reads its answer.
func (c *Client) complete(ctx context.Context, system, user string) (graded, error) {
	const op = "chat completion"
	body := chatRequest{
		Model:    c.cfg.Model,
		Messages: []chatMessage{{Role: "system", Content: system}, {Role: "user", Content: user}},
	}
	if c.cfg.JSONMode {
		body.ResponseFormat = &responseShape{Type: "json_object"}
	}
	start := time.Now()
	_, raw, err := c.chat.Do(ctx, op, http.MethodPost, "/chat/completions", body)
	took := time.Since(start)
	if err != nil {
		c.count(func(s *Stats) { s.JudgeCalls++; s.Failed++; s.Time += took })
		return graded{}, c.service(op, c.cfg.Model, err)
	}
	var resp chatResponse
	uerr := json.Unmarshal(raw, &resp)
	c.count(func(s *Stats) {
		s.JudgeCalls++
		s.Time += took
		if uerr == nil {
			s.Usage = s.Usage.Add(resp.Usage)
		}
	})
	fail := func(kind Kind, err error, content string) (graded, error) {
		c.count(func(s *Stats) { s.Failed++ })
		e := &Error{Kind: kind, Op: op, Model: c.cfg.Model, Err: err}
		if kind == KindAnswer {
			e.Answer = c.quote(content)
		} else {
			e.Err = fmt.Errorf("%w: %s", err, c.chat.Excerpt(raw))
		}
		return graded{}, e
	}
	switch {
	case uerr != nil:
		return fail(KindReply, fmt.Errorf("undecodable: %v", uerr), "")
	case len(resp.Choices) == 0:
		return fail(KindReply, errors.New("no choices"), "")
	}
	choice := resp.Choices[0]
	if choice.Message.Content == nil || strings.TrimSpace(*choice.Message.Content) == "" {
		return fail(KindAnswer, fmt.Errorf("the message has no content (finish_reason %q)", c.quote(choice.FinishReason)), "")
	}
	a, err := ParseAnswer(*choice.Message.Content)
	if err != nil {
		if choice.FinishReason == "length" {
			err = fmt.Errorf("%w (finish_reason length: the answer was cut short)", err)
		}
		return fail(KindAnswer, err, *choice.Message.Content)
	}
	return graded{Answer: a, usage: resp.Usage}, nil
}

// ParseAnswer reads a judge's message content: one JSON object with "pass"
// (a boolean), "score" (a number from 0 to 1) and optionally "reason" (a
// string), bare or as the only thing inside a Markdown code fence (```json
// or ```), white space around either allowed. Anything else is refused, prose
// around the object included: a judge that does not follow the format may not
// have followed the rubric either. Other members are ignored.
func ParseAnswer(content string) (Answer, error) {
	s := strings.TrimSpace(content)
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		lang, inner, found := strings.Cut(rest, "\n")
		lang = strings.TrimSpace(lang)
		if !found || (lang != "" && !strings.EqualFold(lang, "json")) {
			return Answer{}, errors.New("a code fence must open with ``` or ```json on a line of its own")
		}
		inner = strings.TrimSpace(inner)
		body, closed := strings.CutSuffix(inner, "```")
		if !closed {
			return Answer{}, errors.New("the code fence is not closed with ``` at the end")
		}
		s = strings.TrimSpace(body)
	}
	if !strings.HasPrefix(s, "{") {
		return Answer{}, errors.New("it does not start with { (or a code fence holding one)")
	}
	var got struct {
		Pass   *bool    `json:"pass"`
		Score  *float64 `json:"score"`
		Reason *string  `json:"reason"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&got); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return Answer{}, fmt.Errorf("%q is %s, want %s", typeErr.Field, typeErr.Value, want[typeErr.Field])
		}
		return Answer{}, fmt.Errorf("invalid JSON: %v", err)
	}
	if tail := strings.TrimSpace(s[dec.InputOffset():]); tail != "" {
		return Answer{}, errors.New("there is text after the JSON object")
	}
	switch {
	case got.Pass == nil:
		return Answer{}, errors.New(`"pass" is missing`)
	case got.Score == nil:
		return Answer{}, errors.New(`"score" is missing`)
	case *got.Score < 0 || *got.Score > 1:
		return Answer{}, fmt.Errorf(`"score" is %g, want a number from 0 to 1`, *got.Score)
	}
	a := Answer{Pass: *got.Pass, Score: *got.Score}
	if got.Reason != nil {
		a.Reason = strings.TrimSpace(*got.Reason)
	}
	return a, nil
}

// want says what each member of the answer should be, for type errors.
var want = map[string]string{"pass": "true or false", "score": "a number from 0 to 1", "reason": "a string"}
