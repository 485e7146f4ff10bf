package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/evalrun/evalrun/internal/testtool"
)

// junitSchemaPath is ../shared/schemas/junit.xsd seen from this package: the
// schema lives beside the checkout, not in it, so a fresh clone lacks it.
// A test that needs it and finds it absent calls testtool.Missing, which
// Skips (t.Skipf) saying why, or fails when CI requires the tools.
const junitSchemaPath = "../../../shared/schemas/junit.xsd"

// checkJUnitSchema validates the JUnit file at path with xmllint, in a
// subtest that skips, saying why, when xmllint or the schema is absent, so
// the rest of the calling test still runs on a fresh clone. CI sets
// EVALRUN_REQUIRE_TOOLS=1 (see .ci/run) to make that a failure instead.
func checkJUnitSchema(t *testing.T, path string) {
	t.Helper()
	t.Run("junit schema", func(t *testing.T) {
		skip := func(format string, args ...any) { t.Helper(); testtool.Missing(t, format, args...) }
		xmllint, err := exec.LookPath("xmllint")
		if err != nil {
			skip("xmllint not installed (apt-get install -y libxml2-utils): JUnit schema not checked")
		}
		if _, err := os.Stat(junitSchemaPath); err != nil {
			skip("JUnit schema not checked: %s is not beside this checkout (%v); CI validates against it", junitSchemaPath, err)
		}
		if out, err := exec.Command(xmllint, "--noout", "--schema", junitSchemaPath, path).CombinedOutput(); err != nil {
			t.Errorf("JUnit report does not validate: %v\n%s", err, out)
		}
	})
}
