package load_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/threshold"
)

// A Toolzz service that fails every send: Toolzz opens no session (the
// first send starts the conversation), so every request evalrun made
// failed. The record must say so: error_rate 1, no session requests, and
// error_rate<0.6 crossed. It once counted a phantom successful session
// per conversation, for an error rate of 0.5.
func TestErrorRateCountsOnlyRequestsSent(t *testing.T) {
	var sends atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sends.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"down"}`)
	}))
	defer srv.Close()
	for _, typ := range []string{"toolzz", "http"} {
		t.Run(typ, func(t *testing.T) {
			sends.Store(0)
			provider := fmt.Sprintf(`{type: toolzz, base_url: %q, bot_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6, retries: 0, timeout: 5s}`, srv.URL)
			if typ == "http" {
				provider = fmt.Sprintf(`{type: http, base_url: %q, retries: 0, timeout: 5s,
  request: {method: POST, path: /chat, body: {text: "{{message}}"}},
  response: {text: "$.reply"}}`, srv.URL)
			}
			ss, p := suite(t, fmt.Sprintf(`name: down
provider: %s
conversations:
  - name: two turns
    turns:
      - user: hello
      - user: again
`, provider))
			r := run(t, p, ss, load.Options{Rate: 20, Duration: 300 * time.Millisecond, Grace: 5 * time.Second})
			s, l := r.Summary, r.Load
			if l.Started == 0 || sends.Load() != int64(l.Started) {
				t.Fatalf("%d started, %d sends: want one failed send per conversation", l.Started, sends.Load())
			}
			if l.Session.Count != 0 || l.Session.Errors != 0 || l.Session.LatencyMS.Max != 0 {
				t.Errorf("session metric %+v: %s sends no request to open one", l.Session, typ)
			}
			if *s.ErrorRate != 1 {
				t.Errorf("error rate %g, want 1: every request failed", *s.ErrorRate)
			}
			if res := threshold.MustParse("error_rate<0.6").Evaluate(r); res.Passed {
				t.Errorf("error_rate<0.6 passed at %g", res.Measured)
			}
		})
	}
}
