package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// embedRequest is the body of POST {base_url}/embeddings.
type embedRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type embedResponse struct {
	Data []struct {
		Embedding []float64 `json:"embedding"`
		Index     *int      `json:"index"`
	} `json:"data"`
	Usage Usage `json:"usage"`
}

// Embed returns the embedding of each text, in order, and the tokens its
// request cost. Each text is embedded once per Client: the ones already
// embedded, or being embedded by another call, are not sent again, and the
// rest go in one request. The vectors are shared with other callers and must
// not be changed. A failure is an *Error.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float64, Usage, error) {
	const op = "embeddings"
	if c.cfg.EmbeddingModel == "" {
		return nil, Usage{}, &Error{Kind: KindSetup, Op: op, Err: errors.New("no embedding model is set (judge.embedding_model)")}
	}
	out := make([][]float64, len(texts))
	at := map[string][]int{} // text → its places in texts
	var todo []string
	for i, t := range texts {
		if _, ok := at[t]; !ok {
			todo = append(todo, t)
		}
		at[t] = append(at[t], i)
	}
	put := func(t string, v []float64) {
		for _, i := range at[t] {
			out[i] = v
		}
	}
	var usage Usage
	for len(todo) > 0 {
		var mine []string
		var claimed []*pending[[]float64]
		theirs := map[string]*pending[[]float64]{}
		for _, t := range todo {
			if p, own := c.vectors.claim(key(c.cfg.EmbeddingModel, t)); own {
				mine, claimed = append(mine, t), append(claimed, p)
			} else {
				theirs[t] = p
			}
		}
		if len(mine) > 0 {
			vecs, u, err := c.embedBatch(ctx, mine)
			for i, t := range mine {
				var v []float64
				if err == nil {
					v = vecs[i]
				}
				c.vectors.settle(ctx, key(c.cfg.EmbeddingModel, t), claimed[i], v, err)
				put(t, v)
			}
			if err != nil {
				return nil, usage, err
			}
			usage = usage.Add(u)
		}
		todo = todo[:0]
		for t, p := range theirs {
			v, err, again := p.await(ctx)
			switch {
			case again:
				todo = append(todo, t)
			case err != nil:
				if _, ok := err.(*Error); !ok {
					err = &Error{Kind: KindService, Op: op, Model: c.cfg.EmbeddingModel, Err: err}
				}
				return nil, usage, err
			default:
				put(t, v)
				c.count(func(s *Stats) { s.Cached++ })
			}
		}
	}
	return out, usage, nil
}

// embedBatch makes one embeddings request for texts.
func (c *Client) embedBatch(ctx context.Context, texts []string) ([][]float64, Usage, error) {
	const op = "embeddings"
	model := c.cfg.EmbeddingModel
	start := time.Now()
	_, raw, err := c.embed.Do(ctx, op, http.MethodPost, "/embeddings", embedRequest{Model: model, Input: texts})
	took := time.Since(start)
	if err != nil {
		c.count(func(s *Stats) { s.EmbedCalls++; s.Failed++; s.Time += took })
		return nil, Usage{}, c.service(op, model, err)
	}
	var resp embedResponse
	uerr := json.Unmarshal(raw, &resp)
	c.count(func(s *Stats) {
		s.EmbedCalls++
		s.Time += took
		if uerr == nil {
			s.Usage = s.Usage.Add(resp.Usage)
		}
	})
	vecs, err := vectors(resp, len(texts))
	if uerr != nil {
		err = fmt.Errorf("undecodable: %v", uerr)
	}
	if err != nil {
		c.count(func(s *Stats) { s.Failed++ })
		return nil, Usage{}, &Error{Kind: KindReply, Op: op, Model: model, Err: fmt.Errorf("%w: %s", err, c.embed.Excerpt(raw))}
	}
	return vecs, resp.Usage, nil
}

// vectors puts the embeddings of resp in input order, checking that there is
// exactly one non-empty vector per input, all of one length.
func vectors(resp embedResponse, n int) ([][]float64, error) {
	if len(resp.Data) != n {
		return nil, fmt.Errorf("%d embeddings for %d inputs", len(resp.Data), n)
	}
	out := make([][]float64, n)
	for i, d := range resp.Data {
		at := i
		if d.Index != nil {
			at = *d.Index
		}
		switch {
		case at < 0 || at >= n:
			return nil, fmt.Errorf("data[%d].index is %d, want 0 to %d", i, at, n-1)
		case out[at] != nil:
			return nil, fmt.Errorf("two embeddings have index %d", at)
		case len(d.Embedding) == 0:
			return nil, fmt.Errorf("data[%d].embedding is empty", i)
		case len(d.Embedding) != len(resp.Data[0].Embedding):
			return nil, fmt.Errorf("data[%d].embedding has %d dimensions, data[0]'s %d", i, len(d.Embedding), len(resp.Data[0].Embedding))
		}
		out[at] = d.Embedding
	}
	return out, nil
}

// Similarity is a Similar call's result.
type Similarity struct {
	Score    float64 // cosine similarity, -1 to 1
	Usage    Usage   // what this call's request cost; zero when both texts were cached
	Duration time.Duration
}

// Similar embeds a and b and returns their cosine similarity: the similar
// check's score, with reply as a and the expected text as b. A text that is
// empty or only white space (a bot that said nothing) has no embedding (the
// OpenAI API refuses it): it scores 0 without a request.
func (c *Client) Similar(ctx context.Context, a, b string) (Similarity, error) {
	if strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" {
		return Similarity{}, nil
	}
	start := time.Now()
	vecs, u, err := c.Embed(ctx, []string{a, b})
	if err != nil {
		return Similarity{}, err
	}
	score, err := Cosine(vecs[0], vecs[1])
	if err != nil {
		return Similarity{}, &Error{Kind: KindReply, Op: "embeddings", Model: c.cfg.EmbeddingModel, Err: err}
	}
	return Similarity{Score: score, Usage: u, Duration: time.Since(start)}, nil
}

// Cosine returns the cosine similarity of a and b, from -1 to 1. Vectors of
// different lengths, empty ones and zero vectors have none: no embedding
// model returns those, so they are an error rather than a score.
func Cosine(a, b []float64) (float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, fmt.Errorf("cannot compare embeddings of %d and %d dimensions", len(a), len(b))
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0, errors.New("an embedding is the zero vector, which has no direction to compare")
	}
	cos := dot / (math.Sqrt(na) * math.Sqrt(nb))
	if math.IsNaN(cos) || math.IsInf(cos, 0) {
		// Values so large that their squares overflow: no score can be
		// read from them, which is the embedding service's fault.
		return 0, errors.New("an embedding holds values too large to compare")
	}
	return max(-1, min(1, cos)), nil
}
