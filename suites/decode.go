package suites

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evalrun/evalrun/checks"
	"github.com/evalrun/evalrun/internal/jsonpath"
	"github.com/evalrun/evalrun/internal/suggest"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/providers/opencx"
	"github.com/evalrun/evalrun/sim"
	"gopkg.in/yaml.v3"
)

// The keys each mapping of a suite accepts, in the order messages list them.
// The keys of expect and final are those of their tables (see checks.go).
var (
	suiteKeys        = []string{"name", "provider", "judge", "defaults", "vars", "conversations", "load", "thresholds"}
	loadKeys         = []string{"rate", "vus", "duration", "stages", "think_time", "max_in_flight", "grace"}
	providerKeys     = []string{"type", "base_url", "token", "bot_id", "timeout", "retries", "headers", "rate_limit", "max_body", "poll_interval", "reply_timeout", "request", "response"}
	requestKeys      = []string{"method", "path", "headers", "body"}
	responseKeys     = []string{"text", "conversation_id", "handoff"}
	defaultsKeys     = []string{"repeat", "min_pass_rate", "think_time"}
	conversationKeys = []string{"name", "tags", "skip", "vars", "data", "session", "turns", "final", "repeat", "min_pass_rate", "think_time"}
	sessionKeys      = []string{"contact", "custom_data"}
	turnKeys         = []string{"user", "agent", "take_over", "custom_data", "expect", "capture"}
	actionKeys       = []string{"name", "args"}
	captureKeys      = []string{"regex", "json"}
)

// The values final checks compare with, as OpenCX reports them.
var (
	finalStatuses   = []string{"open", "closed_resolved", "closed_unresolved"}
	finalSentiments = []string{"angry", "happy", "neutral"}
	finalClosures   = []string{"assumed_resolved", "handed_off", "resolved"}
)

// Defaults the loader fills in. Those a provider also applies itself, to a
// Config that leaves them zero, are the provider's own constants.
const (
	defaultTimeout      = 60 * time.Second
	defaultRetries      = 2
	defaultMaxBody      = providers.DefaultMaxBody
	defaultPollInterval = opencx.DefaultPollInterval
	defaultReplyTimeout = opencx.DefaultReplyTimeout
	skipReason          = "skipped in suite"
)

// defaultName names a suite that sets no name: the file's base name, with
// the document's number after it for the second document of a file and on.
// When files of a run share a base name, LoadPathsContext lengthens it (see
// uniqueDefaultNames).
func (l *loader) defaultName() string {
	return strings.TrimSuffix(filepath.Base(l.file), filepath.Ext(l.file)) + docSuffix(l.doc)
}

// docSuffix tells apart the default names of a file's documents.
func docSuffix(doc int) string {
	if doc == 0 {
		return ""
	}
	return "-" + strconv.Itoa(doc+1)
}

func (l *loader) suite(root *yaml.Node) *Suite {
	s := &Suite{
		Name:        l.defaultName(),
		File:        l.file,
		Pos:         l.pos(root),
		NamePos:     l.pos(root),
		Defaults:    Defaults{Repeat: 1, MinPassRate: 1},
		nameDefault: true,
		doc:         l.doc,
	}
	if r := l.resolve(root); r.Kind != yaml.MappingNode {
		l.errorf(root, "want a suite: a mapping with provider and conversations, got %s", kindName(r))
		return nil
	}
	fields, _ := l.mapping(root, "suite", "the suite", suiteKeys)
	f := index(fields)
	if v, ok := f["name"]; ok {
		if name, ok := l.str(v.val, "name"); ok {
			if strings.TrimSpace(name) == "" {
				l.errorf(v.val, "name: must not be empty; leave it out to use the file name")
			}
			s.Name, s.NamePos, s.nameDefault = name, l.pos(v.val), false
		}
	}
	if v, ok := f["provider"]; ok {
		l.provider(v.val, &s.Provider)
	} else {
		l.errorf(root, "missing provider: add provider with type: %s", strings.Join(ProviderTypes(), " or "))
	}
	if v, ok := f["judge"]; ok {
		s.Judge = l.judgeSection(v.val)
	}
	if v, ok := f["defaults"]; ok {
		l.defaults(v.val, &s.Defaults)
	}
	if v, ok := f["vars"]; ok {
		s.Vars = l.stringMap(v.val, "vars", true)
	}
	if s.Vars == nil {
		s.Vars = map[string]string{}
	}
	for _, use := range l.requestVars {
		if _, ok := s.Vars[use.name]; !ok {
			l.errorf(use.node, "{{%s}} is not defined: an http request can use {{message}}, {{conversation_id}}, {{messages}} and the suite's vars", use.name)
		}
	}
	if v, ok := f["load"]; ok {
		s.Load = l.loadSettings(v.val)
	}
	if v, ok := f["thresholds"]; ok {
		s.Thresholds = l.thresholds(v.val)
	}
	v, ok := f["conversations"]
	if !ok {
		l.errorf(root, "missing conversations: add a list of conversations, each with a name and turns")
		return s
	}
	items, ok := l.list(v.val, "conversations")
	if ok && len(items) == 0 {
		l.errorf(v.val, "conversations: the list is empty; add at least one conversation")
	}
	firstNamed := map[string]int{}
	for _, item := range items {
		cs, nameNode := l.conversation(item, s)
		clashed := false // the rows of one data: clash at most once, not once a row
		for _, c := range cs {
			if nameNode != nil {
				line, dup := firstNamed[c.Name]
				switch {
				case !dup:
					firstNamed[c.Name] = nameNode.Line
				case !clashed:
					name := shown(nameNode)
					if c.Data != nil {
						name = fmt.Sprintf("%s (from %s)", quoteShort(c.Name), c.Data)
					}
					l.errorf(nameNode, "duplicate conversation name %s: first used at line %d; names must be unique within a suite", name, line)
					clashed = c.Data != nil
				}
			}
			s.Conversations = append(s.Conversations, c)
		}
	}
	l.checkJudged(s)
	return s
}

