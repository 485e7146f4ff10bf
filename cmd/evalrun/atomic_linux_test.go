package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A load shard killed outright mid-run (SIGKILL: the OOM killer, a node
// lost) has no chance to write its record. What it must not do is leave half
// of one where merge would read it: the record is written to a temporary
// file and renamed into place, so the --json path holds nothing, or the
// file that was there before, untouched. The shard is killed once the
// server has seen its first conversation, not after a sleep.
func TestKilledShardLeavesNoHalfRecord(t *testing.T) {
	for _, previous := range []string{"", `{"an earlier record": true}`} {
		name := "no file before"
		if previous != "" {
			name = "a file before"
		}
		t.Run(name, func(t *testing.T) {
			p, arrived := heldSuite(t)
			dir := t.TempDir()
			js := filepath.Join(dir, "shard-0.json")
			if previous != "" {
				writeFile(t, js, previous)
			}
			cmd := exec.Command(binary, "load", "--no-progress", "--rate", "5", "--duration", "10m", "--shard", "0/2", "--json", js, p)
			cmd.Env = append(os.Environ(), "CI=true")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill() // a no-op once it has exited
			select {
			case <-arrived:
			case <-time.After(20 * time.Second):
				t.Fatal("the shard never sent a turn")
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			b, err := os.ReadFile(js)
			switch {
			case previous == "" && !os.IsNotExist(err):
				t.Errorf("the killed shard left %s (%q, %v); want nothing there", js, b, err)
			case previous != "" && (err != nil || string(b) != previous):
				t.Errorf("the killed shard changed %s: %q, %v; want %q", js, b, err, previous)
			}
			// What may stay is an empty temporary file, hidden, which
			// merge passes over.
			es, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if e.Name() == filepath.Base(js) && previous != "" {
					continue
				}
				info, _ := e.Info()
				if !strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".tmp") || info == nil || info.Size() != 0 {
					t.Errorf("left beside the record: %s (%v)", e.Name(), info)
				}
			}
		})
	}
}
