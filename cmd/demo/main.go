// Command demo runs dspex end to end: typed predictors, modules and the
// supervised runtime.
//
// With no OPENAI_API_KEY it serves the embedded model server, a simulator
// speaking the OpenAI HTTP API on 127.0.0.1, so a fresh clone runs offline.
// With a key it talks to OPENAI_BASE_URL (default OpenAI) with DSPEX_MODEL.
//
// Responses are cached on disk (in -cache-dir, default
// os.UserCacheDir()/dspex), so a second run with the same seed makes no
// request at all and compiles the same programs. The cache subcommand
// shows the cache or clears it.
//
// Usage:
//
//	go run ./cmd/demo [-question "..."] [-cache-dir DIR] [-disk-cache=false] [-save DIR]
//	go run ./cmd/demo cache [-dir DIR] [stats|clear]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/telemetry"
	"github.com/dspex-go/dspex/teleprompter"
)

// QA is the input of the question-answering steps.
type QA struct {
	Question string `dspy:"question" desc:"a short factual question"`
}

// Answer is their output.
type Answer struct {
	Answer string `dspy:"answer" desc:"often between 1 and 5 words"`
}

// Instructions states the task.
func (Answer) Instructions() string {
	return "Answer the question concisely, with only the short answer."
}

// MathProblem is the input of the reasoning step.
type MathProblem struct {
	Question string `dspy:"question" desc:"an arithmetic word problem"`
}

// MathAnswer is its output: a number, coerced from the reply.
type MathAnswer struct {
	Answer int `dspy:"answer" desc:"the result"`
}

