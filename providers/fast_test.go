package providers

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestFastHTTP runs the Caller's tests again with Config.FastHTTP: the
// transport evalrun load uses must fail, retry and limit the same way.
func TestFastHTTP(t *testing.T) {
	testFastHTTP = true
	t.Cleanup(func() { testFastHTTP = false })
	if !newTestCaller("http://127.0.0.1:1", Config{}).fast() {
		t.Fatal("a plain-http Caller with FastHTTP does not use fasthttp")
	}
	if newTestCaller("https://127.0.0.1:1", Config{}).fast() {
		t.Fatal("an https Caller with FastHTTP uses fasthttp, not net/http's HTTP/2")
	}
	for _, test := range []func(*testing.T){
		TestDoClassifiesAndRetries,
		TestDoNetworkError,
		TestDoSucceedsAfterRetries,
		TestDo204NeedsNoBody,
		TestDoHangingServerIsBounded,
		TestDoStopsWhenContextEnds,
		TestRetryAfter,
		TestRetryAfterBeyondDeadlineGivesUp,
		TestRetryAfterWaitsForReal,
		TestLimiterIsSharedAcrossCallers,
		TestLimiterPacesRetries,
		TestLimiterWaitEndsWithTheContext,
		TestTokenNeverInErrors,
		TestCallersKeepConnections,
	} {
		name := runtime.FuncForPC(reflect.ValueOf(test).Pointer()).Name()
		t.Run(name[strings.LastIndex(name, ".")+1:], test)
	}
}
