package evaluate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/supervision"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// qa returns n examples "q<i>" -> "a<i>".
func qa(n int) []dataset.Example {
	out := make([]dataset.Example, n)
	for i := range out {
		out[i] = dataset.NewExample(map[string]any{
			"question": fmt.Sprintf("q%d", i),
			"answer":   fmt.Sprintf("a%d", i),
		}, "question").WithID(fmt.Sprintf("ex%d", i))
	}
	return out
}

// echo answers "a<i>" for "q<i>", with usage.
var echo = programs.ProgramFunc(func(_ context.Context, in programs.Values) (programs.Prediction, error) {
	q := in["question"].(string)
	return programs.Prediction{
		Values: programs.Values{"answer": "a" + strings.TrimPrefix(q, "q")},
		Usage:  lm.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5},
	}, nil
})

func mustNew[S Score](t *testing.T, m func(dataset.Example, programs.Prediction, *programs.Trace) S, opts ...Option) *Evaluator {
	t.Helper()
	ev, err := New(m, append([]Option{WithoutProgress()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func checkAccounted(t *testing.T, res Result, n int) {
	t.Helper()
	if len(res.Rows) != n {
		t.Fatalf("%d rows, want %d", len(res.Rows), n)
	}
	for i, row := range res.Rows {
		if row.Index != i {
			t.Fatalf("row %d has index %d", i, row.Index)
		}
		if row.Status == Scored && row.Err != nil || row.Status != Scored && row.Err == nil {
			t.Fatalf("row %d: status %v with err %v", i, row.Status, row.Err)
		}
	}
	if res.Scored+res.Failed+res.NotRun != n {
		t.Fatalf("counts %d+%d+%d != %d", res.Scored, res.Failed, res.NotRun, n)
	}
}

func TestRunScoresEveryExample(t *testing.T) {
	ev := mustNew(t, ExactMatch("answer"), WithConcurrency(4))
	dev := qa(50)
	dev[7] = dev[7].With("answer", "wrong")
	res, err := ev.Run(context.Background(), echo, dev)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, res, 50)
	if !res.Complete || res.Scored != 50 || res.Failed != 0 {
		t.Fatalf("summary: %s", res.Summary())
	}
	if want := 49.0 / 50; res.Score != want {
		t.Errorf("score = %v, want %v", res.Score, want)
	}
	if res.Rows[7].Score != 0 || res.Rows[8].Score != 1 {
		t.Errorf("row scores 7=%v 8=%v", res.Rows[7].Score, res.Rows[8].Score)
	}
	if res.Usage.TotalTokens != 250 {
		t.Errorf("usage = %+v", res.Usage)
	}
	if got := res.Rows[3].Prediction.Values["answer"]; got != "a3" {
		t.Errorf("row 3 output = %v", got)
	}
}

func TestRunBoolMetricAndRunHelper(t *testing.T) {
	metric := func(ex dataset.Example, p programs.Prediction, _ *programs.Trace) bool {
		return p.Values["answer"] == ex.Text("answer")
	}
	res, err := Run(context.Background(), echo, qa(10), metric, WithoutProgress())
	if err != nil || res.Score != 1 {
		t.Fatalf("Run = %v, %v", res.Summary(), err)
	}
}

// TestRunFaultIsolation: panics in the program and the metric, an error,
// a timeout (honouring and ignoring the context) fail their example only.
func TestRunFaultIsolation(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	boom := errors.New("provider down")
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		switch in["question"] {
		case "q3":
			panic("program exploded")
		case "q5":
			return programs.Prediction{}, boom
		case "q7":
			<-ctx.Done()
			return programs.Prediction{}, ctx.Err()
		case "q9":
			<-release // ignores its context
		}
		return echo(ctx, in)
	})
	metric := func(ex dataset.Example, p programs.Prediction, tr *programs.Trace) float64 {
		if ex.ID() == "ex4" {
			var m map[string]int
			m["x"]++ // nil map write
		}
		if ex.ID() == "ex6" {
			return 0 / zero()
		}
		return ExactMatch("answer")(ex, p, tr)
	}
	ev := mustNew(t, metric, WithConcurrency(3), WithTimeout(time.Second), WithFailureScore(-1), WithDrain(0))
	res, err := ev.Run(context.Background(), prog, qa(20))
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, res, 20)
	var pe *PanicError
	checks := map[int]func(error) bool{
		3: func(err error) bool { return errors.As(err, &pe) && pe.In == "program" && len(pe.Stack) > 0 },
		4: func(err error) bool { return errors.As(err, &pe) && pe.In == "metric" },
		5: func(err error) bool { return errors.Is(err, boom) },
		6: func(err error) bool { var me *MetricError; return errors.As(err, &me) },
		7: func(err error) bool { return errors.Is(err, ErrTimeout) && errors.Is(err, context.DeadlineExceeded) },
		9: func(err error) bool { return errors.Is(err, ErrTimeout) },
	}
	for i, row := range res.Rows {
		check, bad := checks[i]
		switch {
		case bad && (row.Status != Failed || row.Score != -1 || !check(row.Err)):
			t.Errorf("row %d: %v score %v err %v", i, row.Status, row.Score, row.Err)
		case !bad && (row.Status != Scored || row.Score != 1):
			t.Errorf("row %d: %v score %v err %v", i, row.Status, row.Score, row.Err)
		}
	}
	if res.Failed != len(checks) || !res.Complete {
		t.Errorf("summary: %s", res.Summary())
	}
	if res.Abandoned < 1 {
		t.Errorf("abandoned = %d, want at least the call that ignores its context", res.Abandoned)
	}
}