func (l *loader) provider(n *yaml.Node, p *Provider) {
	l.inProvider, l.envSecrets = true, nil
	defer func() { p.EnvSecrets, l.inProvider = l.envSecrets, false }()
	p.Pos = l.pos(n)
	p.Timeout = defaultTimeout
	p.Retries = defaultRetries
	fields, ok := l.mapping(n, "provider", "provider", providerKeys)
	if !ok {
		return
	}
	f := index(fields)
	spec, known := providerSpec{}, false
	if v, ok := f["type"]; ok {
		p.TypePos = l.pos(v.val)
		if typ, ok := l.str(v.val, "type"); ok {
			spec, known = providerSpecs[typ]
			switch {
			case known:
				p.Type = typ
			case suggest.Nearest(typ, ProviderTypes()) != "":
				l.errorf(v.val, "type: unknown provider type %s; did you mean %q?", shown(v.val), suggest.Nearest(typ, ProviderTypes()))
			default:
				l.errorf(v.val, "type: unknown provider type %s; want one of %s", shown(v.val), strings.Join(ProviderTypes(), ", "))
			}
		}
	} else {
		l.errorf(n, "provider has no type; add type: %s", strings.Join(ProviderTypes(), " or "))
	}
	for _, fl := range fields {
		if fl.name != "request" {
			l.refuseTemplates(fl)
		}
		if fl.name != "request" && fl.name != "response" {
			// The http request and response may hold a literal $ (a
			// GraphQL variable, a JSONPath); the provider's own values
			// have no use for one.
			l.refuseBareRefs(fl)
		}
	}
	unread := false // base_url was written but could not be read
	if v, ok := f["base_url"]; ok {
		if l.opts.BaseURL != "" {
			l.unneeded = "--base-url replaces this base_url"
		}
		u, ok := l.str(v.val, "base_url")
		l.unneeded, unread = "", !ok
		if ok {
			switch {
			case u == "":
			case isSim(u):
				if err := CheckBaseURL(u); err != nil {
					l.errorf(v.val, "base_url: %v", err)
				}
				p.BaseURL = u
			case CheckBaseURL(u) == nil:
				// Providers append paths that start with "/".
				p.BaseURL = strings.TrimRight(u, "/")
			default:
				l.errorf(v.val, "base_url: %s, got %s", wantBaseURL, shown(v.val))
			}
		}
	}
	if p.BaseURL == "" {
		p.BaseURL = spec.defaultBaseURL
		if known && p.BaseURL == "" && l.opts.BaseURL == "" && !unread {
			l.errorf(n, "provider: %s has no default base_url; add base_url: with the bot's address", p.Type)
		}
	}
	// The simulator accepts any token and reads no header, so a suite run
	// against it needs neither (the quickstart runs with no secrets set).
	effective := p.BaseURL
	if l.opts.BaseURL != "" {
		effective = l.opts.BaseURL
	}
	simNeedsNot := ""
	if spec, ok := SimSpec(effective); ok {
		// "sim?token=T" asks the simulator to check the token after all.
		if o, err := sim.ParseSpec(spec); err == nil && o.Token == "" {
			simNeedsNot = "the built-in simulator does not need it"
		}
	}
	if v, ok := f["token"]; ok {
		p.TokenPos = l.pos(v.val)
		l.unneeded = simNeedsNot
		if tok, vars, ok := l.strVars(v.val, "token"); ok {
			p.Token = NewSecret(tok, vars...)
		}
		l.unneeded = ""
	}
	if v, ok := f["bot_id"]; ok {
		if id, ok := l.str(v.val, "bot_id"); ok {
			switch {
			case known && !spec.needsBotID:
				l.errorf(v.key, "bot_id: %s does not use bot_id; remove it", p.Type)
			case strings.TrimSpace(id) == "":
				l.errorf(v.val, "bot_id: must not be empty; want the id of the bot to talk to")
			default:
				p.BotID = id
			}
		}
	} else if known && spec.needsBotID {
		l.errorf(n, "provider: %s needs bot_id, the id of the bot to talk to", p.Type)
	}
	if v, ok := f["timeout"]; ok {
		p.Timeout, _ = l.duration(v.val, "timeout", true, MaxWait)
	}
	if v, ok := f["retries"]; ok {
		p.Retries, _ = l.integer(v.val, "retries", 0, MaxRetries)
	}
	if v, ok := f["headers"]; ok {
		l.unneeded = simNeedsNot
		p.Headers = l.stringMap(v.val, "headers", false)
		l.unneeded = ""
	}
	p.RateLimit = spec.defaultRate
	if v, ok := f["rate_limit"]; ok {
		p.RateLimit, _ = l.rateLimit(v.val)
		p.RateLimitSet = true
	}
	p.MaxBody = defaultMaxBody
	if v, ok := f["max_body"]; ok {
		if size, ok := l.size(v.val, "max_body"); ok {
			p.MaxBody = size
		}
	}
	p.PollInterval, p.ReplyTimeout = defaultPollInterval, defaultReplyTimeout
	onlyFor := func(key, typ string) bool {
		v, ok := f[key]
		if ok && known && p.Type != typ {
			l.errorf(v.key, "%s: only %s providers use it; remove it", key, typ)
			return false
		}
		return ok
	}
	if onlyFor("poll_interval", OpenCX) {
		if d, ok := l.duration(f["poll_interval"].val, "poll_interval", true, MaxWait); ok {
			p.PollInterval = d
		}
	}
	if onlyFor("reply_timeout", OpenCX) {
		if d, ok := l.duration(f["reply_timeout"].val, "reply_timeout", true, MaxWait); ok {
			p.ReplyTimeout = d
		}
	}
	hasRequest, hasResponse := onlyFor("request", HTTP), onlyFor("response", HTTP)
	if p.Type == HTTP {
		p.HTTP = &HTTPSpec{Method: "POST"}
		if hasRequest {
			l.httpRequest(f["request"].val, p.HTTP)
		} else {
			l.errorf(n, "provider: http needs request: with at least body: {message: \"{{message}}\"}")
		}
		if hasResponse {
			l.httpResponse(f["response"].val, p.HTTP)
		} else {
			l.errorf(n, "provider: http needs response: with text: and a JSONPath to the reply's text")
		}
	}
}

// rateRE matches a rate limit such as "100/min" or "5 / s".
var rateRE = regexp.MustCompile(`^(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)$`)

