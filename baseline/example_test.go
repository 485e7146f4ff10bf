package baseline_test

import (
	"fmt"
	"log"

	"github.com/evalrun/evalrun/baseline"
)

// A CI step compares this run's record with the main branch's and exits 1
// only for what the baseline does not excuse.
func Example() {
	base, err := baseline.Read("testdata/quickstart.json")
	if err != nil {
		log.Fatal(err) // exit 2: a baseline that cannot be compared
	}
	now, err := baseline.Read("testdata/regressed.json") // in `run`, the runner's record
	if err != nil {
		log.Fatal(err)
	}
	cmp, err := baseline.Compare(base, now)
	if err != nil {
		log.Fatal(err)
	}
	cmp.BaselineFile = "testdata/quickstart.json"
	now.Comparison = cmp

	fail, reasons := baseline.Gate(cmp, now, false)
	for _, ch := range cmp.Regressed {
		fmt.Printf("%s / %s: turn %d, %s\n", ch.Suite, ch.Name, ch.Turn, ch.Check)
	}
	fmt.Println("fail:", fail, reasons)
	// Output:
	// quickstart / refund with ticket follow-up: turn 2, regex
	// quickstart / shipping question: turn 1, error
	// fail: true [2 conversations regressed 1 conversation errored]
}
