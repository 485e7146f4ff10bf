// Package imagecheck checks the repository's Dockerfile without a Docker
// engine: it parses it with BuildKit's own parser (and its linter), and
// holds the stages to what the image must be; see Check.
package imagecheck

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// VersionPackage is where the stamps go; its variables Stamped and
// StampedCommit must be what -X sets.
const VersionPackage = "github.com/evalrun/evalrun/internal/version"

// Image is what Check read from a Dockerfile.
type Image struct {
	BuildStage string   // the stage the final one copies from
	Outputs    []string // what that stage's go build writes (-o)
	Packages   []string // what it builds, as go build names them (./cmd/evalrun)
	Sources    []string // what the build stages copy from the context
	Binary     string   // the final stage's entrypoint
}

// Check parses a Dockerfile and returns every way it falls short of the
// image evalrun needs:
//
//   - a build stage and a final one, the final on scratch or distroless
//     static, so the image is a binary and little else;
//   - the build static (CGO_ENABLED=0) and -trimpath, with -ldflags that
//     stamp the version and commit from build arguments it declares;
//   - the final stage copying only what a go build of the build stage
//     writes with -o, and nothing from the build context;
//   - a numeric non-root USER;
//   - an exec-form ENTRYPOINT naming the copied binary, so that evalrun is
//     PID 1 and gets SIGTERM, and no shell stands in between;
//   - nothing BuildKit's linter warns about.
func Check(dockerfile []byte) (Image, []error) {
	var img Image
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return img, []error{fmt.Errorf("parse: %v", err)}
	}
	for _, w := range res.Warnings {
		fail("parser warning: %s", w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, description, url, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		fail("line %d: lint %s: %s", line, rule, msg)
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return img, append(errs, fmt.Errorf("parse: %v", err))
	}
	if len(stages) < 2 {
		return img, append(errs, fmt.Errorf("%d stage(s): want a build stage and a final one", len(stages)))
	}
	names := map[string]int{}
	for i, s := range stages {
		if s.Name != "" {
			names[strings.ToLower(s.Name)] = i
		}
	}

	final := stages[len(stages)-1]
	base := final.BaseName
	if _, isStage := names[strings.ToLower(base)]; isStage || !(base == "scratch" || strings.HasPrefix(base, "gcr.io/distroless/static")) {
		fail("final stage FROM %s: want scratch or gcr.io/distroless/static, so the image holds the binary and little else", base)
	}

	// The build stages: what they copy in, declare, and build.
	outputs := map[string][]string{} // stage name -> paths its go build writes
	for _, s := range stages[:len(stages)-1] {
		args := map[string]bool{}
		env := map[string]string{}
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					args[a.Key] = true
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env[kv.Key] = kv.Value
				}
			case *instructions.CopyCommand:
				if c.From == "" {
					img.Sources = append(img.Sources, c.SourcePaths...)
				}
			case *instructions.RunCommand:
				line := strings.Join(c.CmdLine, " ")
				if !strings.Contains(line, "go build") {
					continue
				}
				b, problems := goBuild(line, args, env)
				for _, p := range problems {
					fail("stage %s: %s", s.Name, p)
				}
				outputs[strings.ToLower(s.Name)] = append(outputs[strings.ToLower(s.Name)], b.output)
				img.Packages = append(img.Packages, b.packages...)
			}
		}
	}
	if len(outputs) == 0 {
		fail("no build stage runs go build")
	}

	var copied []string // paths in the final image
	var user *instructions.UserCommand
	var entry *instructions.EntrypointCommand
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.CopyCommand:
			from := strings.ToLower(c.From)
			outs, ok := outputs[from]
			if !ok {
				fail("final stage: COPY %s from %q: want copies only from a build stage, of what its go build writes", strings.Join(c.SourcePaths, " "), c.From)
				continue
			}
			img.BuildStage = c.From
			img.Outputs = outs
			for _, src := range c.SourcePaths {
				if !contains(outs, path.Clean(src)) {
					fail("final stage: COPY --from=%s %s: the build stage writes %s, not that", c.From, src, strings.Join(outs, ", "))
				}
				dest := c.DestPath
				if strings.HasSuffix(dest, "/") {
					dest += path.Base(src)
				}
				copied = append(copied, path.Clean(dest))
			}
		case *instructions.AddCommand:
			fail("final stage: ADD %s: want only COPY --from the build stage", strings.Join(c.SourcePaths, " "))
		case *instructions.RunCommand:
			fail("final stage: RUN %s: the final image has no shell to run it", strings.Join(c.CmdLine, " "))
		case *instructions.UserCommand:
			user = c
		case *instructions.EntrypointCommand:
			entry = c
		}
	}

	if user == nil {
		fail("final stage: no USER: the image would run as root")
	} else if uid, gid, ok := strings.Cut(user.User, ":"); !numeric(uid) || (ok && !numeric(gid)) {
		fail("final stage: USER %s: want numeric ids (uid:gid), which Kubernetes' runAsNonRoot can verify", user.User)
	} else if uid == "0" || (ok && gid == "0") {
		fail("final stage: USER %s: want a user other than root", user.User)
	}

	switch {
	case entry == nil:
		fail("final stage: no ENTRYPOINT")
	case entry.PrependShell:
		fail("final stage: ENTRYPOINT %s is in shell form: a shell would be PID 1 and swallow SIGTERM; want [\"/evalrun\"]", strings.Join(entry.CmdLine, " "))
	case len(entry.CmdLine) == 0 || !contains(copied, path.Clean(entry.CmdLine[0])):
		fail("final stage: ENTRYPOINT %q: want the binary copied from the build stage (%s)", entry.CmdLine, strings.Join(copied, ", "))
	default:
		img.Binary = entry.CmdLine[0]
	}
	return img, errs
}

