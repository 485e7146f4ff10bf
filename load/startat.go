package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxStartAhead is how far in the future a start may be planned. A shard
// waits for it holding its machine (a pod, a CI runner) and sending
// nothing; a day is more than any test is scheduled ahead, so a start
// further off is a mistyped date or zone, better refused than waited for.
const MaxStartAhead = 24 * time.Hour

// MaxStartBehind is how far in the past a planned start may be. A shard
// started after its planned start begins at once, late, and says so; but
// no pod is scheduled a day late, so a start further back is a mistyped
// date or zone, and a run begun on it would be stamped as part of a test
// long over.
const MaxStartBehind = 24 * time.Hour

// LateStart is how long after the planned start a run may begin before it
// says it started late. A shard that waited begins within a timer's jitter;
// one that begins a second or more after is one that was itself started
// after the planned time (a pod scheduled late, restarted, or an image pulled
// slowly), and its part of the load is shifted against the others'.
const LateStart = time.Second

// ParseStartAt reads a planned start, --start-at's value: an RFC 3339 time
// with its zone ("2026-12-01T10:30:00Z", fractions of a second allowed), or
// "+D", a Go duration from now ("+30s", "+2m"). A "+D" start is rounded up
// to a whole second, so that shards started by hand within the same second
// agree on it (and on a test id derived from it). A time in the past is
// accepted (a shard started late begins at once and says so), up to
// MaxStartBehind; one more than MaxStartAhead ahead is not.
func ParseStartAt(s string, now time.Time) (time.Time, error) {
	tooFar := func(ahead time.Duration) error {
		return fmt.Errorf("%q is %s from now; want at most %s ahead (a later start is most likely a mistyped date or zone)", s, ahead.Round(time.Minute), MaxStartAhead)
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := time.ParseDuration(rest)
		switch {
		case err != nil || d < 0 || strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, "-"):
			return time.Time{}, fmt.Errorf("%q: want +D, a duration from now such as +30s or +2m", s)
		case d > MaxStartAhead:
			return time.Time{}, tooFar(d)
		}
		t := now.Add(d)
		if r := t.Truncate(time.Second); !r.Equal(t) {
			t = r.Add(time.Second)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time with its zone, such as 2026-12-01T10:30:00Z, or +D from now, such as +30s", s)
	}
	if ahead := t.Sub(now); ahead > MaxStartAhead {
		return time.Time{}, tooFar(ahead)
	}
	if behind := now.Sub(t); behind > MaxStartBehind {
		return time.Time{}, fmt.Errorf("%q is %s ago; want at most %s ago (a shard started late begins at once, but an older start is most likely a mistyped date or zone)", s, behind.Round(time.Minute), MaxStartBehind)
	}
	return t, nil
}

// Clock is the time a run waits on for its planned start; nil in Options is
// the real one. Tests pass a fake one to wait without sleeping.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ErrNotStarted is the error of a Run whose context ended while it waited for
// Options.StartAt: nothing was sent, and there is no record.
var ErrNotStarted = errors.New("load: stopped while waiting for the planned start; nothing was sent")

// waitStart waits until StartAt, when it is set and still ahead, and
// returns when the load begins on the clock. When ctx ends first it
// returns an error that is ErrNotStarted and wraps the cause.
func (o Options) waitStart(ctx context.Context) (time.Time, error) {
	clk := o.Clock
	if clk == nil {
		clk = realClock{}
	}
	now := clk.Now()
	if o.StartAt.IsZero() || !now.Before(o.StartAt) {
		return now, nil
	}
	// A timer counts monotonic time, the planned start is on the wall
	// clock: after a step of the clock (NTP) or a suspended machine, the
	// timer can fire before the start, so wait again for what is left.
	for now.Before(o.StartAt) {
		select {
		case <-clk.After(o.StartAt.Sub(now)):
			now = clk.Now()
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%w (%w)", ErrNotStarted, context.Cause(ctx))
		}
	}
	return now, nil
}
