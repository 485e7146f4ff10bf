package k8s

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func spec() Spec {
	return Spec{
		TestID: "demo", Shards: 4, Image: "img:1", Secret: "evalrun",
		Suite:   File{Path: "load.yaml", Data: []byte("name: x\n")},
		StartAt: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		Lead:    2 * time.Minute, Window: 10 * time.Second, Grace: 10 * time.Second,
	}
}

func TestTestIDFor(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 5, 0, time.FixedZone("CET", 3600))
	for name, want := range map[string]string{
		"load-demo":                "load-demo-20261201-110005",
		"Checkout: Black Friday!":  "checkout-black-friday-20261201-110005",
		"":                         "load-20261201-110005",
		"日本":                       "load-20261201-110005",
		strings.Repeat("abc ", 20): "abc-abc-abc-abc-abc-abc-20261201-110005",
	} {
		got := TestIDFor(name, start)
		if got != want {
			t.Errorf("TestIDFor(%q) = %q, want %q", name, got, want)
		}
		if err := CheckTestID(got); err != nil {
			t.Errorf("TestIDFor(%q) = %q, which CheckTestID refuses: %v", name, got, err)
		}
	}
}

func TestCheckTestID(t *testing.T) {
	for _, ok := range []string{"a", "load-demo", "t1-4", strings.Repeat("a", MaxTestID)} {
		if err := CheckTestID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "Load", "a_b", "a.b", "a/b", strings.Repeat("a", MaxTestID+1)} {
		if err := CheckTestID(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]bool{
		"rows.csv": true, "data/rows.csv": true,
		"": false, ".": false, "..": false, "../rows.csv": false, "/etc/passwd": false,
		"data/../rows.csv": false, "./rows.csv": false, `data\rows.csv`: false,
	} {
		if got := localPath(p); got != want {
			t.Errorf("localPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestCheck: what cannot be rendered is refused with the flag or file that
// says it.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		change func(*Spec)
		want   string
	}{
		{func(s *Spec) { s.Shards = 0 }, "--shards 0"},
		{func(s *Spec) { s.Shards = MaxShards + 1 }, "--shards 1001"},
		{func(s *Spec) { s.TestID = "Demo" }, "test id"},
		{func(s *Spec) { s.Image = "" }, "image"},
		{func(s *Spec) { s.Namespace = "Perf" }, "--namespace"},
		{func(s *Spec) { s.Secret = "a b" }, "--secret"},
		{func(s *Spec) { s.RecordsClaim = "-x" }, "--records-claim"},
		{func(s *Spec) { s.StorageClass = "Fast_RWX" }, "--storage-class"},
		{func(s *Spec) { s.StorageClass, s.RecordsClaim = "nfs", "mine" }, "keep one"},
		{func(s *Spec) { s.Suite.Path = "my suite.yaml" }, "ConfigMap key"},
		{func(s *Spec) { s.Data = []File{{Path: "../x.csv"}} }, "data file"},
		{func(s *Spec) { s.Suite.Data = make([]byte, MaxConfigMapBytes+1) }, "at most"},
		{func(s *Spec) { s.Window = 0 }, "must last"},
	} {
		s := spec()
		tc.change(&s)
		if err := s.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want one saying %q", err, tc.want)
		}
		if err := Render(&bytes.Buffer{}, s); err == nil {
			t.Errorf("Render rendered what Check refuses (%q)", tc.want)
		}
	}
	if err := spec().Check(); err != nil {
		t.Errorf("a good spec: %v", err)
	}
}

// TestWaitsAndDeadlines: the shards are stopped before the merge stops
// waiting, so it sees the records they write when stopped, and the merge
// Job's deadline leaves it time to merge after its wait.
func TestWaitsAndDeadlines(t *testing.T) {
	s := spec()
	s.Lead = 90*time.Second + 300*time.Millisecond
	if got, want := s.MergeWait(), 3*time.Minute+51*time.Second; got != want {
		t.Errorf("MergeWait %v, want %v (lead + window + grace + 2m, whole seconds up)", got, want)
	}
	if s.loadDeadline() >= s.MergeWait() {
		t.Errorf("the shards' deadline %v is not before the merge's wait %v", s.loadDeadline(), s.MergeWait())
	}
}

// TestRenderIsYAMLWithComments: the stream parses, its objects in order,
// and the comments that say why are where a reader looks.
func TestRenderIsYAMLWithComments(t *testing.T) {
	s := spec()
	s.Data = []File{{Path: "data/rows.csv", Data: []byte("a\n1\n")}}
	var buf bytes.Buffer
	if err := Render(&buf, s); err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(&buf)
	var kinds []string
	for {
		var d struct{ Kind string }
		if err := dec.Decode(&d); err != nil {
			break
		}
		kinds = append(kinds, d.Kind)
	}
	if got := strings.Join(kinds, " "); got != "ConfigMap PersistentVolumeClaim Job Job" {
		t.Errorf("kinds %s", got)
	}
	if strings.Contains(buf.String(), "storageClassName") {
		t.Errorf("a storage class rendered although none was named")
	}
	s.StorageClass = "nfs-rwx"
	buf.Reset()
	if err := Render(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\n  storageClassName: nfs-rwx\n") {
		t.Errorf("the claim has no storageClassName nfs-rwx:\n%s", buf.String())
	}
	s.StorageClass = ""
	s.RecordsClaim = "mine"
	buf.Reset()
	if err := Render(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"# Rendered at 2026-12-01T11:58:00Z, 2m0s before the start",
		"  # A shard is never run again",
		"claimName: mine",
		"data-1-rows.csv: |",
		"path: data/rows.csv",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the render has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "kind: PersistentVolumeClaim") {
		t.Errorf("a claim rendered although RecordsClaim names one")
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four five", 9)
	if want := "one two\nthree\nfour five"; got != want {
		t.Errorf("wrap: %q, want %q", got, want)
	}
}
