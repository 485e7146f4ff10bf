package suites

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds Load arbitrary files, seeded with every fixture: it must
// never panic, and it returns a suite or an error, never both and never
// neither.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"good", "bad", "secret", "tree"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.y*ml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	opts := env(map[string]string{"OPENCX_API_KEY": "k", "TOOLZZ_TOKEN": "t{{x}}"})
	// One file per fuzzing process, rewritten for every input: inputs run
	// one after another within a process.
	path := filepath.Join(f.TempDir(), "suite.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ss, err := Load(path, opts)
		if (len(ss) == 0) == (err == nil) {
			t.Fatalf("Load returned %d suites and error %v", len(ss), err)
		}
		if err != nil {
			for _, e := range err.(ErrorList) {
				if e.Pos.File != path || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Msg == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
		}
	})
}
