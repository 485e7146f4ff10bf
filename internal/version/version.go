// Package version says which evalrun this is: the version stamped at build
// time, or the module version and VCS revision the Go toolchain recorded.
// Load records carry it so that merge can refuse shards of two builds.
package version

import (
	"runtime/debug"
	"sync"
)

// Stamped is set at build time, e.g. by the Dockerfile:
//
//	go build -ldflags "-X github.com/evalrun/evalrun/internal/version.Stamped=v1.2.3"
//
// It wins over the build information.
var Stamped string

// StampedCommit is the commit set at build time the same way; it wins over
// the VCS revision in the build information (a container build has no .git).
var StampedCommit string

var info = sync.OnceValue(func() (v Info) {
	v.Version, v.Commit = Stamped, StampedCommit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
})

// Info is what this binary knows of itself.
type Info struct {
	Version  string // v1.2.3, a pseudo-version, or "dev"
	Commit   string // the VCS revision, or ""
	Modified bool   // built from a work tree with changes not committed
}

// Get returns the running binary's version information.
func Get() Info { return info() }

// String is the version and commit as `evalrun version` prints them:
// "v1.2.3 (commit 0123abcd)", "v1.2.3 (commit 0123abcd, modified)", "dev".
func (i Info) String() string {
	s := i.Version
	if i.Commit != "" {
		s += " (commit " + i.Commit
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s
}
