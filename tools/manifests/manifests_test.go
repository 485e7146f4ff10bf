package manifests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	psa "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// repo is the repository root; the suite the manifests are rendered for is
// its examples/load.yaml, a load test against the simulator (10 s of starts,
// 10 s of grace).
const (
	repo        = "../.."
	suite       = "examples/load.yaml"
	suiteWindow = 20 * time.Second
)

var evalrun string // the binary, built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "evalrun-manifests")
	if err != nil {
		panic(err)
	}
	evalrun = filepath.Join(dir, "evalrun")
	build := exec.Command("go", "build", "-o", evalrun, "./cmd/evalrun")
	build.Dir = repo
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build evalrun: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// objects are the decoded documents of one render.
type objects struct {
	configMaps []*corev1.ConfigMap
	claims     []*corev1.PersistentVolumeClaim
	jobs       []*batchv1.Job
}

// strict decodes one document into out, refusing any field the type does
// not have: a misspelt field fails here, as `kubectl apply
// --validate=strict` would fail it.
func strict(doc []byte, out any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one object in a document")
	}
	return nil
}

// decode splits a YAML stream as kubectl does and decodes each object into
// its Kubernetes API type.
func decode(t *testing.T, stream []byte) objects {
	t.Helper()
	var objs objects
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if tm.Kind == "" && tm.APIVersion == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Fatalf("document %d has no kind:\n%s", i, doc)
			}
			continue // only comments
		}
		var out any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			cm := &corev1.ConfigMap{}
			objs.configMaps, out = append(objs.configMaps, cm), cm
		case "v1 PersistentVolumeClaim":
			pvc := &corev1.PersistentVolumeClaim{}
			objs.claims, out = append(objs.claims, pvc), pvc
		case "batch/v1 Job":
			job := &batchv1.Job{}
			objs.jobs, out = append(objs.jobs, job), job
		default:
			t.Fatalf("document %d: unexpected %s %s", i, tm.APIVersion, tm.Kind)
		}
		if err := strict(doc, out); err != nil {
			t.Fatalf("document %d (%s): %v\n%s", i, tm.Kind, err, doc)
		}
	}
	return objs
}

func stripComments(doc []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// render runs `evalrun k8s manifests` and returns its output.
func render(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(evalrun, append([]string{"k8s", "manifests"}, args...)...)
	cmd.Dir = repo
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("evalrun k8s manifests %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

// variant is one way of rendering.
type variant struct {
	name      string
	shards    int
	claim     string // --records-claim, "" for the rendered one
	secret    string // --secret; "-" leaves the flag out (its default)
	namespace string
	class     string // --storage-class
}

func TestRenderedManifests(t *testing.T) {
	var variants []variant
	for _, n := range []int{1, 4, 10} {
		variants = append(variants,
			variant{name: fmt.Sprintf("%d shards", n), shards: n, secret: "-"},
			variant{name: fmt.Sprintf("%d shards, own claim, no secret", n), shards: n, claim: "perf-records", secret: ""},
			variant{name: fmt.Sprintf("%d shards, namespace, secret and storage class", n), shards: n, secret: "bot-keys", namespace: "perf", class: "nfs-rwx"},
		)
	}
	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			id := fmt.Sprintf("t%d-%d", i, v.shards)
			start := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
			args := []string{"--shards", strconv.Itoa(v.shards), "--suite", suite, "--test-id", id,
				"--image", "registry.example/evalrun:v9.9.9", "--start-at", start.Format(time.RFC3339)}
			if v.claim != "" {
				args = append(args, "--records-claim", v.claim)
			}
			if v.secret != "-" {
				args = append(args, "--secret", v.secret)
			}
			if v.namespace != "" {
				args = append(args, "--namespace", v.namespace)
			}
			if v.class != "" {
				args = append(args, "--storage-class", v.class)
			}
			before := time.Now()
			objs := decode(t, render(t, args...))
			check(t, v, id, start.Sub(before), objs)
		})
	}
}

