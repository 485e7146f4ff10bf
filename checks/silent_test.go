package checks

import (
	"testing"

	"github.com/evalrun/evalrun/providers"
)

// TestSilent pins the one definition of silence that the record and the
// checks share.
func TestSilent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply *providers.Reply
		want  bool
	}{
		{"no reply", nil, true},
		{"the service said so", &providers.Reply{Silent: true, Text: "ignored"}, true},
		{"empty text", &providers.Reply{}, true},
		{"only white space", &providers.Reply{Text: " \t\n "}, true},
		{"words", &providers.Reply{Text: " ok "}, false},
	} {
		if got := Silent(tc.reply); got != tc.want {
			t.Errorf("%s: Silent = %v, want %v", tc.name, got, tc.want)
		}
		if got := NewObservation(tc.reply, 0).silent(); got != tc.want {
			t.Errorf("%s: the checks' silence = %v, want %v", tc.name, got, tc.want)
		}
	}
}
