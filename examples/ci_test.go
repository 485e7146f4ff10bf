package examples_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// ciExamples are the CI configurations people copy, and the evalrun
// subcommands each must run at least, so that a file that lost its main
// command does not pass for having none left to check.
var ciExamples = map[string][]string{
	"ci/github-actions.yml": {"validate", "run"},
	"ci/gitlab-ci.yml":      {"validate", "run"},
}

// scriptKeys hold shell code: run: in GitHub Actions, script: and its
// siblings in GitLab CI.
var scriptKeys = []string{"run", "script", "before_script", "after_script"}

// TestCIExamplesUseRealCommands reads each CI example as YAML, finds every
// shell command that runs evalrun, and checks it against the real command
// line: the subcommand must be one `evalrun --help` lists, and every flag one
// that `evalrun SUBCOMMAND -h` prints. Flags are taken from the help of a
// freshly built binary, so an example cannot drift from the code.
func TestCIExamplesUseRealCommands(t *testing.T) {
	cli := buildCLI(t)
	for file, wantCmds := range ciExamples {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s is not valid YAML: %v", file, err)
			}
			scripts := collectScripts(&doc)
			if len(scripts) == 0 {
				t.Fatalf("%s has no %v keys", file, scriptKeys)
			}
			var seen []string
			for _, s := range scripts {
				for _, inv := range evalrunInvocations(s.text) {
					where := file + ":" + strconv.Itoa(s.line+inv.line)
					seen = append(seen, inv.args[0])
					if msg := cli.check(inv.args); msg != "" {
						t.Errorf("%s: evalrun %s: %s", where, strings.Join(inv.args, " "), msg)
					}
				}
			}
			for _, want := range wantCmds {
				if !slices.Contains(seen, want) {
					t.Errorf("%s never runs `evalrun %s` (found %v)", file, want, seen)
				}
			}
		})
	}
}

// TestCIExamplesRun runs every evalrun command of each example, as written,
// on the quickstart suite against the built-in simulator: the commands
// without a baseline first, then those with one, given the record the
// first ones wrote. Each must pass and write every report it names.
func TestCIExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the quickstart once per command of the examples")
	}
	cli := buildCLI(t)
	quickstart, err := filepath.Abs("quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for file := range ciExamples {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			vars := map[string]string{"SUITES": quickstart, "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md")}
			var plain, based [][]string
			for _, s := range collectScripts(&doc) {
				for _, inv := range evalrunInvocations(s.text) {
					args, err := expand(inv.args, vars)
					if err != nil {
						t.Fatalf("%s:%d: %v", file, s.line+inv.line, err)
					}
					if flagValue(args, "--baseline") != "" {
						based = append(based, args)
					} else {
						plain = append(plain, args)
					}
				}
			}
			for _, args := range append(plain, based...) {
				if base := flagValue(args, "--baseline"); base != "" {
					record, err := os.ReadFile(filepath.Join(dir, "run.json"))
					if err != nil {
						t.Fatalf("no run.json from the commands without a baseline to compare with: %v", err)
					}
					path := filepath.Join(dir, base)
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, record, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				cmd := exec.Command(cli.bin, args...)
				cmd.Dir = dir
				// As in CI, but whatever job runs this test: no annotations.
				cmd.Env = append(os.Environ(), "CI=true", "GITHUB_ACTIONS=")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("evalrun %s: %v\n%s", strings.Join(args, " "), err, out)
					continue
				}
				for _, f := range []string{"--json", "--junit", "--md", "--html"} {
					if v := flagValue(args, f); v != "" {
						if !filepath.IsAbs(v) {
							v = filepath.Join(dir, v)
						}
						if st, err := os.Stat(v); err != nil || st.Size() == 0 {
							t.Errorf("evalrun %s: %s wrote nothing (%v)", strings.Join(args, " "), f, err)
						}
					}
				}
			}
		})
	}
}

var shellVar = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// expand replaces $NAME and ${NAME} in args with vars, and refuses a name
// vars does not give.
func expand(args []string, vars map[string]string) ([]string, error) {
	var missing []string
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellVar.ReplaceAllStringFunc(a, func(m string) string {
			name := shellVar.FindStringSubmatch(m)[1]
			v, ok := vars[name]
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the test gives no value for %v", missing)
	}
	return out, nil
}

// flagValue returns the value given to flag in args ("--json run.json" or
// "--json=run.json"), or "".
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}

