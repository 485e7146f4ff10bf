package main

import (
	"os"
	"strings"
	"testing"
)

// unsetEnv makes sure name is not set for the test, and restores it after.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}

// secretSuite talks to the real OpenCX with a token from the environment.
const secretSuite = `provider: {type: opencx, base_url: https://api.open.cx, token: "${EVALRUN_TEST_UNSET_KEY}"}
conversations:
  - name: greeting
    turns: [{user: hello}]
`

func TestValidateWithoutSecrets(t *testing.T) {
	unsetEnv(t, "EVALRUN_TEST_UNSET_KEY")
	p := writeSuite(t, secretSuite)

	code, out, errOut := inProcess(t, "validate", p)
	wantWarn := p + ":1:64: warning: environment variable EVALRUN_TEST_UNSET_KEY is not set; the value is left out here, but run and load need it\n"
	if code != exitOK || errOut != wantWarn || out != "ok: 1 suite, 1 conversation, 1 turn (1 warning)\n" {
		t.Errorf("validate: exit %d\nstdout: %q\nstderr: %q\nwant exit 0 and the warning %q", code, out, errOut, wantWarn)
	}

	// run and load still refuse before sending anything.
	for _, args := range [][]string{{"run", p}, {"load", "--vus", "1", "--duration", "1s", p}} {
		code, _, errOut := inProcess(t, args...)
		want := p + ":1:64: environment variable EVALRUN_TEST_UNSET_KEY is not set; set it"
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 2 and %q", args[0], code, errOut, want)
		}
	}

	// Errors other than unset variables still fail validate.
	bad := writeSuite(t, strings.Replace(secretSuite, "greeting", "greeting\n    tags: smoke", 1))
	if code, _, errOut := inProcess(t, "validate", bad); code != exitUsage || !strings.Contains(errOut, bad+`:4:11: tags: want a list, got "smoke"`) {
		t.Errorf("validate of a broken suite: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestSimulatorRunsWithoutToken(t *testing.T) {
	unsetEnv(t, "EVALRUN_TEST_UNSET_KEY")
	p := writeSuite(t, secretSuite)
	for _, args := range [][]string{
		{"run", "--base-url", "sim", p},
		{"load", "--base-url", "sim", "--vus", "1", "--duration", "1s", p},
	} {
		code, out, errOut := inProcess(t, args...)
		if code != exitOK || strings.Contains(errOut, "EVALRUN_TEST_UNSET_KEY") {
			t.Errorf("%s --base-url sim with no token: exit %d\nstdout:\n%s\nstderr:\n%s", args[0], code, out, errOut)
		}
	}
}
