// Package examples_test keeps the example suites loadable: a key the loader
// no longer accepts, or a typo in one, fails CI instead of a newcomer's first
// run. That quickstart.yaml also passes against the simulator is tested
// through the real command in cmd/evalrun.
package examples_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/evalrun/evalrun/suites"
)

// exampleEnv is every environment variable the examples may read. A variable
// outside it is an error, so an example cannot quietly depend on one that
// its comments do not tell the reader to set.
var exampleEnv = map[string]string{
	"OPENCX_API_KEY": "ocx_live_dummy",
	"TOOLZZ_TOKEN":   "toolzz_dummy",
	"TOOLZZ_BOT_ID":  "3fa85f64-5717-4562-b3fc-2c963f66afa6",
	"OPENAI_API_KEY": "sk-dummy",
}

// exampleFiles lists the suites in this folder. Sub-folders are left out on
// purpose: they may hold other YAML, such as Kubernetes manifests.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	slices.Sort(files)
	for _, want := range []string{"quickstart.yaml", "opencx.yaml", "toolzz.yaml", "rasa.yaml", "openai-compatible.yaml"} {
		if !slices.Contains(files, want) {
			t.Errorf("examples/%s is missing", want)
		}
	}
	return files
}

func lookupEnv(name string) (string, bool) {
	v, ok := exampleEnv[name]
	return v, ok
}

func TestExamplesLoad(t *testing.T) {
	for _, file := range exampleFiles(t) {
		t.Run(file, func(t *testing.T) {
			loaded, err := suites.LoadPaths([]string{file}, suites.Options{LookupEnv: lookupEnv})
			if err != nil {
				t.Fatalf("%v", err)
			}
			for _, s := range loaded {
				if len(s.Conversations) == 0 {
					t.Errorf("suite %q has no conversations", s.Name)
				}
				// A suite for a real service must take its token from the
				// environment: an example must never teach writing it inline.
				// Only an http bot may need none (Rasa's REST channel).
				tokenless := s.Provider.Type == suites.HTTP && s.Provider.Token.IsZero()
				_, simulated := suites.SimSpec(s.Provider.BaseURL)
				if !simulated && len(s.Provider.Token.Vars) == 0 && !tokenless {
					t.Errorf("suite %q talks to %s with no token from the environment", s.Name, s.Provider.BaseURL)
				}
			}
		})
	}
}
