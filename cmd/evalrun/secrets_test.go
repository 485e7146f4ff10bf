package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/internal/term"
)

// The hostile services below echo these into every field they answer.
// hostileToken holds characters every encoder escapes differently.
const (
	hostileToken = `ocx_live_Q&<x>"Z/9+é`
	hostileKey   = "hdr_key_SECRET_77" // read from the environment into a header
)

// jsonString is s as json.Marshal writes it, without the quotes.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// allEscaped is s with every character \u-escaped, as a hostile server
// may write a JSON string.
func allEscaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// leakForms are the spellings of a secret to look for in output.
func leakForms(s string) map[string]string {
	var x bytes.Buffer
	xml.EscapeText(&x, []byte(s))
	return map[string]string{
		"raw": s, "json": jsonString(s), "all-\\u": allEscaped(s), "all-\\u json": jsonString(allEscaped(s)),
		"%q": strings.Trim(strconv.Quote(s), `"`), "QuoteToASCII": strings.Trim(strconv.QuoteToASCII(s), `"`),
		"QueryEscape": url.QueryEscape(s), "PathEscape": url.PathEscape(s), "xml": x.String(),
		"start": s[:12], // the start of the secret, as a cut message would show it
		"tail":  s[len(s)-6:],
	}
}

// hostileOpenCX answers like OpenCX with the token in every decoded field.
func hostileOpenCX(t *testing.T) *httptest.Server {
	tok := jsonString(hostileToken)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/chat/sessions":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":%q}`, hostileKey)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/send"):
			var body struct {
				Message struct{ Text string } `json:"message"`
			}
			json.NewDecoder(r.Body).Decode(&body)
			switch {
			case strings.HasPrefix(body.Message.Text, "fail"):
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, `{"statusCode":500,"message":"key %s rejected"}`, allEscaped(hostileToken))
			case strings.HasPrefix(body.Message.Text, "idonly"):
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, `{"success":true,"data":{"message":{"id":"m1"}}}`)
			case strings.HasPrefix(body.Message.Text, "boterror"):
				w.WriteHeader(http.StatusCreated)
				fmt.Fprintf(w, `{"success":true,"autopilotResponse":{"value":{"error":true,"content":"no access for %s"}}}`, tok)
			default:
				w.WriteHeader(http.StatusCreated)
				fmt.Fprintf(w, `{"success":true,"code":"%[1]s","autopilotResponse":{"type":"text","id":"%[1]s",
"value":{"error":false,"content":"Your key is %[2]s, or %[1]s"},
"mightSolveUserIssue":true,"completelyAndFullyCoveredUserIssue":true,
"debugInfo":{"actionCalls":[{"action":{"name":"%[1]s","id":"%[1]s"},"arguments":{"key":"%[1]s"},"result":"%[1]s"}],
"knowledge":[{"source":"%[1]s","source_type":"%[1]s","url":"https://kb.example/%[1]s"}]},
"mode":{"id":"%[1]s","name":"%[1]s","slug":"%[1]s"},"didExitMode":false},"sessionIsHandedOff":false}`, tok, allEscaped(hostileToken))
			}
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/history"):
			// Every page points on to the same cursor: the token.
			fmt.Fprintf(w, `{"items":[],"next":"%s"}`, tok)
		case r.Method == http.MethodGet:
			fmt.Fprintf(w, `{"id":%q,"status":"%[2]s","ai_closure_type":"%[2]s","sentiment":"%[2]s",
"custom_data":{"plan":"%[2]s"},"handoff":{"summary":"%[2]s","sentiment":"%[2]s"}}`, hostileKey, tok)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"message":"no route for %s"}`, tok)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hostileToolzz answers like Toolzz with the token as conversation and bot.
func hostileToolzz(t *testing.T) *httptest.Server {
	tok := jsonString(hostileToken)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"message":{"content":"I am %[2]s","conversationId":"%[1]s","transferToAgent":false,"targetBotId":"%[1]s"}}`,
			tok, allEscaped(hostileToken))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func hostileSuites(t *testing.T) []string {
	opencx, toolzz := hostileOpenCX(t), hostileToolzz(t)
	dir := t.TempDir()
	a := filepath.Join(dir, "opencx.yaml")
	b := filepath.Join(dir, "toolzz.yaml")
	writeFile(t, a, `name: hostile-opencx
provider:
  type: opencx
  base_url: `+opencx.URL+`
  token: ${EVALRUN_HOSTILE_TOKEN}
  headers: {X-Key: "${EVALRUN_HOSTILE_KEY}"}
  retries: 0
  poll_interval: 10ms
  reply_timeout: 1s
conversations:
  - name: echoes everywhere
    turns:
      - user: hello
        expect:
          contains: "nothing like this"
          mode: refunds
          action: {name: create_refund_ticket, args: {order: ord_42}}
          knowledge: faq
          might_solve: false
          json: {"$.autopilotResponse.id": "x"}
        capture:
          echoed: {json: "$.autopilotResponse.mode.slug"}
      - user: "again {{echoed}}"
        expect: {equals: "no"}
    final:
      status: closed_resolved
      sentiment: happy
      closure: resolved
      custom_data: {plan: pro}
  - name: error body
    turns: [{user: fail now}]
  - name: bot error
    turns: [{user: boterror please}]
  - name: history cursor
    turns: [{user: idonly please}]
