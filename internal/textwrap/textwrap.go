// Package textwrap fits plain text to a terminal's width, counting display
// columns (a CJK character takes two), for the reports and the baseline
// block that print under the table.
package textwrap

import (
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// Prefix is the longest start of s that takes at most width columns.
func Prefix(s string, width int) string {
	used := 0
	for i, r := range s {
		w := twwidth.Width(string(r))
		if used+w > width {
			return s[:i]
		}
		used += w
	}
	return s
}

// Lines breaks text into lines of at most width display columns (0: one
// line), at spaces where it can and inside a word that is longer than a line
// where it must; lines after the first start with indent. Runs of spaces
// inside a line are kept, so aligned columns stay aligned.
func Lines(text string, width int, indent string) []string {
	if width <= 0 || twwidth.Width(text) <= width {
		return []string{text}
	}
	if twwidth.Width(indent) >= width/2 {
		indent = ""
	}
	var lines []string
	line, used, empty := "", 0, true // empty: no word on the line yet
	next := func() {
		lines = append(lines, strings.TrimRight(line, " "))
		line, used, empty = indent, twwidth.Width(indent), true
	}
	for _, part := range splitKeepingSpaces(text) {
		w := twwidth.Width(part)
		if part[0] == ' ' {
			switch {
			case empty && len(lines) > 0:
				// The break replaces the spaces.
			case used+w < width:
				line, used = line+part, used+w
			default:
				next()
			}
			continue
		}
		if used+w > width && !empty {
			next()
		}
		for used+w > width {
			// Longer than a line: break inside it.
			piece := Prefix(part, width-used)
			if piece == "" {
				_, size := utf8.DecodeRuneInString(part)
				piece = part[:size]
			}
			line += piece
			part = part[len(piece):]
			w = twwidth.Width(part)
			next()
		}
		line, used, empty = line+part, used+w, false
	}
	if !empty {
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return lines
}

// splitKeepingSpaces splits s into words and the runs of spaces between
// them, in order, so that joining the parts gives s again.
func splitKeepingSpaces(s string) []string {
	var parts []string
	start := 0
	for i := 1; i <= len(s); i++ {
		if i == len(s) || (s[i] == ' ') != (s[start] == ' ') {
			parts = append(parts, s[start:i])
			start = i
		}
	}
	return parts
}
