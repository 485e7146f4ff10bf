package suites

// thresholdError is a threshold's problem and the 1-based column in the
// expression where it lies (0 when unknown).
type thresholdError struct {
	Col int
	Msg string
}

// checkThreshold is replaced by the threshold package's parser once it exists.
func checkThreshold(string) *thresholdError { return nil }
