package main

import (
	"fmt"
	"io"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

// judgeSecrets returns what a suite's judge: section must never show: its
// token and every value it read from the environment. A token too short to
// hide is not, and warn says so, as for the provider's.
func judgeSecrets(s *suites.Suite, warn io.Writer) []string {
	if s.Judge == nil {
		return nil
	}
	var out []string
	if tok := s.Judge.Token.Value(); tok != "" {
		if len(tok) < providers.MinSecretLen {
			fmt.Fprintf(warn, "evalrun: warning: suite %s: the judge token is shorter than %d bytes, "+
				"too short to hide in output without garbling it; output may show it\n", s.Name, providers.MinSecretLen)
		}
		out = append(out, tok)
	}
	for _, e := range s.Judge.EnvSecrets {
		out = append(out, e.Value())
	}
	return out
}
