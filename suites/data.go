package suites

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/evalrun/evalrun/internal/suggest"
	"gopkg.in/yaml.v3"
)

// Data-driven conversations. A conversation with data: is played once per
// row, each row's columns overlaying the conversation's vars (which overlay
// the suite's), so a row wins over both. The loader expands it into one
// Conversation per row and checks every template against every row, so a
// column that one row lacks is refused before anything is sent.
//
// data: is a list of mappings written in the suite, or the path of a .csv
// (header row first) or .jsonl (one object per line) file, relative to the
// suite file's folder. Values are text: numbers and booleans become the text
// they are written as. Only rows written in the suite have ${VAR} filled;
// a data file is taken as it is, and its path reads no environment. Problems inside a data file are reported at
// their line and column in that file, named by the suite's folder joined
// with the path the suite wrote.

// dataExts are the data file kinds, by extension.
var dataExts = []string{".csv", ".jsonl"}

// maxDataProblems is how many problems of one data file are listed; a file
// that is wrong on every line says so after that many.
const maxDataProblems = 10

// dataRow is one row of a conversation's data and where it came from.
type dataRow struct {
	DataRow
	cols map[string]string
}

// label names the row in a message, with its line so an editor can find it.
func (r dataRow) label() string { return fmt.Sprintf("%s (line %d)", r.DataRow, r.Line) }

// data reads a conversation's data: value. ok is false when the rows could
// not all be read; every problem has been reported then.
func (l *loader) data(n *yaml.Node) ([]dataRow, bool) {
	const want = "want a list of rows (mappings of column to value) or the path of a .csv or .jsonl file beside the suite"
	r := l.resolve(n)
	switch {
	case r.Kind == yaml.SequenceNode:
		return l.inlineRows(n, r)
	case r.Kind == yaml.ScalarNode && r.ShortTag() == tagStr:
		if _, refs, bad := expandEnv(r.Value, func(string) (string, bool) { return "", true }); len(refs)+len(bad) > 0 {
			// The path shows in messages and in the positions of the
			// file's problems, which never show what the environment holds.
			l.errorf(n, "data: the path must not read the environment (${...}); write it relative to the suite's folder")
			return nil, false
		}
		path, ok := l.str(n, "data")
		if !ok {
			return nil, false
		}
		return l.fileRows(n, path)
	}
	l.errorf(n, "data: %s, got %s", want, kindName(r))
	return nil, false
}

func (l *loader) inlineRows(n, r *yaml.Node) ([]dataRow, bool) {
	if len(r.Content) == 0 {
		l.errorf(n, "data: the list is empty; add at least one row, such as {order: ord_1}")
		return nil, false
	}
	if len(r.Content) > MaxDataRows {
		l.errorf(r.Content[MaxDataRows], "data: more than %d rows, the most one conversation may have; split them among several conversations", MaxDataRows)
		return nil, false
	}
	before := len(l.errs)
	rows := make([]dataRow, 0, len(r.Content))
	for i, item := range r.Content {
		cols := l.stringMap(item, "data", true)
		rows = append(rows, dataRow{DataRow: DataRow{Index: i + 1, Line: item.Line}, cols: cols})
	}
	return rows, len(l.errs) == before
}

