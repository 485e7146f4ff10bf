package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// prompt writes a judge prompt the way the judge package does.
func prompt(rubric, conversation, reply string) string {
	p := "<rubric>\n" + rubric + "\n</rubric>\n\n<conversation>\n" + conversation + "\n</conversation>\n"
	if reply != "" {
		p += "\n<reply>\n" + reply + "\n</reply>\n"
	}
	return p
}

func chatBody(user string) string {
	b, _ := json.Marshal(map[string]any{
		"model":       "sim-judge",
		"temperature": 0,
		"messages": []map[string]string{
			{"role": "system", "content": "You grade replies."},
			{"role": "user", "content": user},
		},
	})
	return string(b)
}

func TestJudgeRule(t *testing.T) {
	for _, tc := range []struct {
		name, prompt string
		pass         bool
		score        float64
		reason       string
	}{
		{"every word", prompt("The bot confirms the refund ticket", "[user] refund ord_1", "I've opened refund ticket TCK-1001."),
			true, 0.67, "found 2 of 3 rubric terms in the reply: refund, ticket; missing: confirms"},
		{"stems meet", prompt("mentions refunds opened", "", "Refund opening now"),
			true, 1, "found 2 of 2 rubric terms in the reply: refunds, opened"},
		{"half passes", prompt("refund and shipping", "", "Your refund is on its way"),
			true, 0.5, "found 1 of 2 rubric terms in the reply: refund; missing: shipping"},
		{"under half fails", prompt("refund shipping invoice", "", "a refund"),
			false, 0.33, "found 1 of 3 rubric terms in the reply: refund; missing: shipping, invoice"},
		{"quoted phrase found", prompt(`says "5 to 7 business days"`, "", "It takes 5 to 7 business days."),
			true, 1, `found 1 of 1 rubric terms in the reply: "5 to 7 business days"`},
		{"quoted phrase is required", prompt(`says “business days” and refund and order`, "", "refund your order in 5 days"),
			false, 0.67, `found 2 of 3 rubric terms in the reply: refund, order; missing: "business days"`},
		{"final reads what the bot said", prompt("refund ticket", "[user] I want a refund\n[bot] Which order?\n[user] the ticket one\n[bot] Opened a\n  ticket for you", ""),
			true, 0.5, "found 1 of 2 rubric terms in what the bot said: ticket; missing: refund"},
		// The README's examples.
		{"readme pass", prompt("confirms the refund ticket", "", "I've opened refund ticket TCK-1001."),
			true, 0.67, "found 2 of 3 rubric terms in the reply: refund, ticket; missing: confirms"},
		{"readme phrase", prompt(`says "5 business days"`, "", "It takes 5 to 7 business days."),
			false, 0, `found 0 of 1 rubric terms in the reply; missing: "5 business days"`},
		{"no terms", prompt("the bot should answer", "", "hello"),
			false, 0, "the rubric has no words the simulator can look for"},
		{"no rubric", "grade this: hello", false, 0, "the simulator found no <rubric> section in the last user message"},
		{"directives are not terms", prompt("refund [sim judge_shape=fenced]", "", "refund"),
			true, 1, "found 1 of 1 rubric terms in the reply: refund"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := judgePrompt(tc.prompt)
			if v.Pass != tc.pass || v.Score != tc.score || v.Reason != tc.reason {
				t.Errorf("got %+v\nwant pass %v score %v reason %q", v, tc.pass, tc.score, tc.reason)
			}
		})
	}
}

func TestChatCompletions(t *testing.T) {
	url, _ := startServer(t, Options{Now: func() time.Time { return time.Unix(1700000000, 0) }})
	body := chatBody(prompt("refund ticket", "[user] refund ord_1", "refund ticket TCK-1001 opened"))
	resp, raw, err := plain(t, 2*time.Second, "POST", url+"/v1/chat/completions", body)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			Prompt     int `json:"prompt_tokens"`
			Completion int `json:"completion_tokens"`
			Total      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP %d %s: %v", resp.StatusCode, raw, err)
	}
	if got.ID != "chatcmpl-sim-1" || got.Object != "chat.completion" || got.Created != 1700000000 || got.Model != "sim-judge" ||
		len(got.Choices) != 1 || got.Choices[0].Message.Role != "assistant" || got.Choices[0].FinishReason != "stop" {
		t.Errorf("reply %s", raw)
	}
	want := `{"pass":true,"score":1,"reason":"found 2 of 2 rubric terms in the reply: refund, ticket"}`
	if c := got.Choices[0].Message.Content; c != want {
		t.Errorf("content %s\nwant %s", c, want)
	}
	words := len(strings.Fields("You grade replies.")) + len(strings.Fields(prompt("refund ticket", "[user] refund ord_1", "refund ticket TCK-1001 opened")))
	if got.Usage.Prompt != words || got.Usage.Completion != len(strings.Fields(want)) || got.Usage.Total != got.Usage.Prompt+got.Usage.Completion {
		t.Errorf("usage %+v, want %d prompt tokens", got.Usage, words)
	}
}

