package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/evalrun/evalrun/internal/k8s"
	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/internal/version"
	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/suites"
)

// defaultImage is where the Dockerfile's image is published; --image names
// another (a registry of your own, a pinned digest).
const defaultImage = "ghcr.io/evalrun/evalrun"

const (
	k8sSynopsis = "k8s manifests --shards N --suite FILE [flags]"
	k8sAbout    = `Renders the Kubernetes objects of a load test split across N machines, as a
YAML stream for 'kubectl apply -f -'.`
	k8sUsage = "Usage: evalrun " + k8sSynopsis + "\n\n" + k8sAbout + " Run 'evalrun k8s manifests -h' for\nits flags.\n"
)

// k8sFlags are the flags of `evalrun k8s manifests`.
type k8sFlags struct {
	shards       int
	suite        string
	testID       string
	image        string
	startDelay   time.Duration
	startAt      string
	namespace    string
	secret       string
	recordsClaim string
	storageClass string
	set          map[string]bool
	now          func() time.Time // the clock the start time is reckoned from
}

func k8sFlagSet(o *k8sFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("k8s manifests", flag.ContinueOnError)
	fs.IntVar(&o.shards, "shards", 0, "split the load across `N` pods, each playing 1/N of it")
	fs.StringVar(&o.suite, "suite", "", "the suite `FILE` whose load: section says the workload; it goes into a ConfigMap")
	fs.StringVar(&o.testID, "test-id", "", fmt.Sprintf("name the test `ID` (at most %d lowercase letters, digits and dashes): it names the objects and the records' folder (default: the suite's name and the start time)", k8s.MaxTestID))
	fs.StringVar(&o.image, "image", defaultImage+":"+imageTag(), "the evalrun container `IMAGE` the pods run")
	fs.DurationVar(&o.startDelay, "start-delay", 2*time.Minute, fmt.Sprintf("start the shards together `D` from now (at most %v), time enough for every pod to be scheduled and pull the image", load.MaxStartAhead))
	fs.StringVar(&o.startAt, "start-at", "", fmt.Sprintf("start the shards together at `TIME` (RFC 3339, to come and at most %v ahead) instead of after --start-delay", load.MaxStartAhead))
	fs.StringVar(&o.namespace, "namespace", "", "put the objects in namespace `NS` (default: kubectl's)")
	fs.StringVar(&o.secret, "secret", "evalrun", "the Secret `NAME` whose keys become the load pods' environment (OPENCX_API_KEY, ...); optional, so a suite against the simulator needs none; \"\" for no reference")
	fs.StringVar(&o.recordsClaim, "records-claim", "", "keep the records on this existing PersistentVolumeClaim `NAME` (ReadWriteMany) instead of rendering one")
	fs.StringVar(&o.storageClass, "storage-class", "", "render the records' claim with storage class `NAME`, one that offers ReadWriteMany (default: the cluster's default class, often not ReadWriteMany)")
	return fs
}

// imageTag is the tag of the image matching this evalrun: its release
// version, or latest for a build that has none.
func imageTag() string {
	if v := version.Get().Version; releaseRE.MatchString(v) {
		return v
	}
	return "latest"
}

var releaseRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// k8sHint follows a usage error of `evalrun k8s`: Main's would point to
// 'evalrun k8s -h', which lists the subcommand but not the flags that were
// wrong.
const k8sHint = "Run 'evalrun k8s manifests -h' for its flags."

func k8sCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	code, err := k8sSubcommand(ctx, args, io)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(io.Err, "evalrun: %v\n%s\n", err, k8sHint)
		return exitUsage, nil
	}
	return code, err
}

func k8sSubcommand(ctx context.Context, args []string, io *term.Streams) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(io.Err, k8sUsage)
		return exitUsage, usagef("k8s: name a subcommand: manifests")
	}
	switch args[0] {
	case "manifests":
	case "-h", "--help", "help":
		// manifests is the only subcommand: its help is the command's, so
		// that 'evalrun k8s -h' lists the flags as every other command's -h
		// does ('evalrun k8s help manifests' too).
		fmt.Fprintf(io.Out, "%s\n\n", k8sAbout)
		printHelp(io.Out, k8sFlagSet(&k8sFlags{}), k8sSynopsis)
		return exitOK, nil
	default:
		return exitUsage, usagef("k8s: unknown subcommand %q: want manifests", args[0])
	}
	o := k8sFlags{set: map[string]bool{}, now: time.Now}
	fs := k8sFlagSet(&o)
	return withFlags(fs, args[1:], io, k8sSynopsis, func(rest []string) (int, error) {
		fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
		return o.run(ctx, rest, io)
	})
}

