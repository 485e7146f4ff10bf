// Package outfile writes report files so that a run can never destroy one of
// its inputs or leave half a report behind: every path is checked before
// anything is sent, the report goes to a temporary file beside it, and only a
// complete report is renamed into place. A file that others write to as
// well (GitHub's step summary) can instead be appended to, whole, at the
// end.
package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Request is a report file asked for on the command line.
type Request struct {
	Flag string // as the user gave it, such as "--json", for messages
	Path string // "" means not asked
	// Append adds the report to the end of an existing file instead of
	// replacing it, in one write at Commit, for a file that collects what
	// several commands write (GitHub's $GITHUB_STEP_SUMMARY). A file that
	// does not exist yet is created as any other report is. The refusals
	// of OpenAll hold all the same.
	Append bool
}

// Stdout is the path that asks for a report on standard output.
const Stdout = "-"

// File is a report file opened before a run and committed after it. Until
// Commit, nothing exists at its path but what was there before.
type File struct {
	path   string   // as the user wrote it
	target string   // where the report lands: path with symlinks resolved
	tmp    *os.File // the temporary file beside target; nil when direct
	direct *os.File // a device or pipe such as /dev/stdout, written as is
	// appendTo is the existing file a Request.Append report goes at the end
	// of; nil otherwise.
	appendTo *os.File
	// stdout marks the report asked for at "-", which Commit writes to
	// stream (os.Stdout unless SetStdout said otherwise).
	stdout bool
	stream io.Writer
}