func (l *loader) fileRows(n *yaml.Node, path string) ([]dataRow, bool) {
	if strings.TrimSpace(path) == "" {
		l.errorf(n, "data: want the path of a .csv or .jsonl file, got an empty string")
		return nil, false
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".csv" && ext != ".jsonl" {
		l.errorf(n, "data: %s is neither .csv nor .jsonl; want a CSV file with a header row or a JSON Lines file with one object per line", shown(n))
		return nil, false
	}
	full := path
	if !filepath.IsAbs(path) {
		full = filepath.Join(filepath.Dir(l.file), path)
	}
	content, e := readBounded(full, "data file")
	if e != nil {
		hint := ""
		if !filepath.IsAbs(path) {
			hint = " (the path is relative to the suite's folder)"
		}
		l.errorf(n, "data: cannot read %s: %s%s", full, strings.TrimPrefix(e.Msg, "cannot read: "), hint)
		return nil, false
	}
	l.dataSums = append(l.dataSums, sha256.Sum256(content))
	var (
		rows []dataRow
		errs ErrorList
	)
	switch {
	case !utf8.Valid(content):
		line, col := lineCol(content, badUTF8(content))
		errs = ErrorList{{Pos: Pos{File: full, Line: line, Col: col}, Msg: "not valid UTF-8; save the file as UTF-8"}}
	case ext == ".csv":
		rows, errs = csvRows(full, content)
	default:
		rows, errs = jsonlRows(full, content)
	}
	if len(errs) > 0 {
		l.errs = append(l.errs, errs...)
		return nil, false
	}
	for i := range rows {
		rows[i].File = path
	}
	return rows, true
}

// badUTF8 returns the offset of the first byte of data that is not UTF-8.
func badUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// dataProblems collects the problems of one data file, up to
// maxDataProblems and a last one that says there are more.
type dataProblems struct {
	file string
	errs ErrorList
}

func (p *dataProblems) add(line, col int, format string, args ...any) {
	if len(p.errs) == maxDataProblems {
		p.errs = append(p.errs, &Error{Pos: Pos{File: p.file, Line: line, Col: col},
			Msg: fmt.Sprintf("more problems from here on; fix the %d above first", maxDataProblems)})
	}
	if len(p.errs) > maxDataProblems {
		return
	}
	p.errs = append(p.errs, &Error{Pos: Pos{File: p.file, Line: line, Col: max(col, 1)}, Msg: fmt.Sprintf(format, args...)})
}

// full reports whether no more problems are listed, so reading can stop.
func (p *dataProblems) full() bool { return len(p.errs) > maxDataProblems }

// columnNames checks a header: every name a valid variable name, none
// twice. at gives the line and column of the i-th name.
func columnNames(p *dataProblems, names []string, at func(i int) (int, int)) {
	first := map[string]int{}
	for i, name := range names {
		line, col := at(i)
		switch j, dup := first[name]; {
		case name == "":
			p.add(line, col, "column %d has no name; every column needs one, as it becomes a template variable", i+1)
		case !isIdent(name):
			p.add(line, col, "column name %s is not a valid variable name; use letters, digits and _, not starting with a digit", quoteShort(name))
		case dup:
			p.add(line, col, "column %s appears twice, as columns %d and %d; each name can hold only one value per row", quoteShort(name), j+1, i+1)
		default:
			first[name] = i
		}
	}
}

// csvRows reads a CSV file whose first record names the columns. Names are
// trimmed of surrounding white space; values are kept as written. Blank
// lines are skipped, as encoding/csv does.
func csvRows(file string, content []byte) ([]dataRow, ErrorList) {
	p := &dataProblems{file: file}
	content = bytes.TrimPrefix(content, []byte("\ufeff")) // spreadsheets start UTF-8 files with a BOM
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1 // ragged rows are reported here, with both counts
	syntax := func(err error) {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			p.add(pe.Line, pe.Column, "CSV syntax error: %v", pe.Err)
			return
		}
		p.add(1, 1, "cannot read the CSV: %v", err)
	}
	header, err := r.Read()
	if err == io.EOF {
		p.add(1, 1, "the file is empty; want a header row naming the columns, then one row per conversation")
		return nil, p.errs
	}
	if err != nil {
		syntax(err)
		return nil, p.errs
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	columnNames(p, header, func(i int) (int, int) { return r.FieldPos(i) })
	var rows []dataRow
	for !p.full() {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			syntax(err)
			break
		}
		line, col := r.FieldPos(0)
		if len(rows) == MaxDataRows {
			p.add(line, col, "more than %d rows, the most one conversation may have; split the file", MaxDataRows)
			break
		}
		if len(rec) != len(header) {
			p.add(line, col, "row %d has %s, but the header has %d columns; give every row one value per column", len(rows)+1, plural(len(rec), "value"), len(header))
		}
		cols := make(map[string]string, len(header))
		for i, v := range rec {
			if i < len(header) {
				cols[header[i]] = v
			}
		}
		rows = append(rows, dataRow{DataRow: DataRow{Index: len(rows) + 1, Line: line}, cols: cols})
	}
	if len(p.errs) == 0 && len(rows) == 0 {
		p.add(1, 1, "the file has a header but no rows; add one row per conversation")
	}
	return rows, p.errs
}

