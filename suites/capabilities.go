package suites

import (
	"sort"
	"time"

	"github.com/evalrun/evalrun/providers/opencx"
	"github.com/evalrun/evalrun/providers/toolzz"
)

// providerSpec is everything the loader knows about one provider type. A new
// provider type is one more entry in providerSpecs.
type providerSpec struct {
	defaultBaseURL string
	defaultRate    Rate // pacing when the suite sets no rate_limit
	needsBotID     bool // bot_id is required, and accepted only here
}

// providerSpecs is the single table of provider types. Which checks a type
// can answer is said by each check's entry (see ExpectEntries); a check a
// provider cannot answer is a load error, not a silent pass at run time.
var providerSpecs = map[string]providerSpec{
	OpenCX: {
		defaultBaseURL: opencx.DefaultBaseURL,
		defaultRate:    Rate{N: 100, Per: time.Minute}, // OpenCX's documented limit per key
	},
	Toolzz: {
		defaultBaseURL: toolzz.DefaultBaseURL,
		needsBotID:     true,
	},
	HTTP: {},
}

// ProviderTypes returns the provider types a suite may name, sorted.
func ProviderTypes() []string {
	types := make([]string, 0, len(providerSpecs))
	for t := range providerSpecs {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// DefaultBaseURL returns the public base URL of provider type typ, or "" for
// an unknown type.
func DefaultBaseURL(typ string) string { return providerSpecs[typ].defaultBaseURL }

// AnswersExpect reports whether a provider of type typ can answer the expect
// key (such as "transfer_bot").
func AnswersExpect(typ, key string) bool {
	e := ExpectEntry(key)
	return e != nil && e.Answers(typ)
}

// AnswersFinal reports whether a provider of type typ can answer the final
// key (such as "sentiment").
func AnswersFinal(typ, key string) bool {
	e := FinalEntry(key)
	return e != nil && e.Answers(typ)
}