func TestJudgeShapes(t *testing.T) {
	verdict := `{"pass":true,"score":1,"reason":"found 1 of 1 rubric terms in the reply: refund"}`
	for _, tc := range []struct {
		name   string
		opts   Options
		rubric string
		want   string
	}{
		{"bare", Options{}, "refund", verdict},
		{"fenced", Options{JudgeShape: JudgeFenced}, "refund", "```json\n" + verdict + "\n```"},
		{"prose", Options{JudgeShape: JudgeProse}, "refund", "Here is my verdict: " + verdict + " I hope this helps."},
		{"directive", Options{}, "refund [sim judge_shape=fenced]", "```json\n" + verdict + "\n```"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := startServer(t, tc.opts)
			_, raw, err := plain(t, 2*time.Second, "POST", url+"/v1/chat/completions", chatBody(prompt(tc.rubric, "", "refund")))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Choices []struct{ Message struct{ Content string } }
			}
			json.Unmarshal(raw, &got)
			if len(got.Choices) != 1 || got.Choices[0].Message.Content != tc.want {
				t.Errorf("reply %s\nwant content %q", raw, tc.want)
			}
		})
	}
}

func TestOpenAIErrors(t *testing.T) {
	url, _ := startServer(t, Options{Token: "sk-right"})
	for _, tc := range []struct {
		name, method, path, body string
		token                    string
		status                   int
		want                     string
	}{
		{"no token", "POST", "/v1/chat/completions", chatBody("x"), "", 401,
			`{"error":{"message":"Unauthorized","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		{"no model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, "sk-right", 400,
			`{"error":{"message":"you must provide a model parameter","type":"invalid_request_error","param":null,"code":null}}`},
		{"no messages", "POST", "/v1/chat/completions", `{"model":"m","messages":[]}`, "sk-right", 400,
			`{"error":{"message":"messages must be a non-empty array","type":"invalid_request_error","param":null,"code":null}}`},
		{"content parts", "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`, "sk-right", 400,
			`{"error":{"message":"messages[0].content must be a string (the simulator takes no content parts)","type":"invalid_request_error","param":null,"code":null}}`},
		{"bad directive", "POST", "/v1/chat/completions", chatBody(prompt("x [sim fault=nope]", "", "x")), "sk-right", 400, ""},
		{"empty input", "POST", "/v1/embeddings", `{"model":"m","input":["a",""]}`, "sk-right", 400,
			`{"error":{"message":"input[1] must not be empty","type":"invalid_request_error","param":null,"code":null}}`},
		{"token input", "POST", "/v1/embeddings", `{"model":"m","input":[[1,2]]}`, "sk-right", 400,
			`{"error":{"message":"input must be a string or an array of strings (the simulator takes no token arrays)","type":"invalid_request_error","param":null,"code":null}}`},
		{"no input", "POST", "/v1/embeddings", `{"model":"m"}`, "sk-right", 400,
			`{"error":{"message":"you must provide an input parameter","type":"invalid_request_error","param":null,"code":null}}`},
		{"wrong method", "GET", "/v1/embeddings", "", "sk-right", 405,
			`{"error":{"message":"Method Not Allowed","type":"invalid_request_error","param":null,"code":null}}`},
		{"unknown path", "POST", "/v1/completions", "{}", "sk-right", 404,
			`{"error":{"message":"Unknown request URL: POST /v1/completions","type":"invalid_request_error","param":null,"code":null}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, url+tc.path, strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var raw strings.Builder
			fmt.Fprint(&raw, readAll(resp))
			got := strings.TrimSpace(raw.String())
			if resp.StatusCode != tc.status || tc.want != "" && got != tc.want || !json.Valid([]byte(got)) {
				t.Errorf("HTTP %d %s\nwant %d %s", resp.StatusCode, got, tc.status, tc.want)
			}
		})
	}
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func TestOpenAIFaults(t *testing.T) {
	t.Run("429 from the run's faults", func(t *testing.T) {
		url, _ := startServer(t, Options{Faults: []Fault{{Fault429, 1}}, RetryAfter: 2 * time.Second})
		for _, path := range []string{"/v1/chat/completions", "/v1/embeddings"} {
			resp, raw, err := plain(t, 2*time.Second, "POST", url+path, `{"model":"m","input":"x"}`)
			if err != nil {
				t.Fatal(err)
			}
			want := `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}` + "\n"
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || string(raw) != want {
				t.Errorf("%s: HTTP %d Retry-After %q %s", path, resp.StatusCode, resp.Header.Get("Retry-After"), raw)
			}
		}
	})
	t.Run("malformed", func(t *testing.T) {
		url, _ := startServer(t, Options{Faults: []Fault{{FaultMalformed, 1}}})
		resp, raw, err := plain(t, 2*time.Second, "POST", url+"/v1/embeddings", `{"model":"m","input":"x"}`)
		if err != nil || resp.StatusCode != 200 || json.Valid(raw) {
			t.Errorf("HTTP %v %s %v, want 200 with invalid JSON", resp.StatusCode, raw, err)
		}
	})
	t.Run("directive in the rubric, times", func(t *testing.T) {
		url, _ := startServer(t, Options{})
		body := chatBody(prompt("refund [sim fault=503 times=2]", "", "refund"))
		var statuses []int
		for range 3 {
			resp, _, err := plain(t, 2*time.Second, "POST", url+"/v1/chat/completions", body)
			if err != nil {
				t.Fatal(err)
			}
			statuses = append(statuses, resp.StatusCode)
		}
		if fmt.Sprint(statuses) != "[503 503 200]" {
			t.Errorf("statuses %v, want [503 503 200]", statuses)
		}
	})
	t.Run("directive in the conversation is the bot's", func(t *testing.T) {
		url, _ := startServer(t, Options{})
		body := chatBody(prompt("refund", "[user] refund ord_1 [sim fault=500]", "refund"))
		resp, raw, err := plain(t, 2*time.Second, "POST", url+"/v1/chat/completions", body)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("HTTP %v %s %v, want 200", resp.StatusCode, raw, err)
		}
	})
	t.Run("directive in an input", func(t *testing.T) {
		url, _ := startServer(t, Options{})
		resp, _, err := plain(t, 2*time.Second, "POST", url+"/v1/embeddings", `{"model":"m","input":["a","b [sim fault=502]"]}`)
		if err != nil || resp.StatusCode != 502 {
			t.Errorf("HTTP %v %v, want 502", resp.StatusCode, err)
		}
	})
}

func TestEmbeddingsRoute(t *testing.T) {
	url, _ := startServer(t, Options{})
	resp, raw, err := plain(t, 2*time.Second, "POST", url+"/v1/embeddings", `{"model":"sim-embed","input":["refund for order ord_42","Shipping takes 3 days [sim latency=1ms]"]}`)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP %v %s %v", resp.StatusCode, raw, err)
	}
	var got struct {
		Object string `json:"object"`
		Model  string `json:"model"`
		Data   []struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		Usage map[string]int `json:"usage"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Object != "list" || got.Model != "sim-embed" || len(got.Data) != 2 || got.Usage["prompt_tokens"] != 8 || got.Usage["total_tokens"] != 8 {
		t.Fatalf("reply %s", raw)
	}
	for i, d := range got.Data {
		want := Embedding([]string{"refund for order ord_42", "Shipping takes 3 days"}[i])
		if d.Object != "embedding" || d.Index != i || fmt.Sprint(d.Embedding) != fmt.Sprint(want) {
			t.Errorf("data[%d] = %+v", i, d)
		}
	}
}

func cosine(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot, na, nb = dot+a[i]*b[i], na+a[i]*a[i], nb+b[i]*b[i]
	}
	return dot / math.Sqrt(na*nb)
}

func TestEmbedding(t *testing.T) {
	for _, tc := range []struct {
		a, b     string
		min, max float64
	}{
		{"I've opened refund ticket TCK-1001 for order ord_42.", "Refund ticket TCK-1001 is open for your order ord_42", 0.99, 1.0001},
		{"Your refund will reach your card in 5 to 7 business days", "The refund reaches your card within 5-7 business days", 0.8, 1},
		{"Your refund will reach your card in 5 to 7 business days", "Standard shipping takes 3 days; express ships next day", 0, 0.3},
		{"Hello! How can I help you today?", "I want a refund for ord_42", 0, 0.3},
		{"", "the and of", 0.9999, 1.0001},
	} {
		a, b := Embedding(tc.a), Embedding(tc.b)
		if len(a) != EmbeddingDims {
			t.Fatalf("%d dimensions", len(a))
		}
		if s := cosine(a, b); s < tc.min || s > tc.max {
			t.Errorf("similarity(%q, %q) = %.3f, want %g to %g", tc.a, tc.b, s, tc.min, tc.max)
		}
	}
	if fmt.Sprint(Embedding("refund please")) != fmt.Sprint(Embedding("refund please")) {
		t.Error("the embedding is not deterministic")
	}
}
