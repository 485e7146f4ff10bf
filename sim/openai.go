package sim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
	"unicode"
)

// OpenAIPath is where the simulator's OpenAI-compatible judge and embeddings
// live: a judge whose base_url is the simulator uses its URL + OpenAIPath.
const OpenAIPath = "/v1"

// OpenAIURL returns the base URL of the simulator's OpenAI-compatible API,
// URL() + OpenAIPath, for a judge's base_url.
func (r *Running) OpenAIURL() string { return r.url + OpenAIPath }

// JudgeShape is how the simulator's judge writes its JSON verdict in the
// message content.
type JudgeShape string

// The judge shapes. The empty JudgeShape is JudgeBare.
const (
	JudgeBare   JudgeShape = "bare"   // the JSON object alone
	JudgeFenced JudgeShape = "fenced" // inside a ```json code fence
	JudgeProse  JudgeShape = "prose"  // inside a sentence: not the contract, for testing clients
)

var judgeShapes = []JudgeShape{JudgeBare, JudgeFenced, JudgeProse}

// EmbeddingDims is the length of the simulator's embeddings.
const EmbeddingDims = 256

// The sections of a judge prompt, as evalrun's judge package writes them.
const (
	rubricOpen, rubricClose = "<rubric>", "</rubric>"
	convOpen, convClose     = "<conversation>", "</conversation>"
	replyOpen, replyClose   = "<reply>", "</reply>"
)

// openAIError is the member "error" of an OpenAI error body.
type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func newOpenAIError(status int, message string) openAIError {
	e := openAIError{Message: message, Type: "invalid_request_error"}
	code := func(c string) *string { return &c }
	switch {
	case status == http.StatusUnauthorized:
		e.Code = code("invalid_api_key")
	case status == http.StatusTooManyRequests:
		e.Type, e.Code = "requests", code("rate_limit_exceeded")
	case status >= 500:
		e.Type = "server_error"
	}
	return e
}

type chatIn struct {
	Model    *string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

// lastUser returns the content of the last user message of a chat
// completion request, "" when there is none or it is not a string.
func (in *chatIn) lastUser() string {
	for i := len(in.Messages) - 1; i >= 0; i-- {
		if in.Messages[i].Role == "user" {
			var s string
			json.Unmarshal(in.Messages[i].Content, &s)
			return s
		}
	}
	return ""
}

// judgeMessage finds the directives of a chat completion request in its
// rubric alone, so that a directive for the bot quoted in the conversation
// does not reach the judge. Attempts are counted per prompt.
func judgeMessage(_ *http.Request, body []byte) (string, attemptKey, bool) {
	var in chatIn
	json.Unmarshal(body, &in) // a bad body has no directive; the handler says what is wrong
	prompt := in.lastUser()
	rubric, ok := section(prompt, rubricOpen, rubricClose, false)
	if !ok {
		rubric = prompt
	}
	return rubric, attemptKey{"judge", prompt}, false
}

// embeddingsMessage finds the directives of an embeddings request in any of
// its inputs. Attempts are counted per list of inputs.
func embeddingsMessage(_ *http.Request, body []byte) (string, attemptKey, bool) {
	var in struct {
		Input json.RawMessage `json:"input"`
	}
	json.Unmarshal(body, &in)
	inputs, _ := embeddingInputs(in.Input)
	return strings.Join(inputs, "\n"), attemptKey{"embeddings", strings.Join(inputs, "\x00")}, false
}

// section returns the text between open and close in s, trimmed: the first
// such pair, or with last the last one.
func section(s, open, close string, last bool) (string, bool) {
	var i int
	if last {
		i = strings.LastIndex(s, open)
	} else {
		i = strings.Index(s, open)
	}
	if i < 0 {
		return "", false
	}
	rest := s[i+len(open):]
	var j int
	if last {
		j = strings.LastIndex(rest, close)
	} else {
		j = strings.Index(rest, close)
	}
	if j < 0 {
		return "", false
	}
	return strings.TrimSpace(rest[:j]), true
}

// chatCompletions serves POST /v1/chat/completions with the judge the
// package comment describes.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var in chatIn
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, APIOpenAI, err)
		return
	}
	if msg := in.invalid(); msg != "" {
		writeError(w, APIOpenAI, http.StatusBadRequest, msg)
		return
	}
	prompt := in.lastUser()
	v := judgePrompt(prompt)
	verdict, _ := json.Marshal(v)
	content := string(verdict)
	switch planOf(r).opts.JudgeShape {
	case JudgeFenced:
		content = "```json\n" + content + "\n```"
	case JudgeProse:
		content = "Here is my verdict: " + content + " I hope this helps."
	}
	promptWords := 0
	for _, m := range in.Messages {
		var text string
		json.Unmarshal(m.Content, &text)
		promptWords += len(strings.Fields(text))
	}
	answerWords := len(strings.Fields(content))
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      fmt.Sprintf("chatcmpl-sim-%d", s.completions.Add(1)),
		"object":  "chat.completion",
		"created": s.opts.Now().Unix(),
		"model":   *in.Model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{
			"prompt_tokens":     promptWords,
			"completion_tokens": answerWords,
			"total_tokens":      promptWords + answerWords,
		},
	})
}

