// Package jsonpath parses RFC 9535 JSONPath queries for evalrun, working
// around one defect of the library underneath, and decodes JSON bodies into
// the node trees those queries run on.
//
// speakeasy-api/jsonpath v0.6.3 tokenizes a member name written in dot
// shorthand as a keyword when it spells a function or literal name, so it
// refuses valid paths such as $.autopilotResponse.value.content, the obvious
// path to an OpenCX reply's text. RFC 9535 defines .name and ['name'] as the
// same selector, so Parse rewrites those names into the bracket form first.
package jsonpath

import (
	"strings"

	"github.com/speakeasy-api/jsonpath/pkg/jsonpath"
)

// Path is a parsed query.
type Path = jsonpath.JSONPath

// shadowed are the member names the library mistakes for keywords.
var shadowed = map[string]bool{
	"true": true, "false": true, "null": true,
	"value": true, "count": true, "length": true, "match": true, "search": true,
}

// Parse parses an RFC 9535 query. Errors are those of the query as written.
func Parse(query string) (*Path, error) {
	p, err := jsonpath.NewPath(Normalize(query))
	if err != nil {
		if _, origErr := jsonpath.NewPath(query); origErr != nil {
			return nil, origErr
		}
		return nil, err
	}
	return p, nil
}

// Normalize rewrites dot-shorthand member names that the library would read
// as keywords (.value, ..count, @.true) into bracket form (['value']). A name
// followed by "(" is a function call and is left alone, as is anything
// inside a string literal.
func Normalize(query string) string {
	var b strings.Builder
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := stringEnd(query, i)
			b.WriteString(query[i:end])
			i = end
		case c == '.':
			dots := 1
			if i+1 < len(query) && query[i+1] == '.' {
				dots = 2
			}
			end := i + dots
			for end < len(query) && isNameChar(query[end]) {
				end++
			}
			name := query[i+dots : end]
			if shadowed[name] && !callFollows(query, end) {
				// ".name" is "['name']", and "..name" is "..['name']".
				if dots == 2 {
					b.WriteString("..")
				}
				b.WriteString("['" + name + "']")
			} else {
				b.WriteString(query[i:end])
			}
			i = end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isNameChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func callFollows(s string, i int) bool {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i < len(s) && s[i] == '('
}

// stringEnd returns the index just past the string literal starting at i,
// or len(s) when it is unterminated.
func stringEnd(s string, i int) int {
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case quote:
			return j + 1
		}
	}
	return len(s)
}
