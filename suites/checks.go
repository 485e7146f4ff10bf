package suites

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/evalrun/evalrun/checks"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
)

// A check is one entry of the tables below, and nothing else knows its key:
// the loader takes the key list, the decoder and the providers that answer
// it from the entry, Expect.Expand its templating, and package assert the
// checks it builds. To add an expect key, write its check in package checks
// and add one entry to expectTable. The entry of contains:
//
//	expectEntry("contains", everyProvider, decodeTemplatedStrings, expandAll, eachString(checks.Contains)),
//
// reads a string or a list of strings with their templates recorded for the
// scope check, fills the templates of each, is answered by every provider
// type, and gives one checks.Contains per string.
//
// A check that asks an outside service for its verdict (an LLM judge,
// embeddings) is an entry like any other with Service set; the checks it
// builds implement checks.ServiceCheck, which the runner calls with a context
// and the run's checks.Services, and whose error makes the conversation
// errored. A final key of that kind (a judge of the whole transcript) sets
// finalService beside final, which Spec.CheckFinalContext calls (see
// suites/judge.go).

// Entry is everything evalrun knows about one key of an expect or a final
// mapping.
type Entry struct {
	Name string
	// Providers lists the provider types that can answer the key; a suite of
	// another type that writes it is refused at load time.
	Providers []string
	// Service is set when the key's checks ask an outside service for their
	// verdict (see checks.ServiceCheck).
	Service bool

	// decode reads the key's value, reporting every problem with its
	// position; ok false means there is nothing to check.
	decode func(l *loader, n *yaml.Node) (v any, ok bool)
	// expand fills the value's {{name}} templates; nil when it holds no
	// strings.
	expand func(v any, vars map[string]string) any
	// build appends the turn checks of an expect key's value to out, one per
	// item of a list so that a report says which item failed.
	build func(v any, out []checks.Check) []checks.Check
	// final judges a final key's value against the conversation's state.
	final func(v any, s *providers.State) results.Assertion
	// finalService, set for a final key with Service, judges the value
	// with the run's services instead of final.
	finalService func(ctx context.Context, v any, in FinalInput, svc checks.Services) (results.Assertion, error)
}

// Answers reports whether a provider of type typ can answer the key.
func (e *Entry) Answers(typ string) bool { return slices.Contains(e.Providers, typ) }

// Spec is one key of an expect or final mapping as the loader read it. Value
// is what the key's entry decoded (a []string for contains, a bool for
// might_solve, []JSONExpect for json, ...), with templates still in it until
// Expand fills them.
type Spec struct {
	Key   string
	Value any
	Pos   Pos
	entry *Entry // nil for a key no entry knows
}

// ExpectSpec and FinalSpec return the spec of an expect or a final key with
// the value v, for code that builds an Expect or a Final without a suite
// file. v must have the type the key's entry decodes to (see the tables); a
// key evalrun does not know gives a spec whose check always fails.
func ExpectSpec(key string, v any) Spec { return Spec{Key: key, Value: v, entry: ExpectEntry(key)} }

// FinalSpec is ExpectSpec for a final key.
func FinalSpec(key string, v any) Spec { return Spec{Key: key, Value: v, entry: FinalEntry(key)} }

// Entry returns the table entry of s, or nil when evalrun has no such key.
func (s Spec) Entry() *Entry { return s.entry }

// Checks appends the turn checks of an expect spec to out. A key evalrun
// has no check for gives one that always fails.
func (s Spec) Checks(out []checks.Check) []checks.Check {
	if s.entry == nil || s.entry.build == nil {
		return append(out, checks.Unknown(s.Key))
	}
	return s.entry.build(s.Value, out)
}

// CheckFinal judges a final spec against the state after the last turn. A
// nil state is taken as one that reported nothing.
func (s Spec) CheckFinal(st *providers.State) results.Assertion {
	if st == nil {
		st = &providers.State{}
	}
	if s.entry == nil || s.entry.final == nil {
		return checks.UnknownFinal(strings.TrimPrefix(s.Key, "final."))
	}
	return s.entry.final(s.Value, st)
}

func (s Spec) expanded(vars map[string]string) Spec {
	if s.entry != nil && s.entry.expand != nil {
		s.Value = s.entry.expand(s.Value, vars)
	}
	return s
}

