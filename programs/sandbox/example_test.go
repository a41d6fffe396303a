package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/programs/sandbox"
)

func ExampleStarlark() {
	interp, err := sandbox.NewStarlark(sandbox.WithMaxSteps(100_000))
	if err != nil {
		fmt.Println(err)
		return
	}
	session, err := interp.NewSession(sandbox.Env{
		Globals: map[string]any{"prices": []float64{2.5, 4, 1.25}},
		Funcs: []sandbox.Func{{Name: "tax", Call: func(_ context.Context, args []any, _ map[string]any) (any, error) {
			return args[0].(float64) * 0.2, nil
		}}},
		Final: []string{"FINAL"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	res, err := session.Run(ctx, "total = 0\nfor p in prices:\n    total += p\nprint('subtotal', total)\nFINAL({'total': total + tax(total)})")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(res.Output)
	fmt.Println("final:", res.Final)

	// Failures come back as text for the model that wrote the code.
	for _, code := range []string{
		"while True:\n    total += 1",
		"big = 'x' * 1000000000",
		"data = open('/etc/passwd')",
	} {
		_, err := session.Run(ctx, code)
		fmt.Println(strings.SplitN(err.Error(), "\n", 2)[0], errors.Is(err, sandbox.ErrStepLimit))
	}
	// Output:
	// subtotal 7.75
	// final: map[total:9.3]
	// StepLimitError on line 2: the code ran more than 100000 steps (an endless loop, or too much work for one run) true
	// MemoryError on line 1: the repeated value would hold 1000000000 items, more than the sandbox allows (1048576) false
	// SyntaxError on line 1: undefined: open false
}
