package checks

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Values compared here come from two decoders: the suite's YAML (string, bool,
// int, int64, uint64, float64, nil, time.Time, []any, map[string]any) and the
// service's JSON (string, bool, float64 or json.Number, nil, []any,
// map[string]any). The rules:
//   - numbers compare by value whatever their Go type, so YAML 42 equals JSON 42.0;
//   - a string never equals a number or a boolean, and "null" never equals null;
//   - YAML null (nil) equals JSON null (nil);
//   - a YAML timestamp (an unquoted 2024-05-01) equals a JSON string naming the same instant;
//   - lists must have the same items in the same order, each compared exactly;
//   - maps must have the same keys and equal values, or with subset at least
//     the expected keys, nested maps being compared as subsets too.

// match reports whether got is want under the rules above.
func match(want, got any, subset bool) bool { return diff(want, got, subset, false) == nil }

// explain says where got first differs from want, e.g. `order_id: expected
// "ord_42", got "ord_41"`, or "" when they match. Map keys are visited in
// order, so the answer is the same on every run.
func explain(want, got any, subset bool) string {
	m := diff(want, got, subset, true)
	if m == nil {
		return ""
	}
	return m.String()
}

type mismatchKind int

const (
	valueDiffers mismatchKind = iota
	keyMissing
	keyUnexpected
	lengthDiffers
)

// mismatch is where two values first differ.
type mismatch struct {
	kind      mismatchKind
	path      []pathStep // innermost first: steps are added while returning
	want, got any        // for valueDiffers
	key       string     // for keyUnexpected
	wantLen   int        // for lengthDiffers
	gotLen    int
}

type pathStep struct {
	key   string
	index int // when key is ""
}

func (m *mismatch) String() string {
	var b strings.Builder
	if len(m.path) > 0 {
		for i := len(m.path) - 1; i >= 0; i-- {
			s := m.path[i]
			switch {
			case s.key == "" && s.index >= 0:
				b.WriteString("[" + strconv.Itoa(s.index) + "]")
			case isPlainKey(s.key):
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s.key)
			default:
				b.WriteString("[" + strconv.Quote(s.key) + "]")
			}
		}
		b.WriteString(": ")
	}
	switch m.kind {
	case keyMissing:
		b.WriteString("missing")
	case keyUnexpected:
		b.WriteString("unexpected key " + strconv.Quote(m.key))
	case lengthDiffers:
		b.WriteString("expected " + items(m.wantLen) + ", got " + strconv.Itoa(m.gotLen))
	default:
		b.WriteString(describeDifference(m.want, m.got))
	}
	return b.String()
}

// describeDifference renders "expected W, got G", naming the kinds of both
// values when they differ, since `42` and `"42"` look alike in a hurry.
func describeDifference(want, got any) string {
	w, g := Shorten(render(want), width/2), Shorten(render(got), width/2)
	if wk, gk := kindOf(want), kindOf(got); wk != gk {
		return "expected " + w + " (" + wk + "), got " + g + " (" + gk + ")"
	}
	return "expected " + w + ", got " + g
}

func items(n int) string {
	if n == 1 {
		return "1 item"
	}
	return strconv.Itoa(n) + " items"
}

