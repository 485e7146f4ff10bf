package suites

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestLoadOpenCX(t *testing.T) {
	path := filepath.Join("testdata", "good", "opencx.yaml")
	s, err := loadOne(path, env(map[string]string{"OPENCX_API_KEY": "ocx_live_123"}))
	if err != nil {
		t.Fatal(err)
	}
	at := func(line, col int) Pos { return Pos{File: path, Line: line, Col: col} }

	if s.Name != "refunds" || s.File != path || s.Pos != at(1, 1) {
		t.Errorf("suite = %q %q %v", s.Name, s.File, s.Pos)
	}
	p := s.Provider
	if p.Type != OpenCX || p.BaseURL != "https://api.open.cx" || p.Timeout != 30*time.Second || p.Retries != 0 {
		t.Errorf("provider = %+v", p)
	}
	if p.Token.Value() != "ocx_live_123" || !reflect.DeepEqual(p.Token.Vars, []string{"OPENCX_API_KEY"}) {
		t.Errorf("token = %q from %v", p.Token.Value(), p.Token.Vars)
	}
	if p.Pos != at(3, 3) || p.TypePos != at(3, 9) || p.TokenPos != at(5, 10) {
		t.Errorf("provider positions = %v %v %v", p.Pos, p.TypePos, p.TokenPos)
	}
	if want := map[string]string{"X-Env": "staging", "X-Build": "42"}; !reflect.DeepEqual(p.Headers, want) {
		t.Errorf("headers = %v", p.Headers)
	}
	if want := (Defaults{Repeat: 3, MinPassRate: 0.5, ThinkTime: time.Second}); s.Defaults != want {
		t.Errorf("defaults = %+v", s.Defaults)
	}
	if want := map[string]string{"order": "ord_42", "count": "3", "vip": "true"}; !reflect.DeepEqual(s.Vars, want) {
		t.Errorf("vars = %v", s.Vars)
	}
	if len(s.Conversations) != 2 {
		t.Fatalf("%d conversations, want 2", len(s.Conversations))
	}

	c := s.Conversations[0]
	if c.Name != "refund with ticket follow-up" || c.Pos != at(12, 5) || c.Skip != "" {
		t.Errorf("conversation = %q at %v skip %q", c.Name, c.Pos, c.Skip)
	}
	if !reflect.DeepEqual(c.Tags, []string{"refunds", "smoke"}) {
		t.Errorf("tags = %v", c.Tags)
	}
	// Own settings win over defaults; think_time is inherited.
	if c.Repeat != 5 || c.MinPassRate != 0.8 || c.ThinkTime != time.Second {
		t.Errorf("settings = %d %v %v", c.Repeat, c.MinPassRate, c.ThinkTime)
	}
	if want := map[string]string{"order": "ord_99", "count": "3", "vip": "true", "lang": "en"}; !reflect.DeepEqual(c.Vars, want) {
		t.Errorf("conversation vars = %v", c.Vars)
	}
	wantSession := Session{
		Contact:    map[string]any{"name": "Ana", "email": "ana@example.com", "custom_data": map[string]any{"plan": "pro"}},
		CustomData: map[string]any{"order_id": "{{order}}", "n": 2},
	}
	if !reflect.DeepEqual(c.Session, wantSession) {
		t.Errorf("session = %#v", c.Session)
	}
	if len(c.Turns) != 2 {
		t.Fatalf("%d turns, want 2", len(c.Turns))
	}

	t0 := c.Turns[0]
	if t0.Index != 0 || t0.Pos != at(21, 9) || t0.User != "I want a refund for order {{ order }}" {
		t.Errorf("turn 0 = %d %v %q", t0.Index, t0.Pos, t0.User)
	}
	if want := map[string]any{"step": 1, "ref": "{{lang}}"}; !reflect.DeepEqual(t0.CustomData, want) {
		t.Errorf("turn custom_data = %v", t0.CustomData)
	}
	wantSpecs := []specView{
		{"contains", []string{"refund"}, at(24, 11)},
		{"not_contains", []string{"I don't know", "sorry"}, at(25, 11)},
		{"regex", []string{`TCK-\d+`}, at(26, 11)},
		{"equals", "  Refund opened  ", at(27, 11)},
		{"might_solve", true, at(28, 11)},
		{"fully_covered", false, at(29, 11)},
		{"handoff", false, at(30, 11)},
		{"action", []ActionExpect{{Name: "create_refund_ticket", Args: map[string]any{"order_id": "{{order}}"}}}, at(31, 11)},
		{"knowledge", []string{"faq", "policy"}, at(32, 11)},
		{"mode", "refunds", at(33, 11)},
		{"reply", true, at(34, 11)},
		{"max_latency", 5 * time.Second, at(35, 11)},
		{"json", []JSONExpect{
			{Path: "$.autopilotResponse.didExitMode", Want: false, Pos: at(36, 18)},
			{Path: "$.data.items[0].id", Want: 7, Pos: at(36, 60)},
		}, at(36, 11)},
	}
	if got := viewSpecs(t0.Expect.Specs); !reflect.DeepEqual(got, wantSpecs) || t0.Expect.Pos != at(24, 11) {
		t.Errorf("expect at %v =\n%#v\nwant\n%#v", t0.Expect.Pos, got, wantSpecs)
	}
	wantCapture := []Capture{
		{Name: "ticket", Regex: `(TCK-\d+)`, Pos: at(38, 11)},
		{Name: "session_id", JSON: "$.data.id", Pos: at(39, 11)},
	}
	if !reflect.DeepEqual(t0.Capture, wantCapture) {
		t.Errorf("capture = %+v", t0.Capture)
	}

	t1 := c.Turns[1]
	if t1.Index != 1 || t1.Expect == nil || t1.Expect.plain {
		t.Errorf("turn 1 = %+v", t1)
	}
	wantFinal := []specView{
		{"status", "closed_resolved", at(43, 7)},
		{"sentiment", "happy", at(44, 7)},
		{"closure", "assumed_resolved", at(45, 7)},
		{"handoff", false, at(46, 7)},
		{"custom_data", map[string]any{"plan": "pro", "ticket": "{{ticket}}"}, at(47, 7)},
	}
	if got := viewSpecs(c.Final.Specs); !reflect.DeepEqual(got, wantFinal) || c.Final.Pos != at(43, 7) {
		t.Errorf("final at %v =\n%#v\nwant\n%#v", c.Final.Pos, got, wantFinal)
	}

	c2 := s.Conversations[1]
	if c2.Skip != "skipped in suite" || c2.Repeat != 3 || c2.MinPassRate != 0.5 || c2.ThinkTime != 0 || c2.Final != nil {
		t.Errorf("conversation 2 = %+v", c2)
	}
	if !reflect.DeepEqual(c2.Vars, s.Vars) {
		t.Errorf("conversation 2 vars = %v", c2.Vars)
	}
	c2.Vars["added"] = "x"
	if _, shared := s.Vars["added"]; shared {
		t.Error("a conversation shares its vars map with the suite")
	}
	u := c2.Turns[0]
	// $$ is a literal $; a $ not followed by { or $ is kept.
	if u.User != "hello $5 and $HOME" {
		t.Errorf("user = %q", u.User)
	}
	actions, _ := u.Expect.Spec("action")
	if want := []ActionExpect{{Name: "greet"}, {Name: "lookup"}}; !reflect.DeepEqual(actions, want) || !u.Expect.plain {
		t.Errorf("actions = %+v plain=%v", actions, u.Expect.plain)
	}
}