func zero() float64 { return 0 }

func TestRunConcurrencyCap(t *testing.T) {
	var cur, peak atomic.Int64
	gate := make(chan struct{})
	var once sync.Once
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n == 5 {
			once.Do(func() { close(gate) })
		}
		<-gate // every call waits until 5 run at once
		return echo(ctx, in)
	})
	res, err := mustNew(t, ExactMatch("answer"), WithConcurrency(5)).Run(context.Background(), prog, qa(40))
	if err != nil || res.Score != 1 {
		t.Fatalf("%s, %v", res.Summary(), err)
	}
	if p := peak.Load(); p != 5 {
		t.Errorf("peak concurrency %d, want 5", p)
	}
}

func TestRunCancelMarksNotRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int64
	prog := programs.ProgramFunc(func(c context.Context, in programs.Values) (programs.Prediction, error) {
		if in["question"] == "q10" {
			cancel()
			<-c.Done()
			return programs.Prediction{}, c.Err()
		}
		started.Add(1)
		return echo(c, in)
	})
	res, err := mustNew(t, ExactMatch("answer"), WithConcurrency(1)).Run(ctx, prog, qa(30))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	checkAccounted(t, res, 30)
	if res.Complete || res.Scored != 10 || res.NotRun != 20 || res.Failed != 0 {
		t.Fatalf("summary: %s", res.Summary())
	}
	for _, row := range res.Rows[10:] {
		if !errors.Is(row.Err, ErrNotRun) {
			t.Fatalf("row %d err = %v", row.Index, row.Err)
		}
	}
	if res.Score != 1 {
		t.Errorf("score over the examples that ran = %v, want 1", res.Score)
	}
}

func TestRunMaxErrors(t *testing.T) {
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		return programs.Prediction{}, errors.New("always fails")
	})
	res, err := mustNew(t, ExactMatch("answer"), WithConcurrency(1), WithMaxErrors(3)).Run(context.Background(), prog, qa(10))
	if !errors.Is(err, ErrTooManyErrors) {
		t.Fatalf("err = %v", err)
	}
	checkAccounted(t, res, 10)
	if res.Failed != 3 || res.NotRun != 7 || res.Complete {
		t.Fatalf("summary: %s", res.Summary())
	}
}

func TestRunEvaluatorFaultIsStopped(t *testing.T) {
	ev := mustNew(t, ExactMatch("answer"), WithConcurrency(2))
	// A fault in the evaluator actor itself (not the program): the
	// supervisor's strategy stops it and the example fails.
	res, err := ev.runWithHook(context.Background(), echo, qa(6), func(i int) {
		if i == 2 {
			panic("evaluator bug")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, res, 6)
	if !errors.Is(res.Rows[2].Err, ErrEvaluatorStopped) || res.Failed != 1 || res.Scored != 5 {
		t.Fatalf("summary %s; row 2 err %v", res.Summary(), res.Rows[2].Err)
	}
}

func TestRunTracesAndLM(t *testing.T) {
	sig := mustSig(t)
	model := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant,
			Content: "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"}}}}, nil
	})
	pred := programs.MustPredictFrom(sig, programs.WithName("qa"))
	var sawTrace atomic.Bool
	metric := func(ex dataset.Example, p programs.Prediction, tr *programs.Trace) bool {
		if tr != nil && len(tr.Entries()) == 1 {
			sawTrace.Store(true)
		}
		return ExactMatchScore(p.Values["answer"].(string), ex.Text("answer"))
	}
	dev := []dataset.Example{dataset.NewExample(map[string]any{"question": "Capital of France?", "answer": "paris"}, "question")}
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		return pred.Forward(ctx, in)
	})
	res, err := mustNew(t, metric, WithLM(model), WithTraces()).Run(context.Background(), prog, dev)
	if err != nil || res.Score != 1 {
		t.Fatalf("%s, %v (row err %v)", res.Summary(), err, res.Rows[0].Err)
	}
	if !sawTrace.Load() || len(res.Rows[0].Trace) != 1 || res.Rows[0].Trace[0].Predictor.Name() != "qa" {
		t.Fatalf("trace not passed/recorded: %+v", res.Rows[0].Trace)
	}
}