// build is what one go build command line says.
type build struct {
	output   string
	packages []string
}

var (
	ldflagsRE = regexp.MustCompile(`-ldflags[= ]+("[^"]*"|'[^']*'|\S+)`)
	stampRE   = regexp.MustCompile(`-X[= ]*(\S+)\.(Stamped|StampedCommit)=\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
)

// goBuild reads a RUN line's go build: its -o, its packages, and the
// settings a static, reproducible, stamped build needs.
func goBuild(line string, args map[string]bool, env map[string]string) (build, []string) {
	var b build
	var problems []string
	_, cmd, _ := strings.Cut(line, "go build")
	fields := strings.Fields(ldflagsRE.ReplaceAllString(cmd, ""))
	for i := 0; i < len(fields); i++ {
		switch f := fields[i]; {
		case f == "-o" && i+1 < len(fields):
			b.output = path.Clean(fields[i+1])
			i++
		case strings.HasPrefix(f, "-o="):
			b.output = path.Clean(strings.TrimPrefix(f, "-o="))
		case strings.HasPrefix(f, "./"):
			b.packages = append(b.packages, f)
		case f == "&&" || f == ";" || f == "\\":
			i = len(fields)
		}
	}
	if b.output == "" || !path.IsAbs(b.output) {
		problems = append(problems, fmt.Sprintf("go build -o %q: want an absolute output path for the final stage to copy", b.output))
	}
	if len(b.packages) == 0 {
		problems = append(problems, "go build names no package (./cmd/evalrun)")
	}
	if env["CGO_ENABLED"] != "0" && !strings.Contains(line, "CGO_ENABLED=0") {
		problems = append(problems, "go build without CGO_ENABLED=0: the binary would need a C library the final image lacks")
	}
	if !strings.Contains(cmd, "-trimpath") {
		problems = append(problems, "go build without -trimpath")
	}
	m := ldflagsRE.FindStringSubmatch(cmd)
	if m == nil {
		return b, append(problems, "go build without -ldflags stamping the version")
	}
	stamped := map[string]bool{}
	for _, s := range stampRE.FindAllStringSubmatch(m[1], -1) {
		pkg, name, arg := s[1], s[2], s[3]
		if pkg != VersionPackage {
			problems = append(problems, fmt.Sprintf("-X %s.%s: want %s.%s", pkg, name, VersionPackage, name))
		}
		if !args[arg] {
			problems = append(problems, fmt.Sprintf("-X ...%s=${%s}: no ARG %s is declared in the stage", name, arg, arg))
		}
		stamped[name] = true
	}
	for _, name := range []string{"Stamped", "StampedCommit"} {
		if !stamped[name] {
			problems = append(problems, fmt.Sprintf("-ldflags do not set %s.%s from a build argument", VersionPackage, name))
		}
	}
	return b, problems
}

func numeric(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Excluded returns those of files (slash-separated, relative to the build
// context) that a .dockerignore leaves out of the context, read with the
// pattern matcher docker and BuildKit use.
func Excluded(dockerignore []byte, files []string) ([]string, error) {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(dockerignore))
	if err != nil {
		return nil, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		ex, err := pm.MatchesOrParentMatches(f)
		if err != nil {
			return nil, err
		}
		if ex {
			out = append(out, f)
		}
	}
	return out, nil
}
