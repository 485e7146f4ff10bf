package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/load"
	"gopkg.in/yaml.v3"
)

var updateExample = flag.Bool("update", false, "rewrite examples/k8s/rendered.yaml from the command")

// renderedExample is the checked-in render that examples/k8s/README.md
// shows, and the flags it was rendered with; the clock is fixed two
// minutes before --start-at.
const renderedExample = "../../examples/k8s/rendered.yaml"

var renderedExampleArgs = []string{
	"--shards", "4", "--suite", "../../examples/load.yaml", "--test-id", "load-demo",
	"--start-at", "2026-12-01T12:00:00Z", "--image", defaultImage + ":latest",
}

var exampleNow = time.Date(2026, 12, 1, 11, 58, 0, 0, time.UTC)

// renderK8s runs `evalrun k8s manifests args...` in process with the clock
// at now.
func renderK8s(t *testing.T, now time.Time, args ...string) (int, string, string) {
	t.Helper()
	o := k8sFlags{set: map[string]bool{}}
	fs := k8sFlagSet(&o)
	streams, out, errOut := term.Test()
	code, err := withFlags(fs, args, streams, "k8s manifests", func(rest []string) (int, error) {
		fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
		o.now = func() time.Time { return now }
		return o.run(context.Background(), rest, streams)
	})
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return code, out.String(), errOut.String()
}

// TestK8sExampleIsCurrent: the manifests in examples/k8s are the
// command's output, not a copy that drifts from it.
func TestK8sExampleIsCurrent(t *testing.T) {
	code, got, errOut := renderK8s(t, exampleNow, renderedExampleArgs...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if *updateExample {
		if err := os.WriteFile(renderedExample, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(renderedExample)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/evalrun -run TestK8sExampleIsCurrent -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s is not what the command renders now (go test ./cmd/evalrun -run TestK8sExampleIsCurrent -update rewrites it); got:\n%s", renderedExample, got)
	}
}

// docs splits a rendered stream into its objects, as generic YAML.
func docs(t *testing.T, stream string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(stream))
	var out []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("%v\n%s", err, stream)
		}
		out = append(out, d)
	}
}

// dig follows keys (and list indexes) into a decoded document.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			l, _ := v.([]any)
			if p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