func (l *loader) rateLimit(n *yaml.Node) (Rate, bool) {
	const want = "want requests per time such as 100/min, 5/s or 1000/h, or none"
	r := l.resolve(n)
	if r.Kind != yaml.ScalarNode || r.ShortTag() != tagStr {
		l.errorf(n, "rate_limit: %s, got %s", want, kindName(r))
		return Rate{}, false
	}
	v := strings.TrimSpace(r.Value)
	if v == "none" || v == "off" {
		return Rate{}, true
	}
	m := rateRE.FindStringSubmatch(v)
	if m == nil {
		l.errorf(n, "rate_limit: %s, got %s", want, shown(r))
		return Rate{}, false
	}
	count, err := strconv.Atoi(m[1])
	if err != nil || count < 1 {
		l.errorf(n, "rate_limit: must allow at least 1 request; %s, got %s", want, shown(r))
		return Rate{}, false
	}
	per := map[string]time.Duration{"s": time.Second, "sec": time.Second, "second": time.Second,
		"m": time.Minute, "min": time.Minute, "minute": time.Minute, "h": time.Hour, "hour": time.Hour}[m[2]]
	return Rate{N: count, Per: per}, true
}

// sizeRE matches a byte size such as 10MiB, 512 KiB, 2MB or 1000.
var sizeRE = regexp.MustCompile(`^(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$`)

func (l *loader) size(n *yaml.Node, label string) (int64, bool) {
	const want = "want a size such as 10MiB, 512KiB or 1048576 (bytes)"
	r := l.resolve(n)
	if r.Kind != yaml.ScalarNode || (r.ShortTag() != tagStr && r.ShortTag() != tagInt) {
		l.errorf(n, "%s: %s, got %s", label, want, kindName(r))
		return 0, false
	}
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(r.Value))
	if m == nil {
		l.errorf(n, "%s: %s, got %s", label, want, shown(r))
		return 0, false
	}
	count, err := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]int64{"": 1, "B": 1, "KB": 1000, "KiB": 1 << 10, "MB": 1000 * 1000, "MiB": 1 << 20,
		"GB": 1000 * 1000 * 1000, "GiB": 1 << 30}[m[2]]
	if err != nil || count < 1 || count > (1<<40)/unit {
		l.errorf(n, "%s: must be from 1 byte to 1TiB; %s, got %s", label, want, shown(r))
		return 0, false
	}
	return count * unit, true
}

// httpBuiltins are the templates an http request may use besides suite vars.
var httpBuiltins = []string{"message", "conversation_id", "messages"}

func (l *loader) httpRequest(n *yaml.Node, spec *HTTPSpec) {
	fields, ok := l.mapping(n, "request", "request", requestKeys)
	if !ok {
		return
	}
	f := index(fields)
	if v, ok := f["method"]; ok {
		if m, ok := l.str(v.val, "method"); ok {
			m = strings.ToUpper(m)
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH"}, m) {
				l.errorf(v.val, "method: want GET, POST, PUT or PATCH, got %s", shown(l.resolve(v.val)))
			}
			spec.Method = m
		}
	}
	if v, ok := f["path"]; ok {
		if path, ok := l.str(v.val, "path"); ok {
			if path != "" && !strings.HasPrefix(path, "/") {
				l.errorf(v.val, "path: want a path under base_url starting with /, such as /webhooks/rest/webhook, got %s", shown(l.resolve(v.val)))
			}
			l.requestTemplates(l.resolve(v.val), path)
			spec.Path = path
		}
	}
	if v, ok := f["headers"]; ok {
		spec.Headers = l.stringMap(v.val, "headers", false)
		if r := l.resolve(v.val); r.Kind == yaml.MappingNode {
			for i := 1; i < len(r.Content); i += 2 {
				l.requestTemplates(l.resolve(r.Content[i]), spec.Headers[r.Content[i-1].Value])
			}
		}
	}
	if v, ok := f["body"]; ok {
		spec.Body, _ = l.value(v.val, "body", false, map[*yaml.Node]bool{})
		l.walkScalars(v.val, func(sn *yaml.Node) { l.requestTemplates(sn, sn.Value) })
	}
}

// requestTemplates checks the templates of an http request value: the
// builtins and suite vars, and {{messages}} only as a whole value. Suite vars
// are read after the provider, so names that are not builtins are checked
// once the suite is loaded.
func (l *loader) requestTemplates(n *yaml.Node, s string) {
	names, invalid := templateNames(s)
	for _, bad := range invalid {
		l.errorf(n, "%s is not a valid template; names use letters, digits and _, as in {{message}}", quoteShort(bad))
	}
	for _, name := range names {
		if name == "messages" && strings.TrimSpace(s) != "{{messages}}" && strings.TrimSpace(s) != "{{ messages }}" {
			l.errorf(n, "{{messages}} must be a whole value (body: {messages: \"{{messages}}\"}): it becomes a list, not text")
		}
		if !slices.Contains(httpBuiltins, name) {
			l.requestVars = append(l.requestVars, templateUse{node: n, name: name})
		}
	}
}

// walkScalars calls fn on every scalar under n.
func (l *loader) walkScalars(n *yaml.Node, fn func(*yaml.Node)) {
	r := l.resolve(n)
	switch r.Kind {
	case yaml.ScalarNode:
		if r.ShortTag() == tagStr {
			fn(r)
		}
	case yaml.SequenceNode:
		for _, c := range r.Content {
			l.walkScalars(c, fn)
		}
	case yaml.MappingNode:
		for i := 1; i < len(r.Content); i += 2 {
			l.walkScalars(r.Content[i], fn)
		}
	}
}

func (l *loader) httpResponse(n *yaml.Node, spec *HTTPSpec) {
	fields, ok := l.mapping(n, "response", "response", responseKeys)
	if !ok {
		return
	}
	for _, f := range fields {
		path, ok := l.str(f.val, f.name)
		if !ok {
			continue
		}
		if problem := jsonPathProblem(path); problem != "" {
			l.errorf(f.val, "%s: %s is not a valid JSONPath: %s; want an RFC 9535 path such as $.reply.text", f.name, quoteShort(path), problem)
			continue
		}
		switch f.name {
		case "text":
			spec.Text = path
		case "conversation_id":
			spec.ConversationID = path
		case "handoff":
			spec.Handoff = path
		}
	}
	if spec.Text == "" && !slices.ContainsFunc(fields, func(f field) bool { return f.name == "text" }) {
		l.errorf(n, "response: needs text: with a JSONPath to the reply's text, such as $.reply")
	}
}

