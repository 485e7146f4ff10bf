// Package suites turns YAML suite files into a validated, position-annotated
// model. Nothing in a suite is sent anywhere until the whole file has loaded
// without error.
package suites

import (
	"fmt"
	"strings"
	"time"

	"github.com/evalrun/evalrun/checks"
)

// Pos is a place in a suite file. Line and Col are 1-based, as editors count.
type Pos struct {
	File string
	Line int
	Col  int
}

// String returns "file:line:col", the form editors and CI annotations read.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Suite is one validated suite file.
type Suite struct {
	// Name is unique among the suites of one load. A suite without name:
	// takes its file's base name without extension ("smoke"), or, when
	// another file of the same load has that base name too, the path
	// relative to the folder the two have in common ("billing/smoke"), with
	// "-N" after it for the N-th document of a file, N ≥ 2.
	Name          string
	File          string // the path it was loaded from
	Provider      Provider
	Judge         *Judge // the judge: section; nil when there is none
	Defaults      Defaults
	Vars          map[string]string
	Conversations []*Conversation
	// Load and Thresholds are read by `evalrun load`; flags override them.
	Load       *LoadSettings
	Thresholds []ThresholdExpr
	Pos        Pos // of the document root
	NamePos    Pos // of the name: value; of the document root when the name is a default
	// Digest is the hex SHA-256 of what the suite was read from: the bytes
	// of its file as written, its document's index in the file, and the
	// bytes of every data file its conversations read, in the order read.
	// Paths are left out, so that a copy of the files mounted elsewhere has
	// the same digest, and so are the values of ${VAR}s: a token never
	// reaches a digest, and two machines with different tokens run the same
	// suite. Load tests compare it to tell shards of one test from a mix.
	Digest string

	nameDefault bool // no name: was written
	doc         int  // 0-based index of the suite's document in its file
}

// LoadSettings is a suite's load: section. A zero field was not set.
type LoadSettings struct {
	Rate        float64 // new conversations per second (open model)
	VUs         int     // virtual users (closed model)
	Duration    time.Duration
	Stages      []LoadStage
	ThinkTime   time.Duration
	MaxInFlight int
	Grace       *time.Duration
	Keys        []Key // the keys set, in file order
	Pos         Pos
}

// LoadStage ramps the arrival rate linearly to Target over Duration.
type LoadStage struct {
	Duration time.Duration
	Target   float64
	Pos      Pos
}

// ThresholdExpr is one entry of a suite's thresholds: list, as written.
type ThresholdExpr struct {
	Expr string
	Pos  Pos
}

// Provider types a suite may name.
const (
	OpenCX = "opencx"
	Toolzz = "toolzz"
	HTTP   = "http"
)

// SimURL is the base_url value that starts the built-in simulator in-process.
// "sim?SPEC" starts it with faults, latency or a reply shape (see sim.ParseSpec).
const SimURL = "sim"

// SimSpec returns the simulator spec of a base URL and whether the URL names
// the simulator at all: "sim" gives "", true; "sim?shape=legacy" gives
// "shape=legacy", true.
func SimSpec(baseURL string) (string, bool) {
	if baseURL == SimURL {
		return "", true
	}
	spec, ok := strings.CutPrefix(baseURL, SimURL+"?")
	return spec, ok
}

// Provider says which chat API a suite talks to and how.
type Provider struct {
	Type    string // OpenCX or Toolzz
	BaseURL string // "" means the type's public default; SimURL means the built-in simulator
	Token   Secret
	BotID   string // toolzz only; required there
	Timeout time.Duration
	Retries int
	Headers map[string]string
	// RateLimit paces every request to this provider across all concurrent
	// conversations; the zero Rate means no pacing.
	RateLimit Rate
	// RateLimitSet says the suite wrote rate_limit itself; the type's default
	// (OpenCX's 100/min) is not applied to the built-in simulator.
	RateLimitSet bool
	MaxBody      int64 // largest reply body read, in bytes
	// PollInterval and ReplyTimeout govern reading an OpenCX reply from the
	// session history when the send reply carries only a message id.
	PollInterval time.Duration
	ReplyTimeout time.Duration
	HTTP         *HTTPSpec // type http only
	// EnvSecrets holds every value the provider section read from the
	// environment (the token, a key in a header or a URL, ...); none of them
	// may appear in any output.
	EnvSecrets []Secret
	Pos        Pos // of the provider mapping
	TypePos    Pos // of the type value, for errors about it
	TokenPos   Pos
}

// Rate is N requests per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// IsZero reports whether r sets no limit.
func (r Rate) IsZero() bool { return r.N == 0 }

// String returns the form a suite writes, such as "100/min".
func (r Rate) String() string {
	if r.IsZero() {
		return "none"
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "min", time.Hour: "h"}[r.Per]
	return fmt.Sprintf("%d/%s", r.N, unit)
}

// HTTPSpec describes a bot behind any HTTP endpoint: how to build the request
// for one turn and where its reply keeps the answer. Strings in URL, Headers
// and Body may hold {{message}}, {{conversation_id}} and suite vars; a Body
// value that is exactly "{{messages}}" becomes the chat so far as a list of
// {role, content} objects, as OpenAI-compatible endpoints expect.
type HTTPSpec struct {
	Method  string // default POST
	Path    string // appended to the provider's base_url
	Headers map[string]string
	Body    any // decoded YAML; nil sends no body
	// JSONPaths into the reply. Text is required; the others are optional.
	// Several nodes selected by Text are joined with newlines.
	Text           string
	ConversationID string
	Handoff        string
}

