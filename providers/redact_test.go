package providers

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math/rand"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// forms are the ways a server, a Go error message or a report may write s.
func forms(s string) map[string]string {
	marshal := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	var plainJSON bytes.Buffer
	enc := json.NewEncoder(&plainJSON)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	allU := func(s string, format string) string {
		var b strings.Builder
		for _, r := range s {
			if r > 0xFFFF {
				r1, r2 := (r-0x10000)>>10+0xD800, (r-0x10000)&0x3FF+0xDC00
				fmt.Fprintf(&b, format+format, r1, r2)
				continue
			}
			fmt.Fprintf(&b, format, r)
		}
		return b.String()
	}
	var xmlText bytes.Buffer
	xml.EscapeText(&xmlText, []byte(s))
	var xmlOfJSON bytes.Buffer
	xml.EscapeText(&xmlOfJSON, []byte(marshal(s)))
	q := strconv.Quote(s)
	lowerPct := strings.Map(func(r rune) rune { return r }, url.QueryEscape(s))
	lowerPct = lowerHex(lowerPct)
	return map[string]string{
		"raw":              s,
		"json.Marshal":     marshal(s),
		"json no HTML esc": strings.TrimSuffix(plainJSON.String()[1:], "\"\n"),
		"all \\u lower":    allU(s, `\u%04x`),
		"all \\u upper":    allU(s, `\u%04X`),
		"json of all \\u":  marshal(allU(s, `\u%04x`)),
		"strconv.Quote":    q[1 : len(q)-1],
		"QuoteToASCII":     strings.Trim(strconv.QuoteToASCII(s), `"`),
		"%q of json":       strings.Trim(strconv.Quote(marshal(s)), `"`),
		"json of %q":       marshal(strings.Trim(strconv.Quote(s), `"`)),
		"QueryEscape":      url.QueryEscape(s),
		"PathEscape":       url.PathEscape(s),
		"lowercase %xx":    lowerPct,
		"percent twice":    url.QueryEscape(url.QueryEscape(s)),
		"xml":              xmlText.String(),
		"xml of json":      xmlOfJSON.String(),
	}
}

// lowerHex lowercases the hex digits of every %XX.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = bytes.ToLower(b[i+1 : i+2])[0], bytes.ToLower(b[i+2 : i+3])[0]
		}
	}
	return string(b)
}

var testSecrets = []string{
	"ocx_live_SHOULD_NOT_LEAK_42",
	`tok&<en>"q'/\ é 😀+%x`,
}

func TestRedactorCatchesEveryForm(t *testing.T) {
	r := NewRedactor(testSecrets...)
	for _, secret := range testSecrets {
		for name, form := range forms(secret) {
			got := r.String("before " + form + " after")
			if got != "before "+Redacted+" after" {
				t.Errorf("%q as %s: %q gives %q", secret, name, form, got)
			}
		}
	}
}

