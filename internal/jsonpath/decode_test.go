package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// sampleBody is a chat reply with nesting, escapes, every scalar kind and a
// duplicated key at the end.
const sampleBody = `{
  "success": true,
  "reply": {"text": "Caf\u00e9 \"open\"", "score": 0.93, "count": 42, "note": null},
  "messages": [{"recipient_id": "u1", "text": "Hi"}, {"recipient_id": "u1", "image": "https://x/y.png"}],
  "success": false
}`

func TestDecodeJSONManyDuplicateKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		b.WriteString(`"k` + strings.Repeat("x", i%40) + `": ` + string(rune('0'+i%10)) + ",")
	}
	b.WriteString(`"k": "last"}`)
	root, err := DecodeJSON([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(root.Content) / 2; n != 40 {
		t.Errorf("%d keys, want 40", n)
	}
	if v := Value(root).(map[string]any)["k"]; v != "last" {
		t.Errorf(`"k" = %v, want the last value`, v)
	}
}

func TestDecodeJSONDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	if _, err := DecodeJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Errorf("err = %v", err)
	}
}

// FuzzDecodeJSON holds the node tree to what encoding/json makes of the same
// body: the same verdict on validity, and the same values.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{sampleBody, `[]`, `"x"`, `-0.5e+3`, `{"a":"\u00e9\"","a":[1,{"b":null}]}`, "\"\xff\"", `{"a" 1}`, `[1,]`, ` true `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		root, err := DecodeJSON(raw)
		dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
		dec.UseNumber()
		var want any
		werr := dec.Decode(&want)
		if werr == nil {
			if _, extra := dec.Token(); extra != io.EOF {
				werr = errors.New("trailing data")
			}
		}
		if (err != nil) != (werr != nil) {
			t.Fatalf("DecodeJSON err = %v, encoding/json err = %v", err, werr)
		}
		if err != nil {
			return
		}
		if got := Value(root); !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeJSON = %#v, encoding/json = %#v", got, want)
		}
	})
}
