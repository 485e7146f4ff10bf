package sim

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/internal/latency"
)

// The admin routes, served with Options.Admin.
const (
	StatsPath      = "/sim/stats"
	StatsResetPath = "/sim/stats/reset"
	FreezePath     = "/sim/freeze"
)

// Stats is the reply of GET /sim/stats: how long the simulator took to
// handle the API requests it answered since it started or its stats were
// last reset.
type Stats struct {
	Since time.Time `json:"since"`
	// All covers every API request; Routes splits them by route pattern,
	// such as "POST /chat/sessions/{id}/send".
	All    LatencyStats            `json:"all"`
	Routes map[string]LatencyStats `json:"routes"`
}

// LatencyStats describes one set of handling times, in milliseconds, from
// an HDR histogram of microseconds with 3 significant digits, read at the
// same percentile ranks as evalrun's own figures (latency.Rank).
type LatencyStats struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99.9"`
	Max   float64 `json:"max"`
}

// handlingTimes records how long API requests took, by route.
type handlingTimes struct {
	mu     sync.Mutex
	since  time.Time
	all    *hdrhistogram.Histogram
	routes map[string]*hdrhistogram.Histogram
}

func newHistogram() *hdrhistogram.Histogram { return latency.New() }

func newHandlingTimes(now time.Time) *handlingTimes {
	return &handlingTimes{since: now, all: newHistogram(), routes: map[string]*hdrhistogram.Histogram{}}
}

func (h *handlingTimes) record(route string, d time.Duration) {
	us := latency.Micros(d)
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.routes[route]
	if r == nil {
		r = newHistogram()
		h.routes[route] = r
	}
	_ = r.RecordValue(us)
	_ = h.all.RecordValue(us)
}

func (h *handlingTimes) snapshot() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := Stats{Since: h.since, All: latencyStats(h.all), Routes: make(map[string]LatencyStats, len(h.routes))}
	for route, r := range h.routes {
		s.Routes[route] = latencyStats(r)
	}
	return s
}

func (h *handlingTimes) reset(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.since = now
	h.all.Reset()
	clear(h.routes)
}

func latencyStats(h *hdrhistogram.Histogram) LatencyStats {
	if h.TotalCount() == 0 {
		return LatencyStats{}
	}
	p := latency.Percentiles(h)
	return LatencyStats{
		Count: h.TotalCount(), Mean: h.Mean() / 1000,
		P50: p.P50, P90: p.P90, P95: p.P95, P99: p.P99, P999: p.P999, Max: p.Max,
	}
}

// freeze holds API requests back while it lasts.
type freeze struct {
	mu    sync.Mutex
	until time.Time
	thaw  chan struct{} // closed when the freeze ends or is replaced; nil when none
	timer *time.Timer
}

// set freezes from now for d, replacing any freeze under way; d <= 0 ends
// it. Requests held by the freeze it replaces wait for the new one.
func (f *freeze) set(now time.Time, d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.thaw != nil {
		close(f.thaw) // the waiters look again, and find the new freeze
		f.thaw = nil
	}
	f.until = time.Time{}
	if d <= 0 {
		return f.until
	}
	f.until = now.Add(d)
	thaw := make(chan struct{})
	f.thaw = thaw
	f.timer = time.AfterFunc(d, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.thaw == thaw {
			close(thaw)
			f.thaw, f.until, f.timer = nil, time.Time{}, nil
		}
	})
	return f.until
}

// wait holds the caller until no freeze is under way, and reports false when
// ctx ended first.
func (f *freeze) wait(ctx context.Context) bool {
	for {
		f.mu.Lock()
		thaw := f.thaw
		f.mu.Unlock()
		if thaw == nil {
			return ctx.Err() == nil
		}
		select {
		case <-thaw:
		case <-ctx.Done():
			return false
		}
	}
}

// Stats returns the handling times of the API requests answered since the
// server started or its stats were last reset. Without Options.Admin it is
// empty.
func (s *Server) Stats() Stats {
	if s.times == nil {
		return Stats{Routes: map[string]LatencyStats{}}
	}
	return s.times.snapshot()
}

// Freeze holds every API request that arrives in the next d until d has
// passed (a request whose client goes away stops waiting); then each is
// handled as usual, latency and faults included. A new freeze replaces the
// one under way, and d <= 0 ends it at once. It returns when the freeze
// ends (zero for none). It works with or without Options.Admin.
func (s *Server) Freeze(d time.Duration) time.Time {
	return s.frozen.set(time.Now(), d)
}

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.Handle("GET "+StatsPath, s.admin(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	}))
	mux.Handle("POST "+StatsResetPath, s.admin(func(w http.ResponseWriter, r *http.Request) {
		s.times.reset(time.Now())
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.Handle("POST "+FreezePath, s.admin(func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("for"))
		if err != nil || d < 0 {
			writeError(w, APIOpenCX, http.StatusBadRequest, "freeze: want ?for=DURATION, such as ?for=2s (0 ends a freeze)")
			return
		}
		until := s.Freeze(d)
		reply := map[string]any{"for_ms": float64(d) / float64(time.Millisecond)}
		if !until.IsZero() {
			reply["until"] = until.UTC().Format(time.RFC3339Nano)
		}
		writeJSON(w, http.StatusOK, reply)
	}))
	for _, p := range []struct{ path, allow string }{{StatsPath, "GET, HEAD"}, {StatsResetPath, "POST"}, {FreezePath, "POST"}} {
		mux.Handle(p.path, methodNotAllowed(APIOpenCX, p.allow))
	}
}

// admin wraps an admin route: the token check, and nothing else (no
// latency, fault or freeze).
func (s *Server) admin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeError(w, APIOpenCX, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h(w, r)
	})
}