func TestRedactorKeepsOrdinaryText(t *testing.T) {
	r := NewRedactor(testSecrets...)
	for _, text := range []string{
		"",
		"plain text",
		`50% off & more <b> \u0041 \\ \n %41 &amp; &#65; + "quoted"`,
		"ocx_live_SHOULD_NOT_LEAK_4", // one character short
		`tok&<en>"q'/\ é 😀+%`,
		"& unterminated &amp",
		`trailing backslash \`,
	} {
		if got := r.String(text); got != text {
			t.Errorf("%q became %q", text, got)
		}
	}
}

func TestRedactorLeavesValidJSON(t *testing.T) {
	r := NewRedactor(testSecrets...)
	for _, secret := range testSecrets {
		raw, _ := json.Marshal(map[string]string{"a": "x" + secret + "y", "b": `\` + secret, "c": secret + `\`})
		out := r.Bytes(raw)
		var back map[string]string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if strings.Contains(string(out), "SHOULD_NOT") || strings.Contains(string(out), "tok&") {
			t.Errorf("secret left in %s", out)
		}
	}
}

func TestRedactorMinimumLength(t *testing.T) {
	if got := NewRedactor("x", "ex", "tex").String("text"); got != "text" {
		t.Errorf("secrets shorter than %d bytes must be ignored: %q", MinSecretLen, got)
	}
	if got := NewRedactor("text").String("a text"); got != "a "+Redacted {
		t.Errorf("a %d-byte secret must be redacted: %q", MinSecretLen, got)
	}
	var nilR *Redactor
	if nilR.String("text") != "text" || string(nilR.Bytes([]byte("text"))) != "text" {
		t.Error("a nil Redactor removes nothing")
	}
}

// TestRedactorHidesASecretCutShort uses a secret of 27 characters, so a piece
// of it beside a cut mark counts from 14 characters (half, rounded up) on.
func TestRedactorHidesASecretCutShort(t *testing.T) {
	r := NewRedactor("ocx_live_SHOULD_NOT_LEAK_42")
	for text, want := range map[string]string{
		"got ocx_live_SHOULD… (400 bytes)":               "got " + Redacted + "… (400 bytes)",
		`"got ocx_live_SHOULD\u2026"`:                    `"got ` + Redacted + `\u2026"`,
		"ocx_live_SHOUL… is half of it":                  Redacted + "… is half of it",
		"ocx_live_SHOU… is too short to tell":            "ocx_live_SHOU… is too short to tell",
		"ocx_live_SHOULD without a mark":                 "ocx_live_SHOULD without a mark",
		`contents: "X-Key: ocx_live_SHOULD"..."TP/1.1"`:  `contents: "X-Key: ` + Redacted + `"..."TP/1.1"`,
		"ocx_live_SHOULD_N... and so on":                 Redacted + "... and so on",
		`"start"..."D_NOT_LEAK_42\r\n"`:                  `"start"..."D_NOT_LEAK_42\r\n"`, // 13 characters
		`"start"..."LD_NOT_LEAK_42\r\n"`:                 `"start"..."` + Redacted + `\r\n"`,
		"…LD_NOT_LEAK_42 after a cut":                    "…" + Redacted + " after a cut",
		"...LD_NOT_LEAK_42 is long enough":               "..." + Redacted + " is long enough",
		"...D_NOT_LEAK_42 is too short to tell":          "...D_NOT_LEAK_42 is too short to tell",
		"LD_NOT_LEAK_42 without a cut":                   "LD_NOT_LEAK_42 without a cut",
		"ocx_… was hidden when 4 characters were enough": "ocx_… was hidden when 4 characters were enough",
	} {
		if got := r.String(text); got != want {
			t.Errorf("%q: got %q, want %q", text, got, want)
		}
	}
}

// TestRedactorKeepsWordsBeforeAnEllipsis is text a bot writes every day: a
// word that happens to begin or end a secret, next to "..." or "…", is not a
// piece of the secret cut short.
func TestRedactorKeepsWordsBeforeAnEllipsis(t *testing.T) {
	r := NewRedactor("test_abcdef123456") // 17 characters: pieces count from 9
	for _, text := range []string{
		"Let me test... ok",
		"I will test…",
		"wait...3456 done",
		"test_abc... is 8",
		"...ef123456 is 8",
		`"test_abc"..."ef123456"`,
	} {
		if got := r.String(text); got != text {
			t.Errorf("%q became %q", text, got)
		}
	}
	for text, want := range map[string]string{
		"test_abcd... is 9":           Redacted + "... is 9",
		"token test_abcdef1…":         "token " + Redacted + "…",
		"...def123456 is 9":           "..." + Redacted + " is 9",
		`"X: test_abcd"..."x"`:        `"X: ` + Redacted + `"..."x"`,
		"the whole test_abcdef123456": "the whole " + Redacted,
	} {
		if got := r.String(text); got != want {
			t.Errorf("%q: got %q, want %q", text, got, want)
		}
	}
	// A secret shorter than MinCutPiece can only be hidden whole.
	short := NewRedactor("abcdefg")
	for _, text := range []string{"abcdef… a", "…bcdefg b"} {
		if got := short.String(text); got != text {
			t.Errorf("%q became %q", text, got)
		}
	}
}

func TestRedactorPrefersTheLongerSecret(t *testing.T) {
	r := NewRedactor("abcd", "abcdefgh")
	if got := r.String("xabcdefghx abcdx"); got != "x"+Redacted+"x "+Redacted+"x" {
		t.Errorf("got %q", got)
	}
}

// TestRedactWriterSplitWrites writes text holding the secrets in every form
// in random pieces: what comes out must equal redacting the whole at once.
func TestRedactWriterSplitWrites(t *testing.T) {
	r := NewRedactor(testSecrets...)
	var text strings.Builder
	for _, secret := range testSecrets {
		for _, form := range forms(secret) {
			text.WriteString("line with " + form + " in it\n")
		}
	}
	text.WriteString("cut " + testSecrets[1][:16] + "… here\n")
	text.WriteString(`snippet "start"..."` + testSecrets[0][5:] + "\"\n")
	text.WriteString("tail …" + testSecrets[1][3:] + "\n")
	text.WriteString(`escaped \\\\` + testSecrets[0] + "\n") // the backslashes go with the secret
	text.WriteString(testSecrets[0][:10])                    // an unfinished secret at the very end
	whole := string(r.Bytes([]byte(text.String())))
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 50; round++ {
		var out bytes.Buffer
		w := r.Writer(&out)
		rest := text.String()
		for rest != "" {
			n := min(1+rng.Intn(12), len(rest))
			if k, err := w.Write([]byte(rest[:n])); k != n || err != nil {
				t.Fatalf("write: %d, %v", k, err)
			}
			rest = rest[n:]
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != whole {
			t.Fatalf("round %d: split writes give\n%s\nwant\n%s", round, out.String(), whole)
		}
	}
	if strings.Contains(whole, "SHOULD_NOT") {
		t.Errorf("secret left:\n%s", whole)
	}
}

func TestRedactWriterDoesNotHoldOrdinaryLines(t *testing.T) {
	var out bytes.Buffer
	w := NewRedactor(testSecrets...).Writer(&out)
	fmt.Fprint(w, "conversations 3/12 \x1b[1A\x1b[J 50%\n")
	if out.String() != "conversations 3/12 \x1b[1A\x1b[J 50%\n" {
		t.Errorf("a line that cannot start a secret must pass at once: %q", out.String())
	}
}

func FuzzRedactor(f *testing.F) {
	f.Add("before ocx_live_SHOULD_NOT_LEAK_42 after", 3)
	f.Add(`\\\u006fcx%5f&amp;`, 1)
	f.Add(`x"..."LD_NOT_LEAK_42 …LD_NOT_LEAK_42 ocx_live_SHOUL...`, 2)
	f.Fuzz(func(t *testing.T, text string, chunk int) {
		r := NewRedactor(testSecrets...)
		whole := r.String(text)
		if chunk < 1 || chunk > 64 {
			chunk = 7
		}
		var out bytes.Buffer
		w := r.Writer(&out)
		for rest := text; rest != ""; {
			n := min(chunk, len(rest))
			w.Write([]byte(rest[:n]))
			rest = rest[n:]
		}
		w.Flush()
		if out.String() != whole {
			t.Fatalf("streamed %q, whole %q", out.String(), whole)
		}
	})
}

// BenchmarkRedactRecord redacts a JSON record of about 1 MB that is full of
// escapes, as a load record's transcripts are.
func BenchmarkRedactRecord(b *testing.B) {
	r := NewRedactor(testSecrets...)
	var rec strings.Builder
	for rec.Len() < 1<<20 {
		rec.WriteString(`{"user":"I want a refund \"now\" & 50% off <b>","reply":"ok\\nTCK-42 \u00e9","latency_ms":12.5},` + "\n")
	}
	data := []byte(rec.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r.Bytes(data)
	}
}

// TestRedactorBackslashSecretStaysFast would take 16^20 steps without the
// memo: every run of backslashes can be split many ways.
func TestRedactorBackslashSecretStaysFast(t *testing.T) {
	secret := strings.Repeat(`\`, 20) + "x"
	r := NewRedactor(secret)
	text := strings.Repeat(`\`, 400) + "y"
	if got := r.String(text); got != text {
		t.Errorf("no secret here, got %q", got)
	}
	if got := r.String(strings.Repeat(`\`, 40) + "x"); got != Redacted {
		t.Errorf("escaped secret: %q", got)
	}
	// A long run before what may begin a secret is walked back once, not
	// at each of its backslashes.
	long := strings.Repeat(`\`, 1<<18)
	if got := NewRedactor(testSecrets...).Head([]byte("a" + long + "ocx_")); string(got) != "a" {
		t.Errorf("Head kept %d bytes, want the text before the run", len(got))
	}
}

// TestRedactorMaxMatchLen checks the bound against the longest forms the
// Redactor finds: every byte as \xXX behind the most backslashes it takes,
// and a piece of the secret before "…" written so too.
func TestRedactorMaxMatchLen(t *testing.T) {
	escapeBytes := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, `%sx%02x`, strings.Repeat(`\`, maxBackslashes), s[i])
		}
		return b.String()
	}
	for _, secret := range testSecrets {
		r := NewRedactor(secret)
		mark := escapeBytes("…")
		longest := map[string][2]string{
			"every byte as \\x": {escapeBytes(secret), Redacted},
			"a piece before …":  {escapeBytes(secret[:len(secret)-1]) + mark, Redacted + mark},
		}
		for name, form := range forms(secret) {
			longest[name] = [2]string{form, Redacted}
		}
		for name, fw := range longest {
			form := fw[0]
			if got := r.String(form); got != fw[1] {
				t.Errorf("%q as %s is not found: %q", secret, name, got)
			}
			if len(form) > r.MaxMatchLen() {
				t.Errorf("%q as %s takes %d bytes, more than MaxMatchLen %d", secret, name, len(form), r.MaxMatchLen())
			}
		}
	}
	if n := NewRedactor().MaxMatchLen(); n != 0 {
		t.Errorf("without secrets MaxMatchLen is %d", n)
	}
}

// TestRedactorHead redacts the start of a text: it must agree with
// redacting the whole, and leave out no more than MaxMatchLen bytes.
func TestRedactorHead(t *testing.T) {
	r := NewRedactor(testSecrets...)
	text := "a " + testSecrets[0][:20] + "… b …" + testSecrets[1][4:] + " c"
	for _, secret := range testSecrets {
		for _, form := range forms(secret) {
			text += " " + form + strings.Repeat(`\`, 20) + form
		}
	}
	whole := r.String(text)
	for n := 0; n <= len(text); n++ {
		head := string(r.Head([]byte(text[:n])))
		if !strings.HasPrefix(whole, head) {
			t.Fatalf("Head of %q is %q, which does not begin %q", text[:n], head, whole)
		}
		_, held := r.redact([]byte(text[:n]), 0, false)
		if held -= len(text[n-held:]) - len(strings.TrimLeft(text[n-held:], `\`)); held > r.MaxMatchLen() {
			t.Fatalf("Head of %q left out %d bytes, more than MaxMatchLen", text[:n], held)
		}
	}
}

// The Markdown report escapes punctuation with a backslash; a secret written
// that way is hidden like any other form, and ordinary escaped text is not.
func TestRedactorHidesMarkdownEscapes(t *testing.T) {
	r := NewRedactor(`sk_W&<y>"Q/7+_x`)
	for _, in := range []string{
		`key sk\_W\&\<y\>"Q/7\+\_x here`,
		`key sk_W\&<y\>\"Q\/7+_x here`,
	} {
		if got := r.String(in); got != "key "+Redacted+" here" {
			t.Errorf("%s -> %s", in, got)
		}
	}
	if got := r.String(`a \& b \_c\_`); got != `a \& b \_c\_` {
		t.Errorf("ordinary escaped text changed: %s", got)
	}
}
