package opencx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/evalrun/evalrun/providers"
)

// Send replies are read with fastjson rather than encoding/json: a reply is
// parsed once into a reusable tree and only the members evalrun uses are
// looked at, which costs a tenth of decoding the nested structs (see
// BenchmarkDecodeReply). Member names match exactly, as OpenCX writes them.
// The Caller has already checked the body with json.Valid, which is stricter
// than fastjson about what a JSON text may hold. Where the two read a valid
// body differently, parse makes them agree (see there), with two exceptions:
// a member given twice counts the first time (encoding/json: the last), and
// nesting deeper than fastjson.MaxDepth (300) levels is an error.
var parsers fastjson.ParserPool

// parse parses a reply with p. Bodies that fastjson and encoding/json would
// read differently are first rewritten by a round trip through encoding/json,
// so that Text and the rest agree with what json checks read from Raw:
// \u escapes of UTF-16 surrogates (encoding/json makes a lone one U+FFFD,
// fastjson keeps it as text or drops the character after it) and invalid
// UTF-8 (U+FFFD to encoding/json, kept by fastjson). Such bodies are rare;
// the check costs a scan for a backslash.
func parse(p *fastjson.Parser, raw []byte) (*fastjson.Value, error) {
	body := raw
	if hasSurrogateEscape(raw) || !utf8.Valid(raw) {
		body = viaEncodingJSON(raw)
	}
	v, err := p.ParseBytes(body)
	if err == nil {
		return v, nil
	}
	// fastjson's message for deep nesting repeats itself for every level;
	// encoding/json's are short, and the ones json checks give.
	var doc any
	if jerr := json.Unmarshal(raw, &doc); jerr != nil {
		return nil, jerr
	}
	return nil, fmt.Errorf("nested deeper than %d levels", fastjson.MaxDepth)
}

// hasSurrogateEscape reports whether b holds a \uD800-\uDFFF escape (or
// something that looks like one, such as an escaped backslash before "ud83d").
func hasSurrogateEscape(b []byte) bool {
	for {
		i := bytes.Index(b, []byte(`\u`))
		if i < 0 || i+3 >= len(b) {
			return false
		}
		if (b[i+2] == 'd' || b[i+2] == 'D') && strings.IndexByte("89abcdefABCDEF", b[i+3]) >= 0 {
			return true
		}
		b = b[i+2:]
	}
}

// viaEncodingJSON decodes and re-encodes one JSON value with encoding/json,
// keeping numbers as written. A body it cannot read comes back unchanged, for
// the parser to reject.
func viaEncodingJSON(raw []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return raw
	}
	if _, err := dec.Token(); err != io.EOF {
		return raw
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return raw
	}
	return out
}

// DecodeReply normalises a send reply in any of the documented shapes: flat,
// wrapped in data, legacy ai_response, and id only. It returns either the
// bot's reply, or, for the shape that carries only the stored message's id
// ({success, data{message{id}}}), that id: the bot's answer must then be read
// from the session history. Never both, and neither when it returns an error.
//
// Fields a shape does not carry stay nil: the legacy shape reports no flags,
// actions, knowledge, mode or handoff, and none of them is guessed from the
// text. A member evalrun reads that has another type than documented (a
// string where a boolean belongs) makes the reply undecodable; null counts as
// absent.
func DecodeReply(raw []byte) (*providers.Reply, string, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parse(p, raw)
	if err != nil {
		return nil, "", fmt.Errorf("undecodable reply: %w", err)
	}
	if t := root.Type(); t != fastjson.TypeObject && t != fastjson.TypeNull {
		return nil, "", fmt.Errorf("undecodable reply: a JSON %s, not an object", t)
	}
	var m members
	data := m.object(root, "data")
	legacy := m.object(root, "ai_response")
	outerHandoff := m.flag(root, "sessionIsHandedOff")
	outerSuccess := m.flag(root, "success")
	outerCode := m.str(root, "code")
	if m.err != nil {
		return nil, "", fmt.Errorf("undecodable reply: %w", m.err)
	}

	r := &providers.Reply{Raw: raw}
	if legacy != nil && root.Get("autopilotResponse") == nil && data == nil {
		m.at = "ai_response."
		text := m.str(legacy, "text")
		botErr := m.str(m.object(legacy, "error"), "message")
		if m.err != nil {
			return nil, "", fmt.Errorf("undecodable reply: %w", m.err)
		}
		if botErr != "" {
			return nil, "", fmt.Errorf("the bot reported an error: %s", botErr)
		}
		r.Text = text
		r.Silent = strings.TrimSpace(text) == ""
		r.Sparse = true
		return r, "", nil
	}

	top := root
	if data != nil && root.Get("autopilotResponse") == nil {
		top = data
		m.at = "data."
	}
	ap := top.Get("autopilotResponse")
	message := m.object(top, "message")
	r.Handoff = outerHandoff
	code, success := outerCode, outerSuccess
	if top != root {
		// The wrapper's members; the handoff flag may sit outside it.
		if h := m.flag(top, "sessionIsHandedOff"); h != nil {
			r.Handoff = h
		}
		code, success = m.str(top, "code"), m.flag(top, "success")
	}
	if m.err != nil {
		return nil, "", fmt.Errorf("undecodable reply: %w", m.err)
	}
	// No autopilotResponse member at all beside a message is the id-only
	// shape; an explicit null autopilotResponse is a bot that stayed silent.
	if ap == nil && message != nil {
		id := idOf(message.Get("id"))
		if id == "" {
			return nil, "", errors.New("the reply carried a message without an id")
		}
		return nil, id, nil
	}
	if ap == nil || ap.Type() == fastjson.TypeNull {
		if r.Handoff == nil && code == "" && outerCode == "" && success == nil && outerSuccess == nil {
			return nil, "", errors.New("the reply has none of the documented shapes (no autopilotResponse, data or ai_response)")
		}
		r.Silent = true
		return r, "", nil
	}
	if err := readAutopilot(ap, r); err != nil {
		return nil, "", err
	}
	return r, "", nil
}