`)
	writeFile(t, b, `name: hostile-toolzz
provider:
  type: toolzz
  base_url: `+toolzz.URL+`
  token: ${EVALRUN_HOSTILE_TOKEN}
  bot_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
  retries: 0
conversations:
  - name: moves bots
    turns:
      - user: hello
        expect: {transfer_bot: 7d2c1a9e-0000-4000-8000-000000000000, contains: "zebra"}
      - user: again
`)
	return []string{a, b}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertNoSecrets fails for every output that shows a secret in any form.
func assertNoSecrets(t *testing.T, outputs map[string]string) {
	t.Helper()
	for _, secret := range []string{hostileToken, hostileKey} {
		for form, text := range leakForms(secret) {
			for name, out := range outputs {
				if strings.Contains(out, text) {
					t.Errorf("%s shows a secret (%s form %q):\n%s", name, form, text, out)
				}
			}
		}
	}
}

// TestHostileServiceCannotLeakTheToken runs suites against services that
// echo the token and an environment value into every field evalrun decodes,
// \u-escaped too, and greps every output for them in every form.
func TestHostileServiceCannotLeakTheToken(t *testing.T) {
	t.Setenv("EVALRUN_HOSTILE_TOKEN", hostileToken)
	t.Setenv("EVALRUN_HOSTILE_KEY", hostileKey)
	paths := hostileSuites(t)
	dir := t.TempDir()
	junit, js := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json")
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			streams, out, errOut := term.Test()
			streams.SetTTY(tty) // a terminal draws progress bars through the redactor
			code := Main(context.Background(), append([]string{"run", "-c", "1", "--junit", junit, "--json", js}, paths...), streams)
			if code != exitFailed {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			// The run must really have judged the echoed values: the
			// failures name what came back, hidden.
			for _, want := range []string{"mode", "action", "knowledge", "transfer_bot", "final.status", "errored", providersRedacted} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if tty && !strings.Contains(errOut.String(), "conversations") {
				t.Errorf("no progress bar on a terminal:\n%q", errOut)
			}
			assertNoSecrets(t, map[string]string{"stdout": out.String(), "stderr": errOut.String(), "junit": read(t, junit), "json": read(t, js)})
			var record any
			if err := json.Unmarshal([]byte(read(t, js)), &record); err != nil {
				t.Errorf("the redacted JSON record must stay valid JSON: %v", err)
			}
			if err := xml.Unmarshal([]byte(read(t, junit)), new(any)); err != nil {
				t.Errorf("the redacted JUnit report must stay valid XML: %v", err)
			}
		})
	}
}

const providersRedacted = "[redacted]"

// brokenHeaders answers every request with headers fasthttp cannot parse,
// the token in them twice: across the 200th byte, where fasthttp's snippet
// of the headers is cut, and whole near the end.
func brokenHeaders(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	head := "HTTP/1.1 200 OK\r\nX-Pad: "
	head += strings.Repeat("p", 195-len(head)) + hostileToken + "\r\n" + strings.Repeat("X-Fill: f\r\n", 30) +
		"this line has no colon " + hostileToken + "\r\n"
	// The snippet's last 200 bytes begin 6 bytes into the token: its tail.
	end := "X-End: e\r\n\r\n"
	head += "X-Pad2: " + hostileToken + "\r\nX-Pad3: " + strings.Repeat("q", 200-(len(hostileToken)-6)-2-len("X-Pad3: ")-len(end)) + end
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				conn.Read(buf)
				io.WriteString(conn, head)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestLoadHidesSecretsToo(t *testing.T) {
	t.Setenv("EVALRUN_HOSTILE_TOKEN", hostileToken)
	t.Setenv("EVALRUN_HOSTILE_KEY", hostileKey)
	paths := hostileSuites(t)
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	writeFile(t, broken, "name: broken-headers\nprovider: {type: toolzz, base_url: \""+brokenHeaders(t)+"\", token: \"${EVALRUN_HOSTILE_TOKEN}\", "+
		"bot_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6, retries: 0}\nconversations:\n  - name: headers\n    turns: [{user: hello}]\n")
	paths = append(paths, broken)
	dir := t.TempDir()
	junit, js := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json")
	streams, out, errOut := term.Test()
	code := Main(context.Background(), append([]string{"load", "--vus", "1", "--duration", "300ms", "--grace", "5s",
		"--junit", junit, "--json", js}, paths...), streams)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	assertNoSecrets(t, map[string]string{"stdout": out.String(), "stderr": errOut.String(), "junit": read(t, junit), "json": read(t, js)})
}

func TestShortTokenIsNotRedactedButWarned(t *testing.T) {
	t.Setenv("EVALRUN_SHORT_TOKEN", "x")
	p := writeSuite(t, "provider: {type: opencx, base_url: sim, token: \"${EVALRUN_SHORT_TOKEN}\"}\nconversations:\n  - name: text\n    turns: [{user: hello}]\n")
	streams, out, errOut := term.Test()
	if code := Main(context.Background(), []string{"run", "--no-progress", p}, streams); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut.String(), "shorter than 4 bytes") {
		t.Errorf("a token too short to hide must be warned about: %q", errOut)
	}
	if strings.Contains(out.String(), providersRedacted) || !strings.Contains(out.String(), "text") {
		t.Errorf("a one-letter token must not garble the table:\n%s", out)
	}
}
