package suites

import (
	"slices"
	"sort"
	"time"

	"github.com/evalrun/evalrun/providers/opencx"
	"github.com/evalrun/evalrun/providers/toolzz"
)

// providerSpec is everything the loader knows about one provider type. A new
// provider type is one more entry in providerSpecs.
type providerSpec struct {
	defaultBaseURL string
	defaultRate    Rate     // pacing when the suite sets no rate_limit
	needsBotID     bool     // bot_id is required, and accepted only here
	expect         []string // expect keys the provider's replies can answer
	final          []string // final keys the provider's state can answer
}

// providerSpecs is the single table of provider capabilities. A check a
// provider cannot answer is a load error, not a silent pass at run time.
var providerSpecs = map[string]providerSpec{
	OpenCX: {
		defaultBaseURL: opencx.DefaultBaseURL,
		defaultRate:    Rate{N: 100, Per: time.Minute}, // OpenCX's documented limit per key
		expect: []string{
			"contains", "not_contains", "equals", "regex", "might_solve", "fully_covered",
			"handoff", "action", "knowledge", "mode", "reply", "max_latency", "json",
		},
		final: []string{"status", "sentiment", "closure", "handoff", "custom_data"},
	},
	Toolzz: {
		defaultBaseURL: toolzz.DefaultBaseURL,
		needsBotID:     true,
		expect: []string{
			"contains", "not_contains", "equals", "regex", "handoff", "transfer_bot",
			"reply", "max_latency", "json",
		},
		final: []string{"handoff"},
	},
	HTTP: {
		expect: []string{
			"contains", "not_contains", "equals", "regex", "handoff", "reply", "max_latency", "json",
		},
		final: []string{"handoff"},
	},
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
	return slices.Contains(providerSpecs[typ].expect, key)
}

// AnswersFinal reports whether a provider of type typ can answer the final
// key (such as "sentiment").
func AnswersFinal(typ, key string) bool {
	return slices.Contains(providerSpecs[typ].final, key)
}
