package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The library queries yaml.v3 node trees. A JSON body is turned into one with
// encoding/json rather than the YAML parser, which would reject duplicate keys
// and read some number forms differently; object keys keep the order they had
// in the body, so that a wildcard selects in document order.

// DecodeJSON reads raw, which must hold exactly one JSON value, into a node
// tree. encoding/json judges whether raw is valid (and says what is wrong when
// it is not) and decodes escaped strings; the walk that builds nodes is ours,
// because decoding into map[string]any would lose the order of keys. When an
// object repeats a key, the last value wins, as with encoding/json.
func DecodeJSON(raw []byte) (*yaml.Node, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // a byte order mark some servers send
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("the body is empty")
	}
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		if err == nil { // cannot happen: Valid and Unmarshal agree
			err = errors.New("invalid JSON")
		}
		return nil, err
	}
	// One copy of the body as a string lets every scalar share its memory.
	p := nodeParser{src: string(raw)}
	// Every node but the root follows a colon (values), precedes one (keys) or
	// follows a comma or an opening bracket; counting them also counts those
	// inside strings, so it errs high, and the cap bounds the waste.
	estimate := 2*bytes.Count(raw, []byte{':'}) + bytes.Count(raw, []byte{','}) + bytes.Count(raw, []byte{'['}) + 1
	p.slab = make([]yaml.Node, min(estimate, 1024))
	return p.value(), nil
}

// nodeParser builds nodes from a body already known to be valid JSON (which
// also bounds its nesting depth), handing nodes out of slabs to keep
// allocations down.
type nodeParser struct {
	src  string
	pos  int
	slab []yaml.Node
}

func (p *nodeParser) node(kind yaml.Kind, tag, value string) *yaml.Node {
	if len(p.slab) == 0 {
		p.slab = make([]yaml.Node, 32)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	n.Kind, n.Tag, n.Value = kind, tag, value
	return n
}

func (p *nodeParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *nodeParser) value() *yaml.Node {
	p.skipSpace()
	switch p.src[p.pos] {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		return p.node(yaml.ScalarNode, "!!str", p.string())
	case 't':
		p.pos += len("true")
		return p.node(yaml.ScalarNode, "!!bool", "true")
	case 'f':
		p.pos += len("false")
		return p.node(yaml.ScalarNode, "!!bool", "false")
	case 'n':
		p.pos += len("null")
		return p.node(yaml.ScalarNode, "!!null", "null")
	}
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("+-0123456789.eE", p.src[p.pos]) >= 0 {
		p.pos++
	}
	num := p.src[start:p.pos]
	// The library's filters read !!int with strconv.Atoi and !!float with
	// ParseFloat; the literal text is kept either way.
	if isInteger(num) {
		if _, err := strconv.Atoi(num); err == nil {
			return p.node(yaml.ScalarNode, "!!int", num)
		}
	}
	return p.node(yaml.ScalarNode, "!!float", num)
}

func isInteger(num string) bool { return strings.IndexAny(num, ".eE") < 0 }

// string reads the string at p.pos, quotes included, and returns its value.
func (p *nodeParser) string() string {
	start := p.pos
	escaped, ascii := false, true
	for p.pos++; p.src[p.pos] != '"'; p.pos++ {
		switch c := p.src[p.pos]; {
		case c == '\\':
			escaped = true
			p.pos++ // the escaped character, which may be a quote
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	p.pos++
	quoted := p.src[start:p.pos]
	if !escaped && (ascii || utf8.ValidString(quoted)) {
		return quoted[1 : len(quoted)-1]
	}
	// Escapes and invalid UTF-8: let encoding/json decode them exactly.
	var s string
	if err := json.Unmarshal([]byte(quoted), &s); err != nil {
		return quoted[1 : len(quoted)-1] // unreachable for valid JSON
	}
	return s
}

func (p *nodeParser) object() *yaml.Node {
	n := p.node(yaml.MappingNode, "!!map", "")
	p.pos++                  // {
	var index map[string]int // key -> position in Content, once linear search gets slow
	for {
		p.skipSpace()
		if p.src[p.pos] == '}' {
			p.pos++
			return n
		}
		if p.src[p.pos] == ',' {
			p.pos++
			p.skipSpace()
		}
		key := p.string()
		p.skipSpace()
		p.pos++ // :
		v := p.value()
		at := -1
		if index != nil {
			if i, ok := index[key]; ok {
				at = i
			}
		} else {
			for i := 0; i < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					at = i
					break
				}
			}
		}
		if at >= 0 {
			n.Content[at+1] = v
			continue
		}
		n.Content = append(n.Content, p.node(yaml.ScalarNode, "!!str", key), v)
		if index != nil {
			index[key] = len(n.Content) - 2
		} else if len(n.Content) >= 32 {
			index = make(map[string]int, len(n.Content))
			for i := 0; i < len(n.Content); i += 2 {
				index[n.Content[i].Value] = i
			}
		}
	}
}

func (p *nodeParser) array() *yaml.Node {
	n := p.node(yaml.SequenceNode, "!!seq", "")
	p.pos++ // [
	for {
		p.skipSpace()
		switch p.src[p.pos] {
		case ']':
			p.pos++
			return n
		case ',':
			p.pos++
		}
		n.Content = append(n.Content, p.value())
	}
}

// Value converts a node built by DecodeJSON back to a Go value: objects become
// map[string]any, arrays []any, and numbers json.Number, keeping their literal
// text.
func Value(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			return Value(n.Content[0])
		}
		return nil
	case yaml.AliasNode:
		if n.Alias != nil {
			return Value(n.Alias)
		}
		return nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i] = Value(c)
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = Value(n.Content[i+1])
		}
		return out
	}
	switch n.Tag {
	case "!!int", "!!float":
		return json.Number(n.Value)
	case "!!bool":
		return n.Value == "true"
	case "!!null":
		return nil
	}
	return n.Value
}
