package baseline

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures are a record of examples/quickstart.yaml run against the
// simulator (testdata/quickstart.json), with latencies scaled up so they
// can be told apart, and copies of it edited by hand: regressed.json (a
// later run), other-suites.json (the same conversations under other suite
// names), and bad/ (each something Read must refuse).

func TestReadGood(t *testing.T) {
	run, err := Read(filepath.Join("testdata", "quickstart.json"))
	if err != nil {
		t.Fatal(err)
	}
	if run.RunID == "" || len(run.Conversations) != 6 || len(run.Suites) != 2 {
		t.Fatalf("read run %q with %d conversations and %d suites", run.RunID, len(run.Conversations), len(run.Suites))
	}
}

// TestReadRefuses pins the refusal of every kind of file that is not a
// usable baseline: each error names the file and says what is wrong.
func TestReadRefuses(t *testing.T) {
	tests := []struct {
		file string
		want []string // all must appear in the error
	}{
		{"empty.json", []string{"empty file", "evalrun run --json"}},
		{"not-json.txt", []string{"not-json.txt:1:1: not JSON", "invalid character '<'"}},
		{"truncated.json", []string{"not JSON", "ends in the middle", "cut short"}},
		{"trailing.json", []string{"not JSON", "more after the end"}},
		{"array.json", []string{"not an evalrun record", "holds an array"}},
		{"null.json", []string{"not an evalrun record", "holds null"}},
		{"schema-missing.json", []string{"no \"schema\" field", "evalrun/v1"}},
		{"schema-number.json", []string{"\"schema\" is a number"}},
		{"schema-v0.json", []string{"schema evalrun/v0", "older evalrun", "reads evalrun/v1"}},
		{"schema-v2.json", []string{"schema evalrun/v2", "newer evalrun", "reads evalrun/v1"}},
		{"schema-foreign.json", []string{"not an evalrun record", `"k6/summary"`, "reads evalrun/v1"}},
		{"load.json", []string{"load run", "only a sample", "evalrun run"}},
		{"no-conversations.json", []string{"holds no conversations"}},
		{"conversations-missing.json", []string{"holds no conversations"}},
		{"null-conversation.json", []string{"conversation 3 is null"}},
		{"null-turn.json", []string{`"refund with ticket follow-up"`, "turn 2 is null"}},
		{"no-name.json", []string{"conversation 1", "has no name"}},
		{"unknown-status.json", []string{`status "timeout"`, "passed, failed"}},
		{"duplicate-conversation.json", []string{"conversations 1 and 7", `"greeting"`, `"quickstart"`}},
		{"duplicate-member.json", []string{"duplicate-member.json:49:7", `"status" appears twice`}},
		{"wrong-type.json", []string{"wrong-type.json:61:22", "conversations.turns is a JSON string, want an array"}},
		{"trailing.json", []string{"trailing.json:542:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			run, err := Read(path)
			if err == nil {
				t.Fatalf("read %s without error", path)
			}
			if run != nil {
				t.Errorf("returned a record and error %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+":") {
				t.Errorf("error %q does not start with the file", msg)
			}
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	path := filepath.Join("testdata", "no-such-file.json")
	_, err := Read(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one that is fs.ErrNotExist and names %s", err, path)
	}
}