// expectEntry and finalEntry tie an entry's functions to the one value type
// T its decoder gives, so that a mismatch is a compile error, not a panic.
func expectEntry[T any](name string, answers []string, decode func(*loader, *yaml.Node, string) (T, bool),
	expand func(T, map[string]string) T, build func(T, []checks.Check) []checks.Check) *Entry {
	e := &Entry{Name: name, Providers: answers, build: func(v any, out []checks.Check) []checks.Check {
		t, ok := v.(T)
		if !ok {
			return append(out, checks.Invalid(name, wrongType[T](v)))
		}
		return build(t, out)
	}}
	e.decode = func(l *loader, n *yaml.Node) (any, bool) { return decode(l, n, name) }
	if expand != nil {
		e.expand = func(v any, vars map[string]string) any {
			if t, ok := v.(T); ok {
				return expand(t, vars)
			}
			return v
		}
	}
	return e
}

func finalEntry[T any](name string, answers []string, decode func(*loader, *yaml.Node, string) (T, bool),
	expand func(T, map[string]string) T, check func(T, *providers.State) results.Assertion) *Entry {
	e := &Entry{Name: name, Providers: answers, final: func(v any, s *providers.State) results.Assertion {
		t, ok := v.(T)
		if !ok {
			return checks.InvalidFinal(name, wrongType[T](v))
		}
		return check(t, s)
	}}
	e.decode = func(l *loader, n *yaml.Node) (any, bool) { return decode(l, n, name) }
	if expand != nil {
		e.expand = func(v any, vars map[string]string) any {
			if t, ok := v.(T); ok {
				return expand(t, vars)
			}
			return v
		}
	}
	return e
}

// wrongType says that v is not the T an entry reads.
func wrongType[T any](v any) string {
	return fmt.Sprintf("its value is a %T, not the %T its entry reads", v, *new(T))
}

var (
	everyProvider = []string{OpenCX, Toolzz, HTTP}
	onlyOpenCX    = []string{OpenCX}
)

// expectTable holds every expect key, in the order messages list them and
// in which checks run when a Spec list was built without a file.
var expectTable = []*Entry{
	expectEntry("contains", everyProvider, decodeTemplatedStrings, expandAll, eachString(checks.Contains)),
	expectEntry("contains_any", everyProvider, decodeTemplatedStrings, expandAll,
		func(v []string, out []checks.Check) []checks.Check { return append(out, checks.ContainsAny(v)) }),
	expectEntry("not_contains", everyProvider, decodeTemplatedStrings, expandAll, eachString(checks.NotContains)),
	expectEntry("equals", everyProvider, decodeTemplatedString, Expand, oneCheck(checks.Equals)),
	expectEntry("regex", everyProvider, decodeRegexes, expandRegexes, eachString(checks.Regex)),
	expectEntry("not_regex", everyProvider, decodeRegexes, expandRegexes, eachString(checks.NotRegex)),
	expectEntry("length", everyProvider, decodeLength, nil, oneCheck(func(b checks.LengthBounds) checks.Check { return checks.Length(b) })),
	expectEntry("might_solve", onlyOpenCX, decodeBool, nil, replyFlag("might_solve", func(r *providers.Reply) *bool { return r.MightSolve })),
	expectEntry("fully_covered", onlyOpenCX, decodeBool, nil, replyFlag("fully_covered", func(r *providers.Reply) *bool { return r.FullyCovered })),
	expectEntry("handoff", everyProvider, decodeBool, nil, replyFlag("handoff", func(r *providers.Reply) *bool { return r.Handoff })),
	expectEntry("transfer_bot", []string{Toolzz}, decodeTemplatedString, Expand, oneCheck(checks.TransferBot)),
	expectEntry("action", onlyOpenCX, decodeActions, expandActions,
		func(v []ActionExpect, out []checks.Check) []checks.Check {
			for _, a := range v {
				out = append(out, checks.Action(a))
			}
			return out
		}),
	expectEntry("knowledge", onlyOpenCX, decodeTemplatedStrings, expandAll, eachString(checks.Knowledge)),
	expectEntry("mode", onlyOpenCX, decodeTemplatedString, Expand, oneCheck(checks.Mode)),
	expectEntry("reply", everyProvider, decodeBool, nil, oneCheck(checks.Reply)),
	expectEntry("max_latency", everyProvider, decodeLatency, nil, oneCheck(checks.MaxLatency)),
	service(expectEntry("judge", everyProvider, decodeJudge, expandJudge, oneCheck(checks.JudgeReply))),
	service(expectEntry("similar", everyProvider, decodeSimilar, expandSimilar, oneCheck(checks.Similar))),
	expectEntry("json", everyProvider, decodeJSONExpects, expandJSONExpects,
		func(v []JSONExpect, out []checks.Check) []checks.Check {
			for _, j := range v {
				if j.Ops != nil {
					out = append(out, checks.JSONCompare(j.Path, j.Ops))
				} else {
					out = append(out, checks.JSON(j.Path, j.Want))
				}
			}
			return out
		}),
}

