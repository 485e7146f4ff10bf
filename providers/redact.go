package providers

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted replaces a secret wherever evalrun would otherwise print it.
const Redacted = "[redacted]"

// MinSecretLen is the shortest value, in bytes, that a Redactor treats as a
// secret. Shorter ones are ignored: hiding a one-letter token would turn
// "text" into "te[redacted]t" and hide nothing worth hiding. The suite loader
// keeps environment values from this length on, so the two agree.
const MinSecretLen = 4

// MinCutPiece is the fewest characters of a secret that a Redactor hides
// beside a cut mark; see Redactor.
const MinCutPiece = 8

// maxBackslashes bounds the run of backslashes that may introduce an escape
// sequence: one per layer of quoting (JSON inside JSON, %q of a JSON body),
// doubling each time, so 16 covers four layers.
const maxBackslashes = 16

// Redactor removes a set of secrets from text in every form a server or a
// report may carry them in, character by character and mixed freely:
//
//   - as sent;
//   - JSON and Go escapes of any character, with any number of layers of
//     backslashes: \u0041 (any hex case, surrogate pairs beyond U+FFFF),
//     \U00000041, \x41 per byte, and the short forms \" \\ \/ \' \n \t \r \b
//     \f \a \v, which covers json.Marshal, strconv.Quote, QuoteToASCII and
//     a hostile server that \u-escapes every character;
//   - URL encoding of any byte, %4a or %4A, also percent-encoded twice
//     (%254A), and + for a space, which covers QueryEscape and PathEscape;
//   - XML and HTML character references: &amp; &lt; &gt; &quot; &apos;,
//     &#65; and &#x41;, as the JUnit report writes them;
//   - Markdown's backslash before ASCII punctuation (\& \< \_), as the
//     Markdown report writes them.
//
// Where a message was shortened to fit, the secret is hidden in part: its
// start just before a cut mark ("…", "..."), and its end just after one ("…",
// "...", `..."`), but only a piece of at least MinCutPiece characters and at
// least half the secret's characters, rounded up (9 of 17). Shorter pieces
// are left alone: people and bots write "..." all the time, and "Let me
// test..." must keep its "test" beside the token test_abcdef123456, while a
// piece of the length required does not match a secret by chance. A secret
// shorter than MinCutPiece characters is therefore hidden only whole.
//
// A match also takes the backslashes just before it, so replacing a secret
// never leaves a dangling escape in a JSON or quoted string. The zero value
// and nil remove nothing. A Redactor may be shared between goroutines.
type Redactor struct {
	secrets  []secret // longest first, so a secret holding another goes whole
	starts   [256]bool
	maxMatch int // see MaxMatchLen
}

// secret is one value to hide, split into characters; bytes that are not
// UTF-8 count as characters of their own.
type secret []unit

// minPiece is the fewest characters of s that count as s where a cut mark
// shows the rest was left out.
func (s secret) minPiece() int { return max(MinCutPiece, (len(s)+1)/2) }

type unit struct {
	r rune   // utf8.RuneError for a byte that is not UTF-8
	b []byte // the character as it is written
}

// NewRedactor returns a Redactor for secrets; empty ones, duplicates and
// ones shorter than MinSecretLen are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) < MinSecretLen || seen[s] {
			continue
		}
		seen[s] = true
		var sec secret
		for i := 0; i < len(s); {
			c, n := utf8.DecodeRuneInString(s[i:])
			sec = append(sec, unit{c, []byte(s[i : i+n])})
			i += n
		}
		r.secrets = append(r.secrets, sec)
		r.maxMatch = max(r.maxMatch, sec.maxLen()+maxCutMarkLen)
		r.starts[s[0]] = true
		if s[0] == ' ' {
			r.starts['+'] = true // QueryEscape's space
		}
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	for _, c := range []byte{'\\', '%', '&'} {
		r.starts[c] = true
	}
	return r
}

// MaxMatchLen returns the most bytes one secret can take up in text in any
// form the Redactor finds, with a cut mark after a piece of it: 0 for a
// Redactor without secrets. How text is redacted up to some point is settled
// by the text up to MaxMatchLen bytes after it.
func (r *Redactor) MaxMatchLen() int {
	if r == nil {
		return 0
	}
	return r.maxMatch
}