// run renders the manifests to io.Out; rest are the arguments that are not
// flags, of which there must be none.
func (o *k8sFlags) run(ctx context.Context, rest []string, io *term.Streams) (int, error) {
	if len(rest) > 0 {
		return exitUsage, usagef("k8s manifests: unexpected argument %q; name the suite with --suite", rest[0])
	}
	now := o.now()
	spec, err := o.spec(ctx, now, io)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage, err
		}
		return loadFailed(ctx, err, io.Err), nil
	}
	if err := k8s.Render(io.Out, spec); err != nil {
		return exitTrouble, err
	}
	fmt.Fprintf(io.Err, "evalrun: test %s: %d %s start at %s (in %v): apply now; job/%s gives the verdict\n",
		spec.TestID, spec.Shards, plural(spec.Shards, "shard"), spec.StartAt.UTC().Format(time.RFC3339), spec.Lead.Round(time.Second), k8s.MergeJob(spec.TestID))
	return exitOK, nil
}

// spec checks the flags and the suite and resolves what the pods will run.
// Its errors are usage errors, but for a suite that does not load, whose
// error names the file and line.
func (o *k8sFlags) spec(ctx context.Context, now time.Time, io *term.Streams) (k8s.Spec, error) {
	var spec k8s.Spec
	switch {
	case !o.set["shards"]:
		return spec, usagef("k8s manifests: --shards N is required: the number of pods, 1 to %d", k8s.MaxShards)
	case o.shards < 1 || o.shards > k8s.MaxShards:
		return spec, usagef("k8s manifests: --shards %d: want the number of pods, 1 to %d", o.shards, k8s.MaxShards)
	case o.suite == "":
		return spec, usagef("k8s manifests: --suite FILE is required: the suite whose load: section the pods play")
	}
	if info, err := os.Stat(o.suite); err == nil && !info.Mode().IsRegular() {
		return spec, usagef("k8s manifests: --suite %s: want a suite file (the pods get exactly one)", o.suite)
	}

	// The start time: the pods are created when the manifests are applied,
	// so it is reckoned from now, whole seconds, as load --start-at reads it.
	var start time.Time
	switch {
	case o.set["start-at"] && o.set["start-delay"]:
		return spec, usagef("k8s manifests: --start-at and --start-delay exclude each other; keep one")
	case o.set["start-at"]:
		if rest, ok := strings.CutPrefix(o.startAt, "+"); ok {
			// The render fixes the start for every pod: a time from now is
			// --start-delay's, which says it once.
			return spec, usagef("k8s manifests: --start-at %q: want a time such as 2026-12-01T12:00:00Z (RFC 3339); for a start %s from now, use --start-delay %s", o.startAt, rest, rest)
		}
		t, err := time.Parse(time.RFC3339Nano, o.startAt)
		if err != nil {
			return spec, usagef("k8s manifests: --start-at %q: want a time such as 2026-12-01T12:00:00Z (RFC 3339)", o.startAt)
		}
		// load accepts a start in the past (a shard started late begins at
		// once); here every pod would start late, and the test be skewed
		// from its first second.
		if t.Before(now) {
			return spec, usagef("k8s manifests: --start-at %s is in the past (%v ago); the shards would all start late: give a time to come, or --start-delay", o.startAt, now.Sub(t).Round(time.Second))
		}
		start = t
	default:
		if o.startDelay < 0 {
			return spec, usagef("k8s manifests: --start-delay %v: want a duration of at least 0", o.startDelay)
		}
		if o.startDelay > load.MaxStartAhead {
			return spec, usagef("k8s manifests: --start-delay %v: want at most %v, which is as far ahead as load --start-at plans a start", o.startDelay, load.MaxStartAhead)
		}
		start = now.Add(o.startDelay + time.Second - 1).Truncate(time.Second)
	}
	// Every pod reads the start the render gives it with load's own
	// --start-at rule, later than now: what it would refuse (a start too far
	// ahead) is refused here, before N pods exit 2 and the merge waits for
	// nothing.
	if _, err := load.ParseStartAt(k8s.StartArg(start), now); err != nil {
		flagName := "--start-at"
		if !o.set["start-at"] {
			flagName = "--start-delay"
		}
		return spec, usagef("k8s manifests: %s: the pods' load --start-at would refuse the start: %v", flagName, err)
	}

	loaded, err := suites.LoadPathsContext(ctx, []string{o.suite}, suites.Options{
		// The suite's secrets are the cluster's (--secret), not this
		// machine's: an unset variable is only a warning here.
		MissingEnvWarns: true,
		JudgeOff:        true,
		Warn: func(w *suites.Error) {
			fmt.Fprintf(io.Err, "%s: warning: %s\n", w.Pos, w.Msg)
		},
	})
	if err != nil {
		return spec, err
	}
	window, grace, err := k8sWorkload(loaded, o.shards)
	if err != nil {
		return spec, usagef("k8s manifests: %s: %v (the pods run 'evalrun load' with no workload flags, so the suite's load: section must say it all)", o.suite, err)
	}
	content, err := os.ReadFile(o.suite)
	if err != nil {
		return spec, usagef("k8s manifests: %v", err)
	}
	data, err := dataFiles(o.suite, loaded)
	if err != nil {
		return spec, usagef("k8s manifests: %v", err)
	}

	id := o.testID
	if !o.set["test-id"] {
		id = k8s.TestIDFor(loaded[0].Name, start)
	}
	spec = k8s.Spec{
		TestID:       id,
		Shards:       o.shards,
		Image:        o.image,
		Namespace:    o.namespace,
		Secret:       o.secret,
		RecordsClaim: o.recordsClaim,
		StorageClass: o.storageClass,
		Suite:        k8s.File{Path: filepath.Base(o.suite), Data: content},
		Data:         data,
		StartAt:      start,
		Lead:         start.Sub(now),
		Window:       window,
		Grace:        grace,
	}
	if err := spec.Check(); err != nil {
		return spec, usagef("k8s manifests: %v", err)
	}
	return spec, nil
}