// invalid says what is wrong with a chat completion request, "" if nothing.
func (in *chatIn) invalid() string {
	switch {
	case in.Model == nil || *in.Model == "":
		return "you must provide a model parameter"
	case len(in.Messages) == 0:
		return "messages must be a non-empty array"
	}
	for i, m := range in.Messages {
		var text string
		switch {
		case m.Role == "":
			return fmt.Sprintf("messages[%d].role is required", i)
		case json.Unmarshal(m.Content, &text) != nil:
			return fmt.Sprintf("messages[%d].content must be a string (the simulator takes no content parts)", i)
		}
	}
	return ""
}

// simVerdict is the simulator judge's answer.
type simVerdict struct {
	Pass   bool    `json:"pass"`
	Score  float64 `json:"score"`
	Reason string  `json:"reason"`
}

// judgePrompt grades a prompt by the simulator's rule: the share of the
// rubric's terms (quoted phrases and content words) found in the judged
// text, passing at half with every quoted phrase found.
func judgePrompt(prompt string) simVerdict {
	rubric, ok := section(prompt, rubricOpen, rubricClose, false)
	if !ok {
		return simVerdict{Reason: "the simulator found no <rubric> section in the last user message"}
	}
	rubric = stripDirectives(rubric)
	subject, where := "", "the reply"
	if reply, ok := section(prompt, replyOpen, replyClose, true); ok {
		subject = reply
	} else if conv, ok := section(prompt, convOpen, convClose, true); ok {
		subject, where = botLines(conv), "what the bot said"
	}
	terms := rubricTerms(rubric)
	total := len(terms)
	if total == 0 {
		return simVerdict{Reason: "the rubric has no words the simulator can look for"}
	}
	have := stems(subject)
	var found, missing []string
	allPhrases := true
	for _, t := range terms {
		if containsRun(have, t.stems) {
			found = append(found, t.text)
		} else {
			missing = append(missing, t.text)
			allPhrases = allPhrases && !t.phrase
		}
	}
	score := math.Round(float64(len(found))/float64(total)*100) / 100
	v := simVerdict{Score: score, Pass: allPhrases && score >= 0.5}
	v.Reason = fmt.Sprintf("found %d of %d rubric terms in %s", len(found), total, where)
	if len(found) > 0 {
		v.Reason += ": " + strings.Join(found, ", ")
	}
	if len(missing) > 0 {
		v.Reason += "; missing: " + strings.Join(missing, ", ")
	}
	return v
}

// botLines returns what the bot said in a <conversation> section: its
// [bot] messages with their indented continuation lines.
func botLines(conv string) string {
	var b strings.Builder
	inBot := false
	for line := range strings.SplitSeq(conv, "\n") {
		switch {
		case strings.HasPrefix(line, "[bot] "):
			inBot = true
			b.WriteString(strings.TrimPrefix(line, "[bot] ") + "\n")
		case strings.HasPrefix(line, "  ") && inBot:
			b.WriteString(line + "\n")
		default:
			inBot = false
		}
	}
	return b.String()
}

// term is something a rubric asks for: a quoted phrase or a content word.
type term struct {
	text   string   // as the rubric has it, for the reason
	stems  []string // a phrase's words in order, stop words kept; a word's stem
	phrase bool
}

// rubricTerms splits a rubric into its quoted phrases (between "…" or “…”)
// and, outside them, its content words, each once.
func rubricTerms(rubric string) []term {
	var terms []term
	var rest strings.Builder
	for {
		i := strings.IndexAny(rubric, "\"“")
		if i < 0 {
			break
		}
		closeQuote := `"`
		if strings.HasPrefix(rubric[i:], "“") {
			closeQuote = "”"
		}
		open := rubric[i:]
		_, size := firstRune(open)
		j := strings.Index(open[size:], closeQuote)
		if j < 0 {
			break
		}
		rest.WriteString(rubric[:i] + " ")
		quoted := open[size : size+j]
		if p := stems(quoted); len(p) > 0 {
			terms = append(terms, term{text: `"` + strings.Join(strings.Fields(quoted), " ") + `"`, stems: p, phrase: true})
		}
		rubric = open[size+j+len(closeQuote):]
	}
	rest.WriteString(rubric)
	seen := map[string]bool{}
	for _, w := range tokens(rest.String()) {
		if st := stem(w); !stopWords[w] && !seen[st] {
			seen[st] = true
			terms = append(terms, term{text: w, stems: []string{st}})
		}
	}
	return terms
}