// Head returns b, the start of a longer text, without the secrets, and
// without the end of b that the rest of the text could make part of a
// secret: what it returns is how redacting the whole text begins. It leaves
// out at most MaxMatchLen bytes and the backslashes just before them.
func (r *Redactor) Head(b []byte) []byte {
	if r == nil || len(r.secrets) == 0 {
		return b
	}
	out, _ := r.redact(b, 0, false)
	return out
}

// String returns s without the secrets.
func (r *Redactor) String(s string) string {
	if r == nil || len(r.secrets) == 0 {
		return s
	}
	out, _ := r.redact([]byte(s), 0, true)
	return string(out)
}

// Bytes returns b without the secrets; b itself when it holds none.
func (r *Redactor) Bytes(b []byte) []byte {
	if r == nil || len(r.secrets) == 0 {
		return b
	}
	out, _ := r.redact(b, 0, true)
	return out
}

// redact returns text[from:] with every secret replaced and the number of
// bytes at its end that were held back because more text could make them a
// secret. text[:from] is context already written: it is only looked at, to
// see whether a cut mark comes just before. With final set, nothing is held
// back. out is part of text itself when nothing was replaced.
func (r *Redactor) redact(text []byte, from int, final bool) (out []byte, held int) {
	var b []byte            // nil until the first replacement
	done := from            // text[from:done] is in b
	var ms, tails []matcher // made on first use
	for i := from; i < len(text); i++ {
		cut := i > 0 && (text[i-1] == '.' || text[i-1] == '"' || text[i-1] == 0xA6) && afterCut(text[:i])
		if !r.starts[text[i]] && !cut {
			continue
		}
		if ms == nil {
			ms, tails = make([]matcher, len(r.secrets)), make([]matcher, len(r.secrets))
			for j, s := range r.secrets {
				ms[j] = matcher{s: s, text: text}
				tails[j] = matcher{s: s, text: text, whole: true}
			}
		}
		end, partial := -1, false
		for j := range ms {
			e, p := -1, false
			if r.starts[text[i]] {
				e, p = ms[j].at(i, 0)
			}
			if cut {
				// After a cut the rest of a secret may show, if enough
				// of it to tell.
				for k := 1; k+r.secrets[j].minPiece() <= len(r.secrets[j]); k++ {
					te, tp := tails[j].at(i, k)
					e, p = max(e, te), p || tp
				}
			}
			end, partial = max(end, e), partial || p
		}
		if end < 0 && !(partial && !final) {
			continue
		}
		// Walked back only here: at every backslash of a long run it
		// would cost the square of the run.
		start := i
		for start > done && text[start-1] == '\\' {
			start--
		}
		if partial && !final {
			// A secret may be on its way; keep the rest for the next write
			// rather than print its first half now. A full match found here
			// is redone then too. The backslashes before it are kept with
			// it, since a match takes them.
			return append(b, text[done:start]...), len(text) - start
		}
		b = append(b, text[done:start]...)
		b = append(b, Redacted...)
		done = end
		i = end - 1
	}
	if b == nil {
		return text[from:], 0
	}
	return append(b, text[done:]...), 0
}

// cutMarks end text that was shortened: evalrun's "…", and fasthttp's
// snippet of headers it cannot parse, which quotes their first and last 200
// bytes and joins them so: "start"..."end". A bare "..." counts too, since
// services shorten what they echo with it; the length a piece must have
// (secret.minPiece) is what keeps a bot's everyday "..." safe.
var cutMarks = [][]byte{[]byte("…"), []byte("..."), []byte(`..."`)}

// longestCutMark is the most context a RedactWriter keeps to find a mark.
const longestCutMark = len(`..."`)

// afterCut reports whether before ends with a cut mark. Every mark ends
// in '.', '"' or 0xA6, the last byte of "…".
func afterCut(before []byte) bool {
	for _, m := range cutMarks {
		if bytes.HasSuffix(before, m) {
			return true
		}
	}
	return false
}

// matcher finds the forms of one secret in one text.
type matcher struct {
	s     secret
	text  []byte
	whole bool // the rest of the secret must be there: no cut at its end
	calls int  // steps since the last start
	// memo holds the answers for (position, character) once a secret full
	// of backslashes has made the search branch out, so that it stays
	// linear instead of trying every split of every run. An answer does
	// not depend on where the match started, so it serves every start.
	memo map[[2]int]matchResult
}

