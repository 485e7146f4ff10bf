package wait

import (
	"context"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("a live context must sleep the whole time")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) || time.Since(start) > time.Second {
		t.Error("a done context must end the sleep at once")
	}
	if Sleep(ctx, 0) || !Sleep(context.Background(), -time.Second) {
		t.Error("no wait: report whether the context is live")
	}
}
