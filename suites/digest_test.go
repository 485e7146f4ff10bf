package suites

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// digestSuite is a suite that reads a data file and a token from the
// environment; two documents, so that each has a digest of its own.
const digestSuite = `name: billing
provider: {type: opencx, base_url: sim, token: "${DIGEST_TOKEN}"}
conversations:
  - name: "refund {{order}}"
    data: orders.csv
    turns:
      - user: "refund {{order}}"
---
name: greeting
provider: {type: opencx, base_url: sim}
conversations:
  - name: hello
    turns:
      - user: hello
`

// digests writes the suite and its data file in a folder of its own and
// returns each suite's Digest by name.
func digests(t *testing.T, suite, data, token string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "billing.yaml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "orders.csv"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) { return token, k == "DIGEST_TOKEN" }
	ss, err := LoadPaths([]string{dir}, Options{LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range ss {
		if len(s.Digest) != 64 {
			t.Fatalf("suite %s: digest %q, want 64 hex digits", s.Name, s.Digest)
		}
		out[s.Name] = s.Digest
	}
	return out
}

// The digest is of the files' content: the same files elsewhere, or read
// with another token, have it; an edit to the suite or to its data file
// changes it; the documents of one file differ.
func TestSuiteDigest(t *testing.T) {
	const data = "order\nord_1\nord_2\n"
	base := digests(t, digestSuite, data, "tok-A")
	if base["billing"] == base["greeting"] {
		t.Errorf("two documents of one file share a digest %s", base["billing"])
	}
	if again := digests(t, digestSuite, data, "tok-B"); again["billing"] != base["billing"] || again["greeting"] != base["greeting"] {
		t.Errorf("another folder and token changed the digests: %v, then %v", base, again)
	}
	if d := digests(t, digestSuite, data+"ord_3\n", "tok-A"); d["billing"] == base["billing"] || d["greeting"] != base["greeting"] {
		t.Errorf("a row added to the data file: billing %s (was %s), greeting %s (was %s); want only billing's changed", d["billing"], base["billing"], d["greeting"], base["greeting"])
	}
	edited := strings.Replace(digestSuite, "user: hello", "user: hello there", 1)
	if d := digests(t, edited, data, "tok-A"); d["billing"] == base["billing"] || d["greeting"] == base["greeting"] {
		t.Errorf("an edit to the file kept a digest: %v, was %v", d, base)
	}
}