// finalTable holds every final key, in the order messages list them.
var finalTable = []*Entry{
	finalEntry("status", onlyOpenCX, enumOf(finalStatuses), Expand, stateString("status", func(s *providers.State) string { return s.Status })),
	finalEntry("sentiment", onlyOpenCX, enumOf(finalSentiments), Expand, stateString("sentiment", func(s *providers.State) string { return s.Sentiment })),
	finalEntry("closure", onlyOpenCX, enumOf(finalClosures), Expand, stateString("closure", func(s *providers.State) string { return s.Closure })),
	finalEntry("handoff", everyProvider, decodeBool, nil, func(want bool, s *providers.State) results.Assertion {
		return checks.FinalHandoff(want, s.Handoff)
	}),
	finalEntry("custom_data", onlyOpenCX, decodeValueMap, expandMap, func(want map[string]any, s *providers.State) results.Assertion {
		return checks.FinalCustomData(want, s.CustomData)
	}),
	finalJudgeEntry,
}

// ExpectEntries returns the table of expect keys, in the order messages list
// them. The entries must not be changed.
func ExpectEntries() []*Entry { return expectTable }

// FinalEntries returns the table of final keys, in the order messages list them.
func FinalEntries() []*Entry { return finalTable }

// ExpectEntry returns the entry of the expect key name, or nil.
func ExpectEntry(name string) *Entry { return entryNamed(expectTable, name) }

// FinalEntry returns the entry of the final key name, or nil.
func FinalEntry(name string) *Entry { return entryNamed(finalTable, name) }

