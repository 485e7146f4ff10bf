// Command nethttp plays the bench conversation (a session and three sends)
// at a fixed rate with nothing but net/http: no JSON decoding, no checks, no
// histograms. bench/run.sh runs it beside evalrun and k6 as the floor of what
// Go's HTTP/1.1 client costs for the same traffic.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("base-url", "http://127.0.0.1:8080", "the simulator's `URL`")
	rate := flag.Float64("rate", 500, "conversations per second")
	duration := flag.Duration("duration", 20*time.Second, "how long to start conversations")
	flag.Parse()

	// The same pool settings as evalrun's providers.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, 1<<16
	t.ReadBufferSize, t.WriteBufferSize = 2<<10, 2<<10
	client := &http.Client{Transport: t}

	var turns, failures atomic.Int64
	post := func(path, body string) ([]byte, bool) {
		resp, err := client.Post(*base+path, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			failures.Add(1)
			return nil, false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusCreated {
			failures.Add(1)
			return nil, false
		}
		return b, true
	}
	converse := func() {
		b, ok := post("/chat/sessions", `{"custom_data":{"evalrun_run_id":"nethttp"}}`)
		i := bytes.Index(b, []byte(`"id":"`))
		if !ok || i < 0 || len(b) < i+6+36 {
			return
		}
		id := string(b[i+6 : i+6+36])
		for _, text := range []string{"I want a refund for order ord_42", "What is the status of ticket TCK-1001?", "Thanks!"} {
			if _, ok := post("/chat/sessions/"+id+"/send", `{"sender":"contact","message":{"type":"text","text":"`+text+`"}}`); !ok {
				return
			}
			turns.Add(1)
		}
	}

	var wg sync.WaitGroup
	start := time.Now()
	for i := range int(*rate * duration.Seconds()) {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))))
		wg.Go(converse)
	}
	wg.Wait()
	fmt.Printf("turns %d failures %d\n", turns.Load(), failures.Load())
	if failures.Load() > 0 {
		os.Exit(1)
	}
}
