package providers

import (
	"bytes"
	"encoding/json"
)

// ID reads an id that a service writes as a JSON string or, on services with
// numeric ids, as a number, which is kept exactly as written. Anything else
// (null, an object, nothing) is "".
func ID(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
