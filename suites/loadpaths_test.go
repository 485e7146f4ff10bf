package suites

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func suiteNames(ss []*Suite) []string {
	var names []string
	for _, s := range ss {
		names = append(names, s.Name+"@"+s.File)
	}
	return names
}

func TestLoadPaths(t *testing.T) {
	tree := filepath.Join("testdata", "tree")
	sim := filepath.Join("testdata", "good", "sim.yml")
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(sim)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link.yaml")
	if err := os.Symlink(abs, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	tests := []struct {
		name  string
		paths []string
		want  []string // suites, or the error lines when wantErr
		err   bool
	}{
		{
			name:  "folder: recursive, sorted, hidden, non-YAML and Kubernetes manifest files skipped",
			paths: []string{tree},
			want:  []string{"a@" + filepath.Join(tree, "a.yaml"), "b@" + filepath.Join(tree, "sub", "b.yml")},
		},
		{
			name:  "files and folders in the order given",
			paths: []string{sim, tree},
			want:  []string{"sim@" + sim, "a@" + filepath.Join(tree, "a.yaml"), "b@" + filepath.Join(tree, "sub", "b.yml")},
		},
		{
			name:  "a manifest named on its own is loaded, and refused",
			paths: []string{filepath.Join(tree, "manifests", "job.yaml")},
			want: []string{
				filepath.Join(tree, "manifests", "job.yaml") + `:1:1: unknown key "apiVersion" in the suite; want one of name, provider, judge, defaults, vars, conversations, load, thresholds`,
				filepath.Join(tree, "manifests", "job.yaml") + `:1:1: missing provider: add provider with type: http or opencx or toolzz`,
				filepath.Join(tree, "manifests", "job.yaml") + `:1:1: missing conversations: add a list of conversations, each with a name and turns`,
				filepath.Join(tree, "manifests", "job.yaml") + `:2:1: unknown key "kind" in the suite; want one of name, provider, judge, defaults, vars, conversations, load, thresholds`,
				filepath.Join(tree, "manifests", "job.yaml") + `:3:1: unknown key "metadata" in the suite; want one of name, provider, judge, defaults, vars, conversations, load, thresholds`,
			},
			err: true,
		},
		{
			name:  "a file named twice loads once",
			paths: []string{sim, "./" + sim},
			want:  []string{"sim@" + sim},
		},
		{
			name:  "a file named relative and absolute loads once",
			paths: []string{sim, abs},
			want:  []string{"sim@" + sim},
		},
		{
			name:  "a file and a symlink to it load once",
			paths: []string{sim, link},
			want:  []string{"sim@" + sim},
		},
		{
			name:  "a folder walk meets a symlink to a file named first",
			paths: []string{sim, filepath.Dir(link)},
			want:  []string{"sim@" + sim},
		},
		{
			name:  "missing path",
			paths: []string{tree, filepath.Join("testdata", "nope.yaml")},
			want:  []string{filepath.Join("testdata", "nope.yaml") + ": cannot read: no such file or folder"},
			err:   true,
		},
		{
			name:  "folder without suites",
			paths: []string{empty},
			want:  []string{empty + ": no suite files (*.yaml, *.yml) in this folder"},
			err:   true,
		},
		{
			name:  "errors of every file, sorted by file",
			paths: []string{filepath.Join("testdata", "bad", "missing_provider.yaml"), tree, filepath.Join("testdata", "bad", "empty.yaml")},
			want: []string{
				filepath.Join("testdata", "bad", "empty.yaml") + ":1:1: the file is empty; want a suite with provider and conversations",
				filepath.Join("testdata", "bad", "missing_provider.yaml") + ":1:1: missing provider: add provider with type: http or opencx or toolzz",
			},
			err: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, err := LoadPaths(tt.paths, Options{})
			if tt.err {
				if ss != nil {
					t.Errorf("suites %v returned with an error", suiteNames(ss))
				}
				if err == nil || err.Error() != strings.Join(tt.want, "\n") {
					t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := suiteNames(ss); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("suites = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	s, err := loadOne(filepath.Join("testdata", "nope.yaml"), Options{})
	if s != nil || err == nil || err.Error() != filepath.Join("testdata", "nope.yaml")+": cannot read: no such file or folder" {
		t.Errorf("Load = %v, %v", s, err)
	}
}

// writeTree writes files (path -> content) under a new temporary folder and
// returns the folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDefaultNamesAreUnique(t *testing.T) {
	named := func(name string) string { return "name: " + name + "\n" + tinySuite }
	tests := []struct {
		name  string
		files map[string]string
		args  []string // relative to the folder; "" for the folder itself
		want  []string // suite names in load order
	}{
		{
			name:  "two smoke.yaml in different folders",
			files: map[string]string{"billing/smoke.yaml": tinySuite, "support/smoke.yaml": tinySuite, "unique.yaml": tinySuite},
			args:  []string{""},
			want:  []string{"billing/smoke", "support/smoke", "unique"},
		},
		{
			name:  "named one by one on the command line",
			files: map[string]string{"billing/smoke.yaml": tinySuite, "support/smoke.yaml": tinySuite},
			args:  []string{"support/smoke.yaml", "billing/smoke.yaml"},
			want:  []string{"support/smoke", "billing/smoke"},
		},
		{
			name:  "one at the top, one deeper",
			files: map[string]string{"smoke.yaml": tinySuite, "teams/billing/smoke.yaml": tinySuite},
			args:  []string{""},
			want:  []string{"smoke", "teams/billing/smoke"},
		},
		{
			name:  "same base name, different extensions",
			files: map[string]string{"smoke.yaml": tinySuite, "smoke.yml": tinySuite},
			args:  []string{""},
			want:  []string{"smoke.yaml", "smoke.yml"},
		},
		{
			name:  "documents keep their number",
			files: map[string]string{"a/smoke.yaml": tinySuite + "---\n" + tinySuite, "b/smoke.yaml": tinySuite},
			args:  []string{""},
			want:  []string{"a/smoke", "a/smoke-2", "b/smoke"},
		},
		{
			name:  "a default that an explicit name takes gives way",
			files: map[string]string{"a.yaml": named("smoke"), "b/smoke.yaml": tinySuite},
			args:  []string{""},
			want:  []string{"smoke", "b/smoke"},
		},
		{
			name:  "a unique base name is kept",
			files: map[string]string{"billing/smoke.yaml": tinySuite, "support/other.yaml": tinySuite},
			args:  []string{""},
			want:  []string{"smoke", "other"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			var paths []string
			for _, a := range tt.args {
				paths = append(paths, filepath.Join(dir, filepath.FromSlash(a)))
			}
			ss, err := LoadPaths(paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range ss {
				got = append(got, s.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDuplicateSuiteNamesAcrossFiles(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a.yaml":     "name: same\n" + tinySuite,
		"sub/b.yaml": "# the same name again\nname:   same\n" + tinySuite,
		"c.yaml":     "name: other\n" + tinySuite,
	})
	ss, err := LoadPaths([]string{dir}, Options{})
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "sub", "b.yaml")
	want := b + `:2:9: duplicate suite name "same": ` + a + `:1:7 has it too; suite names must be unique across a run, since reports and baselines tell suites apart by name`
	if ss != nil || err == nil || err.Error() != want {
		t.Errorf("LoadPaths = %v, %v\nwant the error %s", suiteNames(ss), err, want)
	}
}

func TestLoadPathsHardLinkLoadsOnce(t *testing.T) {
	dir := writeTree(t, map[string]string{"q.yaml": "name: q\n" + tinySuite})
	q, twin := filepath.Join(dir, "q.yaml"), filepath.Join(dir, "twin.yaml")
	if err := os.Link(q, twin); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	ss, err := LoadPaths([]string{q, twin}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := suiteNames(ss); len(got) != 1 || got[0] != "q@"+q {
		t.Errorf("suites = %v, want only q@%s", got, q)
	}
}