// TestCIExamplesShape checks what the examples promise beyond the command
// lines: reports where each CI looks for them.
func TestCIExamplesShape(t *testing.T) {
	var gh struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "ci/github-actions.yml", &gh)
	if _, ok := gh.On["pull_request"]; !ok {
		t.Error("github-actions.yml does not run on pull requests")
	}
	if _, ok := gh.On["push"]; !ok {
		t.Error("github-actions.yml does not run on pushes to main, which make the baseline")
	}
	artifacts := map[string]string{} // artifact name -> paths
	var runs strings.Builder
	for _, job := range gh.Jobs {
		for _, step := range job.Steps {
			runs.WriteString(step.Run + "\n")
			if strings.HasPrefix(step.Uses, "actions/upload-artifact@") {
				artifacts[step.With["name"]] = step.With["path"]
			}
		}
	}
	for _, want := range []string{"--baseline", `--md "$GITHUB_STEP_SUMMARY"`, "--junit", "--html", "gh run download"} {
		if !strings.Contains(runs.String(), want) {
			t.Errorf("github-actions.yml does not use %s", want)
		}
	}
	if !strings.Contains(artifacts["evalrun-report"], "report.html") || !strings.Contains(artifacts["evalrun-report"], "junit.xml") {
		t.Errorf("github-actions.yml does not keep the HTML and JUnit reports: %v", artifacts)
	}
	if !strings.Contains(artifacts["evalrun-baseline"], "run.json") {
		t.Errorf("github-actions.yml does not keep the record as the baseline: %v", artifacts)
	}
	if !strings.Contains(runs.String(), "--name evalrun-baseline") {
		t.Error("github-actions.yml does not download the artifact it uploads as the baseline")
	}

	var gl map[string]struct {
		Script    []string `yaml:"script"`
		Artifacts struct {
			Paths   []string          `yaml:"paths"`
			Reports map[string]string `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	readYAML(t, "ci/gitlab-ci.yml", &gl)
	for _, name := range []string{"evalrun", "evalrun-baseline"} {
		job, ok := gl[name]
		if !ok {
			t.Errorf("gitlab-ci.yml has no job %q", name)
			continue
		}
		if job.Artifacts.Reports["junit"] != "junit.xml" {
			t.Errorf("gitlab-ci.yml: job %s does not report junit.xml as artifacts:reports:junit", name)
		}
		if !slices.Contains(job.Artifacts.Paths, "report.html") {
			t.Errorf("gitlab-ci.yml: job %s does not keep report.html", name)
		}
	}
	if !slices.Contains(gl["evalrun-baseline"].Artifacts.Paths, "run.json") {
		t.Error("gitlab-ci.yml: the baseline job does not keep run.json")
	}
	if script := strings.Join(gl["evalrun"].Script, "\n"); !strings.Contains(script, "job=evalrun-baseline") || !strings.Contains(script, "--baseline") {
		t.Error("gitlab-ci.yml: the merge request job does not fetch and use the baseline job's record")
	}
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// script is the shell code of one script key, and the line it starts on.
type script struct {
	text string
	line int
}

// collectScripts returns every string under a script key, anywhere in the
// document: a step's run:, a job's script: list, a template's before_script:.
func collectScripts(n *yaml.Node) []script {
	var out []script
	var walk func(n *yaml.Node, underScript bool)
	walk = func(n *yaml.Node, underScript bool) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, underScript)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], slices.Contains(scriptKeys, n.Content[i].Value))
			}
		case yaml.ScalarNode:
			if underScript {
				line := n.Line
				if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
					line++ // the text starts below the | or >
				}
				out = append(out, script{n.Value, line})
			}
		}
	}
	walk(n, false)
	return out
}

// invocation is one evalrun command found in shell code: its arguments, and
// the line of the code it is on (0 for the first).
type invocation struct {
	args []string
	line int
}

// evalrunInvocations returns every command in shell code that runs evalrun:
// the words after it up to the end of that command. Continued lines are
// joined first. A word is "evalrun" at the start of a command (after ;, &&,
// ||, |, or if/then/else/do/!), so that `go install …/cmd/evalrun@latest` or
// `command -v evalrun` do not count.
func evalrunInvocations(code string) []invocation {
	var out []invocation
	lines := strings.Split(code, "\n")
	for n := 0; n < len(lines); n++ {
		first, line := n, lines[n]
		for strings.HasSuffix(line, "\\") && n+1 < len(lines) {
			n++
			line = strings.TrimSuffix(line, "\\") + " " + lines[n]
		}
		words := shellWords(line)
		start := true
		for i := 0; i < len(words); i++ {
			w := words[i]
			if isSeparator(w) || (start && slices.Contains([]string{"if", "then", "else", "elif", "do", "!", "time"}, w)) {
				start = true
				continue
			}
			if start && (w == "evalrun" || strings.HasSuffix(w, "/evalrun")) {
				j := i + 1
				for j < len(words) && !isSeparator(words[j]) {
					j++
				}
				args := words[i+1 : j]
				if len(args) == 0 {
					args = []string{""}
				}
				out = append(out, invocation{args, first})
				i = j - 1
			}
			start = false
		}
	}
	return out
}

func isSeparator(w string) bool {
	return w == ";" || w == "&&" || w == "||" || w == "|" || w == "&" || w == "(" || w == ")"
}

// shellWords splits one line of shell as far as these examples need:
// quotes, backslashes, comments, and the operators that end a command as
// words of their own. Variables stay as written ("$SUITES").
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			inWord = true
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				end = len(line) - i - 1
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				cur.WriteByte(line[i])
			}
		case c == '\\' && i+1 < len(line):
			inWord = true
			i++
			cur.WriteByte(line[i])
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			return words
		case c == ';' || c == '&' || c == '|' || c == '(' || c == ')':
			flush()
			op := string(c)
			if (c == '&' || c == '|') && i+1 < len(line) && line[i+1] == c {
				op += string(c)
				i++
			}
			words = append(words, op)
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	flush()
	return words
}

// cli is what the built evalrun says about itself.
type cli struct {
	bin      string
	commands []string
	// flags maps a subcommand to its flags ("--json", "-c") and whether each
	// takes a value.
	flags map[string]map[string]bool
}

var (
	commandLine = regexp.MustCompile(`^  evalrun ([a-z]+)\b`)
	flagLine    = regexp.MustCompile(`^  (--?[A-Za-z0-9][A-Za-z0-9-]*)( \S+)?$`)
)

// buildCLI builds evalrun into a temporary folder and reads its commands
// from --help and every command's flags from -h.
func buildCLI(t *testing.T) cli {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("no go tool to build evalrun with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "evalrun")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/evalrun").CombinedOutput(); err != nil {
		t.Fatalf("build evalrun: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatalf("evalrun --help: %v", err)
	}
	c := cli{bin: bin, flags: map[string]map[string]bool{}}
	for _, line := range strings.Split(string(help), "\n") {
		if m := commandLine.FindStringSubmatch(line); m != nil {
			c.commands = append(c.commands, m[1])
		}
	}
	if !slices.Contains(c.commands, "run") {
		t.Fatalf("evalrun --help lists no run command; the help changed shape:\n%s", help)
	}
	for _, cmd := range c.commands {
		if cmd == "version" {
			c.flags[cmd] = map[string]bool{}
			continue
		}
		out, err := exec.Command(bin, cmd, "-h").Output()
		if err != nil {
			t.Fatalf("evalrun %s -h: %v\n%s", cmd, err, out)
		}
		flags := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			if m := flagLine.FindStringSubmatch(line); m != nil {
				flags[m[1]] = m[2] != ""
			}
		}
		if !strings.Contains(string(out), "Usage: evalrun "+cmd) {
			t.Fatalf("evalrun %s -h: no usage line; the help changed shape:\n%s", cmd, out)
		}
		c.flags[cmd] = flags
	}
	return c
}

// check returns what is wrong with the arguments of one evalrun command,
// or "" when the subcommand and every flag exist. Go's flag package takes
// -flag and --flag alike, and flags after the paths (as evalrun parses them).
func (c cli) check(args []string) string {
	cmd := args[0]
	flags, ok := c.flags[cmd]
	if !ok {
		return "no such command (evalrun --help lists " + strings.Join(c.commands, ", ") + ")"
	}
	var problems []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue, known := flags["--"+name]
		if !known {
			takesValue, known = flags["-"+name]
		}
		switch {
		case !known:
			problems = append(problems, "unknown flag "+a)
		case takesValue && !hasValue:
			if i+1 >= len(args) {
				problems = append(problems, a+" needs a value")
			}
			i++ // the value
		}
	}
	return strings.Join(problems, "; ")
}

// TestEvalrunInvocations pins the shell reading the test above relies on.
func TestEvalrunInvocations(t *testing.T) {
	cases := []struct {
		code string
		want [][]string
	}{
		{`evalrun run --json run.json "$SUITES"`, [][]string{{"run", "--json", "run.json", "$SUITES"}}},
		{"if [ -f b ]; then\n  evalrun run --baseline b \\\n    --md \"$GITHUB_STEP_SUMMARY\" suites/\nfi", [][]string{{"run", "--baseline", "b", "--md", "$GITHUB_STEP_SUMMARY", "suites/"}}},
		{`evalrun run x || [ $? -eq 1 ]`, [][]string{{"run", "x"}}},
		{`go install github.com/evalrun/evalrun/cmd/evalrun@latest && evalrun version`, [][]string{{"version"}}},
		{`command -v evalrun # evalrun run`, nil},
		{`echo 'evalrun run --nope'; ./bin/evalrun validate s/`, [][]string{{"validate", "s/"}}},
	}
	for _, c := range cases {
		var got [][]string
		for _, inv := range evalrunInvocations(c.code) {
			got = append(got, inv.args)
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %q, want %q", c.code, got, c.want)
			continue
		}
		for i := range got {
			if !slices.Equal(got[i], c.want[i]) {
				t.Errorf("%q: got %q, want %q", c.code, got[i], c.want[i])
			}
		}
	}
}

