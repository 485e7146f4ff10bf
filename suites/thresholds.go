package suites

import (
	"errors"

	"github.com/evalrun/evalrun/threshold"
)

// thresholdError is a threshold's problem and the 1-based column in the
// expression where it lies (0 when unknown).
type thresholdError struct {
	Col int
	Msg string
}

// checkThreshold validates a thresholds: entry with the parser evalrun load uses.
func checkThreshold(expr string) *thresholdError {
	_, err := threshold.Parse(expr)
	if err == nil {
		return nil
	}
	var te *threshold.Error
	if errors.As(err, &te) {
		return &thresholdError{Col: te.Col, Msg: te.Msg}
	}
	return &thresholdError{Msg: err.Error()}
}
