package suites

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Options tune loading.
type Options struct {
	// LookupEnv reads the environment for ${VAR} references; nil means
	// os.LookupEnv. Tests pass their own to stay independent of the machine.
	LookupEnv func(string) (string, bool)

	// MissingEnvWarns makes an unset ${VAR} a warning instead of an error,
	// for `evalrun validate`: a CI lint step (on a fork, say) checks suites
	// without their secrets. A value that reads an unset variable is left
	// out, as if not written, so nothing that depends on it is checked.
	MissingEnvWarns bool

	// BaseURL is the base URL that replaces every suite's (--base-url); ""
	// keeps each suite's own. It changes what the provider section needs:
	// a suite's own base_url is not needed when it is replaced, and when
	// the base URL in effect is the built-in simulator, which accepts any
	// token, neither is the token nor a header. An unset variable in those
	// values is then a warning, and the value is left out.
	BaseURL string

	// JudgeOff says judged checks will not run (evalrun load without
	// --judge): the judge: section is still checked, but an unset variable
	// in its token is only a warning, as nothing will be sent to the judge.
	JudgeOff bool

	// Warn receives every warning, sorted like errors, once loading is
	// done; nil drops them. Warnings never make loading fail.
	Warn func(*Error)
}

func (o Options) lookupEnv() func(string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv
	}
	return os.LookupEnv
}

func (o Options) warn(warns ErrorList) {
	if o.Warn == nil {
		return
	}
	for _, w := range warns.normalize() {
		o.Warn(w)
	}
}

// Load reads and validates the suite file at path. A file holds one suite, or
// several as YAML documents separated by "---". On any problem it returns no
// suites and an ErrorList holding every problem in the file. Positions name
// the file by path exactly as given; those of a problem in a conversation's
// data file name it by the suite's folder joined with the path the suite
// wrote.
func Load(path string, opts Options) ([]*Suite, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, ErrorList{err}
	}
	ss, errs, warns := loadData(path, data, opts)
	opts.warn(warns)
	if len(errs) > 0 {
		return nil, errs
	}
	return ss, nil
}

// LoadPaths is LoadPathsContext without a way to stop it.
func LoadPaths(paths []string, opts Options) ([]*Suite, error) {
	return LoadPathsContext(context.Background(), paths, opts)
}

// LoadPathsContext loads every suite named by paths: files as they are,
// folders as every *.yaml and *.yml file under them, recursively, in lexical
// order (entries whose names start with "." are skipped). A file named twice,
// however spelled (relative, absolute, a symlink or hard link to it), loads
// once, under its first spelling. A missing path, a folder without suites, a
// path that is not a regular file (a named pipe, a device) and a file larger
// than MaxFileSize are errors. On any problem it returns nil and an ErrorList
// with every problem of every file.
//
// When ctx is done, loading stops between two files or folder entries and
// the error wraps the context's cause instead (it is no ErrorList: the
// suites are not known to be wrong, only unread).
func LoadPathsContext(ctx context.Context, paths []string, opts Options) ([]*Suite, error) {
	var (
		errs  ErrorList
		files []suiteFile
		seen  []fs.FileInfo // of each of files, nil where Stat failed
	)
	add := func(f string, walked bool) {
		// A file is the same one however it is spelled (relative or
		// absolute, through a symlink or a hard link): two spellings must
		// not load it twice and clash with their own suite names.
		info, _ := os.Stat(f)
		for i, prev := range seen {
			if info != nil && prev != nil && os.SameFile(info, prev) ||
				(info == nil || prev == nil) && filepath.Clean(f) == filepath.Clean(files[i].path) {
				// A file named on the command line is loaded even when a
				// folder walk met it first and would pass it over.
				files[i].walked = files[i].walked && walked
				return
			}
		}
		seen = append(seen, info)
		files = append(files, suiteFile{f, walked})
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, stopped(ctx)
		}
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, pathError(p, err))
			continue
		}
		if !info.IsDir() {
			add(p, false)
			continue
		}
		found, err := suiteFiles(ctx, p)
		if ctx.Err() != nil {
			return nil, stopped(ctx)
		}
		if err != nil {
			errs = append(errs, pathError(p, err))
			continue
		}
		if len(found) == 0 {
			errs = append(errs, &Error{Pos: Pos{File: p}, Msg: "no suite files (*.yaml, *.yml) in this folder"})
		}
		for _, f := range found {
			add(f, true)
		}
	}
	var warns ErrorList
	defer func() { opts.warn(warns) }()
	suites := make([]*Suite, 0, len(files))
	for _, f := range files {
		if ctx.Err() != nil {
			return nil, stopped(ctx)
		}
		data, err := readFile(f.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if f.walked && isManifest(data) {
			continue
		}
		ss, fileErrs, fileWarns := loadData(f.path, data, opts)
		errs = append(errs, fileErrs...)
		warns = append(warns, fileWarns...)
		suites = append(suites, ss...)
	}
	uniqueDefaultNames(suites)
	errs = append(errs, duplicateNames(suites)...)
	if len(errs) > 0 {
		return nil, errs.normalize()
	}
	return suites, nil
}

