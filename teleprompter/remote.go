package teleprompter

import (
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// PortableFor makes a teacher run an evaluate.Portable program, so that a
// dispatcher running examples on other nodes (package cluster) ships, for
// each example, the program the teacher would run here: without the demo
// that is the example itself, and, in rounds after the first, at the
// round's rollout and temperature 1.0 (call settings that saved state does
// not carry).
func (r *teacherRun) PortableFor(inputs programs.Values) (evaluate.PortableProgram, error) {
	prog := r.base
	if r.hasDemoOf(inputs) {
		var err error
		if prog, err = r.variant(inputs); err != nil {
			return evaluate.PortableProgram{}, err
		}
	}
	out := evaluate.PortableProgram{Program: prog}
	if r.round > 0 {
		t := 1.0
		out.Rollout, out.Temperature = r.round, &t
	}
	return out, nil
}

var _ evaluate.Portable = (*teacherRun)(nil)
