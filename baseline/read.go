package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/evalrun/evalrun/results"
)

// Read reads the record of an earlier `evalrun run --json` to compare a run
// with. It refuses, with an error that names the file, anything a
// comparison could not be trusted on: a file that is not JSON, a record of
// another schema (an older or newer evalrun), the record of a load run,
// a record without conversations, and a corrupt one (null entries, a
// conversation without a name, two conversations under one key, an object
// with the same member twice, a verdict evalrun does not know).
func Read(path string) (*results.Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	return Decode(path, data)
}

// Decode is Read on bytes already in memory; name is what errors call the
// file.
func Decode(name string, data []byte) (*results.Run, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty file, not an evalrun record (want the file written by evalrun run --json)", name)
	}
	// Syntax first, so a truncated file (a job killed while writing) says
	// where it ends rather than what field it was in.
	if err := checkSyntax(data); err != nil {
		return nil, fmt.Errorf("%s:%s", name, err)
	}

	// The schema is read on its own before the rest: a record from another
	// evalrun may have fields of other types, and its schema is what the
	// user needs to hear about, not the first field that does not fit.
	var head map[string]json.RawMessage
	if err := json.Unmarshal(data, &head); err != nil || head == nil {
		return nil, fmt.Errorf("%s: not an evalrun record: the file holds %s, want the object evalrun run --json writes", name, jsonKind(data))
	}
	raw, ok := head["schema"]
	if !ok {
		return nil, fmt.Errorf("%s: not an evalrun record: it has no \"schema\" field (this evalrun reads %s, written by evalrun run --json)", name, results.Schema)
	}
	var schema string
	if err := json.Unmarshal(raw, &schema); err != nil {
		return nil, fmt.Errorf("%s: not an evalrun record: \"schema\" is %s, not a string", name, jsonKind(raw))
	}
	if schema != results.Schema {
		return nil, fmt.Errorf("%s: %s", name, schemaMismatch(schema))
	}

	var run results.Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("%s:%s", name, describe(data, err))
	}
	if run.Load != nil {
		return nil, fmt.Errorf("%s: the record of a load run (evalrun load) cannot be a baseline: it keeps only a sample of its conversations, so every other one would look removed; use a record of evalrun run", name)
	}
	if len(run.Conversations) == 0 {
		return nil, fmt.Errorf("%s: the record (run %s) holds no conversations: there is nothing to compare with", name, runID(&run))
	}
	if err := check(&run); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &run, nil
}

// schemaMismatch says which evalrun wrote a record of another schema, as far
// as the name tells: "evalrun/vN" is ours, older or newer than this one.
func schemaMismatch(schema string) string {
	if schema == "" {
		return fmt.Sprintf("not an evalrun record: its \"schema\" is empty (this evalrun reads %s)", results.Schema)
	}
	have, okHave := schemaVersion(schema)
	want, _ := schemaVersion(results.Schema)
	switch {
	case !okHave:
		return fmt.Sprintf("not an evalrun record: its schema is %q, and this evalrun reads %s", schema, results.Schema)
	case have < want:
		return fmt.Sprintf("the record has schema %s, written by an older evalrun; this evalrun reads %s: make the baseline again with this version", schema, results.Schema)
	default:
		return fmt.Sprintf("the record has schema %s, written by a newer evalrun; this evalrun reads %s: compare it with that version, or upgrade", schema, results.Schema)
	}
}

