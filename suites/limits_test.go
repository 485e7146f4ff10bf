package suites

import (
	"strings"
	"testing"
)

// TestParseStageLimits covers the --stage form, which shares its caps with a
// suite's stages: list.
func TestParseStageLimits(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"30s:50", ""},
		{"168h:100000", ""},
		{"30s:0", ""},
		{"30s:1e12", `the target "1e12" is more than 100000 conversations per second`},
		{"30s:+Inf", `the target "+Inf" is more than 100000`},
		{"30s:1e999", `the target "1e999" is more than 100000`},
		{"30s:NaN", `the target "NaN" is not a rate`},
		{"30s:-1", `the target "-1" is not a rate`},
		{"169h:5", `the duration "169h" is more than 168h`},
		{"99999999999h:5", `the duration "99999999999h" is more than 168h`},
		{"-1s:5", `the duration "-1s" is not a positive duration`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, _, err := ParseStage(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ParseStage(%q) = %v", tt.in, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ParseStage(%q) = %v, want an error containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}