// LookupArgs are the arguments of the demo's ReAct tool.
type LookupArgs struct {
	Query string `json:"query" desc:"what to look up"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "cache" {
		os.Exit(cacheCommand(os.Args[2:], os.Stdout, os.Stderr))
	}
	var (
		diskCache = flag.Bool("disk-cache", true, "cache responses on disk too, across runs and processes")
		cacheDir  = flag.String("cache-dir", "", "directory of the disk cache (default os.UserCacheDir()/dspex)")
		save      = flag.String("save", "", "directory to save each compiled program in, as OPTIMIZER.json")
		question  = flag.String("question", "What is the capital of Australia?", "the question for the typed Predict")
		problem   = flag.String("problem", "", "an arithmetic word problem for ChainOfThought (default: one from the shipped dataset)")
		timeout   = flag.Duration("timeout", 2*time.Minute, "overall deadline")
		trace     = flag.String("trace", "", `"stdout" prints the OpenTelemetry span tree of each traced call`)
		inspect   = flag.Int("inspect", 0, "print the last n LM calls (messages, reply, usage, cost) at the end")
		opt       = flag.String("optimizer", "bootstrap,mipro", "comma-separated optimizers to compile with, in turn: "+strings.Join(optimizers, ", "))
		task      = flag.String("task", "qa", `"qa" (the shipped QA and arithmetic programs) or "multihop" (the shipped multi-hop retrieval program, zero-shot and compiled with BootstrapFewShot)`)
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	for name := range strings.SplitSeq(*opt, ",") {
		if !slices.Contains(optimizers, name) {
			fmt.Fprintf(os.Stderr, "demo: -optimizer %q: want one of %s\n", name, strings.Join(optimizers, ", "))
			os.Exit(2)
		}
	}
	if *timeout <= 0 {
		fmt.Fprintf(os.Stderr, "demo: -timeout %v: must be positive\n", *timeout)
		os.Exit(2)
	}
	if *trace != "" && *trace != "stdout" {
		fmt.Fprintf(os.Stderr, "demo: -trace %q: only \"stdout\" is supported\n", *trace)
		os.Exit(2)
	}
	cfg := simulatedPrices()
	cfg.Cache.Persistent, cfg.Cache.Dir = *diskCache, *cacheDir
	switch *task {
	case "qa":
	case "multihop":
		if err := runMultihop(ctx, os.Stdout, cfg, *cacheDir); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
		return
	default:
		fmt.Fprintf(os.Stderr, "demo: -task %q: want qa or multihop\n", *task)
		os.Exit(2)
	}
	if err := run(ctx, os.Stdout, cfg, *save, *question, *problem, *opt, *trace == "stdout", *inspect); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, cfg config.Config, save, question, problem, optimizer string, trace bool, inspect int) (err error) {
	opts := []dspex.Option{dspex.WithConfig(cfg), dspex.WithEnv(os.Getenv), dspex.WithSimulator()}
	if trace {
		// Each trace prints as an indented span tree when its root ends.
		opts = append(opts, dspex.WithTelemetry(telemetry.WithSpanProcessor(telemetry.NewTreePrinter(w))))
	}
	rt, err := dspex.Start(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, rt.Close(closeCtx))
	}()
	ctx, meter := history.WithMeter(ctx)
	defer func() {
		if err == nil {
			printSpend(w, rt, meter)
			if inspect > 0 {
				fmt.Fprintf(w, "\n== The last %d LM call(s)", inspect)
				err = rt.InspectHistory(w, inspect)
			}
		}
	}()
	cfg = rt.Config()
	model := rt.LM(cfg.Providers[0].Name)
	p := cfg.Providers[0]
	if rt.Simulated() {
		fmt.Fprintf(w, "No OPENAI_API_KEY or OPENAI_BASE_URL: using the embedded model server (a simulator, not a real model) at %s\n\n", lm.RedactURL(p.BaseURL))
	} else {
		keyed := "with an API key"
		if p.Key(os.Getenv) == "" {
			keyed = "without an API key"
		}
		fmt.Fprintf(w, "Provider %s at %s, model %s, %s\n\n", p.Name, lm.RedactURL(p.BaseURL), p.Model(), keyed)
	}

	// 1. A typed Predict through the runtime's client actor.
	qa, err := programs.NewPredict[QA, Answer](programs.WithLM(model))
	if err != nil {
		return err
	}
	outs, pred, err := qa.Completions(ctx, QA{Question: question})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "== Predict", qa.Signature())
	fmt.Fprintf(w, "Question: %s\nAnswer:   %s\n", question, outs[0].Answer)
	printUsage(w, pred.Usage)

	// 2. ChainOfThought: the typed output plus the reasoning.
	if problem == "" {
		problem = firstProblem(3)
	}
	cot, err := programs.NewChainOfThought[MathProblem, MathAnswer](programs.WithLM(model))
	if err != nil {
		return err
	}
	reasoned, err := cot.Call(ctx, MathProblem{Question: problem})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n== ChainOfThought", cot.Predictor().Signature())
	fmt.Fprintf(w, "Problem:   %s\nReasoning: %s\nAnswer:    %d\n", problem, reasoned.Reasoning, reasoned.Out.Answer)

	// 3. ReAct: an agent with a tool.
	lookup, err := programs.NewTool("lookup", "Looks a fact up in the encyclopedia.",
		func(ctx context.Context, args LookupArgs) (string, error) {
			out, err := qa.Call(ctx, QA{Question: args.Query})
			return out.Answer, err
		})
	if err != nil {
		return err
	}
	agent, err := programs.NewReAct[QA, Answer]([]programs.Tool{lookup}, programs.WithLM(model), programs.WithMaxIters(4))
	if err != nil {
		return err
	}
	final, traj, err := agent.Call(ctx, QA{Question: "What is the chemical symbol for gold?"})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n== ReAct with one tool (lookup)")
	for i, s := range traj {
		fmt.Fprintf(w, "step %d: %s(%v) -> %q\n", i, s.Tool, s.Args, s.Observation)
	}
	fmt.Fprintf(w, "Answer: %s\n", final.Answer)

	// 4. Evaluate zero-shot, compile with the chosen optimizer, evaluate
	// again.
	// Its hundreds of traces would drown the output, so -trace skips it.
	if trace {
		fmt.Fprintln(w, "\n(-trace: skipping the evaluation and the optimizer)")
	} else {
		for name := range strings.SplitSeq(optimizer, ",") {
			if err := optimize(ctx, w, rt, model, name, save); err != nil {
				return err
			}
		}
	}

	// The runtime's view: providers, breakers, cache.
	st, err := rt.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n== Runtime status")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "client\tbreaker\tin flight\trequests\tcache hits\tcache misses\trestarts")
	for _, c := range st.Clients {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", c.ID, c.Breaker, c.InFlight, c.Requests, c.CacheHits, c.CacheMisses, c.Restarts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if st.Cache != nil {
		fmt.Fprintln(w, "\n== Response cache")
		if err := printCacheStats(w, *st.Cache); err != nil {
			return err
		}
	}
	if sim, ok := rt.SimulatorStats(); ok {
		fmt.Fprintf(w, "\nEmbedded model server: %d requests\n", sim.Requests)
	}
	return nil
}

// printCacheStats prints a cache's stats, a row per tier.
func printCacheStats(w io.Writer, st cache.Stats) error {
	tiers := st.Tiers
	if len(tiers) == 0 {
		tiers = []cache.Stats{st}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "tier\thits\tmisses\tentries\tsize\tevictions\twrite errors")
	for _, t := range tiers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f kB\t%d\t%d\n", t.Tier, t.Hits, t.Misses, t.Entries, float64(t.Bytes)/1000, t.Evictions, t.WriteErrors)
	}
	return tw.Flush()
}

// pretendModel is the model whose prices the demo charges for the
// simulator's calls, so that its cost figures read like a real run's.
const pretendModel = "gpt-4o-mini"

// simulatedPrices is the default configuration with the simulator's model
// priced as pretendModel (the price applies to the "sim" provider only).
func simulatedPrices() config.Config {
	cfg := config.Default()
	if p, ok := pricing.Default().Lookup("", pretendModel); ok {
		cfg.Prices = map[string]pricing.Price{dspex.SimulatorProvider + "/" + simlm.DefaultModel: p}
	}
	return cfg
}

// printSpend prints the calls, tokens and cost of the whole run.
func printSpend(w io.Writer, rt *dspex.Runtime, meter *history.Meter) {
	total := meter.Total()
	fmt.Fprintln(w, "\n== LM calls")
	label := ""
	if rt.Simulated() {
		label = " (simulated: the simulator's calls priced as " + pretendModel + ")"
	}
	fmt.Fprintf(w, "Calls:    %d (%d cache hits)\n", total.Calls, total.Cost.CacheHits)
	fmt.Fprintf(w, "Tokens:   %d prompt + %d completion = %d\n", total.Usage.PromptTokens, total.Usage.CompletionTokens, total.Usage.TotalTokens)
	fmt.Fprintf(w, "Cost:     %s%s\n", total.Cost, label)
}

// cacheCommand runs "demo cache [-dir DIR] [stats|clear]" and returns the
// exit code.
func cacheCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo cache", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory of the disk cache (default os.UserCacheDir()/dspex)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: demo cache [-dir DIR] [stats|clear]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	action := "stats"
	switch fs.NArg() {
	case 0:
	case 1:
		action = fs.Arg(0)
	default:
		fs.Usage()
		return 2
	}
	if action != "stats" && action != "clear" {
		fs.Usage()
		return 2
	}
	if *dir == "" {
		d, err := cache.DefaultDir()
		if err != nil {
			fmt.Fprintln(stderr, "demo cache:", err)
			return 1
		}
		*dir = d
	}
	ctx := context.Background()
	d, err := cache.OpenDisk(ctx, cache.DiskConfig{Dir: *dir})
	if err != nil {
		fmt.Fprintln(stderr, "demo cache:", err)
		return 1
	}
	defer d.Close()
	if action == "clear" {
		if err := d.Clear(ctx); err != nil {
			fmt.Fprintln(stderr, "demo cache:", err)
			return 1
		}
		fmt.Fprintf(stdout, "Cleared %s\n", d.Path())
	}
	st := d.Stats()
	fmt.Fprintf(stdout, "Cache %s: %d entries, %.1f kB\n", d.Path(), st.Entries, float64(st.Bytes)/1000)
	return 0
}

func printUsage(w io.Writer, u lm.Usage) {
	fmt.Fprintf(w, "Tokens:   %d prompt + %d completion = %d\n", u.PromptTokens, u.CompletionTokens, u.TotalTokens)
}

// firstProblem returns the first arithmetic problem of the shipped dataset
// with the given number of steps.
func firstProblem(steps int) string {
	for _, it := range dataset.QA() {
		if it.Kind == dataset.KindMath && it.Steps == steps {
			return it.Question
		}
	}
	return "What is 6 times 7?"
}

// optimizers lists the optimizers -optimizer accepts.
var optimizers = []string{"bootstrap", "labeled", "random-search", "mipro", "beacon", "copro", "gepa", "simba"}

// newOptimizer builds the named optimizer with the demo's settings.
func newOptimizer(name string, rt *dspex.Runtime, model lm.LM, valset []dataset.Example) (teleprompter.Teleprompter, error) {
	metric := evaluate.ExactMatch("answer")
	evalOpts := teleprompter.WithEvaluateOptions(evaluate.WithRuntime(rt), evaluate.WithConcurrency(32))
	switch name {
	case "bootstrap":
		return teleprompter.NewBootstrapFewShot(metric, teleprompter.WithSeed(1),
			teleprompter.WithMaxBootstrappedDemos(4), teleprompter.WithMaxLabeledDemos(4), evalOpts)
	case "labeled":
		return teleprompter.NewLabeledFewShot(4, teleprompter.WithSeed(1))
	case "random-search":
		return teleprompter.NewBootstrapFewShotWithRandomSearch(metric, teleprompter.WithSeed(1),
			teleprompter.WithNumCandidates(4), teleprompter.WithValset(valset), evalOpts)
	case "mipro":
		return teleprompter.NewMIPROv2(metric, teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithSeed(1),
			teleprompter.WithValset(valset), teleprompter.WithBudgetReport(os.Stdout), evalOpts)
	case "beacon":
		return teleprompter.NewBEACON(metric, teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithSeed(1),
			teleprompter.WithValset(valset), teleprompter.WithBudgetReport(os.Stdout), evalOpts)
	case "copro":
		return teleprompter.NewCOPRO(metric, teleprompter.WithSeed(1), teleprompter.WithValset(valset), evalOpts)
	case "gepa":
		return teleprompter.NewGEPA(teleprompter.ExactMatchFeedback("answer"), teleprompter.WithSeed(1),
			teleprompter.WithMaxMetricCalls(300), teleprompter.WithValset(valset),
			teleprompter.WithReflectionLM(model), evalOpts)
	case "simba":
		return teleprompter.NewSIMBA(teleprompter.ExactMatchFeedback("answer"), teleprompter.WithSeed(3),
			teleprompter.WithMaxSteps(4), teleprompter.WithBatchSize(8), teleprompter.WithValset(valset),
			teleprompter.WithReflectionLM(model), evalOpts)
	}
	return nil, fmt.Errorf("unknown optimizer %q (want one of %s)", name, strings.Join(optimizers, ", "))
}

// optimize evaluates a ChainOfThought zero-shot on the shipped dev set,
// compiles it with the named optimizer on the train set and evaluates the
// compiled program, printing both scores, the optimizer's trials and some
// of the demos and instructions chosen.
func optimize(ctx context.Context, w io.Writer, rt *dspex.Runtime, model lm.LM, name, save string) error {
	train, dev := dataset.TrainDev(0, 100)
	trainset, devset := dataset.Examples(train), dataset.Examples(dev)
	student, err := programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"), programs.WithLM(model))
	if err != nil {
		return err
	}
	opt, err := newOptimizer(name, rt, model, trainset[60:])
	if err != nil {
		return err
	}
	ev, err := evaluate.New(evaluate.ExactMatch("answer"), evaluate.WithRuntime(rt), evaluate.WithConcurrency(32))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n== Evaluate and %s (ChainOfThought, %d train / %d dev examples, exact match)\n", name, len(trainset), len(devset))
	zero, err := ev.Run(ctx, student, devset)
	if err != nil {
		return partial(w, "zero-shot", zero, err)
	}
	// The instruction optimizers also return their trial log.
	var (
		compiled *teleprompter.Compiled
		log      *teleprompter.TrialLog
	)
	if s, ok := opt.(interface {
		Optimize(context.Context, programs.Program, []dataset.Example) (*teleprompter.Compiled, *teleprompter.TrialLog, error)
	}); ok {
		compiled, log, err = s.Optimize(ctx, student, trainset)
	} else {
		compiled, err = opt.Compile(ctx, student, trainset)
	}
	if err != nil {
		return err
	}
	after, err := ev.Run(ctx, compiled, devset)
	if err != nil {
		return partial(w, name, after, err)
	}
	if save != "" {
		path := filepath.Join(save, name+".json")
		if err := saveProgram(path, compiled); err != nil {
			return err
		}
		fmt.Fprintf(w, "Saved the compiled program to %s\n", path)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "program\tdev score\tscored\tfailed\ttokens")
	fmt.Fprintf(tw, "zero-shot\t%.3f\t%d\t%d\t%d\n", zero.Score, zero.Scored, zero.Failed, zero.Usage.TotalTokens)
	fmt.Fprintf(tw, "%s\t%.3f\t%d\t%d\t%d\n", compiled.Report().Teleprompter, after.Score, after.Scored, after.Failed, after.Usage.TotalTokens)
	if err := tw.Flush(); err != nil {
		return err
	}
	if log != nil {
		fmt.Fprintf(w, "Trials:\n%s", log)
	} else if err := printTrials(w, compiled.Report()); err != nil {
		return err
	}
	nps, err := programs.NamedPredictors(compiled)
	if err != nil {
		return err
	}
	for _, np := range nps {
		demos := np.Predictor.Demos()
		fmt.Fprintf(w, "Predictor %s: instructions %q\n", np.Name, np.Predictor.Instructions())
		fmt.Fprintf(w, "Demos of %s (%d), the first three:\n", np.Name, len(demos))
		for _, d := range demos[:min(3, len(demos))] {
			fmt.Fprintf(w, "  Q: %v\n     A: %v\n", d["question"], d["answer"])
		}
	}
	return nil
}

// saveProgram writes prog's learned state (programs.Save) to path, making
// its directory if it does not exist.
func saveProgram(path string, prog any) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	return programs.Save(f, prog)
}

// partial prints what an interrupted evaluation (Ctrl-C, -timeout) had
// finished, and returns err.
func partial(w io.Writer, program string, res evaluate.Result, err error) error {
	if len(res.Rows) > 0 {
		fmt.Fprintf(w, "Interrupted (%v); partial result of %s: %s\n", err, program, res.Summary())
	}
	return err
}

// printTrials prints an optimizer's candidates or trials as a table.
func printTrials(w io.Writer, rep teleprompter.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if trials := rep.Trials; len(trials) > 0 {
		fmt.Fprintln(w, "Trials:")
		fmt.Fprintln(tw, "#\tkind\tparents\tpredictor\tminibatch before\tafter\tval score\tkept as\tmetric calls\tnote")
		for _, t := range trials {
			score := "-"
			if t.Score != nil {
				score = fmt.Sprintf("%.3f", *t.Score)
			}
			fmt.Fprintf(tw, "%d\t%s\t%v\t%s\t%.1f\t%.1f\t%s\t%d\t%d\t%s\n", t.N, t.Kind, t.Parents, t.Predictor,
				t.Before, t.After, score, t.Candidate, t.MetricCalls, t.Note)
		}
		return tw.Flush()
	}
	if len(rep.Candidates) > 0 {
		fmt.Fprintln(w, "Candidates:")
		fmt.Fprintln(tw, "#\tcandidate\tscore\tfailed\tchosen")
		for i, c := range rep.Candidates {
			chosen := ""
			if i == rep.Best {
				chosen = "*"
			}
			fmt.Fprintf(tw, "%d\t%s\t%.3f\t%d\t%s\n", i, c.Label, c.Score, c.Failed, chosen)
		}
		return tw.Flush()
	}
	return nil
}