// refuseTemplates reports {{name}} in a provider value. Provider values reach
// the wire before any conversation exists, so there is nothing to fill a
// template from; ${VAR} is how they take outside values. Only the text as
// written is inspected, never a value read from the environment.
func (l *loader) refuseTemplates(f field) {
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		r := l.resolve(n)
		if r.Kind == yaml.ScalarNode && looksLikeTemplate.MatchString(r.Value) {
			l.errorf(n, "%s: templates are not expanded in provider; use ${VAR} to read a value from the environment", f.name)
		}
		if r.Kind == yaml.MappingNode {
			for i := 1; i < len(r.Content); i += 2 {
				walk(r.Content[i])
			}
		}
	}
	walk(f.val)
}

// refuseBareRefs reports $NAME in a provider value, which reads nothing
// from the environment: the value would reach the service as written.
func (l *loader) refuseBareRefs(f field) {
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		r := l.resolve(n)
		switch r.Kind {
		case yaml.ScalarNode:
			if r.ShortTag() != tagStr {
				return
			}
			for _, name := range bareRefs(r.Value) {
				l.errorf(n, "%s: $%s is not read from the environment; write ${%s} (or $$%s for the literal text)", f.name, name, name, name)
			}
		case yaml.MappingNode:
			for i := 1; i < len(r.Content); i += 2 {
				walk(r.Content[i])
			}
		}
	}
	walk(f.val)
}

func isSim(u string) bool { _, ok := SimSpec(u); return ok }

const wantBaseURL = `want "sim" or an absolute http or https URL such as ` + opencx.DefaultBaseURL

// CheckBaseURL reports whether u can be a provider's base URL: SimURL, or an
// absolute http or https URL. The error says what would be right and quotes u,
// so it must not be used on values read from the environment.
func CheckBaseURL(u string) error {
	if spec, ok := SimSpec(u); ok {
		if _, err := sim.ParseSpec(spec); err != nil {
			return err
		}
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%s, got %s", wantBaseURL, quoteShort(u))
	}
	return nil
}

func (l *loader) defaults(n *yaml.Node, d *Defaults) {
	fields, _ := l.mapping(n, "defaults", "defaults", defaultsKeys)
	l.runSettings(fields, &d.Repeat, &d.MinPassRate, &d.ThinkTime)
}

// runSettings reads repeat, min_pass_rate and think_time, which defaults and
// conversations share, leaving a setting as it is when the key is absent.
func (l *loader) runSettings(fields []field, repeat *int, rate *float64, think *time.Duration) {
	for _, f := range fields {
		switch f.name {
		case "repeat":
			if v, ok := l.integer(f.val, "repeat", 1, MaxRepeat); ok {
				*repeat = v
			}
		case "min_pass_rate":
			if v, ok := l.rate(f.val, "min_pass_rate"); ok {
				*rate = v
			}
		case "think_time":
			if v, ok := l.duration(f.val, "think_time", false, MaxWait); ok {
				*think = v
			}
		}
	}
}

// conversation loads one item of conversations: one conversation, or one
// per row of its data:. It returns the name's node for the duplicate check,
// nil when the name is missing or broken.
func (l *loader) conversation(item *yaml.Node, s *Suite) ([]*Conversation, *yaml.Node) {
	c := &Conversation{
		Pos:         l.pos(item),
		Repeat:      s.Defaults.Repeat,
		MinPassRate: s.Defaults.MinPassRate,
		ThinkTime:   s.Defaults.ThinkTime,
		// A map of its own, so a caller changing one conversation's vars
		// cannot change another's.
		Vars: mergeVars(s.Vars, nil),
	}
	fields, ok := l.mapping(item, "conversation", "conversation", conversationKeys)
	if !ok {
		return nil, nil
	}
	f := index(fields)
	var nameNode *yaml.Node
	if v, ok := f["name"]; ok {
		if name, ok := l.str(v.val, "name"); ok {
			if strings.TrimSpace(name) == "" {
				l.errorf(v.val, "name: must not be empty; reports and baselines tell conversations apart by name")
			} else {
				c.Name, nameNode = name, l.resolve(v.val)
			}
		}
	} else {
		l.errorf(item, "conversation has no name; add name: with what it checks")
	}
	if v, ok := f["tags"]; ok {
		c.Tags = l.tags(v.val)
	}
	if v, ok := f["skip"]; ok {
		c.Skip = l.skip(v.val)
	}
	if v, ok := f["vars"]; ok {
		c.Vars = mergeVars(s.Vars, l.stringMap(v.val, "vars", true))
	}
	l.runSettings(fields, &c.Repeat, &c.MinPassRate, &c.ThinkTime)
	var rows []dataRow
	dataField, hasData := f["data"]
	if hasData {
		var ok bool
		if rows, ok = l.data(dataField.val); !ok {
			rows = nil
		}
	}

	l.uses = l.uses[:0]
	if v, ok := f["session"]; ok {
		l.at = atSession
		l.session(v.val, &c.Session)
	}
	captured := map[string][]int{} // variable → the turns that capture it
	if v, ok := f["turns"]; ok {
		items, ok := l.list(v.val, "turns")
		if ok && len(items) == 0 {
			l.errorf(v.val, "turns: the list is empty; add at least one turn with user")
		}
		for i, item := range items {
			l.at = i
			t := l.turn(item, i, s.Provider.Type)
			if t == nil {
				continue
			}
			for _, cp := range t.Capture {
				captured[cp.Name] = append(captured[cp.Name], i)
			}
			c.Turns = append(c.Turns, t)
		}
		l.at = len(items)
	} else {
		l.errorf(item, "conversation has no turns; add turns: with at least one user message")
	}
	if v, ok := f["final"]; ok {
		c.Final = l.final(v.val, s.Provider.Type)
	}
	switch {
	case !hasData:
		l.checkScope(c.Vars, captured)
		return []*Conversation{c}, nameNode
	case rows == nil:
		// Without its rows, nothing can say which templates are defined.
		return nil, nil
	}
	return l.expandData(c, rows, nameNode, captured), nameNode
}

