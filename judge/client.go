// Package judge asks an OpenAI-compatible service to grade a bot's replies
// against a rubric (chat completions) and to embed texts for similarity
// checks (embeddings), with identical calls made once per Client and the
// tokens and time they cost added up apart from the bot's.
//
// Every request goes through a providers.Caller, so a judge gets the same
// retries, Retry-After handling, pacing, body limit, refused redirects and
// token redaction as a provider. Every error Judge, Embed and Similar return
// is an *Error, so a caller can tell a judge failure (the conversation is
// errored) from a failing check.
package judge

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/evalrun/evalrun/providers"
)

// Config is a suite's judge: section. Model is needed for Judge,
// EmbeddingModel for Embed and Similar.
type Config struct {
	// BaseURL is the API root that chat/completions and embeddings hang
	// from, e.g. https://api.openai.com/v1. For the simulator it is
	// sim.Running.OpenAIURL().
	BaseURL        string
	Model          string // chat model for Judge
	EmbeddingModel string // model for Embed and Similar
	// Token goes out as "Authorization: Bearer <Token>" and never appears
	// in an error; TokenVars names the environment variables it came from,
	// for hints. Secrets are further values to scrub from errors.
	Token     string
	TokenVars []string
	Secrets   []string
	Timeout   time.Duration // per attempt; 0 means no limit beyond ctx
	Retries   int           // extra attempts after a 429, a 5xx or no reply
	// Limiter paces every request, retries included (judge.rate_limit);
	// nil means no pacing. Judge and embedding requests share it.
	Limiter *rate.Limiter
	MaxBody int64        // cap on a reply's bytes; 0 means providers.DefaultMaxBody
	Client  *http.Client // nil: the providers' shared transport
	// JSONMode adds response_format {"type": "json_object"} to judge
	// requests. Off by default: not every OpenAI-compatible server knows
	// the member, and the prompt asks for the JSON object anyway.
	JSONMode bool
}

// Client calls one judge service. It is safe for concurrent use, and meant to
// live for one run: its cache and Stats cover every call made through it.
type Client struct {
	cfg   Config
	chat  *providers.Caller // errors say "judge (MODEL): chat completion: …"
	embed *providers.Caller // errors say "judge (EMBEDDING_MODEL): embeddings: …"

	verdicts memo[graded]
	vectors  memo[[]float64]

	mu    sync.Mutex
	stats Stats
}

// New returns a Client for cfg. It sends nothing until the first call.
func New(cfg Config) *Client {
	pc := providers.Config{
		BaseURL:   cfg.BaseURL,
		Token:     cfg.Token,
		TokenVars: cfg.TokenVars,
		Secrets:   cfg.Secrets,
		Timeout:   cfg.Timeout,
		Retries:   cfg.Retries,
		Limiter:   cfg.Limiter,
		MaxBody:   cfg.MaxBody,
		Client:    cfg.Client,
		Section:   "judge",
	}
	return &Client{
		cfg:   cfg,
		chat:  providers.NewCaller(callerName(cfg.Model), pc),
		embed: providers.NewCaller(callerName(cfg.EmbeddingModel), pc),
	}
}

func callerName(model string) string {
	if model == "" {
		return "judge"
	}
	return "judge (" + model + ")"
}

// Secrets returns the values that must never appear in evalrun's output:
// the token and Config.Secrets, for the command's redactor. Empty values are
// left out.
func (c *Client) Secrets() []string {
	var out []string
	for _, s := range append([]string{c.cfg.Token}, c.cfg.Secrets...) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Redact removes the token and the other secrets from s.
func (c *Client) Redact(s string) string { return c.chat.Redact(s) }

// Usage is what the service reports having spent, in tokens. Embedding
// replies carry no completion tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		TotalTokens:      u.TotalTokens + v.TotalTokens,
	}
}

// Stats is what a Client has spent so far, counting only the requests it
// made: calls answered from the cache cost nothing.
type Stats struct {
	JudgeCalls int `json:"judge_calls"` // chat completion requests made (retries not counted)
	EmbedCalls int `json:"embed_calls"` // embeddings requests made; one may embed several texts
	// Cached counts calls answered without a request of their own: from the
	// cache, or by an identical call already in flight. Embed counts one
	// per text.
	Cached int   `json:"cached"`
	Failed int   `json:"failed"` // requests that ended in an error
	Usage  Usage `json:"usage"`
	// Time is the time spent in requests, pacing waits and retries
	// included, summed over requests: concurrent requests each count in
	// full, so it can exceed the run's wall time.
	Time time.Duration `json:"time_ns"`
}

// Stats returns a snapshot of what the Client has spent.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// excerptLen is how much of a judge's answer an error quotes.
const excerptLen = 200

// quote returns the start of an answer for an error message, secrets removed
// first so that no part of one survives the cut.
func (c *Client) quote(s string) string {
	s = strings.Join(strings.Fields(c.Redact(s)), " ")
	if len(s) <= excerptLen {
		return s
	}
	cut := excerptLen
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
