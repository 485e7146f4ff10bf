package suites

import (
	"crypto/sha256"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evalrun/evalrun/internal/suggest"
	"github.com/evalrun/evalrun/providers"
	"gopkg.in/yaml.v3"
)

// YAML short tags the loader tells apart.
const (
	tagStr       = "!!str"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagBool      = "!!bool"
	tagNull      = "!!null"
	tagTimestamp = "!!timestamp"
	tagMerge     = "!!merge"
)

// errBudget aborts a file whose aliases expand to far more nodes than the
// file holds (the "billion laughs" shape). It is raised with panic and
// recovered in loadData, the only place that can stop every walker at once.
type errBudget struct{}

// loader walks one file's YAML nodes into the model, collecting every error
// instead of stopping at the first.
type loader struct {
	file      string
	doc       int // 0-based index of the YAML document in the file
	opts      Options
	lookupEnv func(string) (string, bool)
	errs      ErrorList
	warns     ErrorList
	// data holds the SHA-256 of each data file read, in order, for the
	// suite's Digest.
	dataSums [][sha256.Size]byte

	// unneeded, while set, says why the value being read is not needed
	// (the simulator takes any token): an unset variable in it is a
	// warning, and the value is left out.
	unneeded string
	visits   int // nodes walked, aliases counted at every use
	budget   int // visits allowed before the file is refused

	// Template uses of the conversation being loaded, and where they are:
	// atSession, a turn index, or len(turns) for final.
	uses []templateUse
	at   int

	// Templates of an http provider's request that name suite vars, checked
	// once the suite's vars are known.
	requestVars []templateUse

	// While the provider section loads, every value it reads from the
	// environment is kept, so that all of them can be redacted from output.
	inProvider bool
	envSecrets []Secret
}

// templateUse is one {{name}} found in a scalar.
type templateUse struct {
	node    *yaml.Node
	name    string
	at      int
	fromEnv bool // only a ${VAR} value holds it: never name it in a message
}

const atSession = -1

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) warnf(n *yaml.Node, format string, args ...any) {
	l.warns = append(l.warns, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases to the node they name and charges the visit to the
// file's budget. Errors about the value's type are still reported at the
// node as written, so an alias of the wrong kind is blamed where it is used.
func (l *loader) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	l.visits++
	if l.visits > l.budget {
		panic(errBudget{})
	}
	return n
}

// kindName says what a node holds, for "want X, got Y" messages. A scalar is
// quoted as the file wrote it, so the user sees the offending value itself:
// got "maybe", got the integer 3.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case tagStr, tagTimestamp:
			return shown(n)
		case tagInt:
			return "the integer " + shortText(n.Value)
		case tagFloat:
			return "the number " + shortText(n.Value)
		case tagBool:
			return "the boolean " + shortText(n.Value)
		case tagNull:
			return "nothing"
		}
		return "a value tagged " + n.ShortTag()
	case yaml.AliasNode:
		return "an alias to nothing"
	}
	return "nothing"
}

// shown quotes a scalar as the file wrote it, shortened. Messages quote the
// source text and never a value read from the environment, which may be a
// credential.
func shown(n *yaml.Node) string {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return quoteShort(n.Value)
}

func quoteShort(s string) string {
	s = shortText(s)
	if strings.ContainsAny(s, "\"\\\n\t\r") || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return `"` + s + `"`
}

// shortText cuts s to the length a message quotes.
func shortText(s string) string {
	const maxRunes = 60
	if utf8.RuneCountInString(s) > maxRunes {
		return string([]rune(s)[:maxRunes]) + "…"
	}
	return s
}

// field is one key and value of a mapping. Key is a scalar; Val is as written
// and may be an alias.
type field struct {
	name     string
	key, val *yaml.Node
}