type sysHolder struct{ sys *actor.ActorSystem }

func (h sysHolder) Actors() supervision.Handle { return supervision.HandleOf(h.sys) }

func TestRunWithRuntimeSystem(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	defer sys.Shutdown()
	ev := mustNew(t, ExactMatch("answer"), WithRuntime(sysHolder{sys}))
	for range 2 { // the borrowed system outlives runs
		res, err := ev.Run(context.Background(), echo, qa(20))
		if err != nil || res.Score != 1 {
			t.Fatalf("%s, %v", res.Summary(), err)
		}
	}
	if sys.IsStopped() {
		t.Fatal("a run shut down a borrowed actor system")
	}
}

func TestRunEdgeCases(t *testing.T) {
	ev := mustNew(t, ExactMatch("answer"))
	if _, err := ev.Run(context.Background(), nil, qa(1)); err == nil {
		t.Error("nil program accepted")
	}
	res, err := ev.Run(context.Background(), echo, nil)
	if err != nil || !res.Complete || len(res.Rows) != 0 {
		t.Errorf("empty dev set: %s, %v", res.Summary(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err = ev.Run(ctx, echo, qa(3))
	if !errors.Is(err, context.Canceled) || res.NotRun != 3 {
		t.Errorf("cancelled before start: %s, %v", res.Summary(), err)
	}
	bad := []dataset.Example{dataset.NewExample(map[string]any{"answer": "x"}, "question")}
	res, err = ev.Run(context.Background(), echo, bad)
	if err != nil || res.Failed != 1 {
		t.Errorf("example missing its input: %s, %v", res.Summary(), err)
	}
}

func TestOptionsValidate(t *testing.T) {
	m := ExactMatch("answer")
	for name, opt := range map[string][]Option{
		"concurrency":    {WithConcurrency(0)},
		"timeout":        {WithTimeout(-1)},
		"failure score":  {WithFailureScore(zero() / zero())},
		"max errors":     {WithMaxErrors(-1)},
		"nil lm":         {WithLM(nil)},
		"nil progress":   {WithProgress(nil)},
		"conflict":       {WithProgress(&bytes.Buffer{}), WithoutProgress()},
		"conflict 2":     {WithoutProgress(), WithProgress(&bytes.Buffer{})},
		"nil runtime":    {WithRuntime(nil)},
		"nil logger":     {WithLogger(nil)},
		"negative drain": {WithDrain(-time.Second)},
	} {
		if _, err := New(m, opt...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New[float64](nil); err == nil {
		t.Error("nil metric accepted")
	}
}

func TestProgressBarOnWriter(t *testing.T) {
	var buf bytes.Buffer
	ev, err := New(ExactMatch("answer"), WithProgress(&buf), WithDescription("dev"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Run(context.Background(), echo, qa(5)); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "dev") || !strings.Contains(out, "5/5") {
		t.Errorf("progress output %q", out)
	}
}

// statusDispatcher runs calls in-process, counting them, and reports a
// status for the progress bar.
type statusDispatcher struct{ calls atomic.Int64 }

func (d *statusDispatcher) Forward(ctx context.Context, call Call) (programs.Prediction, error) {
	d.calls.Add(1)
	return call.Program.Forward(ctx, call.Example.Inputs())
}

func (d *statusDispatcher) Status() string { return "2/3 nodes" }

func TestProgressBarShowsDispatcherStatus(t *testing.T) {
	var buf bytes.Buffer
	d := &statusDispatcher{}
	ev, err := New(ExactMatch("answer"), WithProgress(&buf), WithDescription("dev"), WithDispatcher(d))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ev.Run(context.Background(), echo, qa(5))
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored != 5 || d.calls.Load() != 5 {
		t.Fatalf("scored %d, dispatched %d", res.Scored, d.calls.Load())
	}
	if out := buf.String(); !strings.Contains(out, "[2/3 nodes]") || !strings.Contains(out, "5/5") {
		t.Errorf("progress output %q", out)
	}
}