func entryNamed(table []*Entry, name string) *Entry {
	for _, e := range table {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func entryNames(table []*Entry) []string {
	out := make([]string, len(table))
	for i, e := range table {
		out[i] = e.Name
	}
	return out
}

// answered lists the keys of table that a provider of type typ answers.
func answered(table []*Entry, typ string) []string {
	var out []string
	for _, e := range table {
		if e.Answers(typ) {
			out = append(out, e.Name)
		}
	}
	return out
}

// specs reads the keys of an expect or final mapping through table, in file
// order. kind is "check" or "final check", for the provider message.
func (l *loader) specs(n *yaml.Node, label string, table []*Entry, typ, kind string) ([]Spec, bool) {
	fields, ok := l.mapping(n, label, label, entryNames(table))
	if !ok || len(fields) == 0 {
		return nil, false
	}
	out := make([]Spec, 0, len(fields))
	for _, f := range fields {
		e := entryNamed(table, f.name)
		if typ != "" && !e.Answers(typ) {
			l.errorf(f.key, "%s: the %s provider cannot answer this %s; it answers %s", f.name, typ, kind, strings.Join(answered(table, typ), ", "))
		}
		if v, ok := e.decode(l, f.val); ok {
			out = append(out, Spec{Key: f.name, Value: v, Pos: l.pos(f.key), entry: e})
		}
	}
	return out, true
}

// The decoders. Each reports its problems at the node they are about and
// records the templates it finds for the scope check.

func decodeTemplatedStrings(l *loader, n *yaml.Node, label string) ([]string, bool) {
	items := l.strs(n, label, true)
	for _, it := range items {
		l.templates(it.node, it.s)
	}
	return texts(items), len(items) > 0
}

func decodeTemplatedString(l *loader, n *yaml.Node, label string) (string, bool) {
	s, ok := l.str(n, label)
	if ok {
		l.templates(l.resolve(n), s)
	}
	return s, ok
}

func decodeRegexes(l *loader, n *yaml.Node, label string) ([]string, bool) {
	items := l.strs(n, label, true)
	for _, it := range items {
		l.templates(it.node, it.s)
		l.checkRegex(it.node, label, withPlaceholders(it.s))
	}
	return texts(items), len(items) > 0
}

func decodeBool(l *loader, n *yaml.Node, label string) (bool, bool) { return l.boolean(n, label) }

func decodeLatency(l *loader, n *yaml.Node, label string) (time.Duration, bool) {
	return l.duration(n, label, true, MaxWait)
}

func decodeActions(l *loader, n *yaml.Node, _ string) ([]ActionExpect, bool) {
	a := l.actions(n)
	return a, len(a) > 0
}

func decodeJSONExpects(l *loader, n *yaml.Node, _ string) ([]JSONExpect, bool) {
	j := l.jsonExpects(n)
	return j, len(j) > 0
}

func decodeValueMap(l *loader, n *yaml.Node, label string) (map[string]any, bool) {
	m := l.valueMap(n, label, true)
	return m, m != nil
}

func enumOf(values []string) func(*loader, *yaml.Node, string) (string, bool) {
	return func(l *loader, n *yaml.Node, label string) (string, bool) {
		s := l.enum(n, label, values)
		if s == nil {
			return "", false
		}
		return *s, true
	}
}

// decodeLength reads {min, max}: whole numbers of characters, 0 or more,
// either one optional but not both, min not above max.
func decodeLength(l *loader, n *yaml.Node, label string) (checks.LengthBounds, bool) {
	b := checks.LengthBounds{Min: -1, Max: -1}
	if r := l.resolve(n); r.Kind != yaml.MappingNode {
		l.errorf(n, "%s: want {min, max} in characters, such as {min: 1, max: 280}, got %s", label, kindName(r))
		return b, false
	}
	fields, ok := l.mapping(n, label, label, []string{"min", "max"})
	if !ok {
		return b, false
	}
	if len(fields) == 0 {
		l.errorf(n, "%s: give min, max or both, as in {min: 1, max: 280} (characters)", label)
		return b, false
	}
	good := true
	var minNode *yaml.Node
	for _, f := range fields {
		v, ok := l.integer(f.val, label+"."+f.name, 0, MaxLength)
		if !ok {
			good = false
			continue
		}
		if f.name == "min" {
			b.Min, minNode = v, f.val
		} else {
			b.Max = v
		}
	}
	if good && b.Min >= 0 && b.Max >= 0 && b.Min > b.Max {
		l.errorf(minNode, "%s: min %d is more than max %d; no reply could pass", label, b.Min, b.Max)
		good = false
	}
	return b, good
}

// The expanders. Regexes have inserted values quoted, so they match literally.

func expandRegexes(ss []string, vars map[string]string) []string {
	out := make([]string, len(ss))
	for i, r := range ss {
		out[i] = expand(r, vars, regexp.QuoteMeta)
	}
	return out
}

func expandActions(as []ActionExpect, vars map[string]string) []ActionExpect {
	out := make([]ActionExpect, len(as))
	for i, a := range as {
		out[i] = ActionExpect{Name: Expand(a.Name, vars), Args: expandMap(a.Args, vars)}
	}
	return out
}

func expandJSONExpects(js []JSONExpect, vars map[string]string) []JSONExpect {
	out := make([]JSONExpect, len(js))
	for i, j := range js {
		j.Want = ExpandValue(j.Want, vars)
		if j.Ops != nil {
			ops := make([]checks.JSONOp, len(j.Ops))
			for k, op := range j.Ops {
				if op.Op == checks.OpRegex {
					if s, ok := op.Value.(string); ok {
						op.Value = expand(s, vars, regexp.QuoteMeta)
					}
				} else {
					op.Value = ExpandValue(op.Value, vars)
				}
				ops[k] = op
			}
			j.Ops = ops
		}
		out[i] = j
	}
	return out
}

// The builders.

func eachString(newCheck func(string) checks.Check) func([]string, []checks.Check) []checks.Check {
	return func(ss []string, out []checks.Check) []checks.Check {
		for _, s := range ss {
			out = append(out, newCheck(s))
		}
		return out
	}
}

func oneCheck[T any](newCheck func(T) checks.Check) func(T, []checks.Check) []checks.Check {
	return func(v T, out []checks.Check) []checks.Check { return append(out, newCheck(v)) }
}

func replyFlag(name string, get func(*providers.Reply) *bool) func(bool, []checks.Check) []checks.Check {
	return func(want bool, out []checks.Check) []checks.Check {
		return append(out, checks.Flag(name, want, get))
	}
}

func stateString(key string, get func(*providers.State) string) func(string, *providers.State) results.Assertion {
	return func(want string, s *providers.State) results.Assertion {
		return checks.FinalString(key, want, get(s))
	}
}
