package suites

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinySuite = "provider: {type: opencx, base_url: sim}\nconversations:\n  - {name: a, turns: [{user: hi}]}\n"

func TestLoadRefusesLargeFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(tinySuite), 0o644); err != nil {
		t.Fatal(err)
	}
	// Sparse: 200 MiB on paper, nothing on disk. The loader must refuse it
	// from its size, before reading it.
	if err := os.Truncate(big, 200<<20); err != nil {
		t.Fatal(err)
	}
	want := big + ": cannot read: the file is 200 MiB, more than 10 MiB, the largest suite file evalrun reads; split it into several files"
	for _, paths := range [][]string{{big}, {dir}} {
		ss, err := LoadPaths(paths, Options{})
		if ss != nil || err == nil || err.Error() != want {
			t.Errorf("LoadPaths(%v) = %v, %v\nwant the error %s", paths, ss, err, want)
		}
	}

	// A file of exactly the limit is read.
	edge := filepath.Join(t.TempDir(), "edge.yaml")
	data := []byte(tinySuite + "#" + strings.Repeat("x", MaxFileSize-len(tinySuite)-2) + "\n")
	if err := os.WriteFile(edge, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPaths([]string{edge}, Options{}); err != nil {
		t.Errorf("a file of %d bytes: %v", len(data), err)
	}
}

func TestLoadPathsContext(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yaml", "c.yaml"} {
		src := strings.Replace(tinySuite, "turns: [{user: hi}]", "turns: [{user: \"${WORD}\"}]", 1)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ss, err := LoadPathsContext(ctx, []string{dir}, env(map[string]string{"WORD": "hi"}))
		if ss != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("LoadPathsContext = %v, %v; want context.Canceled", ss, err)
		}
	})

	t.Run("cancelled while loading", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		stop := errors.New("interrupted")
		reads := 0
		opts := Options{LookupEnv: func(string) (string, bool) {
			// The first file's ${WORD} stands for a signal arriving while it loads.
			reads++
			cancel(stop)
			return "hi", true
		}}
		ss, err := LoadPathsContext(ctx, []string{dir}, opts)
		if ss != nil || !errors.Is(err, stop) {
			t.Errorf("LoadPathsContext = %v, %v; want the cause %v", ss, err, stop)
		}
		if reads != 1 {
			t.Errorf("%d files read after the cancellation; want none after the first", reads-1)
		}
		var list ErrorList
		if errors.As(err, &list) {
			t.Errorf("a stopped load is reported as invalid suites: %v", err)
		}
	})
}