func (l *loader) tags(n *yaml.Node) []string {
	items, ok := l.list(n, "tags")
	if !ok {
		return nil
	}
	tags := make([]string, 0, len(items))
	for _, item := range items {
		tag, ok := l.str(item, "tags")
		switch {
		case !ok:
		case strings.TrimSpace(tag) == "":
			l.errorf(item, "tags: a tag must not be empty")
		case strings.Contains(tag, ","):
			l.errorf(item, "tags: %s holds a comma, but --tags splits on commas; use one list item per tag", shown(l.resolve(item)))
		default:
			tags = append(tags, tag)
		}
	}
	return tags
}

func (l *loader) skip(n *yaml.Node) string {
	const want = `want true, false or a reason such as "waiting for BOT-12"`
	r := l.resolve(n)
	if r.Kind == yaml.ScalarNode && r.ShortTag() == tagBool {
		if b, _ := l.boolean(n, "skip"); b {
			return skipReason
		}
		return ""
	}
	if r.Kind != yaml.ScalarNode || r.ShortTag() != tagStr {
		l.errorf(n, "skip: %s, got %s", want, kindName(r))
		return ""
	}
	reason, _, ok := l.fillEnv(r)
	if ok && strings.TrimSpace(reason) == "" {
		l.errorf(n, "skip: %s, got an empty string", want)
	}
	return reason
}

func (l *loader) session(n *yaml.Node, s *Session) {
	fields, _ := l.mapping(n, "session", "session", sessionKeys)
	for _, f := range fields {
		switch f.name {
		case "contact":
			s.Contact = l.valueMap(f.val, "contact", true)
		case "custom_data":
			s.CustomData = l.valueMap(f.val, "custom_data", true)
		}
	}
}

func (l *loader) turn(item *yaml.Node, i int, typ string) *Turn {
	if r := l.resolve(item); r.Kind == yaml.ScalarNode {
		l.errorf(item, "turn: want a mapping such as {user: \"hello\"}, got %s", kindName(r))
		return nil
	}
	fields, ok := l.mapping(item, "turn", "turn", turnKeys)
	if !ok {
		return nil
	}
	t := &Turn{Index: i, Pos: l.pos(item), Sender: SenderContact}
	f := index(fields)
	if v, ok := f["agent"]; ok {
		if _, both := f["user"]; both {
			l.errorf(v.key, "agent: a turn is sent by the user or by a human agent, not both; split it into two turns")
		} else {
			if typ != "" && typ != OpenCX {
				l.errorf(v.key, "agent: only opencx can send a message as a human agent")
			}
			// The agent's words travel in User, marked by Sender.
			f["user"] = v
			t.Sender = SenderAgent
		}
	}
	if v, ok := f["take_over"]; ok {
		if typ != "" && typ != OpenCX {
			l.errorf(v.key, "take_over: only opencx has should_take_over_session_from_ai")
		} else if b, ok := l.boolean(v.val, "take_over"); ok {
			t.TakeOver = b
		}
	}
	if v, ok := f["user"]; ok {
		if r := l.resolve(v.val); r.Kind == yaml.ScalarNode && r.ShortTag() == tagNull {
			l.errorf(v.val, "user: must not be empty; want the message to send")
		} else if user, ok := l.str(v.val, "user"); ok {
			if strings.TrimSpace(user) == "" {
				l.errorf(v.val, "user: must not be empty; want the message to send")
			}
			l.templates(l.resolve(v.val), user)
			t.User = user
		}
	} else {
		l.errorf(item, "turn %d has no user; add user: with the message to send (or agent: for a human agent's message)", i+1)
	}
	if v, ok := f["custom_data"]; ok {
		t.CustomData = l.valueMap(v.val, "custom_data", true)
	}
	if v, ok := f["expect"]; ok {
		t.Expect = l.expect(v.val, typ)
	}
	if v, ok := f["capture"]; ok {
		t.Capture = l.captures(v.val)
	}
	return t
}

// stringItem is one string of a "string or list of strings" value, with the
// node it came from.
type stringItem struct {
	node *yaml.Node
	s    string
}

// strs reads a string or a non-empty list of strings. With nonEmpty, empty
// strings are refused.
func (l *loader) strs(n *yaml.Node, label string, nonEmpty bool) []stringItem {
	r := l.resolve(n)
	nodes := []*yaml.Node{n}
	if r.Kind == yaml.SequenceNode {
		if len(r.Content) == 0 {
			l.errorf(n, "%s: the list is empty; give a string or a list of strings", label)
			return nil
		}
		nodes = r.Content
	} else if r.Kind != yaml.ScalarNode {
		l.errorf(n, "%s: want a string or a list of strings, got %s", label, kindName(r))
		return nil
	}
	var out []stringItem
	for _, item := range nodes {
		s, ok := l.str(item, label)
		if !ok {
			continue
		}
		if nonEmpty && s == "" {
			l.errorf(item, "%s: must not be empty", label)
			continue
		}
		out = append(out, stringItem{l.resolve(item), s})
	}
	return out
}

func texts(items []stringItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.s
	}
	return out
}

func (l *loader) expect(n *yaml.Node, typ string) *Expect {
	pos := l.pos(n)
	usesBefore := len(l.uses)
	specs, ok := l.specs(n, "expect", expectTable, typ, "check")
	if !ok {
		return nil
	}
	return &Expect{Specs: specs, Pos: pos, plain: len(l.uses) == usesBefore}
}

// checkRegex reports a pattern RE2 refuses. The message quotes the pattern
// as the file wrote it and gives RE2's reason without the fragment, which
// may hold text read from the environment.
func (l *loader) checkRegex(n *yaml.Node, label, pattern string) {
	_, err := regexp.Compile(pattern)
	if err == nil {
		return
	}
	reason := "not accepted by RE2"
	var se *syntax.Error
	if errors.As(err, &se) {
		reason = string(se.Code)
	}
	l.errorf(n, "%s: %s is not a valid RE2 regular expression: %s", label, shown(n), reason)
}

// actions reads a name, a {name, args} mapping, or a list of those.
func (l *loader) actions(n *yaml.Node) []ActionExpect {
	r := l.resolve(n)
	items := []*yaml.Node{n}
	if r.Kind == yaml.SequenceNode {
		if len(r.Content) == 0 {
			l.errorf(n, "action: the list is empty; give an action name, {name, args}, or a list of those")
			return nil
		}
		items = r.Content
	}
	var out []ActionExpect
	for _, item := range items {
		if a, ok := l.action(item); ok {
			out = append(out, a)
		}
	}
	return out
}