// suiteFile is one file to load, and whether a folder walk found it (rather
// than the command line naming it).
type suiteFile struct {
	path   string
	walked bool
}

// stopped is the error of a load that ctx cut short.
func stopped(ctx context.Context) error {
	return fmt.Errorf("loading suites stopped: %w", context.Cause(ctx))
}

// suiteFiles lists the suite files under dir in lexical order. Every entry
// that looks like a suite is listed, whatever its type, so that a named pipe
// or a device among the suites is refused by name rather than skipped.
func suiteFiles(ctx context.Context, dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

// manifestKeys match the top-level keys every Kubernetes object has.
var manifestKeys = [2]*regexp.Regexp{regexp.MustCompile(`(?m)^apiVersion:`), regexp.MustCompile(`(?m)^kind:`)}

// isManifest reports whether a file found in a folder is a Kubernetes object
// rather than a suite (examples/k8s keeps both side by side), so a folder
// walk passes it over. A file named on the command line is always loaded.
func isManifest(data []byte) bool {
	return manifestKeys[0].Match(data) && manifestKeys[1].Match(data)
}

// readFile reads a suite file. It looks before it opens: only a regular file
// is opened, since opening a named pipe blocks until something writes to it,
// and only one of at most MaxFileSize bytes is read. The read itself is
// bounded too, for a file that grows after the look.
func readFile(path string) ([]byte, *Error) { return readBounded(path, "suite") }

// readBounded is readFile for any file the loader reads; kind ("suite",
// "data file") is what messages call it.
func readBounded(path, kind string) ([]byte, *Error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if e := checkFileInfo(path, kind, info); e != nil {
		return nil, e
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil {
		if e := checkFileInfo(path, kind, info); e != nil {
			return nil, e
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, pathError(path, err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(path, kind, 0) // it grew after the look: its size is unknown
	}
	return data, nil
}

// checkFileInfo refuses what readBounded must not open or read whole.
func checkFileInfo(path, kind string, info fs.FileInfo) *Error {
	mode := info.Mode()
	if !mode.IsRegular() {
		what := "not a regular file"
		switch {
		case mode&fs.ModeNamedPipe != 0:
			what = "a named pipe, not a regular file"
		case mode&fs.ModeSocket != 0:
			what = "a socket, not a regular file"
		case mode&fs.ModeDevice != 0:
			what = "a device, not a regular file"
		}
		return &Error{Pos: Pos{File: path}, Msg: "cannot read: " + what + "; a " + kind + " must be a regular file"}
	}
	if info.Size() > MaxFileSize {
		return tooLarge(path, kind, info.Size())
	}
	return nil
}

// tooLarge refuses a file of size bytes; 0 means more than MaxFileSize, by
// how much unknown.
func tooLarge(path, kind string, size int64) *Error {
	is := "more than " + mebibytes(MaxFileSize)
	if size > 0 {
		is = mebibytes(size) + ", " + is
	}
	return &Error{Pos: Pos{File: path}, Msg: "cannot read: the file is " + is +
		", the largest " + strings.TrimSuffix(kind, " file") + " file evalrun reads; split it into several files"}
}

// mebibytes writes a size as "10 MiB", or "10.5 MiB" when it is not whole.
func mebibytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// pathError describes a path that cannot be read without repeating the path,
// which the position already shows.
func pathError(path string, err error) *Error {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		msg = "no such file or folder"
	case errors.Is(err, fs.ErrPermission):
		msg = "permission denied"
	}
	return &Error{Pos: Pos{File: path}, Msg: "cannot read: " + msg}
}

// loadData turns the bytes of one suite file into its suites, or into every
// error found; never both. Warnings come either way.
func loadData(file string, data []byte, opts Options) ([]*Suite, ErrorList, ErrorList) {
	roots, err := parseYAML(file, data)
	if err != nil {
		return nil, ErrorList{err}, nil
	}
	var (
		suites      []*Suite
		errs, warns ErrorList
		named       = map[string]Pos{} // suite name -> where the document that took it names it
		fileSum     = sha256.Sum256(data)
	)
	for i, root := range roots {
		s, dataSums, docErrs, docWarns := loadDocument(file, i, root, opts)
		errs = append(errs, docErrs...)
		warns = append(warns, docWarns...)
		if s == nil {
			continue
		}
		s.Digest = suiteDigest(fileSum, i, dataSums)
		if first, dup := named[s.Name]; dup {
			errs = append(errs, &Error{Pos: s.NamePos, Msg: fmt.Sprintf(
				"duplicate suite name %q: the document at line %d:%d has it too; give each document its own name", s.Name, first.Line, first.Col)})
		} else {
			named[s.Name] = s.NamePos
		}
		suites = append(suites, s)
	}
	if len(errs) > 0 {
		return nil, errs.normalize(), warns
	}
	return suites, nil, warns
}

// suiteDigest is a Suite's Digest: of its file's bytes, its document's index
// and its data files' bytes, each by its SHA-256.
func suiteDigest(file [sha256.Size]byte, doc int, data [][sha256.Size]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "evalrun suite\nfile %x\ndocument %d\n", file, doc)
	for _, d := range data {
		fmt.Fprintf(h, "data %x\n", d)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// loadDocument loads the index-th document of a file, rooted at root, and
// returns with the suite the SHA-256 of each data file it read.
func loadDocument(file string, index int, root *yaml.Node, opts Options) (s *Suite, data [][sha256.Size]byte, errs, warns ErrorList) {
	// A file visits each of its nodes a few times; only aliases can make it
	// visit far more.
	l := &loader{file: file, doc: index, opts: opts, lookupEnv: opts.lookupEnv(), budget: 4*countNodes(root) + 100_000}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(errBudget); !ok {
				panic(r)
			}
			s, errs = nil, ErrorList{{Pos: l.pos(root), Msg: "aliases expand this file to too many values; use fewer aliases of aliases"}}
		}
	}()
	s = l.suite(root)
	if len(l.errs) > 0 {
		return nil, nil, l.errs, l.warns
	}
	return s, l.dataSums, nil, l.warns
}

// countNodes counts the nodes of a tree as written, aliases not followed.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// parseYAML parses every document of a suite file and returns their root
// nodes, leaving out empty documents (a stray "---" at the end).
func parseYAML(file string, data []byte) (roots []*yaml.Node, err *Error) {
	at := func(line, col int, format string, args ...any) *Error {
		return &Error{Pos: Pos{File: file, Line: line, Col: col}, Msg: fmt.Sprintf(format, args...)}
	}
	defer func() {
		// yaml.v3 has panicked on hostile input before; a suite file is
		// user input, so a parser panic becomes a parse error.
		if r := recover(); r != nil {
			roots, err = nil, at(1, 1, "YAML syntax error: the parser failed on this file (%v)", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if e := dec.Decode(&doc); e != nil {
			if e != io.EOF {
				return nil, syntaxError(file, data, e)
			}
			break
		}
		if len(doc.Content) > 0 && !isEmptyDocument(doc.Content[0]) {
			roots = append(roots, doc.Content[0])
		}
	}
	if len(roots) == 0 {
		return nil, at(1, 1, "the file is empty; want a suite with provider and conversations")
	}
	return roots, nil
}

// isEmptyDocument reports whether a document root holds nothing at all, as
// after a "---" that ends a file.
func isEmptyDocument(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" && n.Style == 0
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of yaml.v3's parser stage (parserc.go), as
// opposed to its scanner stage. The distinction matters for the line number:
// yaml.v3 reports a parser error's line 0-based (it adds 1 only for scanner
// errors), and omits "line N" when that number is 0.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// syntaxError places a yaml.v3 error in the file. yaml.v3 gives a line at
// best, never a column, so:
//
//   - The starting line is yaml.v3's, made 1-based for parser errors (see
//     parserProblems); a message without a line means line 1. yaml.v3 gives
//     the line where the broken construct starts (the mapping a badly
//     indented key cannot continue, the scalar a tab breaks) when it knows
//     it, which can be well above the mistake; narrowSyntaxError moves down
//     to the line where the mistake shows.
//   - The column is that of the first character on that line that is not a
//     space or tab (for a tab in the indentation, the tab's). yaml.v3 keeps
//     the exact column to itself, and the start of the line's content is the
//     most a line number honestly supports.
//   - Errors about the bytes themselves (bad UTF-8, control characters) and
//     unknown aliases carry no line at all; for those the offending byte or
//     alias is searched for, which gives an exact line and column.
func syntaxError(file string, data []byte, e error) *Error {
	msg := strings.TrimPrefix(e.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(e.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if slices.Contains(parserProblems, msg) {
			line++
		}
	}
	line = narrowSyntaxError(data, line, msg)
	// yaml.v3 places the end of the stream on a line of its own when the
	// file does not end with a newline; the last line is the honest place.
	line = min(line, lineCount(data))
	col := firstColumn(data, line)
	if strings.HasPrefix(msg, "found a tab character") || msg == "found character that cannot start any token" {
		// yaml.v3's words for a tab in the indentation do not say "tab"
		// every time, and never say what to do; when the line's leading
		// white space holds a tab, that tab is the mistake.
		if tab := tabColumn(data, line, 0); tab > 0 {
			return &Error{Pos: Pos{File: file, Line: line, Col: tab},
				Msg: "YAML syntax error: a tab in the indentation; YAML indents with spaces only, so replace the tab with spaces"}
		}
	}
	if l, c, ok := locateByteProblem(data, msg); ok {
		line, col = l, c
	}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		if l, c, ok := locate(data, regexp.MustCompile(`\*`+regexp.QuoteMeta(name)+`(?:[\s,\]}]|$)`)); ok {
			line, col = l, c
		}
		msg = fmt.Sprintf("alias *%s refers to no anchor; define &%s before using it", name, name)
		return &Error{Pos: Pos{File: file, Line: line, Col: col}, Msg: msg}
	}
	return &Error{Pos: Pos{File: file, Line: line, Col: col}, Msg: "YAML syntax error: " + msg}
}

// narrowSyntaxError returns the first line, from line on, at which the
// file's prefix ending with that line already fails with the same problem:
// the line that broke the construct yaml.v3 was reading. The search is
// bounded; past the bound, or when no prefix fails the same way, line stands.
func narrowSyntaxError(data []byte, line int, problem string) int {
	const maxBytes = 4 << 20 // parsed over all tries: some milliseconds
	lines := bytes.SplitAfter(data, []byte("\n"))
	end, parsed := 0, 0
	for k := 1; k <= len(lines); k++ {
		end += len(lines[k-1])
		if k < line {
			continue
		}
		prefix := data[:end]
		if parsed += len(prefix); parsed > maxBytes {
			break
		}
		if err := decodeAll(prefix); err != nil {
			msg := err.Error()
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				msg = m[2]
			}
			if strings.TrimPrefix(msg, "yaml: ") == problem {
				return k
			}
		}
	}
	return line
}

// decodeAll parses every document of data and returns the first error.
func decodeAll(data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// lineCount returns the number of lines an editor shows for data, at least 1.
func lineCount(data []byte) int {
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return max(n, 1)
}

// firstColumn returns the 1-based column of the first character on line that
// is not a space or tab, or 1 for a blank or missing line.
func firstColumn(data []byte, line int) int {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 1
	}
	text := lines[line-1]
	indent := len(text) - len(bytes.TrimLeft(text, " \t"))
	if indent == len(bytes.TrimRight(text, "\r")) {
		return 1
	}
	return utf8.RuneCount(text[:indent]) + 1
}

// tabColumn returns the column of the first tab in the indentation of line,
// or col when there is none.
func tabColumn(data []byte, line, col int) int {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return col
	}
	text := lines[line-1]
	indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]
	if i := bytes.IndexByte(indent, '\t'); i >= 0 {
		return i + 1
	}
	return col
}

// locateByteProblem finds the byte that yaml.v3's reader refused, for the
// messages that come without a line.
func locateByteProblem(data []byte, msg string) (line, col int, ok bool) {
	switch msg {
	case "invalid leading UTF-8 octet", "invalid trailing UTF-8 octet", "incomplete UTF-8 octet sequence":
		for i := 0; i < len(data); {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				line, col := lineCol(data, i)
				return line, col, true
			}
			i += size
		}
	case "control characters are not allowed":
		for i, r := range string(data) {
			if !yamlPrintable(r) {
				line, col := lineCol(data, i)
				return line, col, true
			}
		}
	}
	return 0, 0, false
}

// yamlPrintable reports whether r may appear in a YAML stream (YAML 1.2,
// production c-printable).
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// locate returns the line and column of the first match of re in data.
func locate(data []byte, re *regexp.Regexp) (line, col int, ok bool) {
	loc := re.FindIndex(data)
	if loc == nil {
		return 0, 0, false
	}
	line, col = lineCol(data, loc[0])
	return line, col, true
}

// lineCol turns a byte offset into a 1-based line and a 1-based column
// counted in characters, as yaml.v3 counts them.
func lineCol(data []byte, off int) (line, col int) {
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return bytes.Count(data[:off], []byte("\n")) + 1, utf8.RuneCount(data[start:off]) + 1
}

// uniqueDefaultNames lengthens the default names that files of one load
// share: two smoke.yaml in billing/ and support/ become "billing/smoke" and
// "support/smoke", the paths relative to the folder they have in common,
// with / as the separator on every system. A default name no other file
// shares stays as it is, so adding a second smoke.yaml renames only the
// suites named after it.
func uniqueDefaultNames(ss []*Suite) {
	// The documents of one file share a stem, so they are lengthened
	// together: a/smoke and a/smoke-2, never a/smoke and smoke-2.
	byStem := map[string][]*Suite{}
	for _, s := range ss {
		stem := s.Name
		if s.nameDefault {
			stem = strings.TrimSuffix(stem, docSuffix(s.doc))
		}
		byStem[stem] = append(byStem[stem], s)
	}
	for _, group := range byStem {
		if !slices.ContainsFunc(group, func(s *Suite) bool { return s.nameDefault }) ||
			!slices.ContainsFunc(group, func(s *Suite) bool { return s.File != group[0].File }) {
			continue
		}
		abs := make([]string, len(group))
		for i, s := range group {
			abs[i] = absPath(s.File)
		}
		root := commonDir(abs)
		name := func(s *Suite, i int, keepExt bool) string {
			rel, err := filepath.Rel(root, abs[i])
			if err != nil {
				rel = abs[i]
			}
			if !keepExt {
				rel = strings.TrimSuffix(rel, filepath.Ext(rel))
			}
			return filepath.ToSlash(rel) + docSuffix(s.doc)
		}
		// smoke.yaml and smoke.yml side by side differ only in extension.
		keepExt := false
		names := map[string]string{} // name -> file
		for i, s := range group {
			if s.nameDefault {
				n := name(s, i, false)
				if f, ok := names[n]; ok && f != s.File {
					keepExt = true
				}
				names[n] = s.File
			}
		}
		for i, s := range group {
			if s.nameDefault {
				s.Name = name(s, i, keepExt)
			}
		}
	}
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// commonDir returns the deepest folder that holds every one of paths.
func commonDir(paths []string) string {
	dir := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for !within(dir, p) {
			parent := filepath.Dir(dir)
			if parent == dir {
				return dir
			}
			dir = parent
		}
	}
	return dir
}

// within reports whether path lies under dir.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// duplicateNames reports every suite whose name a suite of another file took
// first, naming both places. Names key reports and baselines; two suites
// sharing one would merge their results in CI tools. Documents of one file
// are checked as the file loads.
func duplicateNames(ss []*Suite) ErrorList {
	var errs ErrorList
	first := map[string]*Suite{}
	for _, s := range ss {
		f, dup := first[s.Name]
		if !dup {
			first[s.Name] = s
			continue
		}
		if f.File == s.File {
			continue
		}
		errs = append(errs, &Error{Pos: s.NamePos, Msg: fmt.Sprintf(
			"duplicate suite name %q%s: %s%s has it too; suite names must be unique across a run, since reports and baselines tell suites apart by name",
			s.Name, defaultNote(s), f.NamePos, defaultNote(f))})
	}
	return errs
}

// defaultNote marks a name the suite did not write.
func defaultNote(s *Suite) string {
	if s.nameDefault {
		return " (the default, from the file name)"
	}
	return ""
}
