package toolzz

import (
	"strings"
	"testing"
)

// FuzzDecodeReply feeds the Toolzz reply decoder arbitrary bodies: it must
// never panic, must return a reply or an error and never both, and must keep
// the body as Raw.
func FuzzDecodeReply(f *testing.F) {
	for _, seed := range []string{
		`{"message":{"content":"hi","conversationId":"c-1","transferToAgent":false,"targetBotId":null}}`,
		`{"message":{"content":"","conversationId":"c","transferToAgent":true}}`,
		`{"message":{"content":"moving","conversationId":12345678901234567890,"targetBotId":"b-2"}}`,
		`{"message":{"content":null}}`,
		`{"message":null}`,
		`{"message":[]}`,
		`{"error":"botId must be a uuid"}`,
		`[]`, `null`, ``, `{`, `"text"`,
		`{"message":{"content":"` + strings.Repeat("x", 300) + `","conversationId":{"nested":true}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, _, err := DecodeReply(body)
		if (r == nil) == (err == nil) {
			t.Fatalf("reply %v and error %v", r, err)
		}
		if r != nil {
			if string(r.Raw) != string(body) {
				t.Fatal("Raw is not the body")
			}
			if r.Silent != (r.Text == "") {
				t.Fatalf("Silent %v for text %q", r.Silent, r.Text)
			}
		}
	})
}
