package providers

import (
	"context"
	"sync/atomic"
	"time"
)

// Paced adds up the time one operation spent waiting for provider.rate_limit.
// That wait is evalrun's own pacing, not the bot's latency, so the runner
// takes it out of what it measures.
type Paced struct{ nanos atomic.Int64 }

type pacedKey struct{}

// WithPaced returns a context whose requests report their pacing waits to the
// returned Paced.
func WithPaced(ctx context.Context) (context.Context, *Paced) {
	p := &Paced{}
	return context.WithValue(ctx, pacedKey{}, p), p
}

// Duration returns the pacing waited so far.
func (p *Paced) Duration() time.Duration { return time.Duration(p.nanos.Load()) }

func addPaced(ctx context.Context, d time.Duration) {
	if p, ok := ctx.Value(pacedKey{}).(*Paced); ok {
		p.nanos.Add(int64(d))
	}
}
