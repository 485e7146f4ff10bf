package report

import (
	"os"
	"os/exec"
	"testing"

	"github.com/evalrun/evalrun/internal/testtool"
)

// missing Skips t (t.Skipf), or fails it when CI requires the tools (see
// testtool): a fresh clone has no ../shared beside it.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	testtool.Missing(t, format, args...)
}

// junitSchema returns the path of ../shared/schemas/junit.xsd, or skips t
// when it is not beside this checkout.
func junitSchema(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(schemaPath); err != nil {
		missing(t, "JUnit schema not checked: %s is not beside this checkout (%v); CI validates against it", schemaPath, err)
	}
	return schemaPath
}

// xmllintPath returns the xmllint binary, or skips t.
func xmllintPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		missing(t, "xmllint not installed (apt-get install -y libxml2-utils): %v", err)
	}
	return p
}

// validateSchema checks the JUnit file at path against the shared schema.
func validateSchema(t *testing.T, path string) {
	t.Helper()
	xmllint, schema := xmllintPath(t), junitSchema(t)
	if out, err := exec.Command(xmllint, "--noout", "--schema", schema, path).CombinedOutput(); err != nil {
		t.Errorf("%s does not validate against %s: %v\n%s", path, schema, err, out)
	}
}

// junitparserPython returns a python3 that can import junitparser, or skips
// t. Debian's python3-junitparser installs for the system interpreter, which
// need not be the python3 first on PATH (pyenv, virtualenvs).
func junitparserPython(t *testing.T) string {
	t.Helper()
	var tried []string
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, py := range candidates {
		if _, err := os.Stat(py); err != nil {
			continue
		}
		tried = append(tried, py)
		if exec.Command(py, "-c", "import junitparser").Run() == nil {
			return py
		}
	}
	if len(tried) == 0 {
		missing(t, "python3 not installed: JUnit not read by junitparser (apt-get install -y python3-junitparser)")
	}
	missing(t, "junitparser not importable by %v: JUnit not read by a consumer (apt-get install -y python3-junitparser)", tried)
	return ""
}
