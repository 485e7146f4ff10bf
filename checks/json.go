package checks

import (
	"strconv"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"gopkg.in/yaml.v3"

	"github.com/evalrun/evalrun/results"
)

// The reply body is decoded into a node tree by jsonpath.DecodeJSON, which
// keeps object keys in the order they had in the body, so that a wildcard
// selects in document order.

var _ Check = jsonCheck{}

// jsonCheck holds when a JSONPath on the raw reply selects a value equal to
// want (exactly; see match). A path that selects several nodes is compared as
// the list of them, in document order: `$.items[*].id` against [1, 2].
type jsonCheck struct {
	want jsonWant
	path *jsonpath.Path
	err  error // the suite loader parses every path first, so only a template can cause this
}

type jsonWant struct {
	Path string
	Want any
}

// JSON checks that the RFC 9535 JSONPath path, applied to the raw reply body,
// selects a value equal to want (see match).
func JSON(path string, want any) Check { return newJSON(path, want) }

func newJSON(path string, want any) jsonCheck {
	p, err := jsonpath.Parse(path)
	return jsonCheck{want: jsonWant{Path: path, Want: want}, path: p, err: err}
}

func (c jsonCheck) Name() string { return "json" }

func (c jsonCheck) Check(o *Observation) results.Assertion {
	const name = "json"
	want := Shorten(render(c.want.Want), width)
	expected := c.want.Path + " = " + want
	if c.err != nil {
		return failed(name, expected, notChecked, "invalid JSONPath "+c.want.Path+": "+firstLine(c.err.Error()))
	}
	lead := "expected " + c.want.Path + " to be " + want + ", "
	root, err := o.document()
	if err != nil {
		return failed(name, expected, "not JSON", lead+"but the reply body is not JSON ("+err.Error()+")")
	}
	nodes := c.path.Query(root)
	var got any
	switch len(nodes) {
	case 0:
		return failed(name, expected, "nothing selected", lead+"but the path selected nothing")
	case 1:
		got = jsonpath.Value(nodes[0])
	default:
		list := make([]any, len(nodes))
		for i, n := range nodes {
			list[i] = jsonpath.Value(n)
		}
		got = list
	}
	if match(c.want.Want, got, false) {
		return passed(name)
	}

	shown := Shorten(string(appendNodes(nil, nodes)), width)
	m := diff(c.want.Want, got, false, true)
	var msg string
	switch {
	case len(nodes) > 1:
		msg = lead + "got " + strconv.Itoa(len(nodes)) + " nodes: " + shown
	case m.kind == valueDiffers && len(m.path) == 0 && kindOf(c.want.Want) != kindOf(got):
		msg = "expected " + c.want.Path + " to be " + want + " (" + kindOf(c.want.Want) + "), got " + shown + " (" + kindOf(got) + ")"
	default:
		msg = lead + "got " + shown
	}
	if len(m.path) > 0 || m.kind == keyUnexpected {
		msg += " (" + m.String() + ")"
	}
	return failed(name, expected, shown, msg)
}

// appendNodes writes one node as JSON, or several as a JSON list.
func appendNodes(b []byte, nodes []*yaml.Node) []byte {
	if len(nodes) == 1 {
		return appendNode(b, nodes[0])
	}
	return appendNode(b, &yaml.Node{Kind: yaml.SequenceNode, Content: nodes})
}

// appendNode writes n as compact JSON with object keys in document order.
func appendNode(b []byte, n *yaml.Node) []byte {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			return appendNode(b, n.Content[0])
		}
		return append(b, "null"...)
	case yaml.AliasNode:
		if n.Alias != nil {
			return appendNode(b, n.Alias)
		}
		return append(b, "null"...)
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendNode(b, c)
		}
		return append(b, ']')
	case yaml.MappingNode:
		b = append(b, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, n.Content[i].Value)
			b = append(b, ':')
			b = appendNode(b, n.Content[i+1])
		}
		return append(b, '}')
	}
	switch n.Tag {
	case "!!int", "!!float", "!!bool", "!!null":
		return append(b, n.Value...)
	}
	return appendJSONString(b, n.Value)
}
