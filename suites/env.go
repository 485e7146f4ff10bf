package suites

import "strings"

// envProblem is one problem with a ${VAR} reference in a scalar.
type envProblem struct {
	name      string // the variable, when it is merely unset
	malformed bool   // "${" not followed by NAME}
}

// expandEnv replaces every ${NAME} in s with the environment variable NAME
// and every $$ with a single $. Any other $ is kept, so regexes ending in $
// and JSONPaths starting with $ need no escaping. It returns the names it
// read, in order, and the problems it met; on a problem the value is useless
// and the caller reports instead of using it.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string, []envProblem) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var (
		b        strings.Builder
		names    []string
		problems []envProblem
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 || !isIdent(s[i+2:i+2+end]) {
				problems = append(problems, envProblem{malformed: true})
				b.WriteString("${")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			names = append(names, name)
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				problems = append(problems, envProblem{name: name})
			}
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), names, problems
}

// isIdent reports whether s is a name templates and environment references
// accept: a letter or _, then letters, digits and _.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// bareRefs returns the NAME of every $NAME in s: a shell habit that expandEnv
// does not read (only ${NAME} is a reference), so that a provider value such
// as token: $OPENCX_API_KEY would go out as that very text. $$ and ${ are
// skipped, as expandEnv skips them.
func bareRefs(s string) []string {
	var names []string
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		switch c := s[i+1]; {
		case c == '$':
			i++
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || 'a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z' || '0' <= s[j] && s[j] <= '9') {
				j++
			}
			names = append(names, s[i+1:j])
			i = j - 1
		}
	}
	return names
}
