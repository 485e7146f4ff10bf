package checks

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Shorten makes s fit on one line of a message: every run of white space
// (newlines included) becomes one space, surrounding white space goes, and
// text longer than max characters is cut, at a word boundary when one is near,
// with an ellipsis and the full length: "Sorry, I can only help with… (212 chars)".
// The length counts the characters of s as given. A max of zero or less only
// collapses white space.
func Shorten(s string, max int) string {
	text, total, cut := shorten(s, max)
	if !cut {
		return text
	}
	return text + " (" + strconv.Itoa(total) + " chars)"
}

// shorten returns the collapsed, possibly cut text, the length of s in
// characters, and whether it was cut.
func shorten(s string, max int) (text string, total int, cut bool) {
	text = collapse(s)
	if max <= 0 || utf8.RuneCountInString(text) <= max {
		return text, 0, false
	}
	keep := max - 1 // room for the ellipsis
	if keep < 1 {
		keep = 1
	}
	end := 0
	for i := 0; i < keep; i++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	head := text[:end]
	// Prefer ending on a whole word, unless that would throw away too much.
	atWordEnd := text[end] == ' '
	if sp := strings.LastIndexByte(head, ' '); !atWordEnd && sp > 0 && utf8.RuneCountInString(head[sp:]) <= keep/4 {
		head = head[:sp]
	}
	head = strings.TrimRight(head, " ,;:")
	return head + "…", utf8.RuneCountInString(s), true
}

// collapse turns every run of white space into one space and trims the ends.
// It returns s itself when there is nothing to change.
func collapse(s string) string {
	clean := true
	prevSpace := true // a leading space needs trimming too
	for _, r := range s {
		if unicode.IsSpace(r) {
			if r != ' ' || prevSpace {
				clean = false
				break
			}
			prevSpace = true
			continue
		}
		prevSpace = false
	}
	if clean && !prevSpace {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// quote renders s for a message: shortened, in double quotes, with the full
// length after it when it was cut.
func quote(s string) string {
	text, total, cut := shorten(s, width)
	q := strconv.Quote(text)
	if cut {
		q += " (" + strconv.Itoa(total) + " chars)"
	}
	return q
}

// excerpt quotes the part of s around s[start:end] (a match the reader needs
// to see), with ellipses where text was left out and the full length of s.
func excerpt(s string, start, end int) string {
	if utf8.RuneCountInString(collapse(s)) <= width {
		return quote(s)
	}
	budget := width - utf8.RuneCountInString(s[start:end])
	if budget < 20 {
		budget = 20
	}
	// Half the budget on each side; what one side cannot use goes to the other.
	right := runeOffset(s, end, budget-budget/2)
	from := runeOffsetBack(s, start, budget-utf8.RuneCountInString(s[end:right]))
	to := runeOffset(s, right, budget-utf8.RuneCountInString(s[from:start])-utf8.RuneCountInString(s[end:right]))
	text := s[from:to]
	// Start and end on whole words when that loses little.
	if from > 0 {
		if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 && utf8.RuneCountInString(text[:i]) <= 20 && i < start-from {
			text, from = text[i:], from+i
		}
	}
	if to < len(s) {
		if i := strings.LastIndexFunc(text, unicode.IsSpace); i >= 0 && utf8.RuneCountInString(text[i:]) <= 20 && from+i >= end {
			text = text[:i]
		}
	}
	text = collapse(text)
	if from > 0 {
		text = "…" + text
	}
	if to < len(s) {
		text += "…"
	}
	return strconv.Quote(text) + " (" + strconv.Itoa(utf8.RuneCountInString(s)) + " chars)"
}

// fold maps every character of s to one representative of its case-folding
// class (the smallest rune of the class unicode.SimpleFold cycles through), so
// that two strings are equal without regard to case exactly when their folded
// forms are equal, and a substring search on folded forms ignores case. Each
// rune maps to exactly one rune, so rune positions carry over to s. Like
// strings.EqualFold it uses simple folding: "ß" matches "ẞ" but not "SS".
func fold(s string) string {
	if !needsFold(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// needsFold reports whether fold would change s: ASCII text without lower case
// letters is its own folded form.
func needsFold(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			return true
		}
	}
	return false
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < least {
			least = f
		}
	}
	return least
}

// findFolded finds needle (already folded) in s without regard to case and
// returns the byte range of the match in s, or -1, -1.
func findFolded(s, foldedS, needle string) (start, end int) {
	i := strings.Index(foldedS, needle)
	if i < 0 {
		return -1, -1
	}
	// Folding keeps rune counts, not byte counts: walk s by runes.
	skip := utf8.RuneCountInString(foldedS[:i])
	span := utf8.RuneCountInString(needle)
	start = runeOffset(s, 0, skip)
	return start, runeOffset(s, start, span)
}

// firstLine returns the first line of s, for errors that draw a caret under
// the input on later lines.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// runeOffsetBack returns the byte offset n runes before from in s.
func runeOffsetBack(s string, from, n int) int {
	for ; n > 0 && from > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:from])
		from -= size
	}
	return from
}

// runeOffset returns the byte offset n runes after from in s.
func runeOffset(s string, from, n int) int {
	for ; n > 0 && from < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[from:])
		from += size
	}
	return from
}

// formatLatency renders d at about three significant digits ("734ms", "7.23s"),
// finer when rounding would hide that d is over limit.
func formatLatency(d, limit time.Duration) string {
	var unit time.Duration
	switch {
	case d < time.Millisecond:
		unit = time.Microsecond
	case d < time.Second:
		unit = time.Millisecond
	case d < 10*time.Second:
		unit = 10 * time.Millisecond
	case d < 100*time.Second:
		unit = 100 * time.Millisecond
	default:
		unit = time.Second
	}
	for ; unit > 1; unit /= 10 {
		if r := d.Round(unit); r > limit || d <= limit {
			return r.String()
		}
	}
	return d.String()
}
