package main

import (
	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// registerKinds registers the program kinds this command's nodes run and
// its coordinator evaluates.
func registerKinds(reg *cluster.Registry) error {
	if err := reg.Register("qa-predict", func() (programs.Program, error) {
		return programs.NewPredictor(signature.MustParse("question -> answer"))
	}); err != nil {
		return err
	}
	return reg.Register("qa-cot", func() (programs.Program, error) {
		return programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"))
	})
}
