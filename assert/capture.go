package assert

import (
	"errors"

	"github.com/evalrun/evalrun/checks"
	"github.com/evalrun/evalrun/suites"
)

// Capture extracts the value c names from one turn's result, for templates in
// later turns. A regex capture searches the reply text and yields its first
// group when the pattern has one, else the whole match. A json capture applies
// a JSONPath to the raw reply, which must select exactly one node: a string
// yields itself, a number or boolean its JSON text (42, 4.50, true), an object
// or list its compact JSON. Nothing matched, several nodes, a null, a group
// that took no part in the match, a silent reply (for regex) or a body that is
// not JSON (for json) are errors, whose text starts with "capture NAME: ".
func Capture(c suites.Capture, o *Observation) (string, error) {
	var (
		v   string
		err error
	)
	switch {
	case c.Regex != "":
		v, err = checks.CaptureRegex(c.Regex, o)
	case c.JSON != "":
		v, err = checks.CaptureJSON(c.JSON, o)
	default:
		err = errors.New("neither regex nor json is set")
	}
	if err != nil {
		return "", errors.New("capture " + c.Name + ": " + err.Error())
	}
	return v, nil
}
