package load

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// metric is one latency metric of the record: how many were measured, how
// many of those errored, and the latencies of the others from the intended
// start (co) and from the actual one (service), in µs.
type metric struct {
	count, errors int64
	co, service   *hdrhistogram.Histogram
}

func newMetric() *metric {
	return &metric{co: latency.New(), service: latency.New()}
}

// add records one measurement that took service, sent lateness later than
// it should have been.
func (m *metric) add(service, lateness time.Duration) {
	m.count++
	_ = m.service.RecordValue(latency.Micros(service))
	_ = m.co.RecordValue(latency.Micros(service + lateness))
}

// fail records one measurement that errored: counted, without a latency.
func (m *metric) fail() {
	m.count++
	m.errors++
}

// Stats describes one latency metric for the record: the counts, the
// percentiles of both histograms (co from the intended start, service from
// the actual one) and their base64 V2-compressed encodings.
func Stats(index int, count, errors int64, co, service *hdrhistogram.Histogram) (results.TurnStats, error) {
	h, err := latency.Encode(co)
	if err != nil {
		return results.TurnStats{}, fmt.Errorf("load: %w", err)
	}
	s, err := latency.Encode(service)
	if err != nil {
		return results.TurnStats{}, fmt.Errorf("load: %w", err)
	}
	return results.TurnStats{
		Index: index, Count: count, Errors: errors,
		LatencyMS: latency.Percentiles(co), ServiceMS: latency.Percentiles(service),
		Histogram: h, Service: s,
	}, nil
}

// Histograms decodes the two histograms of ts: from the intended start (co)
// and from the actual one (service), checked against its counts (see
// latency.Refresh). An empty encoding is an empty histogram. Both come back
// in evalrun's units, ready to merge.
func Histograms(ts results.TurnStats) (co, service *hdrhistogram.Histogram, err error) {
	if co, service, err = latency.Refresh(&ts); err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	return co, service, nil
}

// recorder folds outcomes into the record as they arrive and keeps nothing
// per turn: its memory is fixed by the longest conversation, SampleLimit
// and the timeline's bound (TimelineLimit).
type recorder struct {
	mu sync.Mutex

	timeline timeline

	turns                          []*metric // turns[i] is turn index i+1
	overall, conversation, session *metric

	passed, failed, errored, unfinished int

	// open is the open model, where waits for provider.rate_limit count
	// in the corrected latencies (see record).
	open bool

	sampleLimit int
	sample      []*results.Conversation
	spans       map[*suites.Suite]*span
}

// span is when a suite's first conversation began and its last one ended.
type span struct{ first, last time.Time }

// newRecorder returns a recorder whose timeline starts at start, the test
// start.
func newRecorder(sampleLimit int, open bool, start time.Time) *recorder {
	return &recorder{
		timeline: newTimeline(start),
		open:     open,
		overall:  newMetric(), conversation: newMetric(), session: newMetric(),
		sampleLimit: sampleLimit,
		spans:       map[*suites.Suite]*span{},
	}
}

