package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/evalrun/evalrun/results"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// schemaPath is the JUnit schema every report must validate against; it
// lives beside the checkout, not in it (see junitSchema).
// A test that needs it and finds it absent calls testtool.Missing, which
// Skips (t.Skipf) saying why, or fails when CI requires the tools.
const schemaPath = "../../shared/schemas/junit.xsd"

func TestMain(m *testing.M) {
	// tablewriter measures ambiguous-width characters by the locale it finds
	// at start-up; pin it so goldens do not depend on the machine's LANG.
	twwidth.SetEastAsian(false)
	os.Exit(m.Run())
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./report -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run `go test ./report -update` if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

var goldenRuns = []struct {
	name string
	run  func() *results.Run
}{
	{"full", fixtureRun},
	{"empty", emptyRun},
}

func TestGolden(t *testing.T) {
	reports := []struct {
		name string
		ext  string
		r    Reporter
	}{
		{"table", "table.txt", TableReporter(TableOptions{})},
		{"table color", "table-color.txt", TableReporter(TableOptions{Color: true})},
		{"junit", "junit.xml", ReporterFunc(JUnit)},
		{"json", "json", ReporterFunc(JSON)},
	}
	for _, run := range goldenRuns {
		for _, rep := range reports {
			t.Run(run.name+" "+rep.name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := rep.r.Report(&buf, run.run()); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, run.name+"."+rep.ext, buf.Bytes())
			})
		}
	}
}

// TestJUnitSchema validates the JUnit goldens and freshly rendered reports
// with xmllint against the shared schema.
func TestJUnitSchema(t *testing.T) {
	xmllintPath(t)
	junitSchema(t)
	for _, run := range goldenRuns {
		t.Run(run.name+" golden", func(t *testing.T) {
			validateSchema(t, filepath.Join("testdata", run.name+".junit.xml"))
		})
		t.Run(run.name+" fresh", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junit.xml")
			writeReport(t, path, JUnit, run.run())
			validateSchema(t, path)
		})
	}
}