// check holds one render's objects to what a sharded load test needs.
func check(t *testing.T, v variant, id string, lead time.Duration, objs objects) {
	n := v.shards
	if len(objs.configMaps) != 1 || len(objs.jobs) != 2 {
		t.Fatalf("%d ConfigMaps, %d Jobs: want 1 and 2", len(objs.configMaps), len(objs.jobs))
	}
	wantClaims, claimName := 1, "evalrun-records"
	if v.claim != "" {
		wantClaims, claimName = 0, v.claim
	}
	if len(objs.claims) != wantClaims {
		t.Fatalf("%d PersistentVolumeClaims, want %d", len(objs.claims), wantClaims)
	}
	for _, pvc := range objs.claims {
		if pvc.Name != claimName || !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
			t.Errorf("claim %s %v: want %s, ReadWriteMany (pods on several nodes write it)", pvc.Name, pvc.Spec.AccessModes, claimName)
		}
		if got := pvc.Spec.StorageClassName; (got == nil) != (v.class == "") || got != nil && *got != v.class {
			t.Errorf("claim %s storageClassName %v, want %q (\"\" for none, the cluster's default)", pvc.Name, got, v.class)
		}
		if pvc.Spec.Resources.Requests.Storage().IsZero() {
			t.Errorf("claim %s requests no storage", pvc.Name)
		}
		checkMeta(t, pvc.ObjectMeta, v, "")
	}
	cm := objs.configMaps[0]
	checkMeta(t, cm.ObjectMeta, v, id)
	content, err := os.ReadFile(filepath.Join(repo, suite))
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data[filepath.Base(suite)] != string(content) {
		t.Errorf("ConfigMap %s does not hold %s as it is", cm.Name, suite)
	}

	var loadJob, mergeJob *batchv1.Job
	for _, j := range objs.jobs {
		checkMeta(t, j.ObjectMeta, v, id)
		switch j.Name {
		case "evalrun-load-" + id:
			loadJob = j
		case "evalrun-merge-" + id:
			mergeJob = j
		}
	}
	if loadJob == nil || mergeJob == nil {
		t.Fatalf("jobs %s and %s: want evalrun-load-%s and evalrun-merge-%s", objs.jobs[0].Name, objs.jobs[1].Name, id, id)
	}

	// The shards: all at once, none run again, one failing not failing
	// the others, a bad usage failing them all.
	s := loadJob.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("load job completionMode %v, want Indexed", s.CompletionMode)
	}
	if intOf(s.Completions) != n || intOf(s.Parallelism) != n {
		t.Errorf("completions %d, parallelism %d: want %d and %d, every shard at once", intOf(s.Completions), intOf(s.Parallelism), n, n)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 {
		t.Errorf("backoffLimitPerIndex %d, want 0: a shard run again starts late", intOf(s.BackoffLimitPerIndex))
	}
	if intOf(s.MaxFailedIndexes) != n {
		t.Errorf("maxFailedIndexes %d, want %d: one shard failing must not stop the others", intOf(s.MaxFailedIndexes), n)
	}
	// Indexed pods are named <job>-<index>: it must stay a DNS label.
	if errs := validation.IsDNS1123Label(fmt.Sprintf("%s-%d", loadJob.Name, n-1)); len(errs) > 0 {
		t.Errorf("pod hostname of the last shard: %v", errs)
	}
	checkFailurePolicy(t, s.PodFailurePolicy, map[string]batchv1.PodFailurePolicyAction{
		"exit 2":           batchv1.PodFailurePolicyActionFailJob,
		"DisruptionTarget": batchv1.PodFailurePolicyActionFailIndex,
	})
	checkFinish(t, s)
	spread := s.Template.Spec.TopologySpreadConstraints
	if len(spread) == 0 || spread[0].TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("topologySpreadConstraints %v: want the shards spread across nodes", spread)
	} else if sel, err := metav1.LabelSelectorAsSelector(spread[0].LabelSelector); err != nil || !sel.Matches(labels.Set(s.Template.Labels)) || sel.Empty() {
		t.Errorf("the spread's selector %v does not select the shards' pods (%v)", spread[0].LabelSelector, s.Template.Labels)
	}
	// The skew counts eligible nodes, full or not: a required spread can
	// leave a shard Pending, which is a missing shard.
	for _, c := range spread {
		if c.WhenUnsatisfiable != corev1.ScheduleAnyway {
			t.Errorf("topologySpreadConstraints on %s: whenUnsatisfiable %s, want ScheduleAnyway: a spread must never keep a shard from being scheduled", c.TopologyKey, c.WhenUnsatisfiable)
		}
	}

	c := onlyContainer(t, loadJob)
	if len(c.Command) > 0 {
		t.Errorf("load container command %v: the image's entrypoint must run, with no shell", c.Command)
	}
	if c.Image != "registry.example/evalrun:v9.9.9" {
		t.Errorf("image %s", c.Image)
	}
	// The args as the kubelet expands them, for every shard.
	records := map[string]bool{}
	var startAt string
	for k := range n {
		args := expand(t, c, k)
		if args[0] != "load" || flagValue(args, "--shard") != fmt.Sprintf("%d/%d", k, n) || flagValue(args, "--test-id") != id || !slices.Contains(args, "--no-progress") {
			t.Errorf("shard %d args %q", k, args)
		}
		if last := args[len(args)-1]; last != "/suite/"+filepath.Base(suite) {
			t.Errorf("shard %d plays %s", k, last)
		}
		startAt = flagValue(args, "--start-at")
		records[flagValue(args, "--json")] = true
	}
	if len(records) != n {
		t.Errorf("the %d shards write %d distinct records: %v", n, len(records), records)
	}
	for r := range records {
		if !strings.HasPrefix(r, "/records/") {
			t.Errorf("record %s is not on the records volume", r)
		}
	}
	start, err := time.Parse(time.RFC3339, startAt)
	if err != nil || start.Before(time.Now()) {
		t.Errorf("--start-at %q: want a time to come (RFC 3339): %v", startAt, err)
	}
	if v.secret == "" {
		if len(c.EnvFrom) > 0 {
			t.Errorf("envFrom %v with --secret \"\"", c.EnvFrom)
		}
	} else {
		want := v.secret
		if want == "-" {
			want = "evalrun"
		}
		if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != want ||
			c.EnvFrom[0].SecretRef.Optional == nil || !*c.EnvFrom[0].SecretRef.Optional {
			t.Errorf("envFrom %v: want Secret %s, optional (a suite against the simulator needs none)", c.EnvFrom, want)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("load container resources %v: want a CPU request and a memory limit", c.Resources)
	}
	suiteMount := mount(t, c, "/suite")
	if vol := volume(t, loadJob, suiteMount.Name); vol.ConfigMap == nil || vol.ConfigMap.Name != cm.Name {
		t.Errorf("/suite is not ConfigMap %s: %v", cm.Name, vol)
	}
	loadRecords := recordsOf(t, loadJob, c, claimName)

	// The merge: started with the shards, waiting for all N of them past
	// their end, on the same folder, and its exit code the verdict.
	m := mergeJob.Spec
	if intOf(m.Completions) > 1 || m.BackoffLimit == nil || *m.BackoffLimit != 0 {
		t.Errorf("merge job completions %v, backoffLimit %v: want one run whose exit code is the verdict", m.Completions, m.BackoffLimit)
	}
	checkFailurePolicy(t, m.PodFailurePolicy, map[string]batchv1.PodFailurePolicyAction{
		"DisruptionTarget": batchv1.PodFailurePolicyActionIgnore,
	})
	checkFinish(t, m)
	mc := onlyContainer(t, mergeJob)
	margs := expand(t, mc, 0)
	if margs[0] != "merge" || flagValue(margs, "--expect") != strconv.Itoa(n) || flagValue(margs, "--json") != "/records/merged.json" || margs[len(margs)-1] != "/records" {
		t.Errorf("merge args %q", margs)
	}
	wait, err := time.ParseDuration(flagValue(margs, "--wait"))
	if err != nil {
		t.Fatalf("merge --wait: %v", err)
	}
	if wait < lead+suiteWindow || wait > lead+suiteWindow+10*time.Minute {
		t.Errorf("merge --wait %v: want a little past the shards' end, %v from now", wait, lead+suiteWindow)
	}
	if d := time.Duration(*s.ActiveDeadlineSeconds) * time.Second; d >= wait {
		t.Errorf("load job deadline %v is not before the merge's wait %v: the merge would miss the records its SIGTERM writes", d, wait)
	}
	if d := time.Duration(*m.ActiveDeadlineSeconds) * time.Second; d <= wait {
		t.Errorf("merge job deadline %v is within its own wait %v", d, wait)
	}
	if mergeRecords := recordsOf(t, mergeJob, mc, claimName); mergeRecords != loadRecords || loadRecords != id {
		t.Errorf("records folder: shards %q, merge %q, want both %q", loadRecords, mergeRecords, id)
	}

	for _, j := range objs.jobs {
		checkRestricted(t, j)
	}
}

