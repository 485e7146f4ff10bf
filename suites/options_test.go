package suites

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadWarned loads src as one file with opts and returns its suites, errors
// and warnings, each error and warning as "line:col: msg".
func loadWarned(t *testing.T, src string, opts Options) ([]*Suite, []string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var warns []string
	opts.Warn = func(w *Error) { warns = append(warns, strings.TrimPrefix(w.Error(), path+":")) }
	ss, err := LoadPaths([]string{path}, opts)
	var errs []string
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			errs = append(errs, strings.TrimPrefix(line, path+":"))
		}
	}
	return ss, errs, warns
}

func same(got, want []string) bool { return strings.Join(got, "\n") == strings.Join(want, "\n") }

func TestMissingEnvWarns(t *testing.T) {
	const src = `provider: {type: opencx, token: "${OPENCX_API_KEY}", headers: {X-Env: "${ENV_NAME}"}}
conversations:
  - name: greeting
    turns: [{user: "hello ${USER_NAME}", expect: {max_latency: "${SLOW}"}}]
`
	t.Run("an error by default", func(t *testing.T) {
		ss, errs, warns := loadWarned(t, src, env(nil))
		want := []string{
			"1:33: environment variable OPENCX_API_KEY is not set; set it, or write $${OPENCX_API_KEY} for the literal text",
			"1:71: environment variable ENV_NAME is not set; set it, or write $${ENV_NAME} for the literal text",
			"4:20: environment variable USER_NAME is not set; set it, or write $${USER_NAME} for the literal text",
			"4:64: environment variable SLOW is not set; set it, or write $${SLOW} for the literal text",
		}
		if ss != nil || !same(errs, want) || len(warns) > 0 {
			t.Errorf("suites %v\nerrors:\n%s\nwant:\n%s\nwarnings: %v", suiteNames(ss), strings.Join(errs, "\n"), strings.Join(want, "\n"), warns)
		}
	})
	t.Run("a warning that names it for validate", func(t *testing.T) {
		opts := env(nil)
		opts.MissingEnvWarns = true
		ss, errs, warns := loadWarned(t, src, opts)
		want := []string{
			"1:33: environment variable OPENCX_API_KEY is not set; the value is left out here, but run and load need it",
			"1:71: environment variable ENV_NAME is not set; the value is left out here, but run and load need it",
			"4:20: environment variable USER_NAME is not set; the value is left out here, but run and load need it",
			"4:64: environment variable SLOW is not set; the value is left out here, but run and load need it",
		}
		if len(errs) > 0 || len(ss) != 1 || !same(warns, want) {
			t.Fatalf("suites %v\nerrors: %v\nwarnings:\n%s\nwant:\n%s", suiteNames(ss), errs, strings.Join(warns, "\n"), strings.Join(want, "\n"))
		}
		if !ss[0].Provider.Token.IsZero() || len(ss[0].Provider.Headers) > 0 {
			t.Errorf("values reading unset variables were kept: token set %v, headers %v", !ss[0].Provider.Token.IsZero(), ss[0].Provider.Headers)
		}
	})
	t.Run("an http base_url left out is not missing", func(t *testing.T) {
		opts := env(nil)
		opts.MissingEnvWarns = true
		src := "provider: {type: http, base_url: \"${BOT_URL}\", request: {body: {q: \"{{message}}\"}}, response: {text: $.a}}\n" +
			"conversations:\n  - {name: a, turns: [{user: hi}]}\n"
		ss, errs, warns := loadWarned(t, src, opts)
		want := []string{"1:34: environment variable BOT_URL is not set; the value is left out here, but run and load need it"}
		if len(ss) != 1 || len(errs) > 0 || !same(warns, want) {
			t.Errorf("suites %v\nerrors: %v\nwarnings:\n%s\nwant:\n%s", suiteNames(ss), errs, strings.Join(warns, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("other problems stay errors", func(t *testing.T) {
		opts := env(nil)
		opts.MissingEnvWarns = true
		_, errs, _ := loadWarned(t, strings.Replace(src, "hello ${USER_NAME}", "hello ${BAD", 1), opts)
		want := []string{`4:20: "${" must start a reference such as ${OPENCX_API_KEY} (letters, digits and _); write $$ for a literal $`}
		if !same(errs, want) {
			t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestSimulatorNeedsNoToken(t *testing.T) {
	const real = `provider: {type: opencx, base_url: "${BOT_URL}", token: "${OPENCX_API_KEY}", headers: {X-Key: "${KEY}"}}
conversations:
  - name: greeting
    turns: [{user: "hello"}]
`
	simSuite := strings.Replace(real, `"${BOT_URL}"`, "sim", 1)
	tests := []struct {
		name, src, baseURL string
		errs, warns        []string
	}{
		{
			name: "--base-url sim", src: real, baseURL: "sim",
			warns: []string{
				"1:36: environment variable BOT_URL is not set; --base-url replaces this base_url, so the value is left out",
				"1:57: environment variable OPENCX_API_KEY is not set; the built-in simulator does not need it, so the value is left out",
				"1:95: environment variable KEY is not set; the built-in simulator does not need it, so the value is left out",
			},
		},
		{
			name: "the suite's own base_url: sim", src: simSuite,
			warns: []string{
				"1:48: environment variable OPENCX_API_KEY is not set; the built-in simulator does not need it, so the value is left out",
				"1:86: environment variable KEY is not set; the built-in simulator does not need it, so the value is left out",
			},
		},
		{
			name: "a simulator with faults is the simulator too", src: real, baseURL: "sim?shape=legacy",
			warns: []string{
				"1:36: environment variable BOT_URL is not set; --base-url replaces this base_url, so the value is left out",
				"1:57: environment variable OPENCX_API_KEY is not set; the built-in simulator does not need it, so the value is left out",
				"1:95: environment variable KEY is not set; the built-in simulator does not need it, so the value is left out",
			},
		},
		{
			name: "a simulator that checks tokens needs one", src: simSuite, baseURL: "sim?token=abc",
			errs: []string{
				"1:48: environment variable OPENCX_API_KEY is not set; set it, or write $${OPENCX_API_KEY} for the literal text",
				"1:86: environment variable KEY is not set; set it, or write $${KEY} for the literal text",
			},
		},
		{
			name: "another real service needs the token", src: real, baseURL: "https://staging.example.com",
			errs: []string{
				"1:57: environment variable OPENCX_API_KEY is not set; set it, or write $${OPENCX_API_KEY} for the literal text",
				"1:95: environment variable KEY is not set; set it, or write $${KEY} for the literal text",
			},
			warns: []string{
				"1:36: environment variable BOT_URL is not set; --base-url replaces this base_url, so the value is left out",
			},
		},
		{
			name: "a turn still needs its variables", src: strings.Replace(simSuite, `"hello"`, `"hello ${NAME}"`, 1), baseURL: "sim",
			errs: []string{"4:20: environment variable NAME is not set; set it, or write $${NAME} for the literal text"},
			warns: []string{
				"1:48: environment variable OPENCX_API_KEY is not set; the built-in simulator does not need it, so the value is left out",
				"1:86: environment variable KEY is not set; the built-in simulator does not need it, so the value is left out",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := env(nil)
			opts.BaseURL = tt.baseURL
			ss, errs, warns := loadWarned(t, tt.src, opts)
			if !same(errs, tt.errs) || !same(warns, tt.warns) {
				t.Errorf("errors:\n%s\nwant:\n%s\nwarnings:\n%s\nwant:\n%s",
					strings.Join(errs, "\n"), strings.Join(tt.errs, "\n"), strings.Join(warns, "\n"), strings.Join(tt.warns, "\n"))
			}
			if len(tt.errs) == 0 && (len(ss) != 1 || !ss[0].Provider.Token.IsZero()) {
				t.Errorf("suites %v, want one with no token", suiteNames(ss))
			}
		})
	}
}
