package term

import (
	"io"
	"testing"
)

func TestCanDraw(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		ci   bool
		want bool
	}{
		{name: "terminal", tty: true, want: true},
		{name: "terminal in CI", tty: true, ci: true, want: false},
		{name: "pipe", tty: false, want: false},
		{name: "pipe in CI", tty: false, ci: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := Test()
			s.SetTTY(tt.tty)
			s.SetCI(tt.ci)
			if got := s.CanDraw(); got != tt.want {
				t.Errorf("CanDraw() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSystemReadsCI(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"", false},
		{"false", false},
		{"0", false},
		{"true", true},
		{"1", true},
		{"yes", true},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.value, func(t *testing.T) {
			t.Setenv("CI", tt.value)
			t.Setenv("TERM", "xterm-256color")
			s := System()
			if got := s.IsCI(); got != tt.want {
				t.Errorf("IsCI() = %v, want %v", got, tt.want)
			}
			// Whatever the test binary's stderr is, a forced terminal may
			// draw exactly when CI is not set.
			s.SetTTY(true)
			if got := s.CanDraw(); got != !tt.want {
				t.Errorf("CanDraw() on a terminal = %v, want %v", got, !tt.want)
			}
		})
	}
}

func TestSystemDumbTerminalCannotDraw(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("TERM", "dumb")
	s := System()
	s.SetTTY(true)
	if s.CanDraw() {
		t.Error("CanDraw() = true on TERM=dumb")
	}
	if s.ColorEnabled() {
		t.Error("ColorEnabled() = true on TERM=dumb")
	}
}

func TestColorEnabled(t *testing.T) {
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	s := System()
	s.SetTTY(true)
	if !s.ColorEnabled() {
		t.Error("ColorEnabled() = false on a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	s = System()
	s.SetTTY(true)
	if s.ColorEnabled() {
		t.Error("ColorEnabled() = true with NO_COLOR set")
	}
}

func TestTestStreams(t *testing.T) {
	s, out, errOut := Test()
	if s.IsStdinTTY() || s.IsStdoutTTY() || s.IsStderrTTY() || s.IsCI() || s.CanDraw() {
		t.Fatal("test streams must start as plain pipes outside CI")
	}
	_, _ = s.Out.Write([]byte("out"))
	_, _ = s.Err.Write([]byte("err"))
	if out.String() != "out" || errOut.String() != "err" {
		t.Errorf("buffers got %q and %q", out, errOut)
	}
	s.SetTTY(true)
	if !s.IsStdinTTY() || !s.IsStdoutTTY() || !s.IsStderrTTY() {
		t.Error("SetTTY(true) did not mark every stream as a terminal")
	}
}

func TestWidth(t *testing.T) {
	s, _, _ := Test()
	if got := s.Width(); got != DefaultWidth {
		t.Errorf("Width() = %d, want the default %d", got, DefaultWidth)
	}
	s.SetWidth(132)
	if got := s.Width(); got != 132 {
		t.Errorf("Width() after SetWidth(132) = %d", got)
	}
	s.SetWidth(0)
	if got := s.Width(); got != DefaultWidth {
		t.Errorf("Width() after SetWidth(0) = %d, want %d", got, DefaultWidth)
	}
}

func TestSystemColumnsWhenNotATerminal(t *testing.T) {
	t.Setenv("COLUMNS", "120")
	s := System()
	if s.IsStdoutTTY() || s.IsStderrTTY() {
		t.Skip("the test's output is a terminal; COLUMNS is not consulted there")
	}
	if got := s.Width(); got != 120 {
		t.Errorf("Width() = %d with COLUMNS=120, want 120", got)
	}
}

// holdingWriter holds everything until Flush, as a redacting writer may.
type holdingWriter struct {
	w    io.Writer
	held []byte
}

func (h *holdingWriter) Write(p []byte) (int, error) {
	h.held = append(h.held, p...)
	return len(p), nil
}
func (h *holdingWriter) Flush() error {
	_, err := h.w.Write(h.held)
	h.held = nil
	return err
}

func TestWrapKeepsWhatIsKnownAndFlushes(t *testing.T) {
	s, out, errOut := Test()
	s.SetTTY(true)
	s.SetWidth(123)
	w := s.Wrap(func(w io.Writer) io.Writer { return &holdingWriter{w: w} })
	if !w.IsStdoutTTY() || !w.IsStderrTTY() || !w.CanDraw() || w.Width() != 123 {
		t.Error("wrapped streams must answer as the original ones")
	}
	io.WriteString(w.Out, "out")
	io.WriteString(w.Err, "err")
	if out.Len() != 0 || errOut.Len() != 0 {
		t.Fatal("the wrappers must be in the way")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "out" || errOut.String() != "err" {
		t.Errorf("Flush: out %q, err %q", out, errOut)
	}
	if err := s.Flush(); err != nil {
		t.Error("streams that hold nothing flush to nil")
	}
}

// env is an environment for ReadEnv.
type env map[string]string

func (e env) get(name string) string { return e[name] }

func TestReadEnvLocale(t *testing.T) {
	tests := []struct {
		name string
		env  env
		utf8 bool
	}{
		{"nothing set", env{}, false},
		{"LANG UTF-8", env{"LANG": "en_US.UTF-8"}, true},
		{"LANG utf8", env{"LANG": "de_DE.utf8"}, true},
		{"C.UTF-8", env{"LANG": "C.UTF-8"}, true},
		{"LANG C", env{"LANG": "C"}, false},
		{"LANG POSIX", env{"LANG": "POSIX"}, false},
		{"LANG Latin-1", env{"LANG": "pt_BR.ISO-8859-1"}, false},
		{"LC_CTYPE wins over LANG", env{"LC_CTYPE": "C", "LANG": "en_US.UTF-8"}, false},
		{"LC_CTYPE UTF-8 under LANG C", env{"LC_CTYPE": "en_US.UTF-8", "LANG": "C"}, true},
		{"LC_ALL wins over everything", env{"LC_ALL": "C", "LC_CTYPE": "en_US.UTF-8", "LANG": "en_US.UTF-8"}, false},
		{"LC_ALL UTF-8", env{"LC_ALL": "en_GB.UTF-8", "LANG": "C"}, true},
		{"empty LC_ALL is unset", env{"LC_ALL": "", "LANG": "en_US.UTF-8"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := Test()
			s.ReadEnv(tt.env.get)
			if got := !s.OutDisplay().ASCII; got != tt.utf8 {
				t.Errorf("UTF-8 = %v, want %v", got, tt.utf8)
			}
			if got := !s.ErrDisplay().ASCII; got != tt.utf8 {
				t.Errorf("stderr UTF-8 = %v, want %v", got, tt.utf8)
			}
		})
	}
}

func TestDisplayColor(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		env  env
		want bool
	}{
		{"terminal", true, env{"TERM": "xterm"}, true},
		{"pipe", false, env{"TERM": "xterm"}, false},
		{"NO_COLOR=1", true, env{"NO_COLOR": "1"}, false},
		{"NO_COLOR=0 still turns colour off", true, env{"NO_COLOR": "0"}, false},
		{"NO_COLOR empty", true, env{"NO_COLOR": ""}, true},
		{"dumb terminal", true, env{"TERM": "dumb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := Test()
			s.ReadEnv(tt.env.get)
			s.SetTTY(tt.tty)
			if got := s.OutDisplay().Color; got != tt.want {
				t.Errorf("OutDisplay().Color = %v, want %v", got, tt.want)
			}
			if got := s.ErrDisplay().Color; got != tt.want {
				t.Errorf("ErrDisplay().Color = %v, want %v", got, tt.want)
			}
			if got := s.ColorEnabled(); got != tt.want {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.want)
			}
		})
	}
	s, _, _ := Test()
	s.SetTTY(true)
	s.SetNoColor(true)
	if s.OutDisplay().Color {
		t.Error("SetNoColor(true) must turn colour off")
	}
}

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		name   string
		tty    bool
		env    env
		forced int
		want   int
	}{
		{"pipe: no limit", false, env{}, 0, 0},
		{"pipe with COLUMNS", false, env{"COLUMNS": "100"}, 0, 100},
		{"pipe with a bad COLUMNS", false, env{"COLUMNS": "wide"}, 0, 0},
		{"terminal of unknown size", true, env{}, 0, DefaultWidth},
		{"terminal of unknown size with COLUMNS", true, env{"COLUMNS": "132"}, 0, 132},
		{"forced", false, env{"COLUMNS": "100"}, 60, 60},
		{"forced on a terminal", true, env{}, 200, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := Test()
			s.ReadEnv(tt.env.get)
			s.SetTTY(tt.tty)
			s.SetWidth(tt.forced)
			if got := s.OutDisplay().Width; got != tt.want {
				t.Errorf("OutDisplay().Width = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTestStreamsAreUTF8WithoutLimit(t *testing.T) {
	s, _, _ := Test()
	if d := s.OutDisplay(); d != (Display{}) {
		t.Errorf("OutDisplay() = %+v, want colourless UTF-8 with no width limit", d)
	}
	s.SetUTF8(false)
	if !s.OutDisplay().ASCII {
		t.Error("SetUTF8(false) must ask for ASCII")
	}
	w := s.Wrap(func(w io.Writer) io.Writer { return w })
	if !w.OutDisplay().ASCII {
		t.Error("Wrap must keep the locale")
	}
}
