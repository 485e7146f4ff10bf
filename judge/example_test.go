package judge_test

import (
	"context"
	"fmt"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/sim"
)

// A judge of the built-in simulator: base_url is the simulator's OpenAIURL.
func Example() {
	srv, err := sim.Start("", sim.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	c := judge.New(judge.Config{
		BaseURL:        srv.OpenAIURL(),
		Model:          "sim-judge",
		EmbeddingModel: "sim-embed",
		Retries:        2,
	})
	ctx := context.Background()

	v, err := c.Judge(ctx, judge.Request{
		Rubric:     `confirms the refund and says "5 business days"`,
		Transcript: []judge.Message{{Role: judge.RoleUser, Text: "I want a refund for ord_42"}},
		Reply:      "Your refund for ord_42 is confirmed; it reaches you in 5 business days.",
		MinScore:   0.8,
	})
	if err != nil {
		panic(err) // a *judge.Error: the conversation is errored, not failed
	}
	fmt.Println(v.Pass, v.Score, v.Reason)

	s, err := c.Similar(ctx, "Your refund is on its way", "The refund is on its way to you")
	if err != nil {
		panic(err)
	}
	fmt.Printf("similarity %.2f\n", s.Score)

	st := c.Stats()
	fmt.Println(st.JudgeCalls, st.EmbedCalls, st.Usage.TotalTokens > 0)
	// Output:
	// true 1 found 3 of 3 rubric terms in the reply: "5 business days", confirms, refund
	// similarity 1.00
	// 1 1 true
}