// mapping returns the entries of the mapping n in file order, with merge keys
// (<<) applied. It reports a value that is not a mapping, keys that are not
// scalars, repeated keys, and, when known is not nil, keys not in known
// (section names the mapping in that message). ok is false only when n is
// not a mapping at all.
func (l *loader) mapping(n *yaml.Node, label, section string, known []string) ([]field, bool) {
	m := l.resolve(n)
	if m.Kind != yaml.MappingNode {
		l.errorf(n, "%s: want a mapping, got %s", label, kindName(m))
		return nil, false
	}
	fields := l.entries(m, 0)
	seen := make(map[string]*yaml.Node, len(fields))
	out := fields[:0]
	for _, f := range fields {
		if first, dup := seen[f.name]; dup {
			l.errorf(f.key, "duplicate key %s: first set at line %d; keep only one", quoteShort(f.name), first.Line)
			continue
		}
		seen[f.name] = f.key
		if known != nil && !slices.Contains(known, f.name) {
			l.unknownKey(f.key, f.name, section, known)
			continue
		}
		out = append(out, f)
	}
	return out, true
}

// entries lists the key/value pairs of mapping m. Keys merged in with << come
// after the mapping's own and only where it does not set them itself, as the
// YAML merge key specification says, so only the mapping's own keys can be
// duplicates.
func (l *loader) entries(m *yaml.Node, depth int) []field {
	var own, merged []field
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := l.resolve(m.Content[i]), m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == tagMerge {
			merged = append(merged, l.mergeSources(v, depth)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.errorf(m.Content[i], "keys must be strings, got %s", kindName(k))
			continue
		}
		own = append(own, field{name: k.Value, key: k, val: v})
	}
	if len(merged) == 0 {
		return own
	}
	set := make(map[string]bool, len(own))
	for _, f := range own {
		set[f.name] = true
	}
	for _, f := range merged {
		if !set[f.name] {
			set[f.name] = true
			own = append(own, f)
		}
	}
	return own
}

// mergeSources returns the pairs a << key brings in: those of one mapping, or
// of each mapping in a list, earlier mappings taking precedence.
func (l *loader) mergeSources(v *yaml.Node, depth int) []field {
	if depth > 20 {
		l.errorf(v, "<<: merges nest too deeply")
		return nil
	}
	r := l.resolve(v)
	var sources []*yaml.Node
	switch r.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{r}
	case yaml.SequenceNode:
		sources = r.Content
	default:
		l.errorf(v, "<<: want a mapping or a list of mappings to merge, got %s", kindName(r))
		return nil
	}
	var out []field
	for _, s := range sources {
		sm := l.resolve(s)
		if sm.Kind != yaml.MappingNode {
			l.errorf(s, "<<: want a mapping to merge, got %s", kindName(sm))
			continue
		}
		// A key of a later mapping that an earlier one also merges is
		// precedence, not a mistake; entries drops it without a report.
		out = append(out, l.entries(sm, depth+1)...)
	}
	return out
}

func (l *loader) unknownKey(key *yaml.Node, name, section string, known []string) {
	if s := suggest.Nearest(name, known); s != "" {
		l.errorf(key, "unknown key %s in %s; did you mean %q?", quoteShort(name), section, s)
		return
	}
	l.errorf(key, "unknown key %s in %s; want one of %s", quoteShort(name), section, strings.Join(known, ", "))
}

// index maps the names of fields to the fields.
func index(fields []field) map[string]field {
	m := make(map[string]field, len(fields))
	for _, f := range fields {
		m[f.name] = f
	}
	return m
}

// list returns the items of the list n, or reports that n is not a list.
func (l *loader) list(n *yaml.Node, label string) ([]*yaml.Node, bool) {
	s := l.resolve(n)
	if s.Kind != yaml.SequenceNode {
		l.errorf(n, "%s: want a list, got %s", label, kindName(s))
		return nil, false
	}
	return s.Content, true
}

// str returns the text of a scalar where the suite wants a string. Strings
// have ${VAR} filled from the environment; numbers and timestamps are taken
// as written, since a user writing `equals: 42` means the text. Booleans and
// nothing are refused: `contains: yes` is a string in YAML 1.2, but `true`
// was most likely meant as a check of its own.
func (l *loader) str(n *yaml.Node, label string) (string, bool) {
	s, _, ok := l.strVars(n, label)
	return s, ok
}

