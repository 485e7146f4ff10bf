package results_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

func TestKeepBody(t *testing.T) {
	small := []byte(`{"ok":true}`)
	if b := results.KeepBody(small); b.Raw != string(small) || b.RawTruncated || b.RawBytes != 0 {
		t.Errorf("small body kept as %+v", b)
	}
	// A body over the cap, with a three-byte character across the cut.
	big := []byte(strings.Repeat("a", results.MaxRecordedBody-1) + "€" + strings.Repeat("b", 10))
	b := results.KeepBody(big)
	if !b.RawTruncated || b.RawBytes != len(big) || len(b.Raw) != results.MaxRecordedBody-1 || !utf8.ValidString(b.Raw) {
		t.Errorf("big body kept as %d bytes, truncated %v of %d, valid UTF-8 %v", len(b.Raw), b.RawTruncated, b.RawBytes, utf8.ValidString(b.Raw))
	}
}