// TestCheckArgs: the check catches what it is for.
func TestCheckArgs(t *testing.T) {
	c := cli{commands: []string{"run"}, flags: map[string]map[string]bool{
		"run": {"--json": true, "--no-progress": false, "-c": true},
	}}
	cases := []struct {
		args []string
		want string // "" for fine, else a part of the message
	}{
		{[]string{"run", "--json", "--weird-file-name", "-c", "2", "--no-progress", "suites/"}, ""},
		{[]string{"run", "-json=run.json", "suites/", "--no-progress"}, ""},
		{[]string{"run", "--jsno", "run.json"}, "unknown flag --jsno"},
		{[]string{"run", "--json"}, "--json needs a value"},
		{[]string{"run", "--", "--not-a-flag"}, ""},
		{[]string{"runn", "suites/"}, "no such command"},
	}
	for _, tc := range cases {
		got := c.check(tc.args)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("check(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestExamplesGoVersions checks every Go toolchain an example asks for
// (a golang:X.Y image, a setup-go go-version) against go.mod's go line:
// official golang images set GOTOOLCHAIN=local, so on an older image
// `go install …@latest` fails instead of fetching a newer toolchain.
// setup-go's "stable" is always the newest release, so it passes.
func TestExamplesGoVersions(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	need := [2]int{atoi(t, string(m[1])), atoi(t, string(m[2]))}

	image := regexp.MustCompile(`golang:(\d+)\.(\d+)`)
	setupGo := regexp.MustCompile(`go-version:\s*["']?([^\s"'#]+)`)
	numeric := regexp.MustCompile(`^(\d+)\.(\d+)`)
	found := 0
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !slices.Contains([]string{".yml", ".yaml", ".md"}, filepath.Ext(path)) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			where := path + ":" + strconv.Itoa(i+1)
			for _, g := range image.FindAllStringSubmatch(line, -1) {
				found++
				if v := [2]int{atoi(t, g[1]), atoi(t, g[2])}; older(v, need) {
					t.Errorf("%s: image %s is older than go.mod's go %d.%d", where, g[0], need[0], need[1])
				}
			}
			if g := setupGo.FindStringSubmatch(line); g != nil {
				found++
				n := numeric.FindStringSubmatch(g[1])
				switch {
				case g[1] == "stable":
				case n == nil:
					t.Errorf("%s: go-version %s is not a version this test can check against go.mod", where, g[1])
				case older([2]int{atoi(t, n[1]), atoi(t, n[2])}, need):
					t.Errorf("%s: go-version %s is older than go.mod's go %d.%d", where, g[1], need[0], need[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Error("no example names a Go version: the test checks nothing")
	}
}

// older reports whether major.minor v comes before need.
func older(v, need [2]int) bool {
	return v[0] < need[0] || v[0] == need[0] && v[1] < need[1]
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