func byKind(t *testing.T, ds []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, d := range ds {
		if d["kind"] == kind && dig(d, "metadata", "name") == name {
			return d
		}
	}
	t.Fatalf("no %s %s among the objects", kind, name)
	return nil
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestK8sManifestsStartTogetherAndWaitForAll: with the default start delay
// the shards start two minutes (whole seconds) from now, and the merge
// waits for the lead, the workload's window and grace, and a margin.
func TestK8sManifestsStartTogetherAndWaitForAll(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 500_000_000, time.UTC)
	code, out, errOut := renderK8s(t, now, "--shards", "3", "--suite", "../../examples/load.yaml", "--test-id", "t1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ds := docs(t, out)
	loadArgs := strs(dig(byKind(t, ds, "Job", "evalrun-load-t1"), "spec", "template", "spec", "containers", 0, "args"))
	want := []string{"load", "--shard", "$(JOB_COMPLETION_INDEX)/3", "--test-id", "t1", "--start-at", "2026-12-01T09:02:01Z",
		"--no-progress", "--json", "/records/shard-$(JOB_COMPLETION_INDEX).json", "/suite/load.yaml"}
	if strings.Join(loadArgs, " ") != strings.Join(want, " ") {
		t.Errorf("load args\n%q\nwant\n%q", loadArgs, want)
	}
	// examples/load.yaml: 10s of starts, 10s of grace; the lead is 2m0.5s.
	mergeArgs := strings.Join(strs(dig(byKind(t, ds, "Job", "evalrun-merge-t1"), "spec", "template", "spec", "containers", 0, "args")), " ")
	if !strings.Contains(mergeArgs, "merge --expect 3 --wait 4m21s ") || !strings.HasSuffix(mergeArgs, " /records") {
		t.Errorf("merge args: %s", mergeArgs)
	}
	if !strings.Contains(errOut, "2026-12-01T09:02:01Z") || !strings.Contains(errOut, "job/evalrun-merge-t1") {
		t.Errorf("stderr does not say when the shards start and which job gives the verdict: %s", errOut)
	}
	// The suite's content goes into the ConfigMap as it is.
	suite, _ := os.ReadFile("../../examples/load.yaml")
	if got := dig(byKind(t, ds, "ConfigMap", "evalrun-suite-t1"), "data", "load.yaml"); got != string(suite) {
		t.Errorf("ConfigMap holds %q", got)
	}
}

// TestK8sManifestsDeriveATestID: without --test-id the id is the suite's
// name and the start time, so two launches do not share records.
func TestK8sManifestsDeriveATestID(t *testing.T) {
	code, out, errOut := renderK8s(t, exampleNow, "--shards", "2", "--suite", "../../examples/load.yaml", "--start-delay", "90s")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	byKind(t, docs(t, out), "Job", "evalrun-load-load-demo-20261201-115930")
}

// TestK8sManifestsSecretAndClaim: --secret "" leaves no reference, and
// --records-claim replaces the rendered claim.
func TestK8sManifestsSecretAndClaim(t *testing.T) {
	code, out, errOut := renderK8s(t, exampleNow, append(renderedExampleArgs, "--secret", "", "--records-claim", "shared-records", "--namespace", "perf")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ds := docs(t, out)
	for _, d := range ds {
		if d["kind"] == "PersistentVolumeClaim" {
			t.Errorf("a claim was rendered although --records-claim names one")
		}
		if dig(d, "metadata", "namespace") != "perf" {
			t.Errorf("%s %s is not in namespace perf", d["kind"], dig(d, "metadata", "name"))
		}
	}
	job := byKind(t, ds, "Job", "evalrun-load-load-demo")
	if v := dig(job, "spec", "template", "spec", "containers", 0, "envFrom"); v != nil {
		t.Errorf("envFrom %v with --secret \"\"", v)
	}
	if v := dig(job, "spec", "template", "spec", "volumes", 1, "persistentVolumeClaim", "claimName"); v != "shared-records" {
		t.Errorf("records claim %v", v)
	}
}

// TestK8sManifestsStorageClass: --storage-class names the rendered
// claim's class; without it the claim has none, the cluster's default.
func TestK8sManifestsStorageClass(t *testing.T) {
	for class, want := range map[string]any{"": nil, "efs-rwx": "efs-rwx"} {
		args := renderedExampleArgs
		if class != "" {
			args = append(slices.Clone(args), "--storage-class", class)
		}
		code, out, errOut := renderK8s(t, exampleNow, args...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if got := dig(byKind(t, docs(t, out), "PersistentVolumeClaim", "evalrun-records"), "spec", "storageClassName"); got != want {
			t.Errorf("--storage-class %q: storageClassName %v, want %v", class, got, want)
		}
	}
}

// TestK8sManifestsShipDataFiles: a suite that reads a data file gets it
// beside itself in the pods, at the path it wrote.
func TestK8sManifestsShipDataFiles(t *testing.T) {
	dir := t.TempDir()
	mkdir(t, filepath.Join(dir, "data"))
	writeFile(t, filepath.Join(dir, "data", "orders.csv"), "order\nord_1\nord_2\n")
	suite := filepath.Join(dir, "orders.yaml")
	writeFile(t, suite, `name: orders
provider: {type: opencx, base_url: sim}
load: {rate: 2, duration: 2s}
conversations:
  - name: status
    data: data/orders.csv
    turns:
      - user: "What is the status of {{order}}?"
`)
	code, out, errOut := renderK8s(t, exampleNow, "--shards", "2", "--suite", suite, "--test-id", "orders")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ds := docs(t, out)
	if got := dig(byKind(t, ds, "ConfigMap", "evalrun-suite-orders"), "data", "data-1-orders.csv"); got != "order\nord_1\nord_2\n" {
		t.Errorf("data file in the ConfigMap: %q", got)
	}
	items := dig(byKind(t, ds, "Job", "evalrun-load-orders"), "spec", "template", "spec", "volumes", 0, "configMap", "items")
	if dig(items, 1, "path") != "data/orders.csv" || dig(items, 0, "path") != "orders.yaml" {
		t.Errorf("volume items %v", items)
	}
}

// TestK8sManifestsRefuse: what every pod would refuse, or what cannot be
// rendered, is refused before anything is applied: exit 2, saying why.
func TestK8sManifestsRefuse(t *testing.T) {
	dir := t.TempDir()
	vus := filepath.Join(dir, "vus.yaml")
	writeFile(t, vus, "name: few\nprovider: {type: opencx, base_url: sim}\nload: {vus: 3, duration: 5s}\nconversations:\n  - name: a\n    turns: [{user: hi}]\n")
	broken := filepath.Join(dir, "broken.yaml")
	writeFile(t, broken, "name: broken\nprovider: {type: opencx, base_url: sim}\nconversations: nope\n")
	mkdir(t, filepath.Join(dir, "sub"))
	outside := filepath.Join(dir, "sub", "outside.yaml")
	writeFile(t, filepath.Join(dir, "rows.csv"), "x\n1\n")
	writeFile(t, outside, "name: outside\nprovider: {type: opencx, base_url: sim}\nload: {rate: 2, duration: 1s}\nconversations:\n  - name: a\n    data: ../rows.csv\n    turns: [{user: \"{{x}}\"}]\n")
	load := "../../examples/load.yaml"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no shards", []string{"--suite", load}, "--shards N is required"},
		{"zero shards", []string{"--suite", load, "--shards", "0"}, "--shards 0: want the number of pods, 1 to 1000"},
		{"too many shards", []string{"--suite", load, "--shards", "1001"}, "1 to 1000"},
		{"no suite", []string{"--shards", "2"}, "--suite FILE is required"},
		{"a folder", []string{"--shards", "2", "--suite", dir}, "want a suite file"},
		{"no load section", []string{"--shards", "2", "--suite", "../../examples/quickstart.yaml"}, "say how much load"},
		{"suite does not load", []string{"--shards", "2", "--suite", broken}, "broken.yaml:3"},
		{"fewer users than shards", []string{"--shards", "4", "--suite", vus}, "3 virtual users cannot be split into 4 shards"},
		{"data outside the folder", []string{"--shards", "2", "--suite", outside, "--test-id", "x"}, "outside its folder"},
		{"start in the past", []string{"--shards", "2", "--suite", load, "--start-at", "2026-12-01T11:00:00Z"}, "in the past"},
		{"start not a time", []string{"--shards", "2", "--suite", load, "--start-at", "tomorrow"}, "RFC 3339"},
		{"start from now", []string{"--shards", "2", "--suite", load, "--start-at", "+30s"}, "use --start-delay 30s"},
		{"start a day and more ahead", []string{"--shards", "2", "--suite", load, "--start-at", "2026-12-02T18:00:00Z"}, "want at most 24h0m0s ahead"},
		{"start more than a day in the past", []string{"--shards", "2", "--suite", load, "--start-at", "2026-11-29T11:58:00Z"}, "in the past"},
		{"delay a day and more", []string{"--shards", "2", "--suite", load, "--start-delay", "30h"}, "--start-delay 30h0m0s: want at most 24h0m0s"},
		{"two starts", []string{"--shards", "2", "--suite", load, "--start-at", "2026-12-01T12:00:00Z", "--start-delay", "1m"}, "exclude each other"},
		{"bad test id", []string{"--shards", "2", "--suite", load, "--test-id", "Load_Demo"}, "lower-case letters"},
		{"long test id", []string{"--shards", "2", "--suite", load, "--test-id", strings.Repeat("a", 41)}, "at most 40"},
		{"bad claim", []string{"--shards", "2", "--suite", load, "--test-id", "x", "--records-claim", "My Claim"}, "--records-claim"},
		{"storage class for a claim not rendered", []string{"--shards", "2", "--suite", load, "--test-id", "x", "--records-claim", "mine", "--storage-class", "nfs"}, "keep one"},
		{"an argument", []string{"--shards", "2", "--suite", load, "extra.yaml"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := renderK8s(t, exampleNow, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("exit %d, want %d and %q on stderr and nothing on stdout; stderr:\n%s\nstdout:\n%s", code, exitUsage, tc.want, errOut, out)
			}
		})
	}
}

// TestK8sManifestsStartWithinADay: a start as far ahead as load
// --start-at takes renders, and the pods get it as load reads it.
func TestK8sManifestsStartWithinADay(t *testing.T) {
	for _, args := range [][]string{
		{"--start-at", exampleNow.Add(load.MaxStartAhead).Format(time.RFC3339)},
		{"--start-delay", load.MaxStartAhead.String()},
	} {
		code, out, errOut := renderK8s(t, exampleNow, append([]string{"--shards", "2", "--suite", "../../examples/load.yaml", "--test-id", "x"}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		loadArgs := strs(dig(byKind(t, docs(t, out), "Job", "evalrun-load-x"), "spec", "template", "spec", "containers", 0, "args"))
		if got := flagArg(loadArgs, "--start-at"); got != "2026-12-02T11:58:00Z" {
			t.Errorf("%v: --start-at %q", args, got)
		}
	}
}

func flagArg(args []string, name string) string {
	for i, a := range args[:len(args)-1] {
		if a == name {
			return args[i+1]
		}
	}
	return ""
}

// TestK8sCommand: the subcommand is reached from Main, and a missing or
// unknown one is bad usage.
func TestK8sCommand(t *testing.T) {
	code, out, errOut := inProcess(t, "k8s", "manifests", "-h")
	if code != exitOK || !strings.Contains(out, "--shards N") || !strings.Contains(out, "at most 40 lowercase") {
		t.Errorf("k8s manifests -h: exit %d, want the flags, --test-id's limit among them\n%s%s", code, out, errOut)
	}
	// manifests is k8s's only subcommand: its help lists the flags too.
	for _, args := range [][]string{{"k8s", "-h"}, {"k8s", "help"}, {"k8s", "help", "manifests"}} {
		if code, help, _ := inProcess(t, args...); code != exitOK || !strings.HasSuffix(help, out) || !strings.HasPrefix(help, "Renders the Kubernetes objects") {
			t.Errorf("%v: exit %d, want what it does and the help of k8s manifests -h:\n%s", args, code, help)
		}
	}
	// Bad usage points to the flags of k8s manifests, not to 'evalrun k8s
	// -h', which lists none.
	for _, args := range [][]string{{"k8s", "manifests"}, {"k8s", "manifests", "--shards", "2", "--bogus"}, {"k8s"}} {
		code, _, errOut := inProcess(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "Run 'evalrun k8s manifests -h' for its flags.") || strings.Contains(errOut, "evalrun k8s -h") {
			t.Errorf("%v: exit %d, want %d and a hint to 'evalrun k8s manifests -h':\n%s", args, code, exitUsage, errOut)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "  -") && len(f) > 2 {
			t.Errorf("k8s manifests -h: %q names more than one argument", strings.TrimSpace(line))
		}
	}
	for _, args := range [][]string{{"k8s"}, {"k8s", "manifest"}} {
		if code, _, errOut := inProcess(t, args...); code != exitUsage || !strings.Contains(errOut, "manifests") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
	code, out, errOut = inProcess(t, "k8s", "manifests", "--shards", "2", "--suite", "../../examples/load.yaml", "--test-id", "x")
	if code != exitOK || !strings.Contains(out, "kind: Job") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