// readAutopilot fills r from an autopilotResponse object.
func readAutopilot(ap *fastjson.Value, r *providers.Reply) error {
	if ap.Type() != fastjson.TypeObject {
		return fmt.Errorf("undecodable autopilotResponse: a JSON %s, not an object", ap.Type())
	}
	var m members
	r.MightSolve = m.flag(ap, "mightSolveUserIssue")
	r.FullyCovered = m.flag(ap, "completelyAndFullyCoveredUserIssue")
	value := m.object(ap, "value")
	mode := m.object(ap, "mode")
	debug := m.object(ap, "debugInfo")
	m.at = "value."
	failed := m.flag(value, "error")
	content := m.str(value, "content")
	m.at = "mode."
	r.Mode = m.str(mode, "slug")
	m.at = "debugInfo."
	calls := m.array(debug, "actionCalls")
	knowledge := m.array(debug, "knowledge")
	used := m.array(debug, "knowledge_used")
	m.at = "debugInfo.actionCalls[]."
	for i, call := range calls {
		if t := call.Type(); t != fastjson.TypeObject && t != fastjson.TypeNull && m.err == nil {
			m.err = fmt.Errorf("debugInfo.actionCalls[%d] is a JSON %s, not an object", i, t)
		}
		action := m.object(call, "action")
		m.at = "debugInfo.actionCalls[].action."
		name := m.str(action, "name")
		m.at = "debugInfo.actionCalls[]."
		r.Actions = append(r.Actions, providers.Action{Name: name, Args: decodeArgs(call.Get("arguments"))})
	}
	if m.err != nil {
		return fmt.Errorf("undecodable autopilotResponse: %w", m.err)
	}
	if failed != nil && *failed {
		return fmt.Errorf("the bot reported an error: %s", content)
	}
	r.Text = content
	r.Silent = strings.TrimSpace(content) == ""
	for _, list := range [][]*fastjson.Value{knowledge, used} {
		for _, k := range list {
			if src := knowledgeSource(k); src != "" && !contains(r.Knowledge, src) {
				r.Knowledge = append(r.Knowledge, src)
			}
		}
	}
	return nil
}

// members reads the members of parsed objects. An absent or null member, or
// any member of a nil object, reads as the zero value. A member of another
// type than asked for also does, and the first such mismatch is kept in err,
// so that a run of reads is checked once at its end. at is the path of the
// object being read, for the error ("debugInfo.").
type members struct {
	err error
	at  string
}

func (m *members) get(v *fastjson.Value, key, want string, ok func(fastjson.Type) bool) *fastjson.Value {
	got := v.Get(key)
	if got == nil || got.Type() == fastjson.TypeNull {
		return nil
	}
	if !ok(got.Type()) {
		if m.err == nil {
			m.err = fmt.Errorf("%s%s is a JSON %s, not %s", m.at, key, got.Type(), want)
		}
		return nil
	}
	return got
}

func (m *members) object(v *fastjson.Value, key string) *fastjson.Value {
	return m.get(v, key, "an object", func(t fastjson.Type) bool { return t == fastjson.TypeObject })
}

func (m *members) array(v *fastjson.Value, key string) []*fastjson.Value {
	got := m.get(v, key, "an array", func(t fastjson.Type) bool { return t == fastjson.TypeArray })
	if got == nil {
		return nil
	}
	a, _ := got.Array()
	return a
}

func (m *members) str(v *fastjson.Value, key string) string {
	return string(m.get(v, key, "a string", func(t fastjson.Type) bool { return t == fastjson.TypeString }).GetStringBytes())
}

func (m *members) flag(v *fastjson.Value, key string) *bool {
	got := m.get(v, key, "a boolean", func(t fastjson.Type) bool { return t == fastjson.TypeTrue || t == fastjson.TypeFalse })
	if got == nil {
		return nil
	}
	b := got.Type() == fastjson.TypeTrue
	return &b
}

// idOf reads an id written as a string, or as a number kept exactly as
// written (see providers.ID); anything else is "".
func idOf(v *fastjson.Value) string {
	switch {
	case v == nil:
		return ""
	case v.Type() == fastjson.TypeString:
		return string(v.GetStringBytes())
	case v.Type() == fastjson.TypeNumber:
		return string(v.MarshalTo(nil))
	}
	return ""
}

// decodeArgs accepts action arguments as an object or as a JSON string
// holding one, which is how some tool-calling models report them. They are
// decoded with encoding/json, so numbers and strings come out exactly as a
// json check would see them. The object is handed over by MarshalTo, which
// writes strings as they were in the body only as long as nothing has read
// them: fastjson unescapes a string in place when it is first read, and then
// writes it back with Go's quoting, which is not always JSON. Nothing reads
// inside arguments before this (TestDecodeReplyArgsKeepEscapes).
func decodeArgs(v *fastjson.Value) map[string]any {
	var text []byte
	switch {
	case v == nil:
		return nil
	case v.Type() == fastjson.TypeObject:
		text = v.MarshalTo(nil)
	case v.Type() == fastjson.TypeString:
		text = v.GetStringBytes()
	default:
		return nil
	}
	var args map[string]any
	if json.Unmarshal(text, &args) != nil {
		return nil
	}
	return args
}

// knowledgeSource reads a knowledge entry given as {source: ...} or as a bare string.
func knowledgeSource(v *fastjson.Value) string {
	if v.Type() == fastjson.TypeObject {
		return string(v.GetStringBytes("source"))
	}
	return string(v.GetStringBytes())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
