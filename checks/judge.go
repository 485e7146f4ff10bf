package checks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/evalrun/evalrun/judge"
	"github.com/evalrun/evalrun/results"
)

// Judge is what the judged checks ask for a verdict: an LLM judge (Judge)
// and an embeddings model (Similar). A *judge.Client is one; the runner
// hands the checks a wrapper that also counts what each conversation spent.
// Every error is taken as the service failing, never as a verdict.
type Judge interface {
	Judge(ctx context.Context, req judge.Request) (judge.Verdict, error)
	Similar(ctx context.Context, reply, expected string) (judge.Similarity, error)
}

var _ Judge = (*judge.Client)(nil)

// JudgeWant is the value of a judge key: a rubric, and the least score that
// passes (0: the judge's own pass decides).
type JudgeWant struct {
	Rubric   string
	MinScore float64
}

// SimilarWant is the value of a similar key: the text the reply should mean,
// and the least cosine similarity of their embeddings that passes, 0 to 1.
type SimilarWant struct {
	To  string
	Min float64
}

// errNoJudge is a judged check's error when the caller gave it no judge: the
// suite's judge: section did not reach the runner, which is no fault of the
// bot's.
var errNoJudge = errors.New("no judge is configured for this suite (the judge: section)")

// JudgeReply returns the judge check of a turn: the judge grades the reply
// against w.Rubric, reading the conversation before it for context.
func JudgeReply(w JudgeWant) Check { return judgeCheck{w} }

type judgeCheck struct{ want JudgeWant }

var _ ServiceCheck = judgeCheck{}

func (c judgeCheck) Name() string { return "judge" }

func (c judgeCheck) Check(*Observation) results.Assertion {
	return failed("judge", c.want.Rubric, notChecked, "judge needs an LLM judge, and none was given to this check")
}

func (c judgeCheck) CheckContext(ctx context.Context, o *Observation, svc Services) (results.Assertion, error) {
	if svc.Judge == nil {
		return results.Assertion{}, errNoJudge
	}
	reply := replyText(o)
	v, err := svc.Judge.Judge(ctx, judge.Request{
		Rubric:     c.want.Rubric,
		Transcript: o.Conversation,
		Reply:      reply,
		MinScore:   c.want.MinScore,
	})
	if err != nil {
		return results.Assertion{}, err
	}
	if v.Pass {
		return passed("judge"), nil
	}
	actual := reply
	if actual == "" {
		actual = silentActual
	}
	return failed("judge", c.want.Rubric, oneLine(actual), oneLine(v.Message())), nil
}

// Similar returns the similar check of a turn: the cosine similarity of the
// embeddings of the reply and w.To must be at least w.Min. A silent reply
// scores 0.
func Similar(w SimilarWant) Check { return similarCheck{w} }

type similarCheck struct{ want SimilarWant }

var _ ServiceCheck = similarCheck{}

func (c similarCheck) Name() string { return "similar" }

func (c similarCheck) Check(*Observation) results.Assertion {
	return failed("similar", c.want.To, notChecked, "similar needs an embeddings model, and none was given to this check")
}

func (c similarCheck) CheckContext(ctx context.Context, o *Observation, svc Services) (results.Assertion, error) {
	if svc.Judge == nil {
		return results.Assertion{}, errNoJudge
	}
	reply := replyText(o)
	s, err := svc.Judge.Similar(ctx, reply, c.want.To)
	if err != nil {
		return results.Assertion{}, err
	}
	if s.Score >= c.want.Min {
		return passed("similar"), nil
	}
	expected := fmt.Sprintf("similarity ≥ %s to %s", score(c.want.Min), quote(c.want.To))
	if reply == "" {
		return failed("similar", expected, silentActual,
			fmt.Sprintf("expected a reply with similarity at least %s to %s, but the bot said nothing (similarity 0)", score(c.want.Min), quote(c.want.To))), nil
	}
	return failed("similar", expected, oneLine(reply),
		fmt.Sprintf("similarity %s is below min %s: expected a reply meaning %s, got %s", score(s.Score), score(c.want.Min), quote(c.want.To), quote(reply))), nil
}

// FinalJudge judges a whole conversation against w.Rubric: the final judge
// check, named "final.judge". An error is the judge failing, not the bot.
func FinalJudge(ctx context.Context, w JudgeWant, transcript []judge.Message, svc Services) (results.Assertion, error) {
	const name = "final.judge"
	if svc.Judge == nil {
		return results.Assertion{}, errNoJudge
	}
	v, err := svc.Judge.Judge(ctx, judge.Request{Rubric: w.Rubric, Transcript: transcript, Final: true, MinScore: w.MinScore})
	if err != nil {
		return results.Assertion{}, err
	}
	if v.Pass {
		return passed(name), nil
	}
	return failed(name, w.Rubric, "the whole conversation ("+strconv.Itoa(len(transcript))+" messages)", oneLine(v.Message())), nil
}

// FinalNeedsJudge is the assertion of a final judge for a caller without
// services.
func FinalNeedsJudge(w JudgeWant) results.Assertion {
	return failed("final.judge", w.Rubric, notChecked, "final judge needs an LLM judge, and none was given to this check")
}

// replyText is what a judged check sends as the reply: "" for a bot that
// said nothing, so that the judge is told so rather than shown blanks.
func replyText(o *Observation) string {
	if o.silent() {
		return ""
	}
	return o.reply().Text
}

// score prints a similarity or a score the way messages show them.
func score(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// oneLine folds the white space of a judge's reason or a reply, so that a
// message stays on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