func intOf(p *int32) int {
	if p == nil {
		return -1
	}
	return int(*p)
}

// checkMeta: names, labels and namespace of an object. id "" is an object
// that outlives one test (the claim).
func checkMeta(t *testing.T, m metav1.ObjectMeta, v variant, id string) {
	t.Helper()
	if errs := validation.IsDNS1123Subdomain(m.Name); len(errs) > 0 {
		t.Errorf("name %q: %v", m.Name, errs)
	}
	if m.Namespace != v.namespace {
		t.Errorf("%s: namespace %q, want %q", m.Name, m.Namespace, v.namespace)
	}
	for k, val := range m.Labels {
		if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(val)...); len(errs) > 0 {
			t.Errorf("%s: label %s=%s: %v", m.Name, k, val, errs)
		}
	}
	if id != "" && m.Labels["app.kubernetes.io/instance"] != id {
		t.Errorf("%s: labels %v do not name the test %s", m.Name, m.Labels, id)
	}
}

// checkFailurePolicy wants exactly the rules of want, each by what it
// matches.
func checkFailurePolicy(t *testing.T, p *batchv1.PodFailurePolicy, want map[string]batchv1.PodFailurePolicyAction) {
	t.Helper()
	if p == nil {
		t.Errorf("no podFailurePolicy")
		return
	}
	got := map[string]batchv1.PodFailurePolicyAction{}
	for _, r := range p.Rules {
		if r.OnExitCodes != nil {
			if r.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn {
				t.Errorf("rule %v: want operator In", r)
			}
			for _, code := range r.OnExitCodes.Values {
				got[fmt.Sprintf("exit %d", code)] = r.Action
			}
		}
		for _, pc := range r.OnPodConditions {
			if pc.Status != corev1.ConditionTrue {
				t.Errorf("rule %v: want status True", r)
			}
			got[string(pc.Type)] = r.Action
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("podFailurePolicy %v, want %v", got, want)
	}
}

// checkFinish: what every Job of a test needs to end cleanly.
func checkFinish(t *testing.T, s batchv1.JobSpec) {
	t.Helper()
	if s.TTLSecondsAfterFinished == nil || *s.TTLSecondsAfterFinished <= 0 {
		t.Errorf("ttlSecondsAfterFinished %v: finished Jobs must go away", s.TTLSecondsAfterFinished)
	}
	if s.ActiveDeadlineSeconds == nil {
		t.Errorf("no activeDeadlineSeconds")
	}
	// A podFailurePolicy needs restartPolicy Never, and so does a shard
	// that must not run twice.
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %s, want Never", s.Template.Spec.RestartPolicy)
	}
}

