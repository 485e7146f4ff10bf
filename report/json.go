package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/evalrun/evalrun/results"
)

// JSON writes the canonical record of the run (schema evalrun/v1),
// indented. Lists that scripts index into (suites, conversations, turns,
// assertions) are written as [] when empty, never null. The run itself is not
// modified.
func JSON(w io.Writer, run *results.Run) error {
	if run == nil {
		return errors.New("report: json: no run")
	}
	out := *run
	out.Schema = results.Schema
	if out.Suites == nil {
		out.Suites = []results.Suite{}
	}
	convs := conversations(run)
	out.Conversations = make([]*results.Conversation, len(convs))
	for i, c := range convs {
		cc := *c
		cc.Turns = make([]*results.Turn, 0, len(c.Turns))
		for _, t := range c.Turns {
			if t == nil {
				continue
			}
			tc := *t
			if tc.Assertions == nil {
				tc.Assertions = []results.Assertion{}
			}
			cc.Turns = append(cc.Turns, &tc)
		}
		out.Conversations[i] = &cc
	}

	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Replies are full of <, > and &; keep them readable rather than
	// \u003c-escaped, since the file is never embedded in HTML as is.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("report: json: %w", err)
	}
	return nil
}