func schemaVersion(s string) (int, bool) {
	v, ok := strings.CutPrefix(s, "evalrun/v")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// known are the verdicts this evalrun writes; any other would be classified
// by guesswork.
var known = map[results.Status]bool{
	results.Passed: true, results.Failed: true, results.Errored: true,
	results.Flaky: true, results.Skipped: true, results.Unfinished: true,
}

// check refuses a record a comparison cannot rely on. It holds for the run
// being compared too, which may also come from a file (evalrun report).
func check(run *results.Run) error {
	seen := map[key]int{}
	for i, c := range run.Conversations {
		if c == nil {
			return fmt.Errorf("conversation %d is null", i+1)
		}
		if c.Name == "" {
			return fmt.Errorf("conversation %d (suite %q) has no name", i+1, c.Suite)
		}
		if !known[c.Status] {
			return fmt.Errorf("conversation %q of suite %q has status %q; this evalrun knows passed, failed, errored, flaky, skipped and unfinished", c.Name, c.Suite, c.Status)
		}
		k := keyOf(c)
		if j, dup := seen[k]; dup {
			return fmt.Errorf("conversations %d and %d are both %q of suite %q: a comparison needs one conversation per suite and name", j+1, i+1, c.Name, c.Suite)
		}
		seen[k] = i
		for j, t := range c.Turns {
			if t == nil {
				return fmt.Errorf("conversation %q of suite %q: turn %d is null", c.Name, c.Suite, j+1)
			}
		}
	}
	return nil
}

func runID(r *results.Run) string {
	if r.RunID == "" {
		return "without an id"
	}
	return r.RunID
}

// checkSyntax reports the first syntax error, or a repeated member name, as
// "line:col: what". encoding/json keeps the last of two equal members
// silently; in a record that means a verdict or a turn could be read from
// the wrong one of two, so it is refused.
func checkSyntax(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec, data, 0); err != nil {
		return err
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: not JSON: more after the end of the record", position(data, skipSpace(data, end)))
	}
	return nil
}

// maxDepth bounds nesting, as encoding/json does when it decodes: a record
// nests a few levels, and a file of a million "[" must not take the stack.
const maxDepth = 1000

// walk consumes one JSON value from dec, checking the member names of every
// object in it.
func walk(dec *json.Decoder, data []byte, depth int) error {
	at := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(data, dec, err)
	}
	if depth > maxDepth {
		return fmt.Errorf("%s: not an evalrun record: nested more than %d deep", position(data, skipSpace(data, at)), maxDepth)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '[':
		for dec.More() {
			if err := walk(dec, data, depth+1); err != nil {
				return err
			}
		}
	case '{':
		names := map[string]bool{}
		for dec.More() {
			at := dec.InputOffset()
			tok, err := dec.Token()
			if err != nil {
				return syntaxError(data, dec, err)
			}
			name, _ := tok.(string)
			if names[name] {
				return fmt.Errorf("%s: member %q appears twice in one object; a record has each once", position(data, skipSpace(data, at)), name)
			}
			names[name] = true
			if err := walk(dec, data, depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return syntaxError(data, dec, err)
	}
	return nil
}

func syntaxError(data []byte, dec *json.Decoder, err error) error {
	at := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		at = se.Offset - 1 // Offset counts the offending byte
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: not JSON: the file ends in the middle of the record (was it cut short?)", position(data, int64(len(data))))
	}
	return fmt.Errorf("%s: not JSON: %v", position(data, at), err)
}

// skipSpace moves at past white space and the comma between members, onto
// the next token.
func skipSpace(data []byte, at int64) int64 {
	for at < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[at]) >= 0 {
		at++
	}
	return at
}

// describe turns a decoding error of a well-formed record into a located
// sentence.
func describe(data []byte, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the record"
		}
		return fmt.Sprintf("%s: not an evalrun record: %s is a JSON %s, want %s", position(data, te.Offset), field, te.Value, kindOf(te.Type))
	}
	return fmt.Sprintf(" not an evalrun record: %v", err)
}

// kindOf names what JSON a Go type is read from, for people who write JSON.
func kindOf(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		if t == reflect.TypeFor[time.Time]() {
			return "a time (RFC 3339 string)"
		}
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	}
	return "a number"
}

// position is the 1-based line and column of byte offset at, as "line:col".
func position(data []byte, at int64) string {
	at = min(max(at, 0), int64(len(data)))
	before := data[:at]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(at) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return strconv.Itoa(line) + ":" + strconv.Itoa(col)
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}
