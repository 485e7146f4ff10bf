// Package threshold parses pass/fail criteria of load runs, such as
// "turn_latency.p95 < 2s" or "error_rate < 1%", and judges a run against them.
package threshold

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/evalrun/evalrun/internal/suggest"
)

// Threshold is one parsed criterion: METRIC[.STAT] OP VALUE.
type Threshold struct {
	Expr   string  // as written, without surrounding white space
	Metric string  // "turn_latency", "error_rate", ...
	Stat   string  // latency metrics only: p50, p90, p95, p99, p99.9 or max
	Index  int     // turn_latency[N] and turn_service_latency[N]: the 1-based turn; 0 for all turns
	Op     string  // <, <=, >, >=, == or !=
	Value  float64 // in Unit: milliseconds for latencies, a fraction for rates, a count for dropped
	Unit   string  // "ms" for latencies, "" otherwise
}

// Error is a malformed threshold: what is wrong, and where.
type Error struct {
	Expr string // the expression as given to Parse
	Col  int    // 1-based column, in characters, of the bad part in Expr
	Msg  string // what is wrong and what would be right
}

func (e *Error) Error() string {
	return fmt.Sprintf("threshold %q: column %d: %s", e.Expr, e.Col, e.Msg)
}

// kind is what a metric measures, which decides its statistic and value.
type kind int

const (
	latency  kind = iota // a distribution in milliseconds; needs a statistic and a duration
	fraction             // 0..1; a number or a percentage
	count                // a whole number
	perSec               // a rate per second
)

type metric struct {
	kind    kind
	perTurn bool // takes [N]
}

var metrics = map[string]metric{
	"turn_latency":                 {kind: latency, perTurn: true},
	"turn_service_latency":         {kind: latency, perTurn: true},
	"conversation_latency":         {kind: latency},
	"conversation_service_latency": {kind: latency},
	"session_latency":              {kind: latency},
	"error_rate":                   {kind: fraction},
	"pass_rate":                    {kind: fraction},
	"dropped":                      {kind: count},
	"late":                         {kind: count},
	"throughput":                   {kind: perSec},
	"achieved_rate":                {kind: perSec},
}

// metricNames lists the metrics in the order messages name them.
var metricNames = []string{
	"turn_latency", "turn_service_latency", "conversation_latency",
	"conversation_service_latency", "session_latency",
	"error_rate", "pass_rate", "dropped", "late", "throughput", "achieved_rate",
}

// metricAliases are names users bring from elsewhere (k6, habit).
var metricAliases = map[string]string{
	"latency":                "turn_latency",
	"turn":                   "turn_latency",
	"service_latency":        "turn_service_latency",
	"response_time":          "turn_latency",
	"http_req_duration":      "turn_latency",
	"http_req_failed":        "error_rate",
	"errors":                 "error_rate",
	"error":                  "error_rate",
	"errors_rate":            "error_rate",
	"failure_rate":           "error_rate",
	"pass":                   "pass_rate",
	"passed":                 "pass_rate",
	"success_rate":           "pass_rate",
	"drops":                  "dropped",
	"drop":                   "dropped",
	"rps":                    "throughput",
	"tps":                    "throughput",
	"rate":                   "achieved_rate",
	"conversation_rate":      "achieved_rate",
	"conversation_duration":  "conversation_latency",
	"session_creation":       "session_latency",
	"session_create_latency": "session_latency",
}

var stats = []string{"p50", "p90", "p95", "p99", "p99.9", "max"}

const statList = "p50, p90, p95, p99, p99.9 or max"

var ops = []string{"<", "<=", ">", ">=", "==", "!="}

const opList = "<, <=, >, >=, == or !="

// opFixes are operators people write for the ones that exist.
var opFixes = map[string]string{
	"=>": ">=", "=<": "<=", "=": "==", "===": "==", "<>": "!=", "=!": "!=", "!": "!=",
	"≤": "<=", "≥": ">=", "≠": "!=", "<<": "<", ">>": ">",
}

// durationUnits are the units a latency value may carry, as powers of ten
// of a millisecond times a factor (so "1.1s" is exactly 1100 ms).
var durationUnits = map[string]struct {
	exp    string
	factor float64
}{
	"ns": {"e-6", 1},
	"us": {"e-3", 1},
	"µs": {"e-3", 1},
	"ms": {"e0", 1},
	"s":  {"e3", 1},
	"m":  {"e3", 60},
	"h":  {"e3", 3600},
}

var unitFixes = map[string]string{
	"sec": "s", "secs": "s", "second": "s", "seconds": "s", "S": "s",
	"msec": "ms", "msecs": "ms", "millis": "ms", "millisecond": "ms", "milliseconds": "ms", "MS": "ms", "Ms": "ms",
	"min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"hr": "h", "hrs": "h", "hour": "h", "hours": "h", "H": "h",
	"μs": "µs", // Greek mu, for the micro sign
}