func onlyContainer(t *testing.T, j *batchv1.Job) corev1.Container {
	t.Helper()
	cs := j.Spec.Template.Spec.Containers
	if len(cs) != 1 || len(j.Spec.Template.Spec.InitContainers) > 0 {
		t.Fatalf("%s: %d containers, want one", j.Name, len(cs))
	}
	return cs[0]
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand returns c's args as the kubelet runs them in shard k's pod: a
// $(VAR) is replaced only when the container declares VAR, and the Job
// controller sets JOB_COMPLETION_INDEX from the pod's index annotation.
// localArgs are the args of container c of pod k, expanded as the kubelet
// would, with the pod's mounts moved to folders of the test: the records
// volume (already narrowed to its subPath) and the suite's ConfigMap.
func localArgs(t *testing.T, c corev1.Container, k int, records, suiteDir string) []string {
	t.Helper()
	var args []string
	for _, a := range expand(t, c, k) {
		switch {
		case a == "/records" || strings.HasPrefix(a, "/records/"):
			a = records + strings.TrimPrefix(a, "/records")
		case strings.HasPrefix(a, "/suite/"):
			a = filepath.Join(suiteDir, strings.TrimPrefix(a, "/suite/"))
		}
		args = append(args, a)
	}
	return args
}

func expand(t *testing.T, c corev1.Container, k int) []string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
			env[e.Name] = strconv.Itoa(k)
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		}
	}
	var out []string
	for _, a := range c.Args {
		out = append(out, varRef.ReplaceAllStringFunc(a, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			v, ok := env[name]
			if !ok {
				t.Errorf("arg %q refers to %s, which the container does not declare: the kubelet would leave it as it is", a, name)
				return ref
			}
			return v
		}))
	}
	if len(out) == 0 {
		t.Fatalf("container %s has no args", c.Name)
	}
	return out
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func mount(t *testing.T, c corev1.Container, path string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m
		}
	}
	t.Fatalf("container %s mounts nothing at %s", c.Name, path)
	return corev1.VolumeMount{}
}