// strVars is str that also returns the environment variables it read.
func (l *loader) strVars(n *yaml.Node, label string) (string, []string, bool) {
	r := l.resolve(n)
	if r.Kind != yaml.ScalarNode {
		l.errorf(n, "%s: want a string, got %s", label, kindName(r))
		return "", nil, false
	}
	switch r.ShortTag() {
	case tagStr:
		return l.fillEnv(r)
	case tagInt, tagFloat, tagTimestamp:
		return r.Value, nil, true
	case tagBool:
		l.errorf(n, "%s: want a string, got %s (quote it if you mean the text)", label, kindName(r))
	default:
		l.errorf(n, "%s: want a string, got %s", label, kindName(r))
	}
	return "", nil, false
}

// fillEnv fills the ${VAR} references of a string scalar, reporting every
// unset variable by name at the scalar.
func (l *loader) fillEnv(n *yaml.Node) (string, []string, bool) {
	s, names, problems := expandEnv(n.Value, l.lookupEnv)
	if l.inProvider {
		for _, name := range names {
			// A shorter value would garble ordinary text to hide nothing,
			// and the Redactor would ignore it anyway.
			if v, ok := l.lookupEnv(name); ok && len(v) >= providers.MinSecretLen {
				l.envSecrets = append(l.envSecrets, NewSecret(v, name))
			}
		}
	}
	for _, p := range problems {
		switch {
		case p.malformed:
			l.errorf(n, "\"${\" must start a reference such as ${OPENCX_API_KEY} (letters, digits and _); write $$ for a literal $")
		case l.unneeded != "":
			l.warnf(n, "environment variable %s is not set; %s, so the value is left out", p.name, l.unneeded)
		case l.opts.MissingEnvWarns:
			l.warnf(n, "environment variable %s is not set; the value is left out here, but run and load need it", p.name)
		default:
			l.errorf(n, "environment variable %s is not set; set it, or write $${%s} for the literal text", p.name, p.name)
		}
	}
	return s, names, len(problems) == 0
}

// boolean returns a YAML boolean. Quoted "true" is a string and refused, so a
// check never depends on how a string happens to read.
func (l *loader) boolean(n *yaml.Node, label string) (bool, bool) {
	r := l.resolve(n)
	if r.Kind != yaml.ScalarNode || r.ShortTag() != tagBool {
		hint := ""
		if r.Kind == yaml.ScalarNode && r.ShortTag() == tagStr {
			switch strings.ToLower(strings.TrimSpace(r.Value)) {
			case "true", "false":
				hint = " (a quoted string; remove the quotes)"
			case "yes", "no", "on", "off", "y", "n":
				hint = " (text in YAML 1.2; write true or false)"
			}
		}
		l.errorf(n, "%s: want true or false, got %s%s", label, kindName(r), hint)
		return false, false
	}
	var b bool
	if err := r.Decode(&b); err != nil {
		l.errorf(n, "%s: want true or false, got %s", label, shown(r))
		return false, false
	}
	return b, true
}

// integer returns a whole number from least to most.
func (l *loader) integer(n *yaml.Node, label string, least, most int) (int, bool) {
	want := fmt.Sprintf("a whole number from %d to %d", least, most)
	r := l.resolve(n)
	if r.Kind != yaml.ScalarNode || r.ShortTag() != tagInt {
		l.errorf(n, "%s: want %s, got %s", label, want, kindName(r))
		return 0, false
	}
	// Decoding into int64 first keeps a value past int64 from wrapping into
	// range; yaml.v3 refuses it, and so does the message.
	var i int64
	if err := r.Decode(&i); err != nil || i < int64(least) || i > int64(most) {
		msg := fmt.Sprintf("%s: want %s, got %s", label, want, r.Value)
		if err == nil && i > int64(most) {
			msg = fmt.Sprintf("%s: %s is more than %d, the most a suite may ask for", label, r.Value, most)
		}
		l.errorf(n, "%s", msg)
		return 0, false
	}
	return int(i), true
}