// Parse reads METRIC[.STAT] OP VALUE, white space allowed around OP. A
// malformed expression is an *Error naming the bad part and its column.
func Parse(expr string) (Threshold, error) {
	p := &parser{s: expr}
	t, err := p.parse()
	if err != nil {
		return Threshold{}, err
	}
	t.Expr = strings.TrimSpace(expr)
	return t, nil
}

// MustParse is Parse for expressions known to be good; it panics otherwise.
func MustParse(expr string) Threshold {
	t, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return t
}

type parser struct {
	s string
	i int // byte offset of the next character
}

func (p *parser) fail(off int, format string, args ...any) *Error {
	return &Error{Expr: p.s, Col: utf8.RuneCountInString(p.s[:off]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.i >= len(p.s) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *parser) skipSpace() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// scan advances over the longest run of characters for which ok holds and
// returns it.
func (p *parser) scan(ok func(r rune) bool) string {
	start := p.i
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if !ok(r) {
			break
		}
		p.i += n
	}
	return p.s[start:p.i]
}

// word is the text from off up to the next white space, for messages.
func (p *parser) word(off int) string {
	end := strings.IndexAny(p.s[off:], " \t")
	if end < 0 {
		return p.s[off:]
	}
	return p.s[off : off+end]
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func isDigit(r rune) bool  { return r >= '0' && r <= '9' }

func isNameChar(r rune) bool { return isLetter(r) || isDigit(r) || r == '_' || r == '-' }

func isStatChar(r rune) bool {
	return isLetter(r) || isDigit(r) || r == '_' || r == '.' || r == '(' || r == ')'
}

func isOpChar(r rune) bool { return strings.ContainsRune("<>=!≤≥≠", r) }

func isUnitChar(r rune) bool { return isLetter(r) || r == 'µ' || r == 'μ' || r == '%' || r == '/' }

func (p *parser) parse() (Threshold, error) {
	var t Threshold
	p.skipSpace()
	if p.eof() {
		return t, p.fail(p.i, "empty threshold: write METRIC[.STAT] OP VALUE, like turn_latency.p95 < 2s or error_rate < 0.01")
	}

	start := p.i
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	if !isLetter(r) && r != '_' {
		return t, p.fail(start, "expected a metric name, like turn_latency.p95 or error_rate, not %s", quote(p.word(start)))
	}
	name := p.scan(isNameChar)
	m, ok := metrics[name]
	if !ok {
		return t, p.fail(start, "%s", unknownMetric(name))
	}
	t.Metric = name

	if p.peek() == '[' {
		if !m.perTurn {
			return t, p.fail(p.i, "%s has no turn number: only turn_latency[N] and turn_service_latency[N] do", name)
		}
		if err := p.index(&t); err != nil {
			return t, err
		}
	}

	if p.peek() == '.' {
		if m.kind != latency {
			return t, p.fail(p.i, "%s takes no statistic: write %s %s", name, name, example(m.kind))
		}
		p.i++
		if err := p.stat(&t); err != nil {
			return t, err
		}
	} else if m.kind == latency {
		return t, p.fail(p.i, "%s needs a statistic: write %s.p95, for example (one of %s)", t.subject(), t.subject(), statList)
	}
	subject := t.lhs()

	if p.peek() == '[' && m.perTurn {
		return t, p.fail(p.i, "put the turn number before the statistic: %s[N].%s", t.Metric, t.Stat)
	}
	p.skipSpace()
	opAt := p.i
	op := p.scan(isOpChar)
	switch {
	case op == "" && p.eof():
		return t, p.fail(opAt, "missing operator and value after %s: write %s %s", subject, subject, example(m.kind))
	case op == "":
		return t, p.fail(opAt, "expected an operator (%s) after %s, not %s", opList, subject, quote(p.word(opAt)))
	case !slices.Contains(ops, op):
		if fix, ok := opFixes[op]; ok {
			return t, p.fail(opAt, "unknown operator %q: did you mean %s?", op, fix)
		}
		return t, p.fail(opAt, "unknown operator %q: use %s", op, opList)
	}
	t.Op = op

	p.skipSpace()
	if p.eof() {
		return t, p.fail(p.i, "missing value after %s: write %s %s %s", op, subject, op, exampleValue(m.kind))
	}
	if err := p.value(&t, m.kind); err != nil {
		return t, err
	}

	p.skipSpace()
	if !p.eof() {
		if m.kind == latency && isDigit(rune(p.peek())) {
			return t, p.fail(p.i, "write a duration as one number and one unit, like 90s or 1500ms")
		}
		return t, p.fail(p.i, "unexpected %s after the value: a threshold is METRIC[.STAT] OP VALUE", quote(p.s[p.i:]))
	}
	return t, nil
}

// index reads [N] at p.i.
func (p *parser) index(t *Threshold) error {
	p.i++ // [
	at := p.i
	digits := p.scan(isDigit)
	if digits == "" {
		return p.fail(at, "expected a turn number in %s[N], like %s[2], not %s", t.Metric, t.Metric, quote(p.word(at)))
	}
	if p.peek() != ']' {
		return p.fail(p.i, "missing ] after %s[%s", t.Metric, digits)
	}
	p.i++
	n, err := strconv.Atoi(digits)
	if err != nil || n > math.MaxInt32 {
		return p.fail(at, "turn number %s is too large", digits)
	}
	if n == 0 {
		return p.fail(at, "turns are numbered from 1: %s[1] is the first turn", t.Metric)
	}
	t.Index = n
	return nil
}

// stat reads the statistic after the dot at p.i-1.
func (p *parser) stat(t *Threshold) error {
	at := p.i
	s := p.scan(isStatChar)
	if s == "" {
		return p.fail(at, "missing statistic after %s.: use %s", t.subject(), statList)
	}
	if !slices.Contains(stats, s) {
		if fix := statFix(s); fix != "" {
			return p.fail(at, "unknown statistic %q: did you mean %s?", s, fix)
		}
		return p.fail(at, "unknown statistic %q: use %s", s, statList)
	}
	t.Stat = s
	return nil
}

func statFix(s string) string {
	l := strings.ToLower(s)
	if slices.Contains(stats, l) {
		return l
	}
	// k6's p(95), and p999 or p99_9 for p99.9.
	l = strings.NewReplacer("(", "", ")", "", "_", ".").Replace(l)
	if l == "p999" {
		l = "p99.9"
	}
	if slices.Contains(stats, l) {
		return l
	}
	switch l {
	case "maximum", "100", "p100":
		return "max"
	case "median", "p50.0", "50":
		return "p50"
	}
	if len(l) > 1 && l[0] != 'p' && slices.Contains(stats, "p"+l) {
		return "p" + l
	}
	return ""
}

// value reads VALUE at p.i, of the kind the metric takes.
func (p *parser) value(t *Threshold, k kind) error {
	at := p.i
	subject := t.lhs()
	if c := p.peek(); c == '-' || c == '+' {
		if c == '-' {
			return p.fail(at, "a threshold value cannot be negative")
		}
		p.i++ // "+5": say what is wrong with the number itself
	}
	numAt := p.i
	num := p.scan(func(r rune) bool { return isDigit(r) || r == '.' })
	unitAt := p.i
	unit := p.scan(isUnitChar)
	if num == "" || numAt != at {
		if k == latency {
			return p.fail(at, "expected a duration, like 2s or 500ms, not %s", quote(p.word(at)))
		}
		return p.fail(at, "expected a number, like %s, not %s", exampleValue(k), quote(p.word(at)))
	}
	if strings.Count(num, ".") > 1 || num == "." {
		return p.fail(at, "%q is not a number", num)
	}
	if (unit == "e" || unit == "E") && !p.eof() && strings.ContainsRune("0123456789+-", rune(p.peek())) {
		return p.fail(at, "write the number in full, without an exponent: %s", quote(p.word(at)))
	}

	switch k {
	case latency:
		if unit == "" {
			if rest := strings.TrimLeft(p.s[p.i:], " \t"); rest != "" {
				if _, ok := durationUnits[rest]; ok {
					return p.fail(unitAt, "write the unit right after the number: %s%s", num, rest)
				}
			}
			return p.fail(unitAt, "add a unit: 2s or 2000ms")
		}
		if unit == "%" {
			return p.fail(unitAt, "%s is a duration, not a percentage: write 2s or 2000ms", subject)
		}
		u, ok := durationUnits[unit]
		if !ok {
			if fix, ok := unitFixes[unit]; ok {
				return p.fail(unitAt, "unknown unit %q: did you mean %s%s?", unit, num, fix)
			}
			return p.fail(unitAt, "unknown unit %q: use ms, s or m, like 500ms, 2s or 1m", unit)
		}
		v := parseFloat(num+u.exp) * u.factor
		if math.IsInf(v, 0) {
			return p.fail(at, "duration %s%s is too large", num, unit)
		}
		t.Value, t.Unit = v, "ms"
		return nil

	case fraction:
		var v float64
		switch unit {
		case "":
			v = parseFloat(num)
			if v > 1 {
				if v <= 100 {
					pct := formatNumber(v)
					return p.fail(at, "%s is a fraction between 0 and 1: write %s or %s%%", t.Metric, formatNumber(parseFloat(pct+"e-2")), pct)
				}
				return p.fail(at, "%s is a fraction between 0 and 1, like 0.01 or 1%%", t.Metric)
			}
		case "%":
			v = parseFloat(num + "e-2")
			if v > 1 {
				return p.fail(at, "%s is at most 100%%", t.Metric)
			}
		default:
			if _, ok := durationUnits[unit]; ok {
				return p.fail(unitAt, "%s is a fraction, not a duration: write 0.01 or 1%%", t.Metric)
			}
			return p.fail(unitAt, "unexpected %q after the number: %s is a fraction, like 0.01 or 1%%", unit, t.Metric)
		}
		t.Value = v
		return nil

	case count:
		if unit != "" {
			if unit == "%" {
				return p.fail(unitAt, "dropped counts conversations, it is not a percentage: write dropped == 0 or dropped < 10")
			}
			return p.fail(unitAt, "dropped counts conversations: write a whole number without a unit, like dropped == 0")
		}
		v := parseFloat(num)
		if v != math.Trunc(v) {
			return p.fail(at, "dropped counts conversations: write a whole number, like 0 or 10, not %s", num)
		}
		if math.IsInf(v, 0) {
			return p.fail(at, "%s is too large", num)
		}
		t.Value = v
		return nil

	default: // perSec
		what := "turns per second"
		if t.Metric == "achieved_rate" {
			what = "conversations per second"
		}
		switch unit {
		case "", "/s":
		case "%":
			return p.fail(unitAt, "%s is %s, not a percentage: write %s > 100", t.Metric, what, t.Metric)
		default:
			if _, ok := durationUnits[unit]; ok {
				return p.fail(unitAt, "%s is %s, not a duration: write %s > 100", t.Metric, what, t.Metric)
			}
			return p.fail(unitAt, "unexpected %q after the number: %s is %s, like %s > 100 or %s > 100/s", unit, t.Metric, what, t.Metric, t.Metric)
		}
		v := parseFloat(num)
		if math.IsInf(v, 0) {
			return p.fail(at, "%s is too large", num)
		}
		t.Value = v
		return nil
	}
}

// parseFloat reads a decimal the lexer has already vetted; out-of-range
// values come back as ±Inf or 0, which callers check.
func parseFloat(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// formatNumber writes v in plain decimal, the shortest form that reads back
// as v.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func example(k kind) string {
	switch k {
	case latency:
		return "< 2s"
	case fraction:
		return "< 0.01"
	case count:
		return "== 0"
	default:
		return "> 100"
	}
}

func exampleValue(k kind) string {
	switch k {
	case latency:
		return "2s"
	case fraction:
		return "0.01"
	case count:
		return "0"
	default:
		return "100"
	}
}

func unknownMetric(name string) string {
	norm := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	guess := ""
	if _, ok := metrics[norm]; ok {
		guess = norm
	} else if a, ok := metricAliases[norm]; ok {
		guess = a
	} else {
		guess = suggest.Nearest(norm, metricNames)
	}
	if guess != "" {
		return fmt.Sprintf("unknown metric %s: did you mean %s?", quote(name), guess)
	}
	return fmt.Sprintf("unknown metric %s: use %s", quote(name), strings.Join(metricNames, ", "))
}

// quote quotes s for a message, shortened when long.
func quote(s string) string {
	const limit = 24
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// subject is the metric with its turn number, without the statistic.
func (t Threshold) subject() string {
	if t.Index > 0 {
		return t.Metric + "[" + strconv.Itoa(t.Index) + "]"
	}
	return t.Metric
}

// lhs is METRIC[N][.STAT].
func (t Threshold) lhs() string {
	if t.Stat != "" {
		return t.subject() + "." + t.Stat
	}
	return t.subject()
}

// String returns the canonical form: spaces around the operator, latencies
// in the largest unit that states them exactly, rates as fractions. Parse
// reads it back to the same Threshold.
func (t Threshold) String() string {
	var b strings.Builder
	b.WriteString(t.lhs())
	if t.Op == "" {
		return b.String()
	}
	b.WriteString(" " + t.Op + " ")
	if t.Unit == "ms" {
		b.WriteString(formatDuration(t.Value))
	} else {
		b.WriteString(formatNumber(t.Value))
	}
	return b.String()
}

// formatDuration writes ms milliseconds in h, m or s when that is exact
// (reads back to the very same float), else in ms.
func formatDuration(ms float64) string {
	for _, unit := range []string{"h", "m", "s"} {
		u := durationUnits[unit]
		per := parseFloat("1"+u.exp) * u.factor
		q := ms / per
		if q <= 0 || q != math.Trunc(q) || math.IsInf(q, 0) {
			continue
		}
		n := formatNumber(q)
		if parseFloat(n+u.exp)*u.factor == ms {
			return n + unit
		}
	}
	return formatNumber(ms) + "ms"
}