func volume(t *testing.T, j *batchv1.Job, name string) corev1.Volume {
	t.Helper()
	for _, v := range j.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("%s has no volume %s", j.Name, name)
	return corev1.Volume{}
}

// recordsOf returns the folder of the claim a Job's /records is, checking
// that it is claimName.
func recordsOf(t *testing.T, j *batchv1.Job, c corev1.Container, claimName string) string {
	t.Helper()
	m := mount(t, c, "/records")
	vol := volume(t, j, m.Name)
	if vol.PersistentVolumeClaim == nil || vol.PersistentVolumeClaim.ClaimName != claimName {
		t.Errorf("%s: /records is %v, want claim %s", j.Name, vol.VolumeSource, claimName)
	}
	if m.ReadOnly {
		t.Errorf("%s: /records is read-only", j.Name)
	}
	return m.SubPath + m.SubPathExpr
}

var evaluator = func() policy.Evaluator {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	return e
}()

var restricted = psa.LevelVersion{Level: psa.LevelRestricted, Version: psa.LatestVersion()}

// checkRestricted holds a Job's pods to the restricted Pod Security
// Standard, with the checks the admission plugin itself runs, so that the
// test runs in a namespace that enforces it.
func checkRestricted(t *testing.T, j *batchv1.Job) {
	t.Helper()
	for _, r := range evaluator.EvaluatePod(restricted, &j.Spec.Template.ObjectMeta, &j.Spec.Template.Spec) {
		if !r.Allowed {
			t.Errorf("%s: restricted Pod Security: %s: %s", j.Name, r.ForbiddenReason, r.ForbiddenDetail)
		}
	}
	// The evaluation is not vacuous: without the seccomp profile the same
	// pod is refused.
	spec := j.Spec.Template.Spec.DeepCopy()
	if spec.SecurityContext != nil {
		spec.SecurityContext.SeccompProfile = nil
	}
	for i := range spec.Containers {
		if sc := spec.Containers[i].SecurityContext; sc != nil {
			sc.SeccompProfile = nil
		}
	}
	refused := false
	for _, r := range evaluator.EvaluatePod(restricted, &j.Spec.Template.ObjectMeta, spec) {
		refused = refused || !r.Allowed
	}
	if !refused {
		t.Errorf("%s: the restricted level allows a pod without seccomp: the evaluation checks nothing", j.Name)
	}
}