// rate returns a number from 0 to 1.
func (l *loader) rate(n *yaml.Node, label string) (float64, bool) {
	const want = "a number from 0 to 1 such as 0.8"
	r := l.resolve(n)
	if r.Kind != yaml.ScalarNode || (r.ShortTag() != tagInt && r.ShortTag() != tagFloat) {
		l.errorf(n, "%s: want %s, got %s", label, want, kindName(r))
		return 0, false
	}
	var f float64
	if err := r.Decode(&f); err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		l.errorf(n, "%s: want %s, got %s", label, want, r.Value)
		return 0, false
	}
	return f, true
}

// duration returns a Go duration such as 1m30s, at most limit. A bare number
// other than 0 is refused because its unit would be a guess; 0 is the same in
// every unit, and Go's own syntax accepts it. With positive, 0 is refused too.
func (l *loader) duration(n *yaml.Node, label string, positive bool, limit time.Duration) (time.Duration, bool) {
	const want = "want a duration such as 5s or 1m30s"
	r := l.resolve(n)
	if r.Kind != yaml.ScalarNode {
		l.errorf(n, "%s: %s, got %s", label, want, kindName(r))
		return 0, false
	}
	var text string
	switch r.ShortTag() {
	case tagStr:
		s, _, ok := l.fillEnv(r)
		if !ok {
			return 0, false
		}
		text = strings.TrimSpace(s)
	case tagInt, tagFloat:
		if f, err := strconv.ParseFloat(r.Value, 64); err != nil || f != 0 {
			l.errorf(n, "%s: %s, got the bare number %s (add a unit)", label, want, r.Value)
			return 0, false
		}
		text = "0"
	default:
		l.errorf(n, "%s: %s, got %s", label, want, kindName(r))
		return 0, false
	}
	d, err := time.ParseDuration(text)
	switch {
	case err != nil && strings.HasPrefix(strings.TrimLeft(text, "+"), "-"):
		l.errorf(n, "%s: must not be negative, got %s; %s", label, shown(r), want)
	case err != nil && isOverflow(text):
		l.errorf(n, "%s: %s is more than %s, the most a suite may ask for", label, shown(r), shortDuration(limit))
	case err != nil:
		l.errorf(n, "%s: %s, got %s", label, want, shown(r))
	case d < 0:
		l.errorf(n, "%s: must not be negative, got %s; %s", label, shown(r), want)
	case positive && d == 0:
		l.errorf(n, "%s: must be more than 0; %s", label, want)
	case d > limit:
		l.errorf(n, "%s: %s is more than %s, the most a suite may ask for", label, shown(r), shortDuration(limit))
	default:
		return d, true
	}
	return 0, false
}

// isOverflow reports whether text is a well-formed duration that is merely too
// long for time.Duration (some 292 years), which ParseDuration refuses with
// the same error as nonsense.
func isOverflow(text string) bool {
	return durationSyntax.MatchString(text)
}

