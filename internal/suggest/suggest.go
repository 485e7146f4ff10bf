// Package suggest finds the name a user most likely meant when they wrote
// one evalrun does not know: a flag, a command, a suite key or value, a
// threshold metric. Every did-you-mean evalrun prints comes from Nearest, so
// they all forgive the same slips.
package suggest

import "strings"

// Nearest returns the candidate that word most likely misspells, or "" when
// none is close enough to be worth naming. Case and '-' versus '_' are not
// told apart. In order, it takes:
//   - a candidate equal to word but for those;
//   - the candidate at the smallest Distance, if that is at most 1 for words
//     of up to four letters, 2 for up to nine and 3 from ten on;
//   - the first candidate word begins;
//   - the first candidate that contains word, if word has four letters or
//     more (fewer are found inside too many names to mean one).
//
// A word of one letter, and candidates of one letter (a flag's alias such as
// -c), are never matched: there is too little of them to guess from.
func Nearest(word string, candidates []string) string {
	w := fold(word)
	n := len([]rune(w))
	if n < 2 {
		return ""
	}
	limit := 1
	switch {
	case n >= 10:
		limit = 3
	case n >= 5:
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		f := fold(c)
		if len([]rune(f)) < 2 {
			continue
		}
		if f == w {
			return c
		}
		if d := Distance(w, f); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	for _, c := range candidates {
		if f := fold(c); len([]rune(f)) >= 2 && strings.HasPrefix(f, w) {
			return c
		}
	}
	if n >= 4 {
		for _, c := range candidates {
			if strings.Contains(fold(c), w) {
				return c
			}
		}
	}
	return ""
}

// fold is s as Nearest compares it.
func fold(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "-", "_")
}

// Distance is the optimal string alignment distance between a and b: the
// fewest insertions, deletions, substitutions and swaps of two neighbouring
// runes that turn a into b, each counting one. A swap is one slip of the
// fingers, so it costs what a wrong letter does, not two.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows suffice: a swap looks two rows back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