// TestStrictDecodingRefusesMisspeltFields: the decoding the test relies on
// fails a field the API does not have.
func TestStrictDecodingRefusesMisspeltFields(t *testing.T) {
	doc := []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  backoffLimitPerIndx: 0\n")
	if err := strict(doc, &batchv1.Job{}); err == nil || !strings.Contains(err.Error(), "backoffLimitPerIndx") {
		t.Errorf("err %v, want one naming backoffLimitPerIndx", err)
	}
	dup := []byte("apiVersion: batch/v1\nkind: Job\nkind: Job\n")
	if err := strict(dup, &batchv1.Job{}); err == nil {
		t.Errorf("a duplicated key was accepted")
	}
}

// TestCheckedInExampleDecodes: examples/k8s/rendered.yaml, which the README
// shows, passes the same checks (cmd/evalrun tests that it is current).
func TestCheckedInExampleDecodes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "examples", "k8s", "rendered.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := decode(t, b)
	if len(objs.jobs) != 2 || len(objs.configMaps) != 1 || len(objs.claims) != 1 {
		t.Fatalf("%d jobs, %d ConfigMaps, %d claims", len(objs.jobs), len(objs.configMaps), len(objs.claims))
	}
	for _, j := range objs.jobs {
		checkRestricted(t, j)
	}
}

// TestPodArgsAreFlagsOfTheBinary: every flag the pods pass is one the
// image's evalrun knows, so a renamed flag fails here rather than as N
// pods exiting 2.
func TestPodArgsAreFlagsOfTheBinary(t *testing.T) {
	requireShardFlags(t)
	objs := decode(t, render(t, "--shards", "2", "--suite", suite, "--test-id", "flags"))
	for _, j := range objs.jobs {
		c := onlyContainer(t, j)
		args := expand(t, c, 0)
		help, _ := exec.Command(evalrun, args[0], "-h").Output()
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "--") && !regexp.MustCompile(`(?m)^\s+`+regexp.QuoteMeta(a)+`\b`).Match(help) {
				t.Errorf("%s: `evalrun %s` has no flag %s", j.Name, args[0], a)
			}
		}
	}
}