var durationSyntax = regexp.MustCompile(`^[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// shortDuration writes d as a suite would, without the zero minutes and
// seconds time.Duration.String adds: 24h, not 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// stringMap returns a mapping of scalars as strings, as vars and headers are.
// Strings have ${VAR} filled; numbers and booleans become their text as
// written, since an HTTP header or a template can only carry text. With
// idents, every key must be a valid variable name.
func (l *loader) stringMap(n *yaml.Node, label string, idents bool) map[string]string {
	fields, ok := l.mapping(n, label, "", nil)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		if idents && !isIdent(f.name) {
			l.errorf(f.key, "%s: %s is not a valid variable name; use letters, digits and _, not starting with a digit", label, quoteShort(f.name))
			continue
		}
		v := l.resolve(f.val)
		if v.Kind != yaml.ScalarNode || v.ShortTag() == tagNull {
			l.errorf(f.val, "%s.%s: want a string, number or boolean, got %s", label, f.name, kindName(v))
			continue
		}
		switch v.ShortTag() {
		case tagStr:
			if s, _, ok := l.fillEnv(v); ok {
				out[f.name] = s
			}
		case tagInt, tagFloat, tagBool, tagTimestamp:
			out[f.name] = v.Value
		default:
			l.errorf(f.val, "%s.%s: want a string, number or boolean, got %s", label, f.name, kindName(v))
		}
	}
	return out
}

// value decodes a free-form value (custom_data, action args, json expected
// values) into string, bool, int, float64, nil, []any and map[string]any.
// Strings have ${VAR} filled and, with templates, their {{name}} uses
// recorded. onPath guards against an alias that contains itself.
func (l *loader) value(n *yaml.Node, label string, templates bool, onPath map[*yaml.Node]bool) (any, bool) {
	r := l.resolve(n)
	if onPath[r] {
		l.errorf(n, "%s: this alias refers to a value that contains it", label)
		return nil, false
	}
	switch r.Kind {
	case yaml.ScalarNode:
		return l.scalarValue(n, r, label, templates)
	case yaml.SequenceNode:
		onPath[r] = true
		defer delete(onPath, r)
		out := make([]any, 0, len(r.Content))
		ok := true
		for _, item := range r.Content {
			v, itemOK := l.value(item, label, templates, onPath)
			out = append(out, v)
			ok = ok && itemOK
		}
		return out, ok
	case yaml.MappingNode:
		onPath[r] = true
		defer delete(onPath, r)
		fields, _ := l.mapping(r, label, "", nil)
		out := make(map[string]any, len(fields))
		ok := true
		for _, f := range fields {
			v, fieldOK := l.value(f.val, label+"."+f.name, templates, onPath)
			out[f.name] = v
			ok = ok && fieldOK
		}
		return out, ok
	}
	l.errorf(n, "%s: want a value, got %s", label, kindName(r))
	return nil, false
}

func (l *loader) scalarValue(n, r *yaml.Node, label string, templates bool) (any, bool) {
	switch r.ShortTag() {
	case tagStr:
		s, _, ok := l.fillEnv(r)
		if ok && templates {
			l.templates(r, s)
		}
		return s, ok
	case tagTimestamp:
		return r.Value, true
	case tagNull:
		return nil, true
	case tagBool:
		var b bool
		err := r.Decode(&b)
		return b, err == nil
	case tagInt:
		var i int
		if err := r.Decode(&i); err == nil {
			return i, true
		}
		// Too large for int: keep it as a number, as JSON would.
		var f float64
		if err := r.Decode(&f); err == nil {
			return f, true
		}
	case tagFloat:
		var f float64
		if err := r.Decode(&f); err == nil {
			return f, true
		}
	}
	l.errorf(n, "%s: want a string, number, boolean, list or mapping, got %s", label, kindName(r))
	return nil, false
}

// valueMap is value for a place that must hold a mapping, such as custom_data.
func (l *loader) valueMap(n *yaml.Node, label string, templates bool) map[string]any {
	if r := l.resolve(n); r.Kind != yaml.MappingNode {
		l.errorf(n, "%s: want a mapping, got %s", label, kindName(r))
		return nil
	}
	v, _ := l.value(n, label, templates, map[*yaml.Node]bool{})
	m, _ := v.(map[string]any)
	return m
}

// templates records every {{name}} in s, the value of scalar n, for the
// scope check that follows each conversation, and reports {{...}} that
// cannot be a template. It returns whether s has any template. Templates are
// looked for in the value, ${VAR}s filled, because that is what Expand will
// see; but a template that only the environment brought in is not quoted in
// messages, as the environment may hold credentials.
func (l *loader) templates(n *yaml.Node, s string) bool {
	names, invalid := templateNames(s)
	if len(names)+len(invalid) == 0 {
		return false
	}
	written := func(string) bool { return true }
	if s != n.Value {
		rawNames, rawInvalid := templateNames(n.Value)
		written = func(t string) bool { return slices.Contains(rawNames, t) || slices.Contains(rawInvalid, t) }
	}
	for _, bad := range invalid {
		if written(bad) {
			l.errorf(n, "%s is not a valid template; names use letters, digits and _, not starting with a digit, as in {{order_id}}", quoteShort(bad))
		} else {
			l.errorf(n, "a value read from the environment holds an invalid {{...}} template; templates there are filled like any other")
		}
	}
	for _, name := range names {
		l.uses = append(l.uses, templateUse{node: n, name: name, at: l.at, fromEnv: !written(name)})
	}
	return true
}
