package k8s

import (
	"bytes"
	"strings"
	"testing"
)

// The merge Job names its test, so that records an earlier test left on
// the volume (a re-run into the same claim) are skipped, not merged.
func TestMergeJobNamesItsTest(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, spec()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i := strings.Index(out, "- merge\n")
	if i < 0 {
		t.Fatalf("no merge args in\n%s", out)
	}
	if args := out[i:]; !strings.Contains(args[:strings.Index(args, "- /records\n")], "- --test-id\n            - demo\n") {
		t.Errorf("the merge args do not pass --test-id demo:\n%s", args)
	}
}
