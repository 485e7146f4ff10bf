package judge_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/sim"
)

func TestSimilarOnSim(t *testing.T) {
	c, _ := simJudge(t, sim.Options{}, judge.Config{})
	ctx := context.Background()
	for _, tc := range []struct {
		name, a, b string
		min, max   float64
	}{
		{"same words", "I've opened refund ticket TCK-1001 for order ord_42.", "Refund ticket TCK-1001 is opened for your order ord_42", 0.99, 1},
		{"paraphrase", "Your refund will reach your card in 5 to 7 business days", "The refund reaches your card within 5-7 business days", 0.8, 1},
		{"unrelated", "Your refund will reach your card in 5 to 7 business days", "Standard shipping takes 3 days; express ships next day", -1, 0.3},
		{"greeting and refund", "Hello! How can I help you today?", "I've opened refund ticket TCK-1001 for order ord_42.", -1, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := c.Similar(ctx, tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if s.Score < tc.min || s.Score > tc.max+1e-9 {
				t.Errorf("similarity %.3f, want %g to %g", s.Score, tc.min, tc.max)
			}
		})
	}
	if st := c.Stats(); st.EmbedCalls != 4 || st.Usage.PromptTokens == 0 || st.Usage.CompletionTokens != 0 {
		t.Errorf("stats %+v", st)
	}
	if s, err := c.Similar(ctx, "  ", "refund"); err != nil || s.Score != 0 || c.Stats().EmbedCalls != 4 {
		t.Errorf("silent reply: %+v, %v, %d requests; want 0 without one", s, err, c.Stats().EmbedCalls)
	}
}

// recordInputs serves embeddings like the simulator and records the inputs
// of each request.
func recordInputs(t *testing.T) (*judge.Client, func() [][]string) {
	t.Helper()
	s := sim.New(sim.Options{})
	var mu sync.Mutex
	var inputs [][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in struct{ Input []string }
		json.Unmarshal(body, &in)
		mu.Lock()
		inputs = append(inputs, in.Input)
		mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := judge.New(judge.Config{BaseURL: srv.URL + sim.OpenAIPath, EmbeddingModel: "sim-embed"})
	return c, func() [][]string {
		mu.Lock()
		defer mu.Unlock()
		return append([][]string(nil), inputs...)
	}
}

func TestEmbedCache(t *testing.T) {
	c, inputs := recordInputs(t)
	ctx := context.Background()
	v1, u1, err := c.Embed(ctx, []string{"refund", "shipping", "refund"})
	if err != nil {
		t.Fatal(err)
	}
	if len(v1) != 3 || len(v1[0]) != sim.EmbeddingDims || !equal(v1[0], v1[2]) || equal(v1[0], v1[1]) || u1.PromptTokens != 2 {
		t.Fatalf("vectors %d, usage %+v", len(v1), u1)
	}
	v2, u2, err := c.Embed(ctx, []string{"shipping", "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if !equal(v2[0], v1[1]) || !equal(v2[1], sim.Embedding("billing")) || u2.PromptTokens != 1 {
		t.Errorf("second call: usage %+v", u2)
	}
	if _, u3, err := c.Embed(ctx, []string{"billing", "refund"}); err != nil || u3 != (judge.Usage{}) {
		t.Errorf("all cached: usage %+v, %v", u3, err)
	}
	got := inputs()
	if len(got) != 2 || strings.Join(got[0], ",") != "refund,shipping" || strings.Join(got[1], ",") != "billing" {
		t.Errorf("requests sent %q, want [[refund shipping] [billing]]", got)
	}
	if st := c.Stats(); st.EmbedCalls != 2 || st.Cached != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestEmbedCacheConcurrent(t *testing.T) {
	c, inputs := recordInputs(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Similar(context.Background(), "the reply", "the expected text"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sent := map[string]int{}
	for _, in := range inputs() {
		for _, text := range in {
			sent[text]++
		}
	}
	if sent["the reply"] != 1 || sent["the expected text"] != 1 || len(sent) != 2 {
		t.Errorf("texts sent %v, want each once", sent)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEmbedReplyErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"too few", `{"data": [{"index": 0, "embedding": [1, 0]}]}`, "1 embeddings for 2 inputs"},
		{"index out of range", `{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 2, "embedding": [0, 1]}]}`, "data[1].index is 2, want 0 to 1"},
		{"same index", `{"data": [{"index": 1, "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1]}]}`, "two embeddings have index 1"},
		{"empty vector", `{"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": [0, 1]}]}`, "data[0].embedding is empty"},
		{"lengths differ", `{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1, 0]}]}`, "data[1].embedding has 3 dimensions, data[0]'s 2"},
		{"not a list", `{"data": {}}`, "undecodable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) })
			_, _, err := c.Embed(context.Background(), []string{"a", "b"})
			var je *judge.Error
			if !errors.As(err, &je) || je.Kind != judge.KindReply || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a reply error with %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "judge (embed-test): embeddings: the reply is not an OpenAI-compatible embeddings: ") {
				t.Errorf("error %q", err)
			}
		})
	}
	t.Run("out of order", func(t *testing.T) {
		c, _ := serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"data": [{"index": 1, "embedding": [0, 1]}, {"index": 0, "embedding": [1, 0]}], "usage": {"prompt_tokens": 2, "total_tokens": 2}}`)
		})
		v, u, err := c.Embed(context.Background(), []string{"a", "b"})
		if err != nil || v[0][0] != 1 || v[1][1] != 1 || u.TotalTokens != 2 {
			t.Errorf("%v %+v %v", v, u, err)
		}
	})
	t.Run("zero vector", func(t *testing.T) {
		c, _ := serving(t, judge.Config{}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"data": [{"index": 0, "embedding": [0, 0]}, {"index": 1, "embedding": [0, 1]}]}`)
		})
		_, err := c.Similar(context.Background(), "a", "b")
		var je *judge.Error
		if !errors.As(err, &je) || je.Kind != judge.KindReply || !strings.Contains(err.Error(), "zero vector") {
			t.Errorf("got %v", err)
		}
	})
}

func TestEmbedServiceError(t *testing.T) {
	c, n := serving(t, judge.Config{Retries: 1}, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, _, err := c.Embed(context.Background(), []string{"a"})
	var je *judge.Error
	if !errors.As(err, &je) || je.Kind != judge.KindService || n.Load() != 2 ||
		!strings.HasPrefix(err.Error(), "judge (embed-test): embeddings: HTTP 503 after 2 attempts") {
		t.Errorf("got %v after %d requests", err, n.Load())
	}
	// Not remembered: the next call asks again.
	c.Embed(context.Background(), []string{"a"})
	if n.Load() != 4 {
		t.Errorf("%d requests, want 4", n.Load())
	}
}

func TestCosine(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []float64
		want float64
		err  string
	}{
		{"same", []float64{1, 2, 3}, []float64{2, 4, 6}, 1, ""},
		{"opposite", []float64{1, 0}, []float64{-3, 0}, -1, ""},
		{"orthogonal", []float64{1, 0}, []float64{0, 5}, 0, ""},
		{"zero", []float64{0, 0}, []float64{1, 0}, 0, "zero vector"},
		{"lengths", []float64{1}, []float64{1, 0}, 0, "1 and 2 dimensions"},
		{"empty", nil, nil, 0, "0 and 0 dimensions"},
		{"overflow", []float64{1e308, 1e308}, []float64{1e308, 0}, 0, "too large to compare"},
	} {
		got, err := judge.Cosine(tc.a, tc.b)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, %v; want an error with %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