// k8sWorkload is the workload the load pods will play: the suites' load:
// sections alone, resolved as `evalrun load` resolves them with no workload
// flags, and checked for the last shard, whose share is the smallest, so
// that the render refuses what every pod would. It returns how long
// conversations start and how long those in flight may then finish.
func k8sWorkload(loaded []*suites.Suite, n int) (window, grace time.Duration, err error) {
	whole, err := load.FromSuites(loaded)
	if err != nil {
		return 0, 0, err
	}
	if whole, err = whole.Override(load.Flags{}); err != nil {
		return 0, 0, err
	}
	part, err := whole.Shard(n-1, n)
	if err == nil {
		err = part.Validate()
	}
	if err != nil {
		return 0, 0, err
	}
	window = load.Ramp{Start: whole.Rate, Stages: whole.Stages, Duration: whole.Duration}.End()
	return window, max(whole.Grace, 0), nil
}

// dataFiles are the data files the suites read, which the pods need beside
// the suite: by their paths relative to its folder, as the suites wrote
// them.
func dataFiles(suite string, loaded []*suites.Suite) ([]k8s.File, error) {
	var files []k8s.File
	seen := map[string]bool{}
	for _, s := range loaded {
		for _, c := range s.Conversations {
			if c.Data == nil || c.Data.File == "" || seen[c.Data.File] {
				continue
			}
			seen[c.Data.File] = true
			rel := path.Clean(filepath.ToSlash(c.Data.File))
			if filepath.IsAbs(c.Data.File) || !filepath.IsLocal(c.Data.File) {
				return nil, fmt.Errorf("%s reads data file %s, outside its folder: the pods get the suite's folder only", suite, c.Data.File)
			}
			b, err := os.ReadFile(filepath.Join(filepath.Dir(suite), c.Data.File))
			if err != nil {
				return nil, err
			}
			files = append(files, k8s.File{Path: rel, Data: b})
		}
	}
	return files, nil
}
