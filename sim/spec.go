package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/evalrun/evalrun/providers"
)

// Distribution draws the delay of each API response.
type Distribution interface {
	// Sample returns one delay, never negative, drawn with r.
	Sample(r *rand.Rand) time.Duration
}

var (
	_ Distribution = Uniform{}
	_ Distribution = Lognormal{}
)

// Uniform draws delays evenly from Min to Max, both included.
type Uniform struct{ Min, Max time.Duration }

// Sample returns a delay from Min to Max.
func (u Uniform) Sample(r *rand.Rand) time.Duration {
	lo := max(u.Min, 0)
	if u.Max <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(u.Max-lo)+1))
}

// Lognormal draws delays whose logarithm is normally distributed: half of
// them are below Median, and Sigma, the standard deviation of the underlying
// normal, sets the tail (0.5 is moderate, 1 is long).
type Lognormal struct {
	Median time.Duration
	Sigma  float64
}

// Sample returns Median·e^(Sigma·Z) for a standard normal Z.
func (l Lognormal) Sample(r *rand.Rand) time.Duration {
	d := float64(max(l.Median, 0)) * math.Exp(l.Sigma*r.NormFloat64())
	if d >= math.MaxInt64 || math.IsNaN(d) {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// FaultKind is what an injected fault does to a request instead of
// answering it.
type FaultKind string

// The faults. Status faults answer with that status and an error body of the
// API asked; the others are described by the package comment.
const (
	Fault500       FaultKind = "500"
	Fault502       FaultKind = "502"
	Fault503       FaultKind = "503"
	Fault429       FaultKind = "429" // with Retry-After
	FaultDrop      FaultKind = "drop"
	FaultMalformed FaultKind = "malformed"
	FaultOversize  FaultKind = "oversize"
	FaultHang      FaultKind = "hang"
)

var faultKinds = []FaultKind{Fault500, Fault502, Fault503, Fault429, FaultDrop, FaultMalformed, FaultOversize, FaultHang}

// Fault injects Kind into a share Rate (0 to 1) of API requests.
type Fault struct {
	Kind FaultKind
	Rate float64
}

// Shape is the body of an OpenCX send reply; DESIGN.md documents four.
type Shape string

// The shapes. The empty Shape is ShapeFlat.
const (
	ShapeFlat   Shape = "flat"    // {success, code, autopilotResponse, uiResponse, sessionIsHandedOff}
	ShapeData   Shape = "data"    // {success, data{code, autopilotResponse, uiResponse, sessionIsHandedOff}}
	ShapeLegacy Shape = "legacy"  // {ai_response{text}}, or {ai_response: null} when the AI is silent
	ShapeIDOnly Shape = "id-only" // {success, data{message{id}}}: the AI's answer is in the history
)

var shapes = []Shape{ShapeFlat, ShapeData, ShapeLegacy, ShapeIDOnly}

// HistoryIDs is how the ids of OpenCX history items relate to the message
// ids of send replies (the id-only shape's data.message.id).
type HistoryIDs string

// The kinds of history ids. The empty HistoryIDs is HistoryIDsSame.
const (
	HistoryIDsSame      HistoryIDs = "same"      // an item's id is its message's id
	HistoryIDsNone      HistoryIDs = "none"      // items have no id member, as in OpenCX's current docs
	HistoryIDsUnrelated HistoryIDs = "unrelated" // items have ids of their own, stable but no message's
)

var historyIDKinds = []HistoryIDs{HistoryIDsSame, HistoryIDsNone, HistoryIDsUnrelated}

const (
	// DefaultOversizeBytes is the size of an oversize body when
	// Options.OversizeBytes is 0: 1 MiB over what evalrun's providers
	// accept by default (11 MiB).
	DefaultOversizeBytes = providers.DefaultMaxBody + 1<<20
	// DefaultRetryAfter is the Retry-After of a 429 when
	// Options.RetryAfter is 0.
	DefaultRetryAfter = time.Second
)

// param is one key of a spec or a directive.
type param struct {
	want string // what a right value looks like, for error messages
	set  func(o *Options, v string) bool
}

// commonParams may appear both in a spec and in a directive.
var commonParams = map[string]param{
	"latency": {
		want: "a duration such as 300ms, uniform:MIN:MAX such as uniform:100ms:500ms, or lognormal:MEDIAN:SIGMA such as lognormal:200ms:0.5",
		set:  setLatency,
	},
	"retry_after": {
		want: "whole seconds, at least 1, such as 2 or 2s",
		set: func(o *Options, v string) bool {
			d, ok := parseSeconds(v)
			o.RetryAfter = d
			return ok
		},
	},
	"retry_after_date": {
		want: "1 (send Retry-After as an HTTP date) or 0 (as seconds)",
		set: func(o *Options, v string) bool {
			b, err := strconv.ParseBool(v)
			o.RetryAfterDate = b
			return err == nil
		},
	},
	"oversize_bytes": {
		want: "a size of at least 1 byte such as 11534336, 512KiB or 11MiB",
		set: func(o *Options, v string) bool {
			n, ok := parseBytes(v)
			o.OversizeBytes = n
			return ok
		},
	},
	"shape": {
		want: "one of flat, data, legacy, id-only",
		set: func(o *Options, v string) bool {
			for _, s := range shapes {
				if v == string(s) {
					o.Shape = s
					return true
				}
			}
			return false
		},
	},
	"history_delay": {
		want: "a duration such as 500ms",
		set: func(o *Options, v string) bool {
			d, err := time.ParseDuration(v)
			o.HistoryDelay = d
			return err == nil && d >= 0
		},
	},
	"judge_shape": {
		want: "one of bare, fenced, prose",
		set: func(o *Options, v string) bool {
			for _, s := range judgeShapes {
				if v == string(s) {
					o.JudgeShape = s
					return true
				}
			}
			return false
		},
	},
	"flaky": {
		want: "a probability from 0 to 1 such as 0.3",
		set: func(o *Options, v string) bool {
			p, ok := parseRate(v)
			o.Flaky = p
			return ok
		},
	},
}

// specOnlyParams are the keys of a spec that a directive cannot set.
var specOnlyParams = map[string]param{
	"fault": {
		want: "KIND:RATE, KIND one of 500, 502, 503, 429, drop, malformed, oversize, hang and RATE from 0 to 1, such as 503:0.1",
		set: func(o *Options, v string) bool {
			kind, rate, ok := strings.Cut(v, ":")
			k, kindOK := parseFaultKind(kind)
			r, rateOK := parseRate(rate)
			if !ok || !kindOK || !rateOK {
				return false
			}
			o.Faults = append(o.Faults, Fault{Kind: k, Rate: r})
			return true
		},
	},
	"history_ids": {
		want: "one of same, none, unrelated",
		set: func(o *Options, v string) bool {
			for _, k := range historyIDKinds {
				if v == string(k) {
					o.HistoryIDs = k
					return true
				}
			}
			return false
		},
	},
	"seed": {
		want: "a whole number such as 7",
		set: func(o *Options, v string) bool {
			n, err := strconv.ParseUint(v, 10, 64)
			o.Seed = n
			return err == nil
		},
	},
	"idle": {
		want: "a duration of at least 1s such as 10m, or never",
		set: func(o *Options, v string) bool {
			if v == "never" {
				o.Idle = -1
				return true
			}
			d, err := time.ParseDuration(v)
			o.Idle = d
			return err == nil && d >= time.Second
		},
	},
	"admin": {
		want: "1 (serve /sim/stats, /sim/stats/reset and /sim/freeze) or 0",
		set: func(o *Options, v string) bool {
			b, err := strconv.ParseBool(v)
			o.Admin = b
			return err == nil
		},
	},
	"token": {
		want: "the bearer token clients must send",
		set: func(o *Options, v string) bool {
			o.Token = v
			return true
		},
	},
}

// SpecParams lists the parameters ParseSpec knows, in the order the package
// comment documents them.
var SpecParams = []string{"latency", "fault", "retry_after", "retry_after_date", "oversize_bytes", "shape", "history_delay", "history_ids", "flaky", "judge_shape", "seed", "token", "idle", "admin"}

// ParseSpec reads simulator options from a URL-query-like spec, the part after
// "sim?" in a suite's base_url:
//
//	latency=lognormal:200ms:0.5&fault=503:0.1&shape=id-only&seed=7
//
// Keys and values may be URL-escaped. Only fault may be given more than once.
// An empty spec gives the zero Options. Errors name the parameter and say what
// a right value looks like.
func ParseSpec(spec string) (Options, error) {
	var o Options
	seen := map[string]bool{}
	for part := range strings.SplitSeq(spec, "&") {
		if part == "" {
			continue
		}
		rawKey, rawValue, hasValue := strings.Cut(part, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return Options{}, fmt.Errorf("sim spec: %q is not URL-escaped correctly: %v", rawKey, err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return Options{}, fmt.Errorf("sim spec: %s: %q is not URL-escaped correctly: %v", key, rawValue, err)
		}
		p, ok := commonParams[key]
		if !ok {
			p, ok = specOnlyParams[key]
		}
		switch {
		case !ok:
			return Options{}, fmt.Errorf("sim spec: unknown parameter %q; want one of %s", key, strings.Join(SpecParams, ", "))
		case !hasValue:
			return Options{}, fmt.Errorf("sim spec: %s has no value; want %s=VALUE, VALUE %s", key, key, p.want)
		case seen[key] && key != "fault":
			return Options{}, fmt.Errorf("sim spec: %s is given twice; give it once (only fault may repeat)", key)
		}
		seen[key] = true
		if !p.set(&o, value) {
			return Options{}, fmt.Errorf("sim spec: %s=%s: want %s", key, value, p.want)
		}
	}
	total := 0.0
	for _, f := range o.Faults {
		total += f.Rate
	}
	if total > 1+1e-9 {
		return Options{}, fmt.Errorf("sim spec: the fault rates add up to %g; want at most 1 (one draw per request picks at most one fault)", total)
	}
	return o, nil
}

func setLatency(o *Options, v string) bool {
	o.Latency, o.LatencyDist = 0, nil
	kind, rest, _ := strings.Cut(v, ":")
	a, b, two := strings.Cut(rest, ":")
	switch kind {
	case "uniform":
		lo, err1 := time.ParseDuration(a)
		hi, err2 := time.ParseDuration(b)
		if !two || err1 != nil || err2 != nil || lo < 0 || hi < lo {
			return false
		}
		o.LatencyDist = Uniform{Min: lo, Max: hi}
	case "lognormal":
		median, err1 := time.ParseDuration(a)
		sigma, err2 := strconv.ParseFloat(b, 64)
		if !two || err1 != nil || err2 != nil || median <= 0 || !(sigma >= 0 && sigma <= 10) {
			return false
		}
		o.LatencyDist = Lognormal{Median: median, Sigma: sigma}
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return false
		}
		o.Latency = d
	}
	return true
}

func parseRate(v string) (float64, bool) {
	r, err := strconv.ParseFloat(v, 64)
	return r, err == nil && r >= 0 && r <= 1
}

func parseFaultKind(v string) (FaultKind, bool) {
	for _, k := range faultKinds {
		if v == string(k) {
			return k, true
		}
	}
	return "", false
}

// parseSeconds reads "2" or "2s": Retry-After only carries whole seconds.
func parseSeconds(v string) (time.Duration, bool) {
	if n, err := strconv.ParseUint(v, 10, 31); err == nil {
		return time.Duration(n) * time.Second, n >= 1
	}
	d, err := time.ParseDuration(v)
	return d, err == nil && d >= time.Second && d%time.Second == 0
}

func parseBytes(v string) (int64, bool) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = n, m
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

// directive is what one message asks of the simulator with [sim …].
type directive struct {
	set   []func(o *Options) // parameters shared with specs, in order
	fault FaultKind          // "" when the directive names none
	times int                // the fault hits the first times attempts; 0: every attempt
}

// directivePattern finds directives; the text between "[sim" and "]" is a
// list of key=value separated by white space.
var directivePattern = regexp.MustCompile(`\[sim(?:\s[^\]]*)?\]`)

// directiveWithSpace is a directive with the spaces and tabs before it,
// which go with it when the directive is removed; line breaks stay.
var directiveWithSpace = regexp.MustCompile(`[ \t]*\[sim(?:\s[^\]]*)?\]`)

// parseDirectives reads every directive of a message text; nil when it has
// none. Later directives and keys win over earlier ones.
func parseDirectives(text string) (*directive, error) {
	found := directivePattern.FindAllString(text, -1)
	if found == nil {
		return nil, nil
	}
	d := &directive{}
	for _, raw := range found {
		for _, field := range strings.Fields(raw[len("[sim") : len(raw)-1]) {
			if err := d.add(field); err != nil {
				return nil, fmt.Errorf("sim directive %s: %w", raw, err)
			}
		}
	}
	if d.times > 0 && d.fault == "" {
		return nil, fmt.Errorf("sim directive: times=%d needs a fault, as in [sim fault=503 times=%d]", d.times, d.times)
	}
	return d, nil
}

func (d *directive) add(field string) error {
	key, value, ok := strings.Cut(field, "=")
	if !ok {
		return fmt.Errorf("%q is not KEY=VALUE", field)
	}
	switch key {
	case "fault":
		k, ok := parseFaultKind(value)
		if !ok {
			return fmt.Errorf("fault=%s: want one of 500, 502, 503, 429, drop, malformed, oversize, hang (a directive takes no rate)", value)
		}
		d.fault = k
		return nil
	case "times":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("times=%s: want a number of attempts, at least 1, such as 2", value)
		}
		d.times = n
		return nil
	}
	p, ok := commonParams[key]
	if !ok {
		return fmt.Errorf("unknown key %q; want fault, times, latency, retry_after, retry_after_date, oversize_bytes, shape, history_delay or flaky", key)
	}
	var probe Options
	if !p.set(&probe, value) {
		return fmt.Errorf("%s=%s: want %s", key, value, p.want)
	}
	d.set = append(d.set, func(o *Options) { p.set(o, value) })
	return nil
}

// apply returns o with the directive's parameters set.
func (d *directive) apply(o Options) Options {
	for _, set := range d.set {
		set(&o)
	}
	return o
}

// stripDirectives returns text without its directives, as the bot reads it.
func stripDirectives(text string) string {
	if !strings.Contains(text, "[sim") {
		return text
	}
	return strings.TrimSpace(directiveWithSpace.ReplaceAllString(text, ""))
}
