package k8s

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// obj is a YAML mapping that keeps its keys in the order written, so the
// manifests read the way Kubernetes' own examples do (apiVersion, kind,
// metadata, spec) rather than sorted. A key may carry a comment, which says
// why a setting is what it is where a reader of the manifest will look.
type obj []field

type field struct {
	key     string
	value   any
	comment string
}

// f is a field without a comment.
func f(key string, value any) field { return field{key: key, value: value} }

// fc is a field with a comment above it.
func fc(comment, key string, value any) field { return field{key: key, value: value, comment: comment} }

// list is a YAML sequence.
type list []any

// MarshalYAML builds the mapping node by node. Nested mappings and lists
// are built the same way rather than encoded, which would drop their
// comments.
func (o obj) MarshalYAML() (any, error) { return node(o) }

func node(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case obj:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, fl := range v {
			k := &yaml.Node{Kind: yaml.ScalarNode, Value: fl.key}
			if fl.comment != "" {
				k.HeadComment = "# " + strings.ReplaceAll(wrap(fl.comment, 76), "\n", "\n# ")
			}
			val, err := node(fl.value)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, k, val)
		}
		return n, nil
	case list:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, item := range v {
			val, err := node(item)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	}
	n := &yaml.Node{}
	return n, n.Encode(v)
}

// wrap breaks text into lines of at most width characters, between words.
func wrap(text string, width int) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(text) {
		if i > 0 {
			if line+1+len(w) > width {
				b.WriteByte('\n')
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}