func TestLoadToolzz(t *testing.T) {
	path := filepath.Join("testdata", "good", "toolzz.yaml")
	s, err := loadOne(path, env(map[string]string{"TOOLZZ_TOKEN": "tz"}))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Provider
	if s.Name != "toolzz" || p.Type != Toolzz || p.BaseURL != "https://kratos.api.toolzz.com.br" ||
		p.BotID != "3fa85f64-5717-4562-b3fc-2c963f66afa6" || p.Timeout != 60*time.Second || p.Retries != 2 {
		t.Errorf("suite %q provider %+v", s.Name, p)
	}
	if p.Token.Value() != "Bearer-tz" || !reflect.DeepEqual(p.Token.Vars, []string{"TOOLZZ_TOKEN"}) {
		t.Errorf("token %q from %v", p.Token.Value(), p.Token.Vars)
	}
	c := s.Conversations[0]
	if c.Skip != "waiting for BOT-12" || c.Repeat != 1 || c.MinPassRate != 1 || c.ThinkTime != 0 {
		t.Errorf("conversation = %+v", c)
	}
	if c.Turns[0].Expect != nil {
		t.Errorf("a turn without expect has %+v", c.Turns[0].Expect)
	}
	e := c.Turns[1].Expect
	handoff, _ := e.Spec("handoff")
	bot, _ := e.Spec("transfer_bot")
	if handoff != true || bot != "7d2c1a9e-0000-0000-0000-000000000000" {
		t.Errorf("expect = %+v", e)
	}
	if c.Final == nil || len(c.Final.Specs) != 1 || c.Final.Specs[0].Value != true {
		t.Errorf("final = %+v", c.Final)
	}
}

