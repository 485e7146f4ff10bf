package load

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/evalrun/evalrun/suites"
)

// Identity names one load test: every shard of it, however it was started,
// carries the same. It is what merge compares to tell a complete set of
// shards from a mix (results.Test holds it in the record).
type Identity struct {
	// ID is the test id: given (--test-id), or derived by Identify.
	ID string
	// SuitesDigest and WorkloadDigest are "sha256:" and hex digests; Digest
	// is one of the two together. Workload is the workload in words.
	Digest, SuitesDigest, WorkloadDigest string
	Workload                             string
}

// Setup is what, besides the suites and the whole workload, decides what a
// test sends and how it is judged.
type Setup struct {
	// TestID is the id given (--test-id); "" derives one.
	TestID string
	// BaseURL is the base URL every suite was pointed at (--base-url), "" for
	// the suites' own.
	BaseURL string
	// Judge says the judged checks run (--judge).
	Judge bool
	// Thresholds are the gates the test is judged by, in any order.
	Thresholds []string
}

// Identify names the test that plays ss with the whole workload, as given
// before Shard took one machine's part of it (so every shard agrees), with
// setup. It is pure: the same inputs give the same identity.
//
// The suites' digest is of each suite's Digest by name, so it covers the
// files' content, not where they are mounted. The workload's digest is of
// WorkloadText and setup; OnTick, SampleLimit, RunID, StartAt and Clock are
// not part of it, as they do not change what the service is sent.
//
// Without setup.TestID, the id is "t-" and the first 12 hex digits of the
// digest, then, when whole.StartAt is set, "-" and the planned start in UTC
// (20060102t150405): shards started alike agree on it with nothing passed
// between them. Two tests of the same suites and workload without --test-id
// or --start-at share an id; merge tells them apart by their times.
func Identify(ss []*suites.Suite, whole Options, setup Setup) Identity {
	named := make([]string, 0, len(ss))
	for _, s := range ss {
		named = append(named, fmt.Sprintf("suite %q %s\n", s.Name, s.Digest))
	}
	slices.Sort(named) // by name, whatever order the paths gave
	sd := sha256.New()
	sd.Write([]byte("evalrun suites\n"))
	for _, n := range named {
		sd.Write([]byte(n))
	}
	suitesSum := sd.Sum(nil)

	text := WorkloadText(whole)
	wd := sha256.New()
	fmt.Fprintf(wd, "evalrun workload\n%s\nbase_url %q\njudge %t\n", canonicalWorkload(whole), setup.BaseURL, setup.Judge)
	gates := slices.Clone(setup.Thresholds)
	slices.Sort(gates)
	for _, g := range slices.Compact(gates) {
		fmt.Fprintf(wd, "threshold %q\n", g)
	}
	workloadSum := wd.Sum(nil)

	both := sha256.New()
	both.Write(suitesSum)
	both.Write(workloadSum)
	digest := hex.EncodeToString(both.Sum(nil))

	id := setup.TestID
	if id == "" {
		id = "t-" + digest[:12]
		if !whole.StartAt.IsZero() {
			id += "-" + whole.StartAt.UTC().Format(testIDTime)
		}
	}
	return Identity{
		ID:             id,
		Digest:         "sha256:" + digest,
		SuitesDigest:   "sha256:" + hex.EncodeToString(suitesSum),
		WorkloadDigest: "sha256:" + hex.EncodeToString(workloadSum),
		Workload:       text,
	}
}

// testIDTime lays out the planned start in a derived test id: lower case
// and digits only, so that the id stays a valid Kubernetes label value.
const testIDTime = "20060102t150405"

// MaxTestIDLength is the longest test id: a Kubernetes label value's limit.
const MaxTestIDLength = 63

// CheckTestID says what is wrong with a test id given by hand. An id names
// the shards' records, a folder and a Kubernetes label, so it is what all
// three accept: 1 to 63 lower-case letters, digits and hyphens, beginning
// and ending with a letter or digit.
func CheckTestID(id string) error {
	const want = "want 1 to 63 lower-case letters, digits and '-', beginning and ending with a letter or digit (it names files and a Kubernetes label)"
	switch {
	case id == "":
		return errors.New("empty; " + want)
	case len(id) > MaxTestIDLength:
		return fmt.Errorf("%d characters; %s", len(id), want)
	}
	for i, r := range id {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case !alnum && r != '-':
			return fmt.Errorf("%q at %d; %s", r, i+1, want)
		case !alnum && (i == 0 || i == len(id)-1):
			return fmt.Errorf("begins or ends with '-'; %s", want)
		}
	}
	return nil
}

// WorkloadText is the workload o describes, in words: "open 40/s for 5m0s,
// grace 30s", "open 10/s then 1m0s to 50/s for 1m0s, at most 200 in flight,
// grace 30s", "closed 20 vus for 5m0s, think 1s, grace 0s". Defaults are
// resolved as Run resolves them.
func WorkloadText(o Options) string {
	var b strings.Builder
	grace := o.Grace
	switch {
	case grace == 0:
		grace = DefaultGrace
	case grace < 0:
		grace = 0
	}
	if o.VUs > 0 {
		fmt.Fprintf(&b, "closed %d vus for %s", o.VUs, o.Duration)
		if o.ThinkTime > 0 {
			fmt.Fprintf(&b, ", think %s", o.ThinkTime)
		}
	} else {
		fmt.Fprintf(&b, "open %s/s", formatFloat(o.Rate))
		for _, s := range o.Stages {
			fmt.Fprintf(&b, " then %s to %s/s", s.Duration, formatFloat(s.Target))
		}
		fmt.Fprintf(&b, " for %s", Ramp{Start: o.Rate, Stages: o.Stages, Duration: o.Duration}.End())
		if o.MaxInFlight > 0 {
			fmt.Fprintf(&b, ", at most %d in flight", o.MaxInFlight)
		}
	}
	fmt.Fprintf(&b, ", grace %s", grace)
	return b.String()
}

// canonicalWorkload is every workload setting of o, one per line, for the
// digest: WorkloadText leaves out what is zero, this does not, so no two
// workloads can read alike. Durations and the grace period are the ones Run
// plays (the stages' total, DefaultGrace for 0), so that two ways of saying
// one workload agree.
func canonicalWorkload(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nrate %s\nvus %d\nthink %d\nmax_in_flight %d\n",
		WorkloadText(o), formatFloat(o.Rate), o.VUs, o.ThinkTime, o.MaxInFlight)
	for _, s := range o.Stages {
		fmt.Fprintf(&b, "stage %d %s\n", s.Duration, formatFloat(s.Target))
	}
	return b.String()
}