// TestPodsRunLocally plays what the pods of a render run, as local
// processes: every shard's args as the kubelet expands them, with /suite
// and /records mapped to folders laid out as the volumes would be, and the
// merge beside them from the start. The shards play a small suite against
// the built-in simulator (no network); the merge must wait for all of them
// and pass, on one record of the whole test.
func TestPodsRunLocally(t *testing.T) {
	requireShardFlags(t)
	const n = 3
	dir := t.TempDir()
	suiteFile := filepath.Join(dir, "e2e.yaml")
	if err := os.WriteFile(suiteFile, []byte(`name: e2e
provider: {type: opencx, base_url: sim}
load: {rate: 15, duration: 2s, grace: 5s}
thresholds:
  - error_rate < 0.01
  - dropped == 0
conversations:
  - name: hello
    turns:
      - user: Hi
        expect: {reply: true}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The shards start together 5 s after rendering: time enough to start
	// 3 processes, however slow the machine.
	objs := decode(t, render(t, "--shards", strconv.Itoa(n), "--suite", suiteFile, "--test-id", "e2e", "--start-delay", "5s", "--secret", ""))

	// The ConfigMap volume, and the records volume with the test's folder.
	suiteDir, claim := filepath.Join(dir, "suite"), filepath.Join(dir, "claim")
	for _, d := range []string{suiteDir, claim} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for key, data := range objs.configMaps[0].Data {
		if err := os.WriteFile(filepath.Join(suiteDir, key), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var procs []*exec.Cmd
	var names []string
	start := func(j *batchv1.Job, k int) {
		c := onlyContainer(t, j)
		records := filepath.Join(claim, mount(t, c, "/records").SubPath)
		if err := os.MkdirAll(records, 0o755); err != nil { // the kubelet makes a subPath's folder
			t.Fatal(err)
		}
		args := localArgs(t, c, k, records, suiteDir)
		cmd := exec.Command(evalrun, args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s %d: %s\n%s", j.Name, k, strings.Join(args, " "), out.String())
			}
		})
		procs = append(procs, cmd)
		names = append(names, fmt.Sprintf("%s pod %d", j.Name, k))
	}
	var merge *batchv1.Job
	for _, j := range objs.jobs {
		if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
			for k := range int(*j.Spec.Completions) {
				start(j, k)
			}
		} else {
			merge = j
		}
	}
	start(merge, 0)
	for i, p := range procs {
		if err := p.Wait(); err != nil {
			t.Errorf("%s: %v", names[i], err)
		}
	}
	if t.Failed() {
		return
	}
	b, err := os.ReadFile(filepath.Join(claim, "e2e", "merged.json"))
	if err != nil {
		t.Fatal(err)
	}
	var merged struct {
		Test struct {
			ID    string            `json:"id"`
			Parts []json.RawMessage `json:"parts"`
		} `json:"test"`
	}
	if err := json.Unmarshal(b, &merged); err != nil {
		t.Fatal(err)
	}
	if merged.Test.ID != "e2e" || len(merged.Test.Parts) != n {
		t.Errorf("merged record of test %q with %d parts, want e2e and %d", merged.Test.ID, len(merged.Test.Parts), n)
	}
	if _, err := os.Stat(filepath.Join(claim, "e2e", "merged.xml")); err != nil {
		t.Errorf("no JUnit report: %v", err)
	}
}

// requireShardFlags skips a test that runs the pods' commands when this
// evalrun lacks the flags they use (load --test-id and --start-at, merge
// --expect and --wait), which came in separately; CI, which sets
// EVALRUN_REQUIRE_TOOLS, fails instead.
func requireShardFlags(t *testing.T) {
	t.Helper()
	var missing []string
	for cmd, flags := range map[string][]string{"load": {"--test-id", "--start-at"}, "merge": {"--expect", "--wait"}} {
		help, _ := exec.Command(evalrun, cmd, "-h").Output()
		for _, f := range flags {
			if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(f) + `\b`).Match(help) {
				missing = append(missing, cmd+" "+f)
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	slices.Sort(missing)
	if os.Getenv("EVALRUN_REQUIRE_TOOLS") != "" {
		t.Fatalf("this evalrun has no %s, which the pods run", strings.Join(missing, ", "))
	}
	t.Skipf("this evalrun has no %s yet (EVALRUN_REQUIRE_TOOLS=1 makes this a failure)", strings.Join(missing, ", "))
}

// TestPartialMergeRecipe: the one-off Job that examples/k8s/README.md gives
// for merging a partial set after the fact decodes strictly, meets the
// restricted level, reads the rendered test's folder of its claim, and
// merges what two of three shards wrote, marked incomplete.
func TestPartialMergeRecipe(t *testing.T) {
	requireShardFlags(t)
	readme, err := os.ReadFile(filepath.Join(repo, "examples", "k8s", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)kubectl apply -f - <<EOF\n(.*?\n)EOF\n").FindSubmatch(readme)
	if m == nil {
		t.Fatal("examples/k8s/README.md has no `kubectl apply -f - <<EOF` recipe")
	}
	const n, id = 3, "partial"
	recipe := decode(t, bytes.ReplaceAll(m[1], []byte("$id"), []byte(id)))
	if len(recipe.jobs) != 1 || len(recipe.claims)+len(recipe.configMaps) > 0 {
		t.Fatalf("the recipe is %d Jobs, %d other objects: want one Job", len(recipe.jobs), len(recipe.claims)+len(recipe.configMaps))
	}
	job := recipe.jobs[0]
	checkRestricted(t, job)
	if job.Spec.TTLSecondsAfterFinished == nil || job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("the recipe's Job: want a TTL and restartPolicy Never")
	}
	c := onlyContainer(t, job)
	args := expand(t, c, 0)
	if args[0] != "merge" || !slices.Contains(args, "--allow-partial") {
		t.Errorf("recipe args %q: want merge --allow-partial", args)
	}

	// The shards of a test rendered as the README says, of which one never
	// ran: the recipe reads the folder they wrote.
	dir := t.TempDir()
	suiteFile := filepath.Join(dir, "e2e.yaml")
	if err := os.WriteFile(suiteFile, []byte("name: e2e\nprovider: {type: opencx, base_url: sim}\nload: {rate: 6, duration: 1s, grace: 5s}\nconversations:\n  - name: hello\n    turns: [{user: Hi, expect: {reply: true}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := decode(t, render(t, "--shards", strconv.Itoa(n), "--suite", suiteFile, "--test-id", id, "--start-delay", "3s", "--secret", ""))
	var loadJob *batchv1.Job
	for _, j := range objs.jobs {
		if j.Name == "evalrun-load-"+id {
			loadJob = j
		}
	}
	if loadJob == nil {
		t.Fatal("no load Job")
	}
	lc := onlyContainer(t, loadJob)
	if got, want := recordsOf(t, job, c, "evalrun-records"), recordsOf(t, loadJob, lc, "evalrun-records"); got != want {
		t.Errorf("the recipe reads folder %q of the claim, the shards write %q", got, want)
	}
	suiteDir, records := filepath.Join(dir, "suite"), filepath.Join(dir, "claim", id)
	for _, d := range []string{suiteDir, records} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for key, data := range objs.configMaps[0].Data {
		if err := os.WriteFile(filepath.Join(suiteDir, key), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := func(c corev1.Container, k int) (*exec.Cmd, *bytes.Buffer) {
		args := localArgs(t, c, k, records, suiteDir)
		cmd := exec.Command(evalrun, args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	// The shards run at the same time, as their pods would, from a start
	// time enough ahead to launch them; the last one never ran.
	var shards []*exec.Cmd
	var outs []*bytes.Buffer
	for k := range n - 1 {
		cmd, out := start(lc, k)
		shards, outs = append(shards, cmd), append(outs, out)
	}
	for k, cmd := range shards {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", k, err, outs[k])
		}
	}
	cmd, out := start(c, 0)
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "--allow-partial") {
		t.Fatalf("the recipe: %v, want exit 0 and the --allow-partial warning\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(records, flagValue(args, "--json")[len("/records/"):]))
	if err != nil {
		t.Fatal(err)
	}
	var merged struct {
		Test struct {
			ID    string            `json:"id"`
			Parts []json.RawMessage `json:"parts"`
		} `json:"test"`
	}
	if err := json.Unmarshal(b, &merged); err != nil {
		t.Fatal(err)
	}
	if merged.Test.ID != id || len(merged.Test.Parts) != n-1 {
		t.Errorf("merged record of test %q with %d parts, want %s and %d", merged.Test.ID, len(merged.Test.Parts), id, n-1)
	}
}