// OpenAll checks every requested path and opens it. It refuses, before
// anything is created:
//   - a path that is the same file as one of inputs (the files the command
//     reads), however it is spelled, through symlinks and hard links;
//   - a path that names an existing YAML file, which is a suite the shell put
//     there (`--json g/*.yaml` makes the first suite the report);
//   - two reports that are the same file under different spellings;
//   - a folder;
//   - two reports at "-" (Stdout): standard output holds one report, whole.
//
// On error nothing is left behind.
func OpenAll(reqs []Request, inputs []string) ([]*File, error) {
	var ids []identity
	var asked []Request
	var toStdout *Request
	for _, r := range reqs {
		if r.Path == "" {
			continue
		}
		if r.Path == Stdout {
			if toStdout != nil {
				return nil, fmt.Errorf("%s - and %s - both ask for standard output, which can hold one report; give the other a file", toStdout.Flag, r.Flag)
			}
			toStdout = &r
			ids, asked = append(ids, identity{}), append(asked, r)
			continue
		}
		id := identify(r.Path)
		if id.info != nil && id.info.IsDir() {
			return nil, fmt.Errorf("%s %s is a folder; name a file for the report", r.Flag, r.Path)
		}
		for _, in := range inputs {
			if id.same(identify(in)) {
				return nil, fmt.Errorf("%s %s is %s, which this command reads; evalrun never overwrites its input: give the report a file of its own", r.Flag, r.Path, in)
			}
		}
		if id.regular() && (isYAML(r.Path) || isYAML(id.key)) {
			return nil, fmt.Errorf("%s %s is a suite file, not a report; evalrun never overwrites a suite. "+
				"If the shell expanded a glob such as g/*.yaml right after %s, put the report's own file name there", r.Flag, r.Path, r.Flag)
		}
		for i, prev := range ids {
			if id.same(prev) {
				return nil, fmt.Errorf("%s %s and %s %s are the same file; give each report its own", asked[i].Flag, asked[i].Path, r.Flag, r.Path)
			}
		}
		ids, asked = append(ids, id), append(asked, r)
	}
	var files []*File
	for i, r := range asked {
		if r.Path == Stdout {
			files = append(files, &File{path: r.Path, stdout: true, stream: os.Stdout})
			continue
		}
		f, err := open(r, ids[i])
		if err != nil {
			for _, f := range files {
				f.Abort()
			}
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// identity is what is known about where a path leads.
type identity struct {
	key  string      // absolute, with every symlink that exists resolved
	info fs.FileInfo // nil when nothing is there yet
}

func identify(path string) identity {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	id := identity{key: abs}
	if info, err := os.Stat(abs); err == nil {
		id.info = info
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		id.key = real
	} else if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		// Not there yet: it will be created in the real folder.
		id.key = filepath.Join(dir, filepath.Base(abs))
	}
	return id
}

func (id identity) regular() bool { return id.info != nil && id.info.Mode().IsRegular() }

// same reports whether two paths lead to one file. Devices and pipes such as
// /dev/null are never the same report: writing to one twice loses nothing.
func (id identity) same(other identity) bool {
	if id.info != nil && !id.regular() || other.info != nil && !other.regular() {
		return false
	}
	if id.key == other.key {
		return true
	}
	return id.info != nil && other.info != nil && os.SameFile(id.info, other.info)
}

func open(r Request, id identity) (*File, error) {
	f := &File{path: r.Path, target: id.key}
	if id.info != nil && !id.regular() {
		// A device or a pipe cannot be replaced by a rename, and renaming
		// over /dev/null as root would replace the device itself.
		d, err := os.OpenFile(r.Path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("%s %s: cannot write it: %v", r.Flag, r.Path, cause(err))
		}
		f.direct = d
		return f, nil
	}
	if r.Append && id.regular() {
		a, err := os.OpenFile(f.target, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, fmt.Errorf("%s %s: cannot write it: %v", r.Flag, r.Path, cause(err))
		}
		f.appendTo = a
		return f, nil
	}
	tmp, err := createTemp(f.target)
	if err != nil {
		return nil, fmt.Errorf("%s %s: cannot write there: %v", r.Flag, r.Path, cause(err))
	}
	if id.info != nil {
		// Replacing a report keeps its permissions.
		if err := tmp.Chmod(id.info.Mode().Perm()); err != nil {
			removeTemp(tmp)
			return nil, fmt.Errorf("%s %s: %v", r.Flag, r.Path, cause(err))
		}
	}
	f.tmp = tmp
	return f, nil
}

// temps holds the names of the temporary files not yet committed or
// aborted, for RemoveTemps. Once RemoveTemps has run, no more are made.
var temps = struct {
	sync.Mutex
	names   map[string]bool
	removed bool
}{names: map[string]bool{}}

// errExiting refuses a report asked for after RemoveTemps.
var errExiting = errors.New("the process is exiting")

// RemoveTemps removes the temporary file of every File not yet committed or
// aborted, and makes opening any more fail. It is for a process about to
// exit at once, such as on a second Ctrl-C, and may be called from any
// goroutine, while others write: a report it cuts off fails to commit and is
// not written, and reports already committed stay.
func RemoveTemps() {
	temps.Lock()
	defer temps.Unlock()
	temps.removed = true
	for name := range temps.names {
		os.Remove(name)
		delete(temps.names, name)
	}
}

// createTemp creates a new file beside target, named after it. Unlike
// os.CreateTemp it asks for mode 0666, so that the umask decides, as it does
// for a file os.Create makes: a user with umask 077 keeps transcripts private.
// The lock is held while the file is made so that RemoveTemps cannot miss it.
func createTemp(target string) (*os.File, error) {
	temps.Lock()
	defer temps.Unlock()
	if temps.removed {
		return nil, errExiting
	}
	dir, base := filepath.Split(target)
	for try := 0; ; try++ {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		if err == nil {
			temps.names[name] = true
		}
		return f, err
	}
}

// forget takes a temporary file that is gone, renamed or removed, out of
// temps.
func forget(name string) {
	temps.Lock()
	delete(temps.names, name)
	temps.Unlock()
}

// removeTemp closes and removes a temporary file.
func removeTemp(tmp *os.File) {
	tmp.Close()
	os.Remove(tmp.Name())
	forget(tmp.Name())
}

// cause drops the temporary file's name from an error about it, which
// would only confuse.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Path returns the path as the user wrote it.
func (f *File) Path() string { return f.path }

// IsStdout reports whether the report goes to standard output ("-").
func (f *File) IsStdout() bool { return f.stdout }

// SetStdout gives a report at "-" the writer that is standard output, such
// as a command's streams; it does nothing for any other report.
func (f *File) SetStdout(w io.Writer) {
	if f.stdout {
		f.stream = w
	}
}

// Commit writes data as the whole report and puts it in place, or for an
// Append report adds it at the end of the file. Whatever happens, the
// temporary file is gone afterwards. Commit on a committed or aborted File
// does nothing.
func (f *File) Commit(data []byte) error {
	switch {
	case f.stdout:
		if f.stream == nil {
			return nil
		}
		_, err := f.stream.Write(data)
		f.stream = nil
		if err != nil {
			return fmt.Errorf("write the report to standard output: %v", err)
		}
		return nil
	case f.direct != nil:
		_, err := f.direct.Write(data)
		if cerr := f.direct.Close(); err == nil {
			err = cerr
		}
		f.direct = nil
		if err != nil {
			return fmt.Errorf("write %s: %v", f.path, cause(err))
		}
		return nil
	case f.appendTo != nil:
		// One write, so that the report lands after whatever is in the
		// file by then, never interleaved with another writer's lines.
		_, err := f.appendTo.Write(data)
		if cerr := f.appendTo.Close(); err == nil {
			err = cerr
		}
		f.appendTo = nil
		if err != nil {
			return fmt.Errorf("write %s: %v", f.path, cause(err))
		}
		return nil
	case f.tmp == nil:
		return nil
	}
	tmp := f.tmp
	f.tmp = nil
	// No fsync: the rename guards against the process dying mid-write,
	// which is what a killed run or a full disk does; surviving a power
	// cut is not worth a sync per report.
	_, err := tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.target)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	forget(tmp.Name())
	if err != nil {
		return fmt.Errorf("write %s: %v", f.path, cause(err))
	}
	return nil
}

// Abort gives the report up: nothing is written and the path keeps what it
// had. Abort after Commit does nothing.
func (f *File) Abort() {
	f.stream = nil
	if f.direct != nil {
		f.direct.Close()
		f.direct = nil
	}
	if f.appendTo != nil {
		f.appendTo.Close()
		f.appendTo = nil
	}
	if f.tmp != nil {
		removeTemp(f.tmp)
		f.tmp = nil
	}
}
