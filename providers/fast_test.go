package providers

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
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

// hostileServer answers every request on a raw TCP connection with reply,
// in which %[1]s is the request's Authorization header: a server that echoes
// the token into headers fasthttp cannot parse.
func hostileServer(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				br := bufio.NewReader(conn)
				auth := ""
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":"); ok && strings.EqualFold(k, "Authorization") {
						auth = strings.TrimSpace(v)
					}
					if line == "\r\n" {
						break
					}
				}
				fmt.Fprintf(conn, reply, auth)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// fasthttp quotes the bytes of a reply whose headers it cannot parse in its
// errors; they must not reach evalrun's, since a hostile server can put the
// token there.
func TestFastHTTPHeaderErrorsShowNoReplyBytes(t *testing.T) {
	const token = "ocx_live_echoed_token"
	for name, reply := range map[string]string{
		"bad status code":       "HTTP/1.1 2x0 OK\r\nX-Echo: %[1]s\r\n\r\n",
		"no space in status":    "HTTP/1.1-%[1]s\r\n\r\n",
		"bad http version":      "HTTP/9.%[1]s 200 OK\r\n\r\n",
		"control byte in value": "HTTP/1.1 200 OK\r\nX-Echo: %[1]s\x01\r\nContent-Length: 2\r\n\r\n{}",
		"headers too large":     "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Echo: %[1]s\r\n", 400) + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			url := hostileServer(t, reply)
			c := NewCaller("opencx", Config{BaseURL: url, Token: token, FastHTTP: true, Timeout: 5 * time.Second})
			if !c.fast() {
				t.Fatal("not sent with fasthttp")
			}
			_, _, err := c.Do(context.Background(), "send", http.MethodGet, "/", nil)
			if err == nil {
				t.Fatal("a reply with broken headers was accepted")
			}
			t.Logf("%v", err)
			for _, leak := range []string{token, "Bearer", "X-Echo", "echoed"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("the error shows %q of the reply: %v", leak, err)
				}
			}
		})
	}
}

// quietErrors relies on fasthttp setting SecureErrorLogMessage before it
// refuses the request; a fasthttp that stopped doing so would fail here,
// where readReply's unquoting does not cover for it.
func TestQuietErrorsSetsSecureErrorLogMessage(t *testing.T) {
	ex := exchanges.Get().(*fastExchange)
	ex.req.SetRequestURI("http://127.0.0.1:1/send")
	ex.release() // and get it, or another, back reset, as onceFast does
	ex = exchanges.Get().(*fastExchange)
	defer ex.release()
	err := ex.resp.Header.Read(bufio.NewReader(strings.NewReader("HTTP/1.1 2x0 OK\r\nX-Echo: s3cret\r\n\r\n")))
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "contents") {
		t.Errorf("header error %v", err)
	}
}

// dialAside dials as fasthttp's own dialer does, with a timeout or none;
// its errors are TestDoNetworkError's, under TestFastHTTP.
func TestDialAside(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	for _, timeout := range []time.Duration{0, time.Minute} {
		c, err := dialAside(addr, timeout)
		if err != nil {
			t.Fatalf("timeout %s: %v", timeout, err)
		}
		if c.RemoteAddr().String() != addr {
			t.Errorf("timeout %s: connected to %s, want %s", timeout, c.RemoteAddr(), addr)
		}
		c.Close()
	}
	ln.Close()
}