func TestLoadDefaults(t *testing.T) {
	path := filepath.Join("testdata", "good", "sim.yml")
	s, err := loadOne(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "sim" || s.Provider.BaseURL != SimURL || !s.Provider.Token.IsZero() || s.Provider.Timeout != 60*time.Second || s.Provider.Retries != 2 {
		t.Errorf("suite %q provider %+v", s.Name, s.Provider)
	}
	if want := (Defaults{Repeat: 1, MinPassRate: 1}); s.Defaults != want {
		t.Errorf("defaults = %+v", s.Defaults)
	}
	if s.Vars == nil || s.Conversations[0].Vars == nil {
		t.Error("vars are nil; want empty maps")
	}
	if tu := s.Conversations[0].Turns[0]; tu.User != "hi" || tu.Pos.Line != 4 || tu.Pos.Col != 13 {
		t.Errorf("turn = %+v", tu)
	}
}

func TestLoadAliasesAndMergeKeys(t *testing.T) {
	path := filepath.Join("testdata", "good", "aliases.yaml")
	s, err := loadOne(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(line, col int) Pos { return Pos{File: path, Line: line, Col: col} }
	merged := s.Conversations[0].Turns[1].Expect
	want := []specView{
		{"contains", []string{"again"}, at(13, 11)},
		{"max_latency", 2 * time.Second, at(14, 11)}, // the mapping's own key wins over the merged one
		{"not_contains", []string{"stupid"}, at(8, 11)},
	}
	if got := viewSpecs(merged.Specs); !reflect.DeepEqual(got, want) || merged.Pos != at(12, 11) || !merged.plain {
		t.Errorf("merged expect =\n%#v\nwant\n%#v", got, want)
	}
	aliased := s.Conversations[1].Turns[0].Expect
	notContains, _ := aliased.Spec("not_contains")
	latency, _ := aliased.Spec("max_latency")
	if !reflect.DeepEqual(notContains, []string{"stupid"}) || latency != 10*time.Second {
		t.Errorf("aliased expect = %+v", aliased)
	}
}

// TestLoadLargeSuite makes sure the alias budget never trips on a large suite
// without aliases.
func TestLoadLargeSuite(t *testing.T) {
	var b strings.Builder
	b.WriteString("provider: {type: opencx, base_url: sim}\nvars: {v: x}\nconversations:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "  - name: c%d\n    turns:\n", i)
		for range 5 {
			b.WriteString("      - user: \"hi {{v}}\"\n        expect: {contains: [a, b], regex: \"x+\", json: {\"$.a\": [1, 2, {b: c}]}}\n        capture: {t: {regex: \"(x)\"}}\n")
		}
	}
	path := filepath.Join(t.TempDir(), "large.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := loadOne(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Conversations) != 2000 || len(s.Conversations[1999].Turns) != 5 {
		t.Errorf("loaded %d conversations", len(s.Conversations))
	}
}

func TestCheckBaseURL(t *testing.T) {
	for _, ok := range []string{"sim", "http://127.0.0.1:8080", "https://api.open.cx/", "https://kratos.api.toolzz.com.br"} {
		if err := CheckBaseURL(ok); err != nil {
			t.Errorf("CheckBaseURL(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "api.open.cx", "ftp://x", "https://", "/relative", "http//x"} {
		if err := CheckBaseURL(bad); err == nil {
			t.Errorf("CheckBaseURL(%q) accepted it", bad)
		}
	}
	if err := CheckBaseURL("api.open.cx"); err.Error() != `want "sim" or an absolute http or https URL such as https://api.open.cx, got "api.open.cx"` {
		t.Errorf("message = %v", err)
	}
}

// loadOne loads a file that must hold at most one suite.
func loadOne(path string, opts Options) (*Suite, error) {
	ss, err := Load(path, opts)
	if len(ss) > 1 {
		return nil, fmt.Errorf("%s holds %d suites, want one", path, len(ss))
	}
	if len(ss) == 0 {
		return nil, err
	}
	return ss[0], err
}

func TestSeveralSuitesInOneFile(t *testing.T) {
	ss, err := Load(filepath.Join("testdata", "good", "two_documents.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 {
		t.Fatalf("got %d suites, want 2", len(ss))
	}
	if ss[0].Name != "two_documents" || ss[0].Provider.Type != OpenCX || ss[0].Pos.Line != 2 {
		t.Errorf("first suite: %q %q line %d", ss[0].Name, ss[0].Provider.Type, ss[0].Pos.Line)
	}
	if ss[1].Name != "two_documents-2" || ss[1].Provider.Type != Toolzz || ss[1].Pos.Line != 7 {
		t.Errorf("second suite: %q %q line %d", ss[1].Name, ss[1].Provider.Type, ss[1].Pos.Line)
	}
	if ss[1].Conversations[0].Pos.Line != 9 {
		t.Errorf("positions in later documents count from the top of the file, got line %d", ss[1].Conversations[0].Pos.Line)
	}
}

func TestHTTPProviderLimitsAndAgentTurns(t *testing.T) {
	ss, err := Load(filepath.Join("testdata", "good", "http_and_limits.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := ss[0].Provider
	if p.Type != HTTP || p.BaseURL != "http://127.0.0.1:5005" || p.RateLimit != (Rate{5, time.Second}) || p.MaxBody != 512<<10 {
		t.Errorf("provider %+v", p)
	}
	h := p.HTTP
	if h == nil || h.Method != "POST" || h.Path != "/webhooks/rest/webhook" || h.Text != "$[*].text" ||
		h.Handoff != "$[0].custom.handoff" || h.ConversationID != "" || h.Headers["X-Channel"] != "{{channel}}" {
		t.Fatalf("http spec %+v", h)
	}
	body := h.Body.(map[string]any)
	if body["message"] != "{{message}}" || body["history"] != "{{messages}}" {
		t.Errorf("body %v", body)
	}

	o := ss[1].Provider
	if o.RateLimit != (Rate{100, time.Minute}) || o.MaxBody != 10<<20 || o.PollInterval != 100*time.Millisecond || o.ReplyTimeout != 5*time.Second {
		t.Errorf("opencx defaults and overrides: %+v", o)
	}
	turns := ss[1].Conversations[0].Turns
	if turns[0].Sender != SenderContact || turns[0].TakeOver {
		t.Errorf("turn 1 %+v", turns[0])
	}
	if turns[1].Sender != SenderAgent || !turns[1].TakeOver || turns[1].User != "Hi, I am Maria from support." {
		t.Errorf("turn 2 %+v", turns[1])
	}
	if got := (Rate{100, time.Minute}).String(); got != "100/min" {
		t.Errorf("Rate.String = %q", got)
	}
}

func TestLoadSection(t *testing.T) {
	s, err := loadOne(filepath.Join("testdata", "good", "load_section.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := s.Load
	if l == nil || l.Rate != 20 || l.Duration != 30*time.Second || l.MaxInFlight != 100 || l.Grace == nil || *l.Grace != 0 {
		t.Fatalf("load %+v", l)
	}
	if len(l.Stages) != 2 || l.Stages[0].Duration != 5*time.Second || l.Stages[0].Target != 40 ||
		l.Stages[1].Duration != 10*time.Second || l.Stages[1].Target != 0 {
		t.Errorf("stages %+v", l.Stages)
	}
	if len(s.Thresholds) != 2 || s.Thresholds[0].Expr != "turn_latency.p95 < 2s" || s.Thresholds[1].Pos.Line != 10 {
		t.Errorf("thresholds %+v", s.Thresholds)
	}
	if d, target, err := ParseStage("1m30s:12.5"); err != nil || d != 90*time.Second || target != 12.5 {
		t.Errorf("ParseStage: %v %v %v", d, target, err)
	}
}

// specView is a Spec without its entry, for comparing what the loader read.
type specView struct {
	Key   string
	Value any
	Pos   Pos
}

func viewSpecs(specs []Spec) []specView {
	out := make([]specView, len(specs))
	for i, s := range specs {
		if s.entry == nil || s.entry.Name != s.Key {
			out[i].Key = "(no entry) " + s.Key
		} else {
			out[i].Key = s.Key
		}
		out[i].Value, out[i].Pos = s.Value, s.Pos
	}
	return out
}