// Secret holds a credential. Its String, GoString and MarshalJSON never show
// the value, so a token cannot leak through fmt verbs, logs or reports.
type Secret struct {
	value string
	// Vars names the environment variables the value was read from, so an
	// error can say which one to check without showing what it holds.
	Vars []string
}

// NewSecret wraps a credential read from the environment variables vars.
func NewSecret(value string, vars ...string) Secret { return Secret{value: value, Vars: vars} }

// Value returns the credential itself; only code that puts it on the wire may call it.
func (s Secret) Value() string { return s.value }

// IsZero reports whether no credential was given.
func (s Secret) IsZero() bool { return s.value == "" }

func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "suites.Secret(" + s.String() + ")" }

// MarshalJSON writes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Defaults apply to every conversation that does not set its own.
type Defaults struct {
	Repeat      int           // default 1
	MinPassRate float64       // default 1.0
	ThinkTime   time.Duration // pause between turns; default 0
}

// Conversation is one scripted chat: turns sent in order to one fresh session.
type Conversation struct {
	Name        string
	Tags        []string
	Skip        string            // why it is skipped; "" when it runs. `skip: true` gives "skipped in suite"
	Vars        map[string]string // resolved: the suite's vars overlaid with the conversation's own, then its data row's
	Session     Session
	Turns       []*Turn
	Final       *Final  // nil when the conversation has no final checks
	Repeat      int     // resolved: the conversation's own, else defaults.repeat, else 1
	MinPassRate float64 // resolved like Repeat, default 1.0
	ThinkTime   time.Duration
	Pos         Pos // of the conversation's mapping (the "- " item)
	// Data is the row of the data: table this conversation was expanded
	// from, nil for a conversation without data:. The conversations of one
	// data: share Pos, Session, Turns and Final, which nothing may change.
	Data *DataRow
}

// DataRow is one row of a conversation's data: table.
type DataRow struct {
	File  string // the data file as the suite wrote its path; "" for rows written in the suite
	Index int    // 1-based among the rows; a CSV header is no row
	Line  int    // where the row starts: in File, or in the suite file for rows written there
}

// String names the row as messages and reports do: "row 3 of orders.csv",
// or "data row 2" for rows written in the suite.
func (r DataRow) String() string {
	if r.File == "" {
		return fmt.Sprintf("data row %d", r.Index)
	}
	return fmt.Sprintf("row %d of %s", r.Index, r.File)
}

// Session is the body of OpenCX's POST /chat/sessions. String values may hold
// {{var}} templates.
type Session struct {
	Contact    map[string]any
	CustomData map[string]any
}

// Turn is one user message and what the reply to it must satisfy.
type Turn struct {
	Index int // 0-based position in the conversation
	// User is the message; may hold {{var}} templates. When Sender is
	// SenderAgent it is what the human agent says.
	User       string
	Sender     string // SenderContact, or SenderAgent for an OpenCX human-agent message
	TakeOver   bool   // OpenCX should_take_over_session_from_ai
	CustomData map[string]any
	Expect     *Expect // nil when the turn checks nothing
	Capture    []Capture
	Pos        Pos
}

// Who sends a turn's message.
const (
	SenderContact = "contact"
	SenderAgent   = "agent"
)

// Expect is every check of one turn: one Spec per key, in the order the file
// wrote them. String values may hold {{var}} templates; Expand fills them.
type Expect struct {
	Specs []Spec
	Pos   Pos
	// plain is set by the loader when no string holds a template, so that
	// Expand can skip the copy. The zero value is always correct, only slower.
	plain bool
}

// Keys lists the checks in the order the file wrote them, with positions.
func (e *Expect) Keys() []Key { return keysOf(e.Specs) }

func keysOf(specs []Spec) []Key {
	out := make([]Key, len(specs))
	for i, s := range specs {
		out[i] = Key{Name: s.Key, Pos: s.Pos}
	}
	return out
}

// Spec returns the value of the key name, and whether e has it.
func (e *Expect) Spec(name string) (any, bool) { return specValue(e.Specs, name) }

func specValue(specs []Spec, name string) (any, bool) {
	for _, s := range specs {
		if s.Key == name {
			return s.Value, true
		}
	}
	return nil, false
}

// Key is one key of an expect, final or capture mapping and where it was written.
type Key struct {
	Name string
	Pos  Pos
}

// ActionExpect asks that the bot called action Name, with at least Args
// (a subset match: extra arguments in the call are fine).
type ActionExpect = checks.ActionWant

// JSONExpect asks that the RFC 9535 JSONPath Path, applied to the raw reply
// body, selects a node equal to Want, or, when Ops is not nil, one that meets
// every comparison in Ops.
type JSONExpect struct {
	Path string // already known to parse
	Want any    // decoded YAML value: string, bool, int, float64, nil, []any, map[string]any
	Ops  []checks.JSONOp
	Pos  Pos
}

// Capture stores part of a reply in a variable for later turns. Exactly one of
// Regex and JSON is set.
type Capture struct {
	Name  string
	Regex string // first group if it has one, else the whole match
	JSON  string // RFC 9535 JSONPath on the raw reply
	Pos   Pos
}

// Final checks the conversation's state after its last turn: one Spec per
// key, in the order the file wrote them.
type Final struct {
	Specs []Spec
	Pos   Pos
	plain bool // as in Expect
}

// Keys lists the final keys in the order the file wrote them, with positions.
func (f *Final) Keys() []Key { return keysOf(f.Specs) }

// Spec returns the value of the key name, and whether f has it.
func (f *Final) Spec(name string) (any, bool) { return specValue(f.Specs, name) }