// at reports where the secret from its character k on, written at text[i:],
// ends, or -1, and whether some form of it ran into the end of text before
// it was complete.
func (m *matcher) at(i, k int) (end int, partial bool) {
	m.calls = 0
	return m.match(i, k)
}

type matchResult struct {
	end     int
	partial bool
}

// memoAfter is how many steps a match may take before its answers are kept.
const memoAfter = 256

// match reports where s[k:] ends when it is written at text[i:]; see
// matcher.at.
func (m *matcher) match(i, k int) (int, bool) {
	if k == len(m.s) {
		return i, false
	}
	if m.calls++; m.calls > memoAfter && m.memo == nil {
		m.memo = map[[2]int]matchResult{}
	}
	if m.memo == nil {
		return m.search(i, k)
	}
	if r, ok := m.memo[[2]int{i, k}]; ok {
		return r.end, r.partial
	}
	end, partial := m.search(i, k)
	m.memo[[2]int{i, k}] = matchResult{end, partial}
	return end, partial
}

// search tries every form of character k at text[i:].
func (m *matcher) search(i, k int) (end int, partial bool) {
	end = -1
	for _, n := range m.s[k].forms(m.text, i) {
		partial = partial || n.partial
		if n.next < 0 {
			continue
		}
		e, p := m.match(n.next, k+1)
		if e >= 0 {
			end = e
			break
		}
		partial = partial || p
	}
	if end < 0 && k >= m.s.minPiece() && !m.whole {
		// Where a message was shortened to fit, the start of a secret cut
		// there is hidden too.
		cut, p := cutAt(m.text, i)
		if cut {
			return i, partial || p
		}
		partial = partial || p
	}
	return end, partial
}

// cutAt reports whether text[i:] begins with a mark of text cut short:
// evalrun's "…" in any form, or "..." (fasthttp's snippets of a reply's
// headers are %q-quoted and joined so: "start"..."end"), and whether text
// ended inside one.
func cutAt(text []byte, i int) (cut, partial bool) {
	for _, n := range cutMark.forms(text, i) {
		partial = partial || n.partial
		if n.next >= 0 {
			return true, partial
		}
	}
	for _, mark := range []string{"...", `"...`} {
		rest := text[i:]
		switch {
		case bytes.HasPrefix(rest, []byte(mark)):
			return true, partial
		case len(rest) < len(mark) && bytes.HasPrefix([]byte(mark), rest):
			partial = true
		}
	}
	return false, partial
}

// cutMark is what marks text shortened to fit.
var cutMark = unit{'…', []byte("…")}

// step is one way a character may be written at a position: where it ends,
// or -1; and whether text ended before the form could be told apart.
type step struct {
	next    int
	partial bool
}

// maxLen bounds the bytes any form of s may take, from the forms below: a
// byte of a character is at most maxBackslashes backslashes and xXX; a
// character as a whole is at most a pair of \uXXXX behind maxBackslashes
// each, or a character reference of up to 11 bytes behind them.
func (s secret) maxLen() int {
	n := 0
	for _, u := range s {
		n += max(len(u.b)*(maxBackslashes+len("x41")), 2*(maxBackslashes+len("uD83D")), maxBackslashes+11)
	}
	return n
}

// maxCutMarkLen bounds the bytes of a cut mark in any form cutAt takes: each
// byte of "…" as \xXX behind maxBackslashes backslashes.
const maxCutMarkLen = len("…") * (maxBackslashes + len("x41"))

