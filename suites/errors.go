package suites

import (
	"cmp"
	"slices"
	"strings"
)

// Error is one problem in a suite file, reported where it was written.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "file:line:col: msg", or "file: msg" for a problem with the
// file as a whole (a path that cannot be read has no line).
func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return e.Pos.File + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// ErrorList is every problem found while loading, sorted by file, line and
// column. Loading never stops at the first problem, so a user fixes a suite in
// one round.
type ErrorList []*Error

// Error returns one problem per line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As reach the individual *Error values.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// normalize sorts the list and drops exact repeats, which arise when an alias
// makes the loader visit the same YAML node more than once.
func (l ErrorList) normalize() ErrorList {
	seen := make(map[Error]bool, len(l))
	out := l[:0]
	for _, e := range l {
		if !seen[*e] {
			seen[*e] = true
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
		)
	})
	return out
}