func (l *loader) action(n *yaml.Node) (ActionExpect, bool) {
	r := l.resolve(n)
	switch r.Kind {
	case yaml.ScalarNode:
		name, ok := l.str(n, "action")
		if ok && name == "" {
			l.errorf(n, "action: the action name must not be empty")
			return ActionExpect{}, false
		}
		l.templates(r, name)
		return ActionExpect{Name: name}, ok
	case yaml.MappingNode:
		fields, _ := l.mapping(n, "action", "action", actionKeys)
		f := index(fields)
		var a ActionExpect
		ok := true
		if v, has := f["name"]; has {
			a.Name, ok = l.str(v.val, "name")
			if ok && a.Name == "" {
				l.errorf(v.val, "name: the action name must not be empty")
				ok = false
			}
			l.templates(l.resolve(v.val), a.Name)
		} else {
			l.errorf(n, "action has no name; write {name: create_ticket, args: {...}}")
			ok = false
		}
		if v, has := f["args"]; has {
			a.Args = l.valueMap(v.val, "args", true)
		}
		return a, ok
	}
	l.errorf(n, "action: want an action name, {name, args}, or a list of those, got %s", kindName(r))
	return ActionExpect{}, false
}

func (l *loader) jsonExpects(n *yaml.Node) []JSONExpect {
	fields, ok := l.mapping(n, "json", "", nil)
	if !ok {
		return nil
	}
	if len(fields) == 0 {
		l.errorf(n, "json: the mapping is empty; map a JSONPath to the value it must select, as in {\"$.data.id\": 42}")
		return nil
	}
	out := make([]JSONExpect, 0, len(fields))
	for _, f := range fields {
		if problem := jsonPathProblem(f.name); problem != "" {
			l.errorf(f.key, "json: %s is not a valid JSONPath: %s; want an RFC 9535 path such as $.data.id", quoteShort(f.name), problem)
			continue
		}
		l.nearOperators(f.name, l.resolve(f.val))
		if isOperatorObject(l.resolve(f.val)) {
			if ops, ok := l.jsonOps(f.name, f.val); ok {
				out = append(out, JSONExpect{Path: f.name, Ops: ops, Pos: l.pos(f.key)})
			}
			continue
		}
		want, _ := l.value(f.val, "json", true, map[*yaml.Node]bool{})
		out = append(out, JSONExpect{Path: f.name, Want: want, Pos: l.pos(f.key)})
	}
	return out
}

// isOperatorObject reports whether a json check's value is a mapping whose
// keys are all comparison operators ({gt: 3}); any other mapping is a
// literal object to compare for equality.
func isOperatorObject(r *yaml.Node) bool {
	if r.Kind != yaml.MappingNode || len(r.Content) == 0 {
		return false
	}
	for i := 0; i < len(r.Content); i += 2 {
		k := r.Content[i]
		if k.Kind != yaml.ScalarNode || !slices.Contains(checks.JSONOps, k.Value) {
			return false
		}
	}
	return true
}

// nearOperators warns about a mapping that mixes operators with a key that
// looks like a misspelt one, as in {gte: 1, lts: 5}: it is compared as a
// literal object, which is most likely not what was meant.
func (l *loader) nearOperators(path string, r *yaml.Node) {
	if r.Kind != yaml.MappingNode || isOperatorObject(r) {
		return
	}
	some := false
	for i := 0; i < len(r.Content); i += 2 {
		some = some || slices.Contains(checks.JSONOps, r.Content[i].Value)
	}
	if !some {
		return
	}
	for i := 0; i < len(r.Content); i += 2 {
		k := r.Content[i]
		if slices.Contains(checks.JSONOps, k.Value) {
			continue
		}
		if guess := suggest.Nearest(k.Value, checks.JSONOps); guess != "" {
			l.warnf(k, "json %s: %s is not an operator, so this mapping is compared as a literal object; did you mean %q?", path, quoteShort(k.Value), guess)
		}
	}
}

// jsonOps reads an operator object of the json check on path, refusing an
// operand of the wrong kind where it is written.
func (l *loader) jsonOps(path string, n *yaml.Node) ([]checks.JSONOp, bool) {
	fields, _ := l.mapping(n, "json", "", nil)
	ops := make([]checks.JSONOp, 0, len(fields))
	good := true
	for _, f := range fields {
		label := "json " + path + " " + f.name
		r := l.resolve(f.val)
		var v any
		ok := true
		switch f.name {
		case checks.OpGt, checks.OpGte, checks.OpLt, checks.OpLte:
			var x float64
			if r.Kind != yaml.ScalarNode || (r.ShortTag() != tagInt && r.ShortTag() != tagFloat) || r.Decode(&x) != nil || math.IsNaN(x) {
				l.errorf(f.val, "%s: want a number to compare with, got %s", label, kindName(r))
				ok = false
				break
			}
			v, ok = l.scalarValue(f.val, r, label, false)
		case checks.OpExists:
			v, ok = l.boolean(f.val, label)
		case checks.OpIn:
			if r.Kind != yaml.SequenceNode {
				l.errorf(f.val, "%s: want a list of the values allowed, got %s", label, kindName(r))
				ok = false
				break
			}
			if len(r.Content) == 0 {
				l.errorf(f.val, "%s: the list is empty, so nothing could pass; give the values allowed", label)
				ok = false
				break
			}
			v, ok = l.value(f.val, label, true, map[*yaml.Node]bool{})
		case checks.OpRegex:
			var s string
			if s, ok = l.str(f.val, label); ok {
				l.templates(r, s)
				before := len(l.errs)
				l.checkRegex(r, label, withPlaceholders(s))
				ok = len(l.errs) == before
				v = s
			}
		default: // ne
			v, ok = l.value(f.val, label, true, map[*yaml.Node]bool{})
		}
		if ok {
			ops = append(ops, checks.JSONOp{Op: f.name, Value: v})
		}
		good = good && ok
	}
	return ops, good
}

var jsonPathError = regexp.MustCompile(`^Error at line \d+, column (\d+): (.*)$`)