// jsonlRows reads a JSON Lines file: one object per line, whose values are
// strings, numbers or booleans. Blank lines are skipped.
func jsonlRows(file string, content []byte) ([]dataRow, ErrorList) {
	p := &dataProblems{file: file}
	var rows []dataRow
	for i, line := range bytes.Split(content, []byte("\n")) {
		if p.full() {
			break
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(rows) == MaxDataRows {
			p.add(i+1, 1, "more than %d rows, the most one conversation may have; split the file", MaxDataRows)
			break
		}
		cols, off, problem := jsonRow(line)
		if problem != "" {
			p.add(i+1, utf8.RuneCount(line[:min(off, len(line))])+1, "row %d: %s", len(rows)+1, problem)
		}
		rows = append(rows, dataRow{DataRow: DataRow{Index: len(rows) + 1, Line: i + 1}, cols: cols})
	}
	if len(p.errs) == 0 && len(rows) == 0 {
		p.add(1, 1, "the file is empty; want one JSON object per line, such as {\"order\": \"ord_1\"}")
	}
	return rows, p.errs
}

// jsonRow reads one line of a JSON Lines file. On a problem it returns why,
// and the byte offset in line where it shows.
func jsonRow(line []byte) (cols map[string]string, off int, problem string) {
	const want = `want one JSON object per line, such as {"order": "ord_1", "amount": 12}`
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	// next skips the white space, commas and colons before the next token,
	// so that off points at the token a problem is about.
	next := func() int {
		o := int(dec.InputOffset())
		for o < len(line) && strings.IndexByte(" \t,:", line[o]) >= 0 {
			o++
		}
		return o
	}
	syntax := func(err error) (map[string]string, int, string) {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, int(se.Offset) - 1, "JSON syntax error: " + se.Error()
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, len(line), "the object is not closed on this line; " + want
		}
		return nil, int(dec.InputOffset()), "JSON syntax error: " + err.Error()
	}
	tok, err := dec.Token()
	if err != nil {
		return syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, 0, want
	}
	cols = map[string]string{}
	for dec.More() {
		keyAt := next()
		tok, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		key, _ := tok.(string)
		valAt := next()
		tok, err = dec.Token()
		if err != nil {
			return syntax(err)
		}
		if !isIdent(key) {
			return nil, keyAt, fmt.Sprintf("%s is not a valid column name; use letters, digits and _, not starting with a digit", quoteShort(key))
		}
		if _, dup := cols[key]; dup {
			return nil, keyAt, fmt.Sprintf("%s appears twice in the object; each column holds one value per row", quoteShort(key))
		}
		switch v := tok.(type) {
		case string:
			cols[key] = v
		case json.Number:
			cols[key] = v.String()
		case bool:
			cols[key] = strconv.FormatBool(v)
		case nil:
			return nil, valAt, fmt.Sprintf("%s is null; want a string, number or boolean (\"\" for nothing)", quoteShort(key))
		default: // an object or a list
			return nil, valAt, fmt.Sprintf("%s holds %s; a row's values must be strings, numbers or booleans", quoteShort(key), map[json.Delim]string{'{': "an object", '[': "a list"}[v.(json.Delim)])
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return syntax(err)
	}
	if at := next(); at < len(line) {
		return nil, at, "something follows the object; " + want
	}
	return cols, 0, ""
}

// expandData turns the conversation c, loaded with data:, into one
// conversation per row. Names are filled from the row, or numbered when they
// hold no template; every template of c is checked against every row,
// reusing the scope check of conversations without data:.
func (l *loader) expandData(c *Conversation, rows []dataRow, nameNode *yaml.Node, captured map[string][]int) []*Conversation {
	vars := make([]map[string]string, len(rows))
	for i, row := range rows {
		vars[i] = mergeVars(c.Vars, row.cols)
	}
	// One message per template, naming the first row that lacks its
	// variable and how many others do, rather than one per row.
	which := func(name string) (first, count int) {
		first = -1
		for i := range rows {
			if _, ok := vars[i][name]; !ok {
				if first < 0 {
					first = i
				}
				count++
			}
		}
		return first, count
	}
	rowsLabel := func(first, count int) string {
		switch {
		case count == len(rows) && count > 1 && rows[0].File != "":
			return "any row of " + rows[0].File
		case count == len(rows) && count > 1:
			return "any data row"
		case count > 1:
			return fmt.Sprintf("%s and %s", rows[first].label(), plural(count-1, "more row"))
		}
		return rows[first].label()
	}
	for _, u := range l.uses {
		if first, count := which(u.name); count > 0 {
			sc := scope{vars: vars[first], captured: captured, row: rowsLabel(first, count)}
			if msg := sc.problem(u); msg != "" {
				l.errorf(u.node, "%s%s", msg, nearColumn(u, rows[first]))
			}
		}
	}

	numbered, nameBroken := true, false
	if nameNode != nil {
		names, invalid := templateNames(c.Name)
		for _, bad := range invalid {
			l.errorf(nameNode, "name: %s is not a valid template; names use letters, digits and _, as in {{order}}", quoteShort(bad))
			nameBroken = true
		}
		for _, name := range names {
			if first, count := which(name); count > 0 {
				l.errorf(nameNode, "name: {{%s}} is not defined in %s; a name can use vars and the row's columns", name, rowsLabel(first, count))
				nameBroken = true
			}
		}
		numbered = len(names)+len(invalid) == 0
	}

	out := make([]*Conversation, 0, len(rows))
	named := map[string]int{} // name → index of the row that gave it first
	var dup struct{ first, second, more int }
	for i, row := range rows {
		cc := *c
		cc.Vars = vars[i]
		cc.Tags = append([]string(nil), c.Tags...)
		cc.Data = &rows[i].DataRow
		if numbered {
			cc.Name = c.Name + " #" + strconv.Itoa(row.Index)
		} else {
			cc.Name = Expand(c.Name, vars[i])
		}
		if j, ok := named[cc.Name]; ok {
			if dup.more == 0 && dup.second == 0 {
				dup.first, dup.second = j, i
			} else {
				dup.more++
			}
			continue
		}
		named[cc.Name] = i
		out = append(out, &cc)
	}
	// A name that cannot be filled gives the same text for every row; its
	// own error says enough.
	if dup.second > 0 && nameNode != nil && !nameBroken {
		more := ""
		switch {
		case dup.more == 1:
			more = ", and 1 more row repeats an earlier row's name"
		case dup.more > 1:
			more = fmt.Sprintf(", and %d more rows repeat an earlier row's name", dup.more)
		}
		l.errorf(nameNode, "name: %s and %s both give the name %s%s; names must be unique within a suite, so template the name from a column that tells the rows apart",
			rows[dup.first].label(), rows[dup.second].label(), quoteShort(Expand(c.Name, vars[dup.first])), more)
	}
	return out
}

// nearColumn suggests the column of row that a use not written as a
// ${VAR} value most likely misspells, or returns "".
func nearColumn(u templateUse, row dataRow) string {
	if u.fromEnv {
		return ""
	}
	if guess := suggest.Nearest(u.name, slices.Sorted(maps.Keys(row.cols))); guess != "" {
		return fmt.Sprintf("; did you mean the column {{%s}}?", guess)
	}
	return ""
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
