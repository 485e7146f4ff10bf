// Package testtool is for tests that lean on something a checkout does not
// hold: the shared JUnit schema beside it, or a real consumer of evalrun's
// files from Debian or npm (xmllint, python3-junitparser, chromium,
// hdr-histogram-js). A fresh clone with none of them must still pass
// `go test ./...`, so such tests skip and say why; CI sets
// EVALRUN_REQUIRE_TOOLS=1 (see .ci/run), which turns every such skip into a
// failure, so the checks cannot quietly stop running there.
package testtool

import (
	"os"
	"testing"
)

// RequireEnv names the environment variable that makes missing tools fail.
const RequireEnv = "EVALRUN_REQUIRE_TOOLS"

// Missing skips t, or fails it when CI requires the tools, saying why.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf(format+" ("+RequireEnv+" is set, so this is an error)", args...)
	}
	t.Skipf(format, args...)
}
