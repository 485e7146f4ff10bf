package results

// JudgeUse is what the judged checks (judge, similar, final judge) of one
// conversation cost, over all its runs. It is kept apart from the bot's
// latency, which never includes it.
type JudgeUse struct {
	// Checks counts the judged checks that asked the judge, answered from
	// the run's cache or not.
	Checks int `json:"checks"`
	// Tokens is the total_tokens the service reported for the requests
	// these checks made; an answer from the cache costs none.
	Tokens int `json:"tokens"`
	// DurationMS is how long the checks took, waits for the judge's
	// rate_limit, retries and waits for an identical call in flight
	// included.
	DurationMS float64 `json:"duration_ms"`
}

// JudgeSummary is what the judge services cost over a run: the sum over
// every distinct judge: section (each one client, with its own cache).
type JudgeSummary struct {
	// Calls counts the requests made: chat completions and embeddings
	// (a retry is not a call of its own).
	Calls int `json:"calls"`
	// Cached counts the judged checks answered without a request of their
	// own, because an identical one was made earlier in the run (for
	// similar, per text embedded).
	Cached int `json:"cached"`
	// Failed counts the requests that ended in an error after their retries.
	Failed           int `json:"failed"`
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	// DurationMS is the time spent in requests, summed over requests, so
	// concurrent ones can add up to more than the run's wall time.
	DurationMS float64 `json:"duration_ms"`
}

// Add returns the sum of s and o.
func (s JudgeSummary) Add(o JudgeSummary) JudgeSummary {
	return JudgeSummary{
		Calls: s.Calls + o.Calls, Cached: s.Cached + o.Cached, Failed: s.Failed + o.Failed,
		PromptTokens: s.PromptTokens + o.PromptTokens, CompletionTokens: s.CompletionTokens + o.CompletionTokens,
		TotalTokens: s.TotalTokens + o.TotalTokens, DurationMS: s.DurationMS + o.DurationMS,
	}
}
