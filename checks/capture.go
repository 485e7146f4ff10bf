package checks

import (
	"errors"
	"regexp"
	"strconv"
	"sync"

	"github.com/evalrun/evalrun/internal/jsonpath"
	"gopkg.in/yaml.v3"
)

// CaptureRegex returns what the RE2 pattern src captures from the reply text:
// its first group when it has one, else the whole match. See assert.Capture
// for the errors.
func CaptureRegex(src string, o *Observation) (string, error) { return captureRegex(src, o) }

// CaptureJSON returns the one node the JSONPath path selects in the raw reply,
// as text. See assert.Capture for the errors.
func CaptureJSON(path string, o *Observation) (string, error) { return captureJSON(path, o) }

// captureRegexps holds every capture regex compiled so far: captures have no
// templates, so a suite has a fixed few, and a load test would otherwise
// compile them on every turn.
var captureRegexps sync.Map // source → *regexp.Regexp

func compileCapture(src string) (*regexp.Regexp, error) {
	if re, ok := captureRegexps.Load(src); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	captureRegexps.Store(src, re)
	return re, nil
}

func captureRegex(src string, o *Observation) (string, error) {
	re, err := compileCapture(src)
	if err != nil {
		return "", errors.New("invalid regex /" + src + "/: " + err.Error())
	}
	shown := "/" + src + "/"
	if o.silent() {
		return "", errors.New(shown + " found nothing: the bot said nothing")
	}
	text := o.reply().Text
	m := re.FindStringSubmatchIndex(text)
	switch {
	case m == nil:
		return "", errors.New(shown + " matched nothing in the reply " + quote(text))
	case re.NumSubexp() == 0:
		return text[m[0]:m[1]], nil
	case m[2] < 0:
		return "", errors.New(shown + " matched " + quote(text[m[0]:m[1]]) + ", but its first group took no part in the match")
	}
	return text[m[2]:m[3]], nil
}

func captureJSON(path string, o *Observation) (string, error) {
	p, err := jsonpath.Parse(path)
	if err != nil {
		return "", errors.New("invalid JSONPath " + path + ": " + firstLine(err.Error()))
	}
	root, err := o.document()
	if err != nil {
		return "", errors.New("the reply body is not JSON (" + err.Error() + ")")
	}
	nodes := p.Query(root)
	switch len(nodes) {
	case 0:
		return "", errors.New(path + " selected nothing")
	case 1:
	default:
		return "", errors.New(path + " selected " + strconv.Itoa(len(nodes)) + " nodes; a capture needs exactly one")
	}
	n := nodes[0]
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return "", errors.New(path + " selected null")
	case n.Kind == yaml.ScalarNode:
		return n.Value, nil
	}
	return string(appendNode(nil, n)), nil
}