// jsonPathProblem returns why path is not an RFC 9535 JSONPath, or "".
func jsonPathProblem(path string) (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = "the JSONPath parser failed on it"
		}
	}()
	if _, err := jsonpath.Parse(path); err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		if m := jsonPathError.FindStringSubmatch(msg); m != nil {
			col, _ := strconv.Atoi(m[1])
			return fmt.Sprintf("%s at character %d", m[2], col+1)
		}
		return msg
	}
	return ""
}

// captures reads a turn's capture mapping: variable name → {regex} or {json}.
func (l *loader) captures(n *yaml.Node) []Capture {
	fields, ok := l.mapping(n, "capture", "", nil)
	if !ok {
		return nil
	}
	var out []Capture
	for _, f := range fields {
		if !isIdent(f.name) {
			l.errorf(f.key, "capture: %s is not a valid variable name; use letters, digits and _, not starting with a digit", quoteShort(f.name))
			continue
		}
		if c, ok := l.capture(f); ok {
			out = append(out, c)
		}
	}
	return out
}

func (l *loader) capture(f field) (Capture, bool) {
	c := Capture{Name: f.name, Pos: l.pos(f.key)}
	label := "capture " + f.name
	if r := l.resolve(f.val); r.Kind != yaml.MappingNode {
		l.errorf(f.val, "%s: want {regex: \"...\"} or {json: \"$.path\"}, got %s", label, kindName(r))
		return c, false
	}
	fields, _ := l.mapping(f.val, label, label, captureKeys)
	if len(fields) != 1 {
		l.errorf(f.val, "%s: want exactly one of regex or json", label)
		return c, false
	}
	v := fields[0]
	s, ok := l.str(v.val, v.name)
	if !ok {
		return c, false
	}
	if names, invalid := templateNames(s); len(names)+len(invalid) > 0 {
		l.errorf(v.val, "%s: templates are not expanded in capture; write the pattern itself", v.name)
		return c, false
	}
	switch v.name {
	case "regex":
		if s == "" {
			l.errorf(v.val, "regex: must not be empty")
			return c, false
		}
		before := len(l.errs)
		l.checkRegex(v.val, "regex", s)
		c.Regex = s
		return c, len(l.errs) == before
	default:
		if problem := jsonPathProblem(s); problem != "" {
			if raw := l.resolve(v.val).Value; raw != s {
				// Where the parser stopped says something about the
				// environment value; leave it out.
				l.errorf(v.val, "json: %s is not a valid JSONPath once its ${VAR} references are filled; want an RFC 9535 path such as $.data.id", shown(v.val))
			} else {
				l.errorf(v.val, "json: %s is not a valid JSONPath: %s; want an RFC 9535 path such as $.data.id", shown(v.val), problem)
			}
			return c, false
		}
		c.JSON = s
		return c, true
	}
}

func (l *loader) final(n *yaml.Node, typ string) *Final {
	pos := l.pos(n)
	usesBefore := len(l.uses)
	specs, ok := l.specs(n, "final", finalTable, typ, "final check")
	if !ok {
		return nil
	}
	return &Final{Specs: specs, Pos: pos, plain: len(l.uses) == usesBefore}
}

// enum reads one of values. A value holding a template can only be checked
// once it is filled, at run time.
func (l *loader) enum(n *yaml.Node, label string, values []string) *string {
	s, ok := l.str(n, label)
	if !ok {
		return nil
	}
	if l.templates(l.resolve(n), s) || slices.Contains(values, s) {
		return &s
	}
	msg := fmt.Sprintf("%s: want one of %s, got %s", label, strings.Join(values, ", "), shown(l.resolve(n)))
	if guess := suggest.Nearest(s, values); guess != "" {
		msg += fmt.Sprintf("; did you mean %q?", guess)
	}
	l.errorf(n, "%s", msg)
	return nil
}

// checkScope reports every template of the conversation just loaded whose
// name is neither in vars nor captured by a turn before the one using it.
// Session values are sent before any turn, so they see vars only; final
// checks run after the last turn and see every capture.
func (l *loader) checkScope(vars map[string]string, captured map[string][]int) {
	sc := scope{vars: vars, captured: captured}
	for _, u := range l.uses {
		if msg := sc.problem(u); msg != "" {
			l.errorf(u.node, "%s", msg)
		}
	}
}

// scope is what a conversation's templates can name. row, when not "",
// says which data rows the vars come from ("data row 2 (line 9)"), and
// messages then name it.
type scope struct {
	vars     map[string]string
	captured map[string][]int // variable → the turns that capture it
	row      string
}

// problem returns why the template use u is not defined in time, or "".
func (sc scope) problem(u templateUse) string {
	if _, ok := sc.vars[u.name]; ok {
		return ""
	}
	turns := sc.captured[u.name]
	in, onlyVars, addIt := "", "only vars", "add it to vars"
	if sc.row != "" {
		in = " in " + sc.row
		onlyVars = "only vars and the row's columns"
		addIt = "add it to the row or to vars"
	}
	if u.fromEnv {
		if u.at == atSession || len(turns) == 0 || turns[0] >= u.at {
			where := cmp.Or(in, " here")
			return "a value read from the environment holds a {{...}} template that is not defined" + where + "; templates there are filled like any other, so define it in vars or change the value"
		}
		return ""
	}
	switch {
	case u.at == atSession:
		return fmt.Sprintf("{{%s}} is not defined%s: session values can use %s, since no turn has run yet; %s", u.name, in, onlyVars, addIt)
	case len(turns) > 0 && turns[0] < u.at:
		return ""
	case slices.Contains(turns, u.at):
		return fmt.Sprintf("{{%s}} is captured by this same turn, so it is defined only from the next turn on", u.name)
	case len(turns) > 0:
		return fmt.Sprintf("{{%s}} is not defined yet%s: it is captured only later, in turn %d; use it after that turn or %s", u.name, in, turns[0]+1, addIt)
	default:
		return fmt.Sprintf("{{%s}} is not defined%s: %s or capture it in an earlier turn", u.name, in, addIt)
	}
}

