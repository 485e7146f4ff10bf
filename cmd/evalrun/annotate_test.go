package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests in this package see no environment through getenv unless they
// set one with withEnv, whatever job runs them.
func init() { getenv = func(string) string { return "" } }

// withEnv makes getenv read env for the rest of the test.
func withEnv(t *testing.T, env map[string]string) {
	t.Helper()
	old := getenv
	getenv = func(name string) string { return env[name] }
	t.Cleanup(func() { getenv = old })
}

const failingSuite = `name: annotated
provider: {type: opencx, base_url: sim}
conversations:
  - name: greets
    turns: [{user: hello}]
  - name: never says it
    turns:
      - user: hello
        expect: {contains: a word the bot never says}
`

// TestAnnotationsOnlyInGitHubActions: the same failing run prints workflow
// commands, on standard error, only when GITHUB_ACTIONS is "true".
func TestAnnotationsOnlyInGitHubActions(t *testing.T) {
	suite := filepath.Join(t.TempDir(), "annotated.yaml")
	if err := os.WriteFile(suite, []byte(failingSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"no environment", nil, false},
		{"another CI", map[string]string{"CI": "true", "GITLAB_CI": "true"}, false},
		{"GITHUB_ACTIONS=false", map[string]string{"GITHUB_ACTIONS": "false"}, false},
		{"GitHub Actions", map[string]string{"CI": "true", "GITHUB_ACTIONS": "true"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			withEnv(t, c.env)
			code, stdout, stderr := inProcess(t, "run", "--no-progress", suite)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
			}
			if strings.Contains(stdout, "::") {
				t.Errorf("a workflow command on standard output:\n%s", stdout)
			}
			want := "::error file=" + filepath.ToSlash(suite) + ",line=6,title=evalrun%3A annotated / never says it failed::turn 1: contains: "
			got := strings.Contains(stderr, want)
			if got != c.want {
				t.Errorf("annotation printed: %v, want %v\nstderr:\n%s", got, c.want, stderr)
			}
			if n := strings.Count(stderr, "::error "); c.want && n != 1 {
				t.Errorf("%d annotations, want 1 (only the failed conversation):\n%s", n, stderr)
			}
		})
	}
}

// TestLoadThresholdAnnotation: a crossed threshold of a load run becomes an
// error annotation.
func TestLoadThresholdAnnotation(t *testing.T) {
	suite := filepath.Join(t.TempDir(), "load.yaml")
	if err := os.WriteFile(suite, []byte(simSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	withEnv(t, map[string]string{"GITHUB_ACTIONS": "true"})
	code, stdout, stderr := inProcess(t, "load", "--no-progress", "--vus", "1", "--duration", "200ms",
		"--threshold", "pass_rate<0", suite)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
	}
	// Crossed, or without data if no conversation ended: an error either way.
	if !strings.Contains(stderr, "::error title=evalrun%3A threshold ") || !strings.Contains(stderr, "::pass_rate<0: ") {
		t.Errorf("no threshold annotation:\nstderr:\n%s", stderr)
	}
}

// TestAnnotationsHideSecrets: services that echo the token into every field
// cannot get it into an annotation, escaped or not.
func TestAnnotationsHideSecrets(t *testing.T) {
	t.Setenv("EVALRUN_HOSTILE_TOKEN", hostileToken)
	t.Setenv("EVALRUN_HOSTILE_KEY", hostileKey)
	paths := hostileSuites(t)
	withEnv(t, map[string]string{"GITHUB_ACTIONS": "true"})
	code, stdout, stderr := inProcess(t, append([]string{"run", "-c", "1", "--no-progress"}, paths...)...)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "::error file=") {
		t.Fatalf("no annotations:\n%s", stderr)
	}
	escaped := map[string]string{}
	for _, secret := range []string{hostileToken, hostileKey} {
		escaped[secret] = strings.NewReplacer("%", "%25", ":", "%3A", ",", "%2C").Replace(secret)
	}
	assertNoSecrets(t, map[string]string{"stderr": stderr})
	for secret, form := range escaped {
		if strings.Contains(stderr, form) {
			t.Errorf("stderr shows %q escaped as %q:\n%s", secret, form, stderr)
		}
	}
}

// TestAnnotationsFollowTheBaseline: a conversation failing in the baseline
// too does not fail the build, so it is a warning; --fail-on any makes it
// fail the build, and an error, again.
func TestAnnotationsFollowTheBaseline(t *testing.T) {
	dir := t.TempDir()
	suite, base := filepath.Join(dir, "annotated.yaml"), filepath.Join(dir, "base.json")
	if err := os.WriteFile(suite, []byte(failingSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := inProcess(t, "run", "--no-progress", "--json", base, suite); code != exitFailed {
		t.Fatalf("baseline run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	withEnv(t, map[string]string{"GITHUB_ACTIONS": "true"})
	cases := []struct {
		failOn string
		code   int
		want   string
	}{
		{"", exitOK, "::warning file="},
		{"any", exitFailed, "::error file="},
	}
	for _, c := range cases {
		t.Run("fail-on="+c.failOn, func(t *testing.T) {
			args := []string{"run", "--no-progress", "--baseline", base, suite}
			if c.failOn != "" {
				args = append(args, "--fail-on", c.failOn)
			}
			code, stdout, stderr := inProcess(t, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			if strings.Count(stderr, "::") != 2 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "never says it") {
				t.Errorf("want one annotation starting %q for the failing conversation:\n%s", c.want, stderr)
			}
		})
	}
}

// TestMergeAndReportAnnotate: merge of run records and report print the
// annotations run would have, so a CI job that only merges the shards, or
// only reports a record, still marks the failures; merge of load records
// and report of one mark the crossed thresholds.
func TestMergeAndReportAnnotate(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "annotated.yaml")
	if err := os.WriteFile(suite, []byte(failingSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for k := range 2 {
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		if code, _, stderr := inProcess(t, "run", "--no-progress", "--shard", fmt.Sprintf("%d/2", k), "--json", p, suite); code == exitUsage {
			t.Fatalf("shard %d: exit %d\n%s", k, code, stderr)
		}
		parts = append(parts, p)
	}
	loadRec := filepath.Join(dir, "load.json")
	if code, _, stderr := inProcess(t, "load", "--no-progress", "--vus", "1", "--duration", "200ms", "--threshold", "pass_rate<0", "--json", loadRec, suite); code != exitFailed {
		t.Fatalf("load: exit %d\n%s", code, stderr)
	}
	conversation := "::error file=" + filepath.ToSlash(suite) + ",line=6,title=evalrun%3A annotated / never says it failed::"
	threshold := "::error title=evalrun%3A threshold "
	withEnv(t, map[string]string{"GITHUB_ACTIONS": "true"})
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"merge of run records", append([]string{"merge", "--json", filepath.Join(dir, "m.json")}, parts...), conversation},
		{"report of a run record", []string{"report", filepath.Join(dir, "m.json")}, conversation},
		{"merge of a load record", []string{"merge", "--json", filepath.Join(dir, "lm.json"), loadRec}, threshold},
		{"report of a load record", []string{"report", loadRec}, threshold},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := inProcess(t, c.args...)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
			}
			if !strings.Contains(stderr, c.want) || strings.Count(stderr, "::error ") != 1 {
				t.Errorf("want one annotation %q:\n%s", c.want, stderr)
			}
		})
	}
}
