// Package k8s renders the Kubernetes objects of a load test split across
// machines: the suite as a ConfigMap, an Indexed Job whose N pods each run
// one shard of `evalrun load`, a Job that merges their records and whose
// exit code is the test's verdict, and the volume the records land on.
//
// The shard count appears in many places (the Job's completions and
// parallelism, every pod's --shard K/N, merge's --expect N, the failed
// indexes the Job tolerates) and the start time must be computed when the
// test is launched, so the objects are rendered from one Spec rather than
// kept as files to edit by hand. The package renders and checks; reading
// the suite and the clock is the command's part.
package k8s

import (
	"bytes"
	"fmt"
	"github.com/evalrun/evalrun/load"
	"io"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Where things are inside the pods.
const (
	SuiteDir   = "/suite"   // the ConfigMap's files
	RecordsDir = "/records" // this test's folder of the records volume
	// User is the numeric user and group the pods run as: distroless's
	// nonroot, which the image's USER names too.
	User = 65532
)

// Defaults for what a Spec leaves empty.
const (
	DefaultClaim       = "evalrun-records" // the PersistentVolumeClaim rendered when none is named
	DefaultClaimSize   = "1Gi"
	DefaultTTL         = 24 * time.Hour // finished Jobs (and their logs) are kept this long
	MaxShards          = 1000
	MaxTestID          = 40 // so that evalrun-merge-<id> and pod names stay within 63 characters
	MaxConfigMapBytes  = 1000 * 1000
	containerName      = "evalrun"
	completionIndexVar = "JOB_COMPLETION_INDEX"
)

// File is a file the pods read, by its path relative to SuiteDir.
type File struct {
	Path string
	Data []byte
}

// Spec is one load test to render.
type Spec struct {
	TestID    string // names every object and the records' folder
	Shards    int    // N
	Image     string
	Namespace string // "" leaves the objects to kubectl's namespace
	// Secret is the Secret whose keys become the load pods' environment
	// (OPENCX_API_KEY, ...); it is optional, so a suite against the
	// simulator runs without one. "" renders no reference at all.
	Secret string
	// RecordsClaim is an existing PersistentVolumeClaim for the records;
	// "" renders DefaultClaim, ReadWriteMany.
	RecordsClaim string
	// StorageClass is the storage class of the rendered claim; "" leaves it
	// to the cluster's default, which is often not ReadWriteMany. It has
	// no place with RecordsClaim, whose claim is not rendered.
	StorageClass string
	// Suite is the suite file; Data are the data files it reads, by their
	// paths relative to the suite's folder.
	Suite File
	Data  []File
	// StartAt is when every shard starts (load --start-at).
	StartAt time.Time
	// Lead is how long from rendering until StartAt; Window and Grace are
	// the workload's: how long conversations start, and how long those in
	// flight may then finish. Together they say when the last record is
	// written, which bounds the merge's wait and the Jobs' deadlines.
	Lead, Window, Grace time.Duration
}

// margins after the last shard should have ended: the load Job is stopped
// (its pods get SIGTERM and write what they have) a minute after that, and
// the merge gives up waiting a minute later still, so it sees those
// records.
const (
	loadMargin  = time.Minute
	mergeMargin = 2 * time.Minute
	mergeRun    = 3 * time.Minute // the merge itself, after its wait
)

// MergeWait is what the merge is given for merge --wait: until a little
// after the last shard must have written its record.
func (s Spec) MergeWait() time.Duration {
	return ceilSecond(s.Lead + s.Window + s.Grace + mergeMargin)
}

func (s Spec) loadDeadline() time.Duration {
	return ceilSecond(s.Lead + s.Window + s.Grace + loadMargin)
}

func ceilSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// StartArg is a start time as the load pods' --start-at gets it: UTC, and
// to the nanosecond, so that what the command checked is what they read.
func StartArg(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Names of the objects of a test.
func LoadJob(id string) string   { return "evalrun-load-" + id }
func MergeJob(id string) string  { return "evalrun-merge-" + id }
func ConfigMap(id string) string { return "evalrun-suite-" + id }

var (
	testIDRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// A ConfigMap key, and so a file name in SuiteDir.
	keyRE = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
)

// CheckTestID says what is wrong with a test id, which names Kubernetes
// objects and a folder: lowercase letters, digits and inner dashes.
func CheckTestID(id string) error {
	if len(id) > MaxTestID {
		return fmt.Errorf("test id %q: want at most %d characters, as it names Kubernetes objects", id, MaxTestID)
	}
	// Otherwise the rule of load --test-id, which every pod applies.
	if err := load.CheckTestID(id); err != nil {
		return fmt.Errorf("test id %q: %w", id, err)
	}
	return nil
}

// TestIDFor derives a test id from a suite's name and the start time,
// e.g. load-demo-20261201-120000.
func TestIDFor(name string, start time.Time) string {
	stamp := start.UTC().Format("20060102-150405")
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	slug := b.String()
	if most := MaxTestID - len(stamp) - 1; len(slug) > most {
		slug = strings.TrimRight(slug[:most], "-")
	}
	if slug == "" {
		slug = "load"
	}
	return slug + "-" + stamp
}

// Check says what is wrong with s, in words for the command's flags.
func (s Spec) Check() error {
	if err := CheckTestID(s.TestID); err != nil {
		return err
	}
	if s.Shards < 1 || s.Shards > MaxShards {
		return fmt.Errorf("--shards %d: want 1 to %d", s.Shards, MaxShards)
	}
	if s.Image == "" {
		return fmt.Errorf("want an image")
	}
	if s.Namespace != "" && !testIDRE.MatchString(s.Namespace) {
		return fmt.Errorf("--namespace %q: want a Kubernetes namespace name (lowercase letters, digits and dashes)", s.Namespace)
	}
	if s.StorageClass != "" && s.RecordsClaim != "" {
		return fmt.Errorf("--storage-class %s with --records-claim %s: the claim is yours, and its storage class with it; keep one", s.StorageClass, s.RecordsClaim)
	}
	for flag, name := range map[string]string{"--secret": s.Secret, "--records-claim": s.RecordsClaim, "--storage-class": s.StorageClass} {
		if name != "" && !dnsSubdomain(name) {
			return fmt.Errorf("%s %q: want a Kubernetes object name (lowercase letters, digits, dashes and dots)", flag, name)
		}
	}
	if !keyRE.MatchString(s.Suite.Path) {
		return fmt.Errorf("suite file name %q: want letters, digits, dots, dashes and underscores only, as it becomes a ConfigMap key", s.Suite.Path)
	}
	size := len(s.Suite.Data)
	for _, d := range s.Data {
		if !localPath(d.Path) {
			return fmt.Errorf("data file %q: only data files in the suite's folder or below it can go into the ConfigMap", d.Path)
		}
		size += len(d.Data)
	}
	if size > MaxConfigMapBytes {
		return fmt.Errorf("the suite and its data files are %d bytes: a ConfigMap holds at most %d; put the data on a volume of your own", size, MaxConfigMapBytes)
	}
	if s.Lead < 0 || s.Window <= 0 || s.Grace < 0 {
		return fmt.Errorf("the workload must last: start in %v, window %v, grace %v", s.Lead, s.Window, s.Grace)
	}
	return nil
}

var subdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func dnsSubdomain(s string) bool { return len(s) <= 253 && subdomainRE.MatchString(s) }

// localPath reports whether p, relative to the suite's folder, stays in it.
func localPath(p string) bool {
	if p == "" || path.IsAbs(p) || strings.Contains(p, `\`) {
		return false
	}
	c := path.Clean(p)
	return c == p && c != "." && c != ".." && !strings.HasPrefix(c, "../")
}

// Render writes the objects of s as a YAML stream.
func Render(w io.Writer, s Spec) error {
	if err := s.Check(); err != nil {
		return err
	}
	var docs []obj
	docs = append(docs, s.configMap())
	if s.RecordsClaim == "" {
		docs = append(docs, s.claim())
	}
	docs = append(docs, s.loadJob(), s.mergeJob())

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# evalrun load test %s: %d %s starting at %s, merged by job/%s.\n",
		s.TestID, s.Shards, plural(s.Shards, "shard"), s.StartAt.UTC().Format(time.RFC3339), MergeJob(s.TestID))
	// The deadlines and the merge's wait are reckoned from the render's
	// clock: stating it lets a reader (or a test) render the same again.
	fmt.Fprintf(&buf, "# Rendered at %s, %v before the start: apply at once, as the start and the deadlines are fixed.\n",
		s.StartAt.Add(-s.Lead).UTC().Format(time.RFC3339Nano), s.Lead.Round(time.Second))
	for _, d := range docs {
		buf.WriteString("---\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// labels are every object's; component says which part of the test it is.
func (s Spec) labels(component string) obj {
	return obj{
		f("app.kubernetes.io/name", "evalrun"),
		f("app.kubernetes.io/instance", s.TestID),
		f("app.kubernetes.io/component", component),
	}
}

func (s Spec) meta(name, component string) obj {
	m := obj{f("name", name)}
	if s.Namespace != "" {
		m = append(m, f("namespace", s.Namespace))
	}
	return append(m, f("labels", s.labels(component)))
}

func (s Spec) configMap() obj {
	data := obj{f(s.Suite.Path, string(s.Suite.Data))}
	for i, d := range s.Data {
		data = append(data, f(dataKey(i, d.Path), string(d.Data)))
	}
	return obj{
		f("apiVersion", "v1"),
		f("kind", "ConfigMap"),
		f("metadata", s.meta(ConfigMap(s.TestID), "suite")),
		f("data", data),
	}
}

// dataKey is a data file's key in the ConfigMap: keys cannot hold the
// folders of its path, which the volume's items put back.
func dataKey(i int, p string) string {
	base := path.Base(p)
	if !keyRE.MatchString(base) {
		base = "file"
	}
	return "data-" + strconv.Itoa(i+1) + "-" + base
}

func (s Spec) claim() obj {
	m := obj{f("name", DefaultClaim)}
	if s.Namespace != "" {
		m = append(m, f("namespace", s.Namespace))
	}
	// The claim outlives one test: every test writes its own folder, and
	// deleting a test's objects by its instance label leaves the records.
	m = append(m, f("labels", obj{
		f("app.kubernetes.io/name", "evalrun"),
		f("app.kubernetes.io/component", "records"),
	}))
	spec := obj{
		fc("Every shard's pod writes here, from whichever node it runs on.", "accessModes", list{"ReadWriteMany"}),
	}
	if s.StorageClass != "" {
		spec = append(spec, fc("A class that offers ReadWriteMany (the cluster's default often does not).", "storageClassName", s.StorageClass))
	}
	spec = append(spec, f("resources", obj{f("requests", obj{f("storage", DefaultClaimSize)})}))
	return obj{
		f("apiVersion", "v1"),
		f("kind", "PersistentVolumeClaim"),
		f("metadata", m),
		f("spec", spec),
	}
}

func (s Spec) claimName() string {
	if s.RecordsClaim != "" {
		return s.RecordsClaim
	}
	return DefaultClaim
}

// podSecurity is the pod's part of the restricted Pod Security Standard.
func podSecurity() obj {
	return obj{
		f("runAsNonRoot", true),
		f("runAsUser", User),
		f("runAsGroup", User),
		fc("Lets the pods write the records volume where its driver supports ownership.", "fsGroup", User),
		f("seccompProfile", obj{f("type", "RuntimeDefault")}),
	}
}

// containerSecurity is the container's part.
func containerSecurity() obj {
	return obj{
		f("allowPrivilegeEscalation", false),
		f("readOnlyRootFilesystem", true),
		f("runAsNonRoot", true),
		f("capabilities", obj{f("drop", list{"ALL"})}),
	}
}

// recordsMount mounts the test's own folder of the records volume: the
// kubelet creates it, so records of two tests never mix.
func (s Spec) recordsMount() obj {
	return obj{f("name", "records"), f("mountPath", RecordsDir), f("subPath", s.TestID)}
}

// tmp is a writable /tmp on a read-only root file system.
var tmpVolume = obj{f("name", "tmp"), f("emptyDir", obj{f("sizeLimit", "64Mi")})}
var tmpMount = obj{f("name", "tmp"), f("mountPath", "/tmp")}

func (s Spec) recordsVolume() obj {
	return obj{f("name", "records"), f("persistentVolumeClaim", obj{f("claimName", s.claimName())})}
}

func (s Spec) suiteVolume() obj {
	cm := obj{f("name", ConfigMap(s.TestID))}
	if len(s.Data) > 0 {
		items := list{obj{f("key", s.Suite.Path), f("path", s.Suite.Path)}}
		for i, d := range s.Data {
			items = append(items, obj{f("key", dataKey(i, d.Path)), f("path", d.Path)})
		}
		cm = append(cm, f("items", items))
	}
	return obj{f("name", "suite"), f("configMap", cm)}
}

func seconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }

func (s Spec) loadJob() obj {
	n := s.Shards
	index := "$(" + completionIndexVar + ")"
	args := list{
		"load",
		"--shard", index + "/" + strconv.Itoa(n),
		"--test-id", s.TestID,
		"--start-at", StartArg(s.StartAt),
		"--no-progress",
		"--json", RecordsDir + "/shard-" + index + ".json",
		SuiteDir + "/" + s.Suite.Path,
	}
	env := list{obj{
		f("name", completionIndexVar),
		f("valueFrom", obj{f("fieldRef", obj{f("fieldPath", "metadata.annotations['batch.kubernetes.io/job-completion-index']")})}),
	}}
	container := obj{
		f("name", containerName),
		f("image", s.Image),
		fc("evalrun is the entrypoint, PID 1: SIGTERM reaches it, and it writes its record before it exits.", "args", args),
		fc("The shard's index is set by the Job controller too; declared here so that the args can refer to it.", "env", env),
	}
	if s.Secret != "" {
		container = append(container, fc("The suite's secrets (OPENCX_API_KEY, ...) as environment variables; optional, since a suite against the simulator needs none.",
			"envFrom", list{obj{f("secretRef", obj{f("name", s.Secret), f("optional", true)})}}))
	}
	container = append(container,
		fc("CPU is not limited: throttling would show up as the service's latency.", "resources", obj{
			f("requests", obj{f("cpu", "1"), f("memory", "128Mi")}),
			f("limits", obj{f("memory", "512Mi")}),
		}),
		f("securityContext", containerSecurity()),
		f("volumeMounts", list{
			obj{f("name", "suite"), f("mountPath", SuiteDir), f("readOnly", true)},
			s.recordsMount(),
			tmpMount,
		}),
	)
	selector := obj{f("matchLabels", obj{
		f("app.kubernetes.io/instance", s.TestID),
		f("app.kubernetes.io/component", "load"),
	})}
	pod := obj{
		f("restartPolicy", "Never"),
		f("automountServiceAccountToken", false),
		f("securityContext", podSecurity()),
		fc("One shard per node where there are enough: two on one node compete for its CPU and skew the latencies. "+
			"Preferred, never required: the skew counts every eligible node, full or not, so DoNotSchedule "+
			"would leave a shard Pending while a node it must go to has no room, and a Pending shard is a missing one. "+
			"A pod that is placed late starts late, and says so in its record.",
			"topologySpreadConstraints", list{obj{
				f("maxSkew", 1),
				f("topologyKey", "kubernetes.io/hostname"),
				f("whenUnsatisfiable", "ScheduleAnyway"),
				f("nodeTaintsPolicy", "Honor"),
				f("labelSelector", selector),
			}}),
		f("terminationGracePeriodSeconds", 30),
		f("containers", list{container}),
		f("volumes", list{s.suiteVolume(), s.recordsVolume(), tmpVolume}),
	}
	return obj{
		f("apiVersion", "batch/v1"),
		f("kind", "Job"),
		f("metadata", s.meta(LoadJob(s.TestID), "load")),
		f("spec", obj{
			f("completionMode", "Indexed"),
			fc("All shards run at once: each plays 1/N of the load, from the same start time.", "completions", n),
			f("parallelism", n),
			fc("A shard is never run again: a second run would start late and overlap the others badly, "+
				"and would replace the record the first one wrote.", "backoffLimitPerIndex", 0),
			fc("A failed shard does not stop the others; the merge says what is missing.", "maxFailedIndexes", n),
			fc("Exit 2 is bad usage or an invalid suite: every shard would fail alike, so all are stopped. "+
				"An evicted or preempted shard has written what it ran (SIGTERM): it counts as that shard, stopped early, and is not run again.",
				"podFailurePolicy", obj{f("rules", list{
					obj{
						f("action", "FailJob"),
						f("onExitCodes", obj{f("containerName", containerName), f("operator", "In"), f("values", list{2})}),
					},
					obj{
						f("action", "FailIndex"),
						f("onPodConditions", list{obj{f("type", "DisruptionTarget"), f("status", "True")}}),
					},
				})}),
			fc("A backstop a minute after the last shard should have ended: its pods get SIGTERM and write what they have.",
				"activeDeadlineSeconds", seconds(s.loadDeadline())),
			f("ttlSecondsAfterFinished", seconds(DefaultTTL)),
			f("template", obj{
				f("metadata", obj{f("labels", s.labels("load"))}),
				f("spec", pod),
			}),
		}),
	}
}

func (s Spec) mergeJob() obj {
	wait := s.MergeWait()
	container := obj{
		f("name", containerName),
		f("image", s.Image),
		fc("Waits for all N records, merges them exactly and judges the thresholds on the whole: this exit code is the test's verdict. "+
			"Only this test's records count: those an earlier test left on the volume are skipped.",
			"args", list{
				"merge",
				"--expect", strconv.Itoa(s.Shards),
				"--wait", wait.String(),
				"--test-id", s.TestID,
				"--json", RecordsDir + "/merged.json",
				"--junit", RecordsDir + "/merged.xml",
				RecordsDir,
			}),
		f("resources", obj{
			f("requests", obj{f("cpu", "100m"), f("memory", "64Mi")}),
			f("limits", obj{f("memory", "256Mi")}),
		}),
		f("securityContext", containerSecurity()),
		f("volumeMounts", list{s.recordsMount(), tmpMount}),
	}
	return obj{
		f("apiVersion", "batch/v1"),
		f("kind", "Job"),
		f("metadata", s.meta(MergeJob(s.TestID), "merge")),
		f("spec", obj{
			fc("Runs from the start, alongside the shards, and waits for their records.", "completions", 1),
			fc("A threshold crossed (1) or a set of records refused (2) is the verdict, not a reason to run again.", "backoffLimit", 0),
			fc("The merge only reads the records, so one that was evicted can simply run again.",
				"podFailurePolicy", obj{f("rules", list{
					obj{
						f("action", "Ignore"),
						f("onPodConditions", list{obj{f("type", "DisruptionTarget"), f("status", "True")}}),
					},
				})}),
			f("activeDeadlineSeconds", seconds(wait+mergeRun)),
			f("ttlSecondsAfterFinished", seconds(DefaultTTL)),
			f("template", obj{
				f("metadata", obj{f("labels", s.labels("merge"))}),
				f("spec", obj{
					f("restartPolicy", "Never"),
					f("automountServiceAccountToken", false),
					f("securityContext", podSecurity()),
					f("containers", list{container}),
					f("volumes", list{s.recordsVolume(), tmpVolume}),
				}),
			}),
		}),
	}
}
