package checks

import (
	"context"
	"errors"
	"testing"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/providers"
)

// stubJudge answers every call with the same verdict or similarity, and
// remembers the last request.
type stubJudge struct {
	verdict judge.Verdict
	score   float64
	err     error
	last    judge.Request
	texts   [2]string
}

func (s *stubJudge) Judge(_ context.Context, req judge.Request) (judge.Verdict, error) {
	s.last = req
	return s.verdict, s.err
}

func (s *stubJudge) Similar(_ context.Context, a, b string) (judge.Similarity, error) {
	s.texts = [2]string{a, b}
	return judge.Similarity{Score: s.score}, s.err
}

func TestJudgedChecks(t *testing.T) {
	outage := &judge.Error{Kind: judge.KindService, Op: "chat completion", Model: "m", Err: errors.New("HTTP 503")}
	hello := &providers.Reply{Text: "Hello!\nHow can I help?"}
	silent := &providers.Reply{Silent: true}
	tests := []struct {
		name    string
		check   Check
		judge   *stubJudge
		reply   *providers.Reply
		message string // "" for a pass
		err     error
	}{
		{"judge passes", JudgeReply(JudgeWant{Rubric: "greets"}), &stubJudge{verdict: judge.Verdict{Pass: true, JudgePass: true, Score: 1}}, hello, "", nil},
		{"judge fails with its reason", JudgeReply(JudgeWant{Rubric: "apologises"}),
			&stubJudge{verdict: judge.Verdict{Reason: "no apology\nat all"}}, hello, "no apology at all", nil},
		{"judge scores below min_score", JudgeReply(JudgeWant{Rubric: "greets", MinScore: 0.9}),
			&stubJudge{verdict: judge.Verdict{JudgePass: true, Score: 0.5, MinScore: 0.9, Reason: "half"}}, hello, "score 0.5 is below min_score 0.9: half", nil},
		{"judge is down", JudgeReply(JudgeWant{Rubric: "greets"}), &stubJudge{err: outage}, hello, "", outage},
		{"no judge given", JudgeReply(JudgeWant{Rubric: "greets"}), nil, hello, "", errNoJudge},
		{"similar passes", Similar(SimilarWant{To: "hello", Min: 0.8}), &stubJudge{score: 0.8}, hello, "", nil},
		{"similar fails with the score", Similar(SimilarWant{To: "bye", Min: 0.8}), &stubJudge{score: 0.123}, hello,
			`similarity 0.12 is below min 0.80: expected a reply meaning "bye", got "Hello! How can I help?"`, nil},
		{"similar on silence", Similar(SimilarWant{To: "bye", Min: 0.8}), &stubJudge{}, silent,
			`expected a reply with similarity at least 0.80 to "bye", but the bot said nothing (similarity 0)`, nil},
		{"similar's embeddings are down", Similar(SimilarWant{To: "bye", Min: 0.8}), &stubJudge{err: outage}, hello, "", outage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var svc Services
			if tc.judge != nil {
				svc.Judge = tc.judge
			}
			o := NewObservation(tc.reply, 0)
			a, err := Run(context.Background(), tc.check, o, svc)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if a.Check != tc.check.Name() {
				t.Errorf("check %q, want %q", a.Check, tc.check.Name())
			}
			if tc.message == "" {
				if !a.Passed {
					t.Errorf("failed: %s", a.Message)
				}
				return
			}
			if a.Passed || a.Message != tc.message || a.Expected == "" || a.Actual == "" {
				t.Errorf("got %+v\nwant a failure saying %q", a, tc.message)
			}
		})
	}
}

// TestJudgeReadsTheConversation: the judge gets the conversation before the
// reply and the reply, a silent one as "", and a final judge the whole.
func TestJudgeReadsTheConversation(t *testing.T) {
	before := []judge.Message{{Role: judge.RoleUser, Text: "hi"}, {Role: judge.RoleBot, Text: "hello"}, {Role: judge.RoleUser, Text: "a human please"}}
	j := &stubJudge{verdict: judge.Verdict{Pass: true}}
	o := NewObservation(&providers.Reply{Silent: true, Text: "  "}, 0)
	o.Conversation = before
	if _, err := JudgeReply(JudgeWant{Rubric: "stays quiet", MinScore: 0.5}).(ServiceCheck).CheckContext(context.Background(), o, Services{Judge: j}); err != nil {
		t.Fatal(err)
	}
	if j.last.Rubric != "stays quiet" || j.last.Reply != "" || len(j.last.Transcript) != 3 || j.last.Final || j.last.MinScore != 0.5 {
		t.Errorf("request %+v", j.last)
	}
	a, err := FinalJudge(context.Background(), JudgeWant{Rubric: "polite"}, before, Services{Judge: j})
	if err != nil || !a.Passed || a.Check != "final.judge" || !j.last.Final || len(j.last.Transcript) != 3 {
		t.Errorf("final: %+v, %v; request %+v", a, err, j.last)
	}
	// Without services, the plain Check says what it needs instead of passing.
	if a := JudgeReply(JudgeWant{Rubric: "x"}).Check(o); a.Passed {
		t.Error("a judge check passed without a judge")
	}
}
