package suites

import (
	"maps"
	"regexp"
	"strings"
)

// Templates. A {{name}} is filled at run time, turn by turn, from the suite's
// vars, the conversation's vars and the captures of earlier turns. The loader
// refuses a template that nothing defines in time:
//
//   - session values (contact, custom_data) see vars only, as the session is
//     created before any turn;
//   - a turn's user, custom_data and expect strings see vars and the captures
//     of earlier turns, not its own;
//   - final strings and custom_data see vars and every capture.
//
// A conversation with data: also sees its row's columns, which win over
// vars, everywhere, and its name is filled from the row when it loads (see
// data.go).
//
// Provider values are never templated (they are used before any conversation
// exists: ${VAR} is how they read outside values), nor are names (but those
// of data: conversations), tags, skip reasons, vars values and capture
// patterns.

// templatePattern matches {{name}} and {{ name }}.
var templatePattern = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// looksLikeTemplate matches what a user most likely meant as a template,
// valid name or not, so that {{order-id}} is reported rather than sent as is.
var looksLikeTemplate = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)

// Expand fills every {{name}} in s from vars. A name vars lacks is left as
// written; the loader has already made sure every name is defined by then.
// Inserted values are not expanded again.
func Expand(s string, vars map[string]string) string {
	return expand(s, vars, nil)
}

// expand is Expand with each inserted value passed through quote, when it is
// not nil.
func expand(s string, vars map[string]string, quote func(string) string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range templatePattern.FindAllStringSubmatchIndex(s, -1) {
		v, ok := vars[s[m[2]:m[3]]]
		if !ok {
			continue
		}
		if quote != nil {
			v = quote(v)
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(v)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// ExpandValue returns a deep copy of v (maps of string keys, lists, scalars)
// with every string filled by Expand. Map keys are kept as written.
func ExpandValue(v any, vars map[string]string) any {
	switch v := v.(type) {
	case string:
		return Expand(v, vars)
	case map[string]any:
		return expandMap(v, vars)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = ExpandValue(e, vars)
		}
		return out
	default:
		return v
	}
}

// expandMap is ExpandValue for a map, keeping nil as nil.
func expandMap(m map[string]any, vars map[string]string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = ExpandValue(e, vars)
	}
	return out
}

// Expand returns a copy of e with every template filled from vars, by each
// key's entry. In regexes, inserted values are quoted, so they match
// literally. An Expect the loader found free of templates is returned as is,
// without copying: the runner calls Expand on every turn.
func (e *Expect) Expand(vars map[string]string) *Expect {
	if e == nil || e.plain {
		return e
	}
	c := *e
	c.Specs = expandSpecs(e.Specs, vars)
	return &c
}

// Expand returns a copy of f with every template filled from vars. A Final
// free of templates is returned as is.
func (f *Final) Expand(vars map[string]string) *Final {
	if f == nil || f.plain {
		return f
	}
	c := *f
	c.Specs = expandSpecs(f.Specs, vars)
	return &c
}

func expandSpecs(specs []Spec, vars map[string]string) []Spec {
	if specs == nil {
		return nil
	}
	// The entries' expanders are called through function values, which
	// escape analysis cannot see into, so whatever map they get is moved to
	// the heap. They get a copy: the runner's own vars map, filled on every
	// play of a conversation, stays on the stack when no check has templates.
	own := make(map[string]string, len(vars))
	for k, v := range vars {
		own[k] = v
	}
	out := make([]Spec, len(specs))
	for i, s := range specs {
		out[i] = s.expanded(own)
	}
	return out
}

func expandAll(ss []string, vars map[string]string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Expand(s, vars)
	}
	return out
}

// templateNames returns the names of the templates in s, in order, and the
// text of every {{...}} that looks like a template but has an invalid name.
func templateNames(s string) (names, invalid []string) {
	if !strings.Contains(s, "{{") {
		return nil, nil
	}
	for _, m := range looksLikeTemplate.FindAllStringSubmatch(s, -1) {
		if isIdent(m[1]) {
			names = append(names, m[1])
		} else {
			invalid = append(invalid, m[0])
		}
	}
	return names, invalid
}

// withPlaceholders replaces every template in a regex with a plain literal,
// standing in for the quoted value Expand will insert, so the regex can be
// compiled at load time.
func withPlaceholders(re string) string {
	return templatePattern.ReplaceAllLiteralString(re, "x")
}

// mergeVars returns base overlaid with over, as a new map.
func mergeVars(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}
