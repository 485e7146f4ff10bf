package checks

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"github.com/evalrun/evalrun/results"
)

// The operators a json check may use in place of a value to compare for
// equality: {"$.total": {gte: 10, lt: 100}}.
const (
	OpGt     = "gt"     // a number greater than Value
	OpGte    = "gte"    // a number at least Value
	OpLt     = "lt"     // a number less than Value
	OpLte    = "lte"    // a number at most Value
	OpNe     = "ne"     // anything not equal to Value (equality as for a plain value)
	OpIn     = "in"     // equal to one of the items of Value, a list
	OpExists = "exists" // Value true: the path selects something; false: nothing
	OpRegex  = "regex"  // a string the RE2 pattern Value matches somewhere in
)

// JSONOps lists the operators in the order messages name them.
var JSONOps = []string{OpGt, OpGte, OpLt, OpLte, OpNe, OpIn, OpExists, OpRegex}

// JSONOp is one comparison of a json check. Value is a number for gt, gte,
// lt and lte, a []any for in, a bool for exists, an RE2 source for regex and
// any decoded value for ne; the suite loader makes sure of it.
type JSONOp struct {
	Op    string
	Value any
}

var _ Check = jsonCompareCheck{}

// jsonCompareCheck holds when the node a JSONPath selects meets every one of
// ops. A path that selects several nodes is compared as the list of them, as
// for equality.
type jsonCompareCheck struct {
	path string
	ops  []JSONOp
	res  []*regexp.Regexp // compiled regex operands, by index in ops
	p    *jsonpath.Path
	err  error // a path or a regex that does not compile; only a template can cause this
}

// JSONCompare checks that the JSONPath path, applied to the raw reply body,
// selects a value that meets every one of ops.
func JSONCompare(path string, ops []JSONOp) Check {
	c := jsonCompareCheck{path: path, ops: ops, res: make([]*regexp.Regexp, len(ops))}
	c.p, c.err = jsonpath.Parse(path)
	for i, op := range ops {
		if op.Op != OpRegex || c.err != nil {
			continue
		}
		src, _ := op.Value.(string)
		c.res[i], c.err = regexp.Compile(src)
	}
	return c
}

func (c jsonCompareCheck) Name() string { return "json" }

// phrase says what op asks of a value, as in "greater than 3".
func phrase(op JSONOp) string {
	v := Shorten(render(op.Value), width/2)
	switch op.Op {
	case OpGt:
		return "greater than " + v
	case OpGte:
		return "at least " + v
	case OpLt:
		return "less than " + v
	case OpLte:
		return "at most " + v
	case OpNe:
		return "other than " + v
	case OpIn:
		return "one of " + v
	case OpExists:
		if b, _ := op.Value.(bool); b {
			return "present"
		}
		return "absent"
	case OpRegex:
		s, _ := op.Value.(string)
		return "a string matching /" + s + "/"
	}
	return op.Op + " " + v
}

func (c jsonCompareCheck) Check(o *Observation) results.Assertion {
	const name = "json"
	phrases := make([]string, len(c.ops))
	for i, op := range c.ops {
		phrases[i] = phrase(op)
	}
	all := strings.Join(phrases, " and ")
	expected := c.path + " " + all
	if c.err != nil {
		return failed(name, expected, notChecked, "cannot check "+c.path+" to be "+all+": "+firstLine(c.err.Error()))
	}
	root, err := o.document()
	if err != nil {
		return failed(name, expected, "not JSON", "expected "+c.path+" to be "+all+", but the reply body is not JSON ("+err.Error()+")")
	}
	nodes := c.p.Query(root)
	var got any
	switch len(nodes) {
	case 0:
	case 1:
		got = jsonpath.Value(nodes[0])
	default:
		list := make([]any, len(nodes))
		for i, n := range nodes {
			list[i] = jsonpath.Value(n)
		}
		got = list
	}
	for i, op := range c.ops {
		lead := "expected " + c.path + " to be " + phrases[i] + ", "
		if op.Op == OpExists {
			want, _ := op.Value.(bool)
			switch {
			case want && len(nodes) == 0:
				return failed(name, expected, "nothing selected", lead+"but the path selected nothing")
			case !want && len(nodes) > 0:
				shown := Shorten(string(appendNodes(nil, nodes)), width)
				return failed(name, expected, shown, lead+"got "+shown)
			}
			continue
		}
		if len(nodes) == 0 {
			return failed(name, expected, "nothing selected", lead+"but the path selected nothing")
		}
		if c.holds(i, op, got) {
			continue
		}
		shown := Shorten(string(appendNodes(nil, nodes)), width)
		msg := lead + "got " + shown
		if kind := kindOf(got); c.needs(op) != "" && kind != c.needs(op) {
			msg += " (" + kind + ")"
		}
		if len(nodes) > 1 {
			msg = lead + "got " + strconv.Itoa(len(nodes)) + " nodes: " + shown
		}
		return failed(name, expected, shown, msg)
	}
	return passed(name)
}

// needs names the kind of value op can hold for, or "" when any will do.
func (c jsonCompareCheck) needs(op JSONOp) string {
	switch op.Op {
	case OpGt, OpGte, OpLt, OpLte:
		return "a number"
	case OpRegex:
		return "a string"
	}
	return ""
}

func (c jsonCompareCheck) holds(i int, op JSONOp, got any) bool {
	switch op.Op {
	case OpGt, OpGte, OpLt, OpLte:
		w, ok1 := toNumber(op.Value)
		g, ok2 := toNumber(got)
		if !ok1 || !ok2 {
			return false
		}
		cmp := compareNumbers(g, w)
		switch op.Op {
		case OpGt:
			return cmp > 0
		case OpGte:
			return cmp >= 0
		case OpLt:
			return cmp < 0
		default:
			return cmp <= 0
		}
	case OpNe:
		return !match(op.Value, got, false)
	case OpIn:
		list, _ := asList(op.Value)
		for _, item := range list {
			if match(item, got, false) {
				return true
			}
		}
		return false
	case OpRegex:
		s, ok := got.(string)
		return ok && c.res[i] != nil && c.res[i].MatchString(s)
	}
	return false
}

// compareNumbers returns -1, 0 or 1 as a is less than, equal to or greater
// than b; integers compare exactly, anything else as floats.
func compareNumbers(a, b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	x, y := a.float(), b.float()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