func firstRune(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

// containsRun reports whether run occurs in words as consecutive words; a
// content word is a run of one.
func containsRun(words, run []string) bool {
	for i := 0; i+len(run) <= len(words); i++ {
		match := true
		for j := range run {
			if words[i+j] != run[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// tokens splits text into its words, lowercased: runs of letters, digits
// and _, without lone letters (the pieces of contractions).
func tokens(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	}) {
		if r := []rune(w); len(r) == 1 && !unicode.IsDigit(r[0]) {
			continue
		}
		out = append(out, w)
	}
	return out
}

// stems returns the stems of text's words, in order.
func stems(text string) []string {
	out := tokens(text)
	for i, w := range out {
		out[i] = stem(w)
	}
	return out
}

// contentWords returns the stems of text's words but stop words.
func contentWords(text string) []string {
	var out []string
	for _, w := range tokens(text) {
		if !stopWords[w] {
			out = append(out, stem(w))
		}
	}
	return out
}

// stem takes one ending off a word, the first of ing, ed, es and s that
// leaves at least three letters (s not after another s), so that "refunds"
// and "refund", "opened" and "opening" meet.
func stem(w string) string {
	for _, suffix := range []string{"ing", "ed", "es", "s"} {
		base, ok := strings.CutSuffix(w, suffix)
		if !ok || len([]rune(base)) < 3 || suffix == "s" && strings.HasSuffix(base, "s") {
			continue
		}
		return base
	}
	return w
}

// stopWords are the words the judge does not look for and embeddings leave
// out: common English words and the words rubrics use about the bot rather
// than about what it should say.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(`
		a about above after again all also am an and any are as at be because been before being
		below between both but by can could did do does doing don down during each few for from
		further had has have having he her here hers him his how if in into is it its itself just
		ll me more most my no nor not now of off on once only or other our ours out over own re
		same she should so some such than that the their them then there these they this those
		through to too under until up ve very was we were what when where which while who whom
		why will with would you your yours
		answer answers assistant bot bots chatbot clearly customer customers message messages
		must politely reply replies response responses user users
		ask asks mention mentions mentioned say says said state states tell tells include
		includes contain contains`) {
		m[w] = true
	}
	return m
}()

// embeddingInputs reads an embeddings request's input: a string or an array
// of strings.
func embeddingInputs(raw json.RawMessage) ([]string, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "you must provide an input parameter"
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, ""
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, "input must be a string or an array of strings (the simulator takes no token arrays)"
	}
	if len(many) == 0 {
		return nil, "input must not be an empty array"
	}
	return many, ""
}

// embeddings serves POST /v1/embeddings with the embedding the package
// comment describes.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Model *string         `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, APIOpenAI, err)
		return
	}
	if in.Model == nil || *in.Model == "" {
		writeError(w, APIOpenAI, http.StatusBadRequest, "you must provide a model parameter")
		return
	}
	inputs, msg := embeddingInputs(in.Input)
	for i, text := range inputs {
		if msg == "" && strings.TrimSpace(text) == "" {
			msg = fmt.Sprintf("input[%d] must not be empty", i)
		}
	}
	if msg != "" {
		writeError(w, APIOpenAI, http.StatusBadRequest, msg)
		return
	}
	data := make([]map[string]any, len(inputs))
	tokens := 0
	for i, text := range inputs {
		text = stripDirectives(text)
		tokens += len(strings.Fields(text))
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Embedding(text)}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  *in.Model,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// Embedding returns the simulator's embedding of text: a bag of its content
// words (stemmed, stop words left out), each hashed to one of EmbeddingDims
// dimensions, counted, and scaled to length 1. Texts with the same content
// words embed alike (similarity 1); texts with none in common score 0 but for
// hash collisions. A text with no content word embeds as one fixed direction
// of its own.
func Embedding(text string) []float64 {
	v := make([]float64, EmbeddingDims)
	words := contentWords(text)
	if len(words) == 0 {
		words = []string{"\x00"} // stands for "no content": any such texts alike
	}
	for _, w := range words {
		h := fnv.New64a()
		h.Write([]byte(w))
		v[h.Sum64()%EmbeddingDims]++
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] /= norm
	}
	return v
}
