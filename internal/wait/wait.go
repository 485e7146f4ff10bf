// Package wait pauses for a while unless a context ends first.
package wait

import (
	"context"
	"time"
)

// Sleep waits for d and reports true, or reports false as soon as ctx is
// done. A d of 0 or less does not wait, and reports whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