// forms lists the ways u may be written at text[i:].
func (u unit) forms(text []byte, i int) []step {
	out := bytesForms(text, i, u.b)
	if u.r == utf8.RuneError && len(u.b) == 1 || i >= len(text) {
		return out
	}
	switch text[i] {
	case '\\':
		out = append(out, escapeForms(text, i, u.r)...)
	case '&':
		if next, partial := entityForm(text, i, u.r); next >= 0 || partial {
			out = append(out, step{next, partial})
		}
	case '+':
		if u.r == ' ' {
			out = append(out, step{i + 1, false})
		}
	case '%':
		if u.r == ' ' {
			// QueryEscape writes a space as +, and a second QueryEscape
			// writes that + as %2B.
			for _, s := range byteForms(text, i, '+') {
				if s.next != i+1 {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// bytesForms matches the bytes of a character one by one, each in any of
// the forms byteForms knows.
func bytesForms(text []byte, i int, b []byte) []step {
	steps := byteForms(text, i, b[0])
	if len(b) == 1 {
		return steps
	}
	var out []step
	for _, s := range steps {
		if s.next < 0 {
			out = append(out, s)
			continue
		}
		out = append(out, bytesForms(text, s.next, b[1:])...)
	}
	return out
}

// byteForms lists the ways byte c may be written at text[i:]: as itself,
// %XX, %25XX or \xXX.
func byteForms(text []byte, i int, c byte) []step {
	if i >= len(text) {
		return []step{{-1, true}}
	}
	var out []step
	if text[i] == c {
		out = append(out, step{i + 1, false})
	}
	hex := func(j int) {
		if v, ok, partial := hexAt(text, j, 2); partial {
			out = append(out, step{-1, true})
		} else if ok && v == rune(c) {
			out = append(out, step{j + 2, false})
		}
	}
	switch text[i] {
	case '%':
		hex(i + 1)
		switch {
		case i+3 <= len(text) && text[i+1] == '2' && text[i+2] == '5':
			hex(i + 3)
		case i+3 > len(text) && strings.HasPrefix("%25", string(text[i:])):
			out = append(out, step{-1, true})
		}
	case '\\':
		switch j, partial := backslashes(text, i); {
		case partial:
			out = append(out, step{-1, true})
		case text[j] == 'x':
			hex(j + 1)
		}
	}
	return out
}

// shortEscapes are the one-letter escapes of JSON and Go after the
// backslash.
var shortEscapes = map[rune]byte{'"': '"', '/': '/', '\'': '\'', '\n': 'n', '\t': 't', '\r': 'r', '\b': 'b', '\f': 'f', '\a': 'a', '\v': 'v'}

// namedEntities are the character references XML and HTML writers use.
var namedEntities = map[string]rune{"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\''}

// markdownPunct is the ASCII punctuation CommonMark lets a backslash escape.
const markdownPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// escapeForms matches backslash escapes of r at text[i], which is '\\'.
func escapeForms(text []byte, i int, r rune) []step {
	var out []step
	run := 0
	for i+run < len(text) && text[i+run] == '\\' && run < maxBackslashes {
		run++
	}
	if r == '\\' {
		// A backslash quoted L times is a run of 2^L; which length is
		// meant depends on what follows, so offer each, longest first.
		for n := maxBackslashes; n >= 1; n /= 2 {
			if n <= run {
				out = append(out, step{i + n, false})
			}
		}
	}
	j := i + run
	if j >= len(text) {
		return append(out, step{-1, true})
	}
	if _, short := shortEscapes[r]; !short && run == 1 && r < 0x80 && strings.ContainsRune(markdownPunct, r) && text[j] == byte(r) {
		// Markdown's escape of punctuation, as the --md report writes it.
		out = append(out, step{j + 1, false})
	}
	if c, ok := shortEscapes[r]; ok {
		switch {
		case text[j] == c:
			out = append(out, step{j + 1, false})
		case text[j] == '&':
			// \" in JSON that an XML writer then escaped: \&#34;
			if next, partial := entityForm(text, j, rune(c)); next >= 0 || partial {
				out = append(out, step{next, partial})
			}
		}
	}
	switch text[j] {
	case 'u':
		v, ok, p := hexAt(text, j+1, 4)
		switch {
		case p:
			out = append(out, step{-1, true})
		case ok && v == r:
			out = append(out, step{j + 5, false})
		case ok && r > 0xFFFF && v >= 0xD800 && v < 0xDC00:
			// A character beyond U+FFFF is a pair of \u escapes.
			k := j + 5
			if k >= len(text) {
				out = append(out, step{-1, true})
				break
			}
			l, p := backslashes(text, k)
			switch {
			case p || l >= len(text):
				out = append(out, step{-1, true})
			case l >= 0 && text[l] == 'u':
				lo, ok, p := hexAt(text, l+1, 4)
				if p {
					out = append(out, step{-1, true})
				} else if ok && utf16Pair(v, lo) == r {
					out = append(out, step{l + 5, false})
				}
			}
		}
	case 'U':
		v, ok, p := hexAt(text, j+1, 8)
		if p {
			out = append(out, step{-1, true})
		} else if ok && v == r {
			out = append(out, step{j + 9, false})
		}
	}
	return out
}

// backslashes returns the index after a run of 1 to maxBackslashes
// backslashes at text[i], -1 if there is none, and whether text ended inside
// the run.
func backslashes(text []byte, i int) (int, bool) {
	j := i
	for j < len(text) && text[j] == '\\' && j-i < maxBackslashes {
		j++
	}
	if j == i {
		return -1, false
	}
	return j, j == len(text)
}

// entityForm matches an XML or HTML character reference for r at text[i],
// which is '&'.
func entityForm(text []byte, i int, r rune) (int, bool) {
	const longest = len("&#x10FFFF;")
	j := i + 1
	for j < len(text) && text[j] != ';' && j-i < longest {
		if c := text[j]; !(c == '#' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return -1, false
		}
		j++
	}
	if j >= len(text) {
		return -1, true
	}
	if text[j] != ';' {
		return -1, false
	}
	name := string(text[i+1 : j])
	if v, ok := namedEntities[name]; ok {
		if v == r {
			return j + 1, false
		}
		return -1, false
	}
	if len(name) < 2 || name[0] != '#' {
		return -1, false
	}
	var v rune
	if name[1] == 'x' || name[1] == 'X' {
		n, ok, _ := hexAt([]byte(name), 2, len(name)-2)
		if !ok || len(name) == 2 {
			return -1, false
		}
		v = n
	} else {
		for _, c := range name[1:] {
			if c < '0' || c > '9' || v > utf8.MaxRune {
				return -1, false
			}
			v = v*10 + c - '0'
		}
	}
	if v == r {
		return j + 1, false
	}
	return -1, false
}

// hexAt reads n hex digits at text[i]: the value, whether they are all
// there and hex, and whether text ended before n digits.
func hexAt(text []byte, i, n int) (rune, bool, bool) {
	var v rune
	for k := 0; k < n; k++ {
		if i+k >= len(text) {
			return 0, false, true
		}
		c := text[i+k]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false, false
		}
		if v > utf8.MaxRune {
			return 0, false, false
		}
	}
	return v, true, false
}

func utf16Pair(hi, lo rune) rune {
	if lo < 0xDC00 || lo >= 0xE000 {
		return -1
	}
	return (hi-0xD800)<<10 | (lo - 0xDC00) + 0x10000
}

// RedactWriter passes what is written to it on with the secrets of its
// Redactor replaced. A secret split across two writes is still caught: the
// end of a write that could begin a secret is held back until the next write
// shows whether it does, or until Flush. It may be shared between
// goroutines; writes reach the underlying writer in order.
type RedactWriter struct {
	mu   sync.Mutex
	r    *Redactor
	w    io.Writer
	held []byte
	// prev is the end of what came before held, as written to it, to see a
	// cut mark just before the next bytes.
	prev []byte
}

// Writer returns a RedactWriter that writes to w.
func (r *Redactor) Writer(w io.Writer) *RedactWriter { return &RedactWriter{r: r, w: w} }

// Write redacts p and writes what may be written now. It reports len(p) on
// success, since all of p is accounted for, written or held.
func (rw *RedactWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.r == nil || len(rw.r.secrets) == 0 {
		return rw.w.Write(p)
	}
	text := append(append(append([]byte(nil), rw.prev...), rw.held...), p...)
	from := len(rw.prev)
	out, held := rw.r.redact(text, from, false)
	rw.held = append(rw.held[:0], text[len(text)-held:]...)
	before := text[:len(text)-held]
	rw.prev = append(rw.prev[:0], before[max(0, len(before)-longestCutMark):]...)
	if len(out) > 0 {
		if _, err := rw.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes whatever was held back, redacted as the end of the output.
func (rw *RedactWriter) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.held) == 0 {
		return nil
	}
	text := append(append([]byte(nil), rw.prev...), rw.held...)
	out, _ := rw.r.redact(text, len(rw.prev), true)
	rw.held, rw.prev = nil, nil
	_, err := rw.w.Write(out)
	return err
}