// isPlainKey reports whether key can be written after a dot in a path.
func isPlainKey(key string) bool {
	if key == "" {
		return false
	}
	for i, r := range key {
		if !(r == '_' || r == '-' && i > 0 || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// diff returns where got first differs from want, or nil. With sorted, map
// keys are visited in order; without, diff allocates nothing when the values
// match.
func diff(want, got any, subset, sorted bool) *mismatch {
	switch w := want.(type) {
	case nil:
		if got == nil {
			return nil
		}
	case bool:
		if g, ok := got.(bool); ok && g == w {
			return nil
		}
	case string:
		if g, ok := got.(string); ok && g == w {
			return nil
		}
	case time.Time:
		if g, ok := got.(string); ok && sameInstant(w, g) {
			return nil
		}
	case map[string]any:
		return diffMap(w, got, subset, sorted)
	case []any:
		return diffList(w, got, sorted)
	default:
		if wn, ok := toNumber(want); ok {
			if gn, ok := toNumber(got); ok && wn.equal(gn) {
				return nil
			}
			break
		}
		if m, ok := asMap(want); ok {
			return diffMap(m, got, subset, sorted)
		}
		if l, ok := asList(want); ok {
			return diffList(l, got, sorted)
		}
		if reflect.DeepEqual(want, got) {
			return nil
		}
	}
	return &mismatch{want: want, got: got}
}

func diffMap(want map[string]any, got any, subset, sorted bool) *mismatch {
	g, ok := asMap(got)
	if !ok {
		return &mismatch{want: want, got: got}
	}
	check := func(k string, wv any) *mismatch {
		gv, present := g[k]
		if !present {
			return &mismatch{kind: keyMissing, path: []pathStep{{key: k, index: -1}}}
		}
		if m := diff(wv, gv, subset, sorted); m != nil {
			m.path = append(m.path, pathStep{key: k, index: -1})
			return m
		}
		return nil
	}
	if sorted {
		for _, k := range sortedKeys(want) {
			if m := check(k, want[k]); m != nil {
				return m
			}
		}
	} else {
		for k, wv := range want {
			if m := check(k, wv); m != nil {
				return m
			}
		}
	}
	if !subset && len(g) != len(want) {
		for _, k := range sortedKeys(g) {
			if _, ok := want[k]; !ok {
				return &mismatch{kind: keyUnexpected, key: k}
			}
		}
	}
	return nil
}

func diffList(want []any, got any, sorted bool) *mismatch {
	g, ok := asList(got)
	if !ok {
		return &mismatch{want: want, got: got}
	}
	if len(g) != len(want) {
		return &mismatch{kind: lengthDiffers, wantLen: len(want), gotLen: len(g)}
	}
	for i := range want {
		if m := diff(want[i], g[i], false, sorted); m != nil {
			m.path = append(m.path, pathStep{index: i})
			return m
		}
	}
	return nil
}

// asMap returns v as a map with string keys, converting other map types.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[fmt.Sprint(it.Key().Interface())] = it.Value().Interface()
	}
	return out, true
}

// asList returns v as a []any, converting other slice types (but not []byte).
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// number is a numeric value from either decoder: an integer when it has an
// exact int64 form, else a float.
type number struct {
	i     int64
	f     float64
	isInt bool
}

func (a number) equal(b number) bool {
	if a.isInt && b.isInt {
		return a.i == b.i
	}
	return a.float() == b.float()
}

func (a number) float() float64 {
	if a.isInt {
		return float64(a.i)
	}
	return a.f
}

func toNumber(v any) (number, bool) {
	switch n := v.(type) {
	case int:
		return number{i: int64(n), isInt: true}, true
	case int8:
		return number{i: int64(n), isInt: true}, true
	case int16:
		return number{i: int64(n), isInt: true}, true
	case int32:
		return number{i: int64(n), isInt: true}, true
	case int64:
		return number{i: n, isInt: true}, true
	case uint:
		return fromUint(uint64(n)), true
	case uint8:
		return fromUint(uint64(n)), true
	case uint16:
		return fromUint(uint64(n)), true
	case uint32:
		return fromUint(uint64(n)), true
	case uint64:
		return fromUint(n), true
	case float32:
		return number{f: float64(n)}, true
	case float64:
		return number{f: n}, true
	case json.Number:
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return number{i: i, isInt: true}, true
		}
		if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			return number{f: f}, true
		}
	}
	return number{}, false
}

func fromUint(u uint64) number {
	if u <= math.MaxInt64 {
		return number{i: int64(u), isInt: true}
	}
	return number{f: float64(u)}
}

// sameInstant reports whether s names the instant t, in one of the forms a
// YAML timestamp may take.
func sameInstant(t time.Time, s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", time.DateOnly} {
		if u, err := time.Parse(layout, s); err == nil {
			return u.Equal(t)
		}
	}
	return false
}

// kindOf names the JSON kind of v for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string, time.Time:
		return "a string"
	}
	if _, ok := toNumber(v); ok {
		return "a number"
	}
	if _, ok := v.(json.Number); ok {
		return "a number"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}

// render writes v in compact JSON for messages, object keys in order.
func render(v any) string { return string(appendValue(nil, v)) }

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return appendJSONString(b, x)
	case json.Number:
		return append(b, x...)
	case time.Time:
		if x.Equal(x.Truncate(24*time.Hour)) && x.Location() == time.UTC {
			return appendJSONString(b, x.Format(time.DateOnly))
		}
		return appendJSONString(b, x.Format(time.RFC3339Nano))
	case map[string]any:
		b = append(b, '{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendValue(b, x[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	}
	if n, ok := toNumber(v); ok {
		if n.isInt {
			return strconv.AppendInt(b, n.i, 10)
		}
		return appendFloat(b, n.f)
	}
	if m, ok := asMap(v); ok {
		return appendValue(b, m)
	}
	if l, ok := asList(v); ok {
		return appendValue(b, l)
	}
	return appendJSONString(b, fmt.Sprint(v))
}

// appendFloat writes f as encoding/json would, and NaN and infinities (which
// YAML allows and JSON does not) by name.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

// appendJSONString writes s as a JSON string, leaving non-ASCII text readable
// and replacing invalid UTF-8 with U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
