package testtool

import (
	"sync"
	"time"
)

// Clock is a clock a test moves by hand, for code that waits on a Now and
// an After (load.Clock): each call to After is reported on Waits with the
// duration asked for, and its channel fires only when the test sends the
// new time on Fire. Nothing sleeps, so a test that uses it cannot depend on
// the machine's speed.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	Waits chan time.Duration
	Fire  chan time.Time
}

// NewClock returns a Clock that reads now until Set moves it.
func NewClock(now time.Time) *Clock {
	return &Clock{now: now, Waits: make(chan time.Duration, 1), Fire: make(chan time.Time)}
}

// Now is the time last set.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After reports d on Waits and returns Fire.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.Waits <- d
	return c.Fire
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
