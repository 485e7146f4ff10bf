package baseline

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

// textComparison is a comparison with something on every kind of line.
func textComparison() *results.Comparison {
	c := &results.Comparison{
		BaselineRunID: "r1",
		Regressed: []results.Change{{Suite: "s", Name: "evil\x1b[2Jname", Was: results.Passed, Now: results.Failed,
			Turn: 1, Check: "contains", Detail: "turn 1: contains fails: the reply was \"line one\nline two\x1b[31m\""}},
		Fixed: []results.Change{{Suite: "s", Name: "mended", Was: results.Errored, Now: results.Passed, Detail: "turn 2: the bot answers now"}},
		New: []results.Change{
			{Suite: "s", Name: "new and failing", Now: results.Failed, Detail: "turn 1: equals fails: got hi"},
			{Suite: "s", Name: "new and passing", Now: results.Passed},
		},
		Unchanged: 3,
		Notes:     []string{"1 suite is only in the baseline: \"old\""},
	}
	for i := range 10 {
		c.Latency = append(c.Latency, results.LatencyChange{Index: i + 1,
			Was: results.Percentiles{P95: 100}, Now: results.Percentiles{P95: 125}, P95Change: 0.25})
	}
	return c
}

func TestWriteText(t *testing.T) {
	c := textComparison()
	var b strings.Builder
	if err := WriteText(&b, c, 0); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{
		"baseline run r1: 1 regressed, 1 fixed, 2 new, 0 removed, 0 still failing, 0 not compared, 3 unchanged",
		"  regressed  s / evil [2Jname (passed -> failed): turn 1: contains fails: the reply was \"line one line two [31m\"",
		"  fixed      s / mended (errored -> passed): turn 2: the bot answers now",
		"  new        s / new and failing (failed): turn 1: equals fails: got hi",
		"  p95 latency: turn 1 100ms -> 125ms (+25%), turn 2 100ms -> 125ms (+25%), turn 3 100ms -> 125ms (+25%), turn 4 100ms -> 125ms (+25%), " +
			"turn 5 100ms -> 125ms (+25%), turn 6 100ms -> 125ms (+25%), turn 7 100ms -> 125ms (+25%), turn 8 100ms -> 125ms (+25%), 2 more in the record",
		"  note: 1 suite is only in the baseline: \"old\"",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, lines[i], want[i])
		}
	}
	if strings.ContainsRune(out, '\x1b') {
		t.Error("an escape character reached the terminal")
	}
}

// The block under the table wraps to the terminal, as the table's details
// do: every line fits, and no word is lost.
func TestWriteTextWraps(t *testing.T) {
	var whole strings.Builder
	if err := WriteText(&whole, textComparison(), 0); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1, 5, 20, 40, 80, 120} {
		var b strings.Builder
		if err := WriteText(&b, textComparison(), width); err != nil {
			t.Fatal(err)
		}
		out := strings.TrimSuffix(b.String(), "\n")
		for i, line := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("width %d: line %d is %d columns: %q", width, i+1, n, line)
			}
		}
		if width >= 20 && strings.Join(strings.Fields(out), " ") != strings.Join(strings.Fields(whole.String()), " ") {
			t.Errorf("width %d: the wrapped text differs from the whole:\n%s", width, out)
		}
	}
}

func TestWriteTextNothing(t *testing.T) {
	var b strings.Builder
	if err := WriteText(&b, nil, 0); err != nil || b.Len() != 0 {
		t.Errorf("WriteText(nil) wrote %q, %v", b.String(), err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTextError(t *testing.T) {
	if err := WriteText(failingWriter{}, &results.Comparison{}, 0); err == nil {
		t.Error("a write error was lost")
	}
}