// record folds one play of c, begun at began and lateness after it was
// due, into the record.
//
// In the open model a wait for provider.rate_limit is the generator falling
// behind, as a late start is: it puts the request it held, and every later
// one of the conversation, that much after it was due. So it adds to the
// corrected latency of those requests, and not to their service time. In
// the closed model nothing is corrected.
func (r *recorder) record(s *suites.Suite, c *suites.Conversation, o *runner.Outcome, lateness time.Duration, began, ended time.Time) {
	turns := o.Turns
	if n := len(turns); n > 0 && (turns[n-1].Stopped || o.Status == results.Unfinished && turns[n-1].Errored) {
		// The turn cut short by the stop is no measurement of the service.
		turns = turns[:n-1]
	}
	behind := lateness
	if r.open {
		behind += o.SessionPaced
	}
	sessionBehind := behind
	// When each request ended, as an offset from the test start, for the
	// timeline: the play's requests follow one another with nothing
	// measured in between.
	from := max(began.Sub(r.timeline.start), 0)
	at := from + o.SessionPaced + o.Session
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timeline.cover(from).started++
	for i, t := range turns {
		for len(r.turns) <= i {
			r.turns = append(r.turns, newMetric())
		}
		if r.open {
			behind += t.Paced
		}
		at += t.Paced + t.Latency
		sl := r.timeline.cover(at)
		sl.turns++
		if t.Errored {
			r.turns[i].fail()
			r.overall.fail()
			sl.errors++
			continue
		}
		r.turns[i].add(t.Latency, behind)
		r.overall.add(t.Latency, behind)
		sl.lat.add(latency.Micros(t.Latency+behind), 1)
	}
	if opensSession(s) {
		switch {
		case len(o.Turns) > 0:
			// Opened: the first turn was sent.
			if o.Session > 0 {
				r.session.add(o.Session, sessionBehind)
			}
		case o.Status == results.Errored:
			r.session.fail()
			r.timeline.cover(from+o.SessionPaced+o.Session).errors++
		}
	}
	switch o.Status {
	case results.Passed:
		r.passed++
		r.conversation.add(o.Duration, lateness)
	case results.Failed:
		r.failed++
		r.conversation.add(o.Duration, lateness)
	case results.Errored:
		r.errored++
		r.conversation.fail()
	default:
		r.unfinished++
	}
	if o.Status != results.Passed && len(r.sample) < r.sampleLimit {
		r.sample = append(r.sample, sampleOf(s, c, o))
	}
	sp := r.spans[s]
	if sp == nil {
		sp = &span{first: began, last: ended}
		r.spans[s] = sp
	}
	if began.Before(sp.first) {
		sp.first = began
	}
	if ended.After(sp.last) {
		sp.last = ended
	}
}

// opensSession reports whether s's provider sends a request to open a
// conversation. Only OpenCX does (POST /chat/sessions); Toolzz and http
// send nothing until the first turn, and their Outcome.Session is a few µs
// of local work. Counting it as a session request would invent a fast,
// successful request per conversation: a service failing every send would
// show half its requests succeeding.
func opensSession(s *suites.Suite) bool { return s.Provider.Type == suites.OpenCX }

// progress returns what a Snapshot shows of the record so far.
func (r *recorder) progress() (turns, errors int64, p95 time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.overall.co.TotalCount() > 0 {
		p95 = time.Duration(latency.At(r.overall.co, 95)) * time.Microsecond
	}
	return r.overall.count, r.overall.errors + r.session.errors, p95
}

// sampleOf is the record of a play that did not pass, explained as evalrun
// run explains one: its transcript holds every turn that was sent with its
// assertions (which turn, which check, what was expected, what came back),
// the final checks, and a reason that is the first failure, located. Only
// plays that did not pass come here, so a passing play pays nothing for it.
func sampleOf(s *suites.Suite, c *suites.Conversation, o *runner.Outcome) *results.Conversation {
	reason := o.Reason
	if reason == "" {
		if lines := o.Failures(); len(lines) > 0 {
			reason = lines[0]
		}
	}
	if reason == "" && o.Status == results.Failed {
		// An outcome without assertions (one not made by Play) still says
		// where it went wrong.
		var at []string
		for i, t := range o.Turns {
			if t.Failed {
				at = append(at, strconv.Itoa(i+1))
			}
		}
		switch len(at) {
		case 0:
			reason = "a final check did not hold"
		case 1:
			reason = "a check of turn " + at[0] + " did not hold"
		default:
			reason = "checks of turns " + strings.Join(at, ", ") + " did not hold"
		}
	}
	lat := make([]time.Duration, 0, len(o.Turns))
	for _, t := range o.Turns {
		if !t.Errored {
			lat = append(lat, t.Latency)
		}
	}
	return &results.Conversation{
		Suite: s.Name, File: s.File, Line: c.Pos.Line, Name: c.Name, Tags: c.Tags,
		Status: o.Status, Reason: reason, Runs: 1, SessionID: o.SessionID,
		DurationMS: ms(o.Duration), TotalMS: ms(o.Duration), LatencyMS: runner.ExactPercentiles(lat),
		Turns: o.Transcript(), Final: o.Final, Judge: sampledJudge(o.Judge),
	}
}

// sampledJudge is a sampled play's judge use, nil when it asked no judge.
func sampledJudge(u results.JudgeUse) *results.JudgeUse {
	if u.Checks == 0 {
		return nil
	}
	return &u
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
