package imagecheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repo is the repository root, which holds the Dockerfile.
const repo = "../.."

func readDockerfile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDockerfile: the repository's Dockerfile is the image evalrun needs.
func TestDockerfile(t *testing.T) {
	img, errs := Check([]byte(readDockerfile(t)))
	for _, err := range errs {
		t.Error(err)
	}
	if img.Binary != "/evalrun" {
		t.Errorf("entrypoint %q, want /evalrun", img.Binary)
	}
	if strings.Join(img.Packages, " ") != "./cmd/evalrun" {
		t.Errorf("builds %q, want ./cmd/evalrun", img.Packages)
	}
}

// TestDockerfileStampsWhatExists: the variables -X sets exist in the
// version package, as plain string variables (-X sets nothing else, and
// says nothing when the name is wrong).
func TestDockerfileStampsWhatExists(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repo, "internal", "version", "version.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Stamped", "StampedCommit"} {
		if !regexp.MustCompile(`(?m)^var ` + name + ` string$`).Match(src) {
			t.Errorf("internal/version has no `var %s string` for -X to set", name)
		}
	}
}

// TestBuildContextHoldsTheSources: the build copies the context after
// .dockerignore; every file go build needs for the packages the Dockerfile
// builds (the Go files, embedded files, go.mod and go.sum) must be in it.
func TestBuildContextHoldsTheSources(t *testing.T) {
	img, _ := Check([]byte(readDockerfile(t)))
	if len(img.Packages) == 0 {
		t.Fatal("the Dockerfile builds nothing")
	}
	ignore, err := os.ReadFile(filepath.Join(repo, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"list", "-deps", "-f", `{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}`}, img.Packages...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if rel, err := filepath.Rel(root, line); err == nil && !strings.HasPrefix(rel, "..") {
			files = append(files, filepath.ToSlash(rel))
		}
	}
	if len(files) < 10 {
		t.Fatalf("go list found only %v", files)
	}
	excluded, err := Excluded(ignore, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range excluded {
		t.Errorf(".dockerignore leaves out %s, which the build needs", f)
	}
	// And the check sees an exclusion: .git must stay out.
	if ex, _ := Excluded(ignore, []string{".git/HEAD"}); len(ex) != 1 {
		t.Errorf(".dockerignore lets .git into the build context")
	}
}

// TestCheckRefuses: each way of getting the image wrong is caught, so that
// TestDockerfile passing means something.
func TestCheckRefuses(t *testing.T) {
	good := readDockerfile(t)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"one stage", "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/evalrun /evalrun\n", "", "stage(s)"},
		{"shell entrypoint", `ENTRYPOINT ["/evalrun"]`, `ENTRYPOINT /evalrun`, "shell form"},
		{"entrypoint not copied", `ENTRYPOINT ["/evalrun"]`, `ENTRYPOINT ["/usr/bin/evalrun"]`, "want the binary copied"},
		{"root", "USER 65532:65532", "USER 0:0", "other than root"},
		{"named user", "USER 65532:65532", "USER nonroot", "numeric"},
		{"no user", "USER 65532:65532\n", "", "no USER"},
		{"copy what was not built", "COPY --from=build /out/evalrun /evalrun", "COPY --from=build /go/bin/evalrun /evalrun", "not that"},
		{"copy from the context", "COPY --from=build /out/evalrun /evalrun", "COPY --from=build /out/evalrun /evalrun\nCOPY README.md /", "only from a build stage"},
		{"fat base", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:12", "want scratch or gcr.io/distroless/static"},
		{"cgo", "ENV CGO_ENABLED=0\n", "", "CGO_ENABLED=0"},
		{"no trimpath", "-trimpath ", "", "-trimpath"},
		{"no stamp", "-X github.com/evalrun/evalrun/internal/version.StampedCommit=${COMMIT}", "", "StampedCommit from a build argument"},
		{"undeclared arg", "ARG COMMIT=\n", "", "no ARG COMMIT"},
		{"wrong package", "github.com/evalrun/evalrun/internal/version.Stamped=", "github.com/evalrun/evalrun/version.Stamped=", "want github.com/evalrun/evalrun/internal/version.Stamped"},
		{"run in final", `USER 65532:65532`, "RUN [\"/evalrun\", \"version\"]\nUSER 65532:65532", "no shell"},
		{"lint", "FROM golang:1.26 AS build", "FROM golang:1.26 as build", "lint FromAsCasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the Dockerfile has no %q to change", tc.old)
			}
			_, errs := Check([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("errors %q, want one saying %q", msgs, tc.want)
			}
		})
	}
}