func (l *loader) loadSettings(n *yaml.Node) *LoadSettings {
	fields, ok := l.mapping(n, "load", "load", loadKeys)
	if !ok {
		return nil
	}
	ls := &LoadSettings{Pos: l.pos(n)}
	for _, f := range fields {
		ls.Keys = append(ls.Keys, Key{Name: f.name, Pos: l.pos(f.key)})
		switch f.name {
		case "rate":
			if r, ok := l.positive(f.val, "rate"); ok {
				ls.Rate = r
			}
		case "vus":
			ls.VUs, _ = l.integer(f.val, "vus", 1, MaxVUs)
		case "duration":
			ls.Duration, _ = l.duration(f.val, "duration", true, MaxLoadDuration)
		case "think_time":
			ls.ThinkTime, _ = l.duration(f.val, "think_time", false, MaxWait)
		case "max_in_flight":
			ls.MaxInFlight, _ = l.integer(f.val, "max_in_flight", 1, MaxInFlight)
		case "grace":
			if d, ok := l.duration(f.val, "grace", false, MaxWait); ok {
				ls.Grace = &d
			}
		case "stages":
			items, _ := l.list(f.val, "stages")
			for _, item := range items {
				if st, ok := l.stage(item); ok {
					ls.Stages = append(ls.Stages, st)
				}
			}
		}
	}
	if ls.Rate > 0 && ls.VUs > 0 {
		l.errorf(n, "load: rate (open model) and vus (closed model) exclude each other; keep one")
	}
	return ls
}

// positive reads a rate of new conversations per second: more than 0, at
// most MaxRate.
func (l *loader) positive(n *yaml.Node, label string) (float64, bool) {
	r := l.resolve(n)
	var v float64
	if r.Kind != yaml.ScalarNode || (r.ShortTag() != tagInt && r.ShortTag() != tagFloat) || r.Decode(&v) != nil || !(v > 0) {
		l.errorf(n, "%s: want a number greater than 0 such as 50 or 2.5, got %s", label, kindName(r))
		return 0, false
	}
	return l.rateCap(n, r, label, v)
}

// rateCap refuses a rate above MaxRate, infinity included.
func (l *loader) rateCap(n, r *yaml.Node, label string, v float64) (float64, bool) {
	if v > MaxRate {
		l.errorf(n, "%s: %s is more than %d conversations per second, the most a load test may ask for", label, r.Value, MaxRate)
		return 0, false
	}
	return v, true
}

// stage reads a ramp stage written as "30s:50", the --stage form, or as
// {duration: 30s, target: 50}.
func (l *loader) stage(n *yaml.Node) (LoadStage, bool) {
	const want = `want "DURATION:TARGET" such as "30s:50", or {duration: 30s, target: 50}`
	r := l.resolve(n)
	st := LoadStage{Pos: l.pos(n)}
	switch {
	case r.Kind == yaml.ScalarNode && r.ShortTag() == tagStr:
		d, t, err := ParseStage(r.Value)
		if err != nil {
			l.errorf(n, "stages: %v", err)
			return st, false
		}
		st.Duration, st.Target = d, t
		return st, true
	case r.Kind == yaml.MappingNode:
		fields, _ := l.mapping(n, "stage", "stage", []string{"duration", "target"})
		f := index(fields)
		d, hasD := f["duration"]
		t, hasT := f["target"]
		if !hasD || !hasT {
			l.errorf(n, "stages: %s", want)
			return st, false
		}
		var ok1, ok2 bool
		st.Duration, ok1 = l.duration(d.val, "duration", true, MaxLoadDuration)
		st.Target, ok2 = l.nonNegative(t.val, "target")
		return st, ok1 && ok2
	}
	l.errorf(n, "stages: %s, got %s", want, kindName(r))
	return st, false
}

func (l *loader) nonNegative(n *yaml.Node, label string) (float64, bool) {
	r := l.resolve(n)
	var v float64
	// !(v >= 0) is also true for NaN.
	if r.Kind != yaml.ScalarNode || (r.ShortTag() != tagInt && r.ShortTag() != tagFloat) || r.Decode(&v) != nil || !(v >= 0) {
		l.errorf(n, "%s: want a number of conversations per second, 0 or more, got %s", label, kindName(r))
		return 0, false
	}
	return l.rateCap(n, r, label, v)
}

// ParseStage reads "DURATION:TARGET", the form of --stage: ramp to TARGET
// new conversations per second over DURATION. The duration is at most
// MaxLoadDuration and the target at most MaxRate.
func ParseStage(s string) (time.Duration, float64, error) {
	ds, ts, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not DURATION:TARGET, such as 30s:50", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(ds))
	switch {
	case err != nil && isOverflow(strings.TrimSpace(ds)) && !strings.HasPrefix(strings.TrimSpace(ds), "-"), err == nil && d > MaxLoadDuration:
		return 0, 0, fmt.Errorf("%q: the duration %q is more than %s, the most a load test may ask for", s, ds, shortDuration(MaxLoadDuration))
	case err != nil || d <= 0:
		return 0, 0, fmt.Errorf("%q: the duration %q is not a positive duration such as 30s", s, ds)
	}
	t, err := strconv.ParseFloat(strings.TrimSpace(ts), 64)
	switch {
	case err == nil && t > MaxRate, errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(strings.TrimSpace(ts), "-"):
		return 0, 0, fmt.Errorf("%q: the target %q is more than %d conversations per second, the most a load test may ask for", s, ts, MaxRate)
	case err != nil || !(t >= 0):
		return 0, 0, fmt.Errorf("%q: the target %q is not a rate such as 50 (conversations per second)", s, ts)
	}
	return d, t, nil
}

func (l *loader) thresholds(n *yaml.Node) []ThresholdExpr {
	items, ok := l.list(n, "thresholds")
	if !ok {
		return nil
	}
	var out []ThresholdExpr
	for _, item := range items {
		expr, ok := l.str(item, "thresholds")
		if !ok {
			continue
		}
		r := l.resolve(item)
		if err := checkThreshold(expr); err != nil {
			pos := l.pos(item)
			// Point at the bad part when the threshold says where it is and
			// the value is written plainly on one line.
			if col := err.Col; col > 0 && r.Style == 0 {
				pos.Col += col - 1
			}
			l.errs = append(l.errs, &Error{Pos: pos, Msg: "thresholds: " + err.Msg})
			continue
		}
		out = append(out, ThresholdExpr{Expr: expr, Pos: l.pos(item)})
	}
	return out
}
