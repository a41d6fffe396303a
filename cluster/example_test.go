// The example starts a coordinator and a node in one process: two
// protoactor-go remotes, each of whose Start sets gRPC's global logger
// without synchronisation while the other's server may log, which the race
// detector reports. The race-checked cluster tests run their nodes as
// processes of their own (test/); this example is left out of -race builds.

//go:build !race

package cluster_test

import (
	"context"
	"fmt"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/teleprompter"
)

// The coordinator's Dispatcher sends each example of an evaluation, or of
// an optimizer's evaluations, to a node, which builds the program from
// its saved state and runs it on its own LM. Here the coordinator and one
// node run in this process, on loopback ports.
func ExampleCoordinator_Dispatcher() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Both sides know how to build the "qa" kind.
	sig := signature.MustParse("question -> answer")
	reg := &cluster.Registry{}
	if err := reg.Register("qa", func() (programs.Program, error) { return programs.NewPredictFrom(sig) }); err != nil {
		fmt.Println(err)
		return
	}

	coord, err := cluster.StartCoordinator(ctx, cluster.DefaultCoordinatorConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer coord.Close(context.Background())

	// The node's LM knows one capital.
	paris := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant,
			Content: "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"}}}}, nil
	})
	ncfg := cluster.DefaultNodeConfig()
	ncfg.Name, ncfg.LM, ncfg.Registry, ncfg.Join = "n1", paris, reg, []string{coord.Address()}
	node, err := cluster.StartNode(ctx, ncfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer node.Close(context.Background())
	if err := coord.WaitNodes(ctx, 1); err != nil {
		fmt.Println(err)
		return
	}

	devset := []dataset.Example{
		dataset.NewExample(map[string]any{"question": "What is the capital of France?", "answer": "Paris"}, "question"),
		dataset.NewExample(map[string]any{"question": "What is the capital of Japan?", "answer": "Tokyo"}, "question"),
	}
	prog, err := programs.NewPredictFrom(sig)
	if err != nil {
		fmt.Println(err)
		return
	}
	onCluster := []evaluate.Option{evaluate.WithDispatcher(coord.Dispatcher("qa")), evaluate.WithoutProgress()}
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), onCluster...)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("score %.2f, %d scored\n", res.Score, res.Scored)

	// An optimizer's evaluations go the same way.
	bs, err := teleprompter.NewBootstrapFewShot(evaluate.ExactMatch("answer"),
		teleprompter.WithMaxLabeledDemos(0), teleprompter.WithEvaluateOptions(onCluster...))
	if err != nil {
		fmt.Println(err)
		return
	}
	compiled, err := bs.Compile(ctx, prog, devset)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("bootstrapped", compiled.Report().Bootstrapped, "of", compiled.Report().Attempted)
	// Output:
	// score 0.50, 2 scored
	// bootstrapped 1 of 2
}
