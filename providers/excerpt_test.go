package providers

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// wholeExcerpt is Excerpt as it was: the whole body redacted, then cut. The
// prefix Excerpt redacts must give the same text.
func wholeExcerpt(c *Caller, body []byte) string { return excerpt(c.Redact(string(body)), len(body)) }

// TestExcerptMatchesRedactingTheWholeBody builds bodies with the secrets in
// every form, pieces of them beside cut marks, and long runs of white space,
// all around the point where the excerpt is cut.
func TestExcerptMatchesRedactingTheWholeBody(t *testing.T) {
	c := NewCaller("opencx", Config{Token: testSecrets[0], Secrets: testSecrets[1:]})
	var parts []string
	for _, secret := range testSecrets {
		names := make([]string, 0, 16)
		all := forms(secret)
		for name := range all {
			names = append(names, name)
		}
		sort.Strings(names) // the same bodies every run
		for _, name := range names {
			parts = append(parts, all[name])
		}
		parts = append(parts, secret[:len(secret)-2]+"…", "…"+secret[3:], `"`+secret[:len(secret)-3]+`"..."`)
	}
	parts = append(parts, "word ", "é", `\`, `\\`, "%", "&", "...", "…", "\n\t  ", strings.Repeat(" ", 700), strings.Repeat(`\`, 40))
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 400; round++ {
		var b strings.Builder
		for b.Len() < 200+rng.Intn(3000) {
			b.WriteString(parts[rng.Intn(len(parts))])
		}
		body := []byte(b.String())
		if got, want := c.Excerpt(body), wholeExcerpt(c, body); got != want {
			t.Fatalf("round %d: body %q\nexcerpt %q\nwant    %q", round, body, got, want)
		}
	}
}

// TestExcerptHidesASecretAtTheEndOfThePrefix puts each form of a secret
// across the end of the first prefix Excerpt redacts, after white space that
// collapses to almost nothing, so that what comes before it is just short
// of the excerpt and the start of the secret would land inside the cut.
func TestExcerptHidesASecretAtTheEndOfThePrefix(t *testing.T) {
	c := NewCaller("opencx", Config{Token: testSecrets[0], Secrets: testSecrets[1:]})
	n := bodyExcerpt + 1 + c.secrets().MaxMatchLen()
	words := strings.Repeat("w", bodyExcerpt-8)
	for _, secret := range testSecrets {
		for name, form := range forms(secret) {
			for d := 1; d < len(form); d++ {
				body := []byte(words + strings.Repeat(" ", n-d-len(words)) + form + strings.Repeat(" z", n))
				if got, want := c.Excerpt(body), wholeExcerpt(c, body); got != want {
					t.Fatalf("%s with %d bytes in the prefix:\nexcerpt %q\nwant    %q", name, d, got, want)
				}
			}
		}
	}
}

// TestExcerptHidesTheTokenInAHugeBody sends a 10 MiB error reply with the
// token at its start, across the cut and past the excerpt.
func TestExcerptHidesTheTokenInAHugeBody(t *testing.T) {
	const token = "ocx_live_SHOULD_NOT_LEAK_42"
	body := hugeBody(token, DefaultMaxBody)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(body)
	}))
	defer srv.Close()
	c := newTestCaller(srv.URL, Config{Token: token})
	_, _, err := c.Do(context.Background(), "send", http.MethodGet, "/", nil)
	msg := asError(t, err).Error()
	for _, piece := range []string{token, token[:8], token[len(token)-8:]} {
		if strings.Contains(msg, piece) {
			t.Errorf("the error shows %q: %.700s", piece, msg)
		}
	}
	if want := fmt.Sprintf("… (%d bytes)", len(body)); !strings.Contains(msg, want) {
		t.Errorf("the error does not end its excerpt with %q: %.700s", want, msg)
	}
	if want := `{"error":"bad key ` + Redacted + `","detail":"xxx`; !strings.HasPrefix(asError(t, err).Body, want) {
		t.Errorf("the excerpt does not begin %q: %.700s", want, msg)
	}
}

// hugeBody is size bytes of JSON with token at the start, across the cut
// of the excerpt, just after it, and at the end.
func hugeBody(token string, size int) []byte {
	head := `{"error":"bad key ` + token + `","detail":"`
	head += strings.Repeat("x", bodyExcerpt-len(head)-len(token)/2) + token + " " + token + " "
	tail := token + `"}`
	return []byte(head + strings.Repeat("y", size-len(head)-len(tail)) + tail)
}

// TestExcerptCostsTheSameForAnyBody measures the bytes one Excerpt
// allocates: redacting a whole 10 MiB body copies it at least once, while
// the excerpt of its start needs a few KiB whatever the size.
func TestExcerptCostsTheSameForAnyBody(t *testing.T) {
	const token = "ocx_live_SHOULD_NOT_LEAK_42"
	c := NewCaller("opencx", Config{Token: token})
	body := hugeBody(token, DefaultMaxBody)
	c.Excerpt(body) // make the Redactor outside the measure
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c.Excerpt(body)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("the excerpt of a %d-byte body allocated %d bytes; the whole body was redacted", len(body), n)
	}
}

// BenchmarkExcerpt cuts error bodies of growing size with a token in them:
// the time must not grow with the body.
func BenchmarkExcerpt(b *testing.B) {
	const token = "ocx_live_SHOULD_NOT_LEAK_42"
	for _, size := range []int{4 << 10, 1 << 20, DefaultMaxBody} {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			c := NewCaller("opencx", Config{Token: token})
			body := hugeBody(token, size)
			b.ReportAllocs()
			for b.Loop() {
				io.WriteString(io.Discard, c.Excerpt(body))
			}
		})
	}
}
