package programs_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

func TestParallelKeepsPerItemErrors(t *testing.T) {
	leakcheck.None(t)
	boom := errors.New("boom")
	prog := programs.ProgramFunc(func(_ context.Context, in programs.Values) (programs.Prediction, error) {
		switch in["n"] {
		case 2:
			return programs.Prediction{}, boom
		case 4:
			panic("item 4 exploded")
		}
		return programs.Prediction{Values: programs.Values{"double": in["n"].(int) * 2}}, nil
	})
	batch := make([]programs.Values, 6)
	for i := range batch {
		batch[i] = programs.Values{"n": i}
	}
	res, err := programs.Parallel(context.Background(), prog, batch, programs.WithConcurrency(3))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		switch i {
		case 2:
			if !errors.Is(r.Err, boom) {
				t.Errorf("item 2: %v, want boom", r.Err)
			}
		case 4:
			var pe *programs.PanicError
			if !errors.As(r.Err, &pe) || pe.Value != "item 4 exploded" || len(pe.Stack) == 0 {
				t.Errorf("item 4: %v, want a *PanicError", r.Err)
			}
		default:
			if r.Err != nil || r.Value.Values["double"] != 2*i {
				t.Errorf("item %d: %v, %v", i, r.Value.Values, r.Err)
			}
		}
	}
}

func TestParallelBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var running, peak atomic.Int64
		f := func(ctx context.Context, i int) (int, error) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release
			running.Add(-1)
			return i, nil
		}
		done := make(chan []programs.Result[int])
		go func() {
			res, _ := programs.Batch(context.Background(), make([]int, 10), f, programs.WithConcurrency(3))
			done <- res
		}()
		synctest.Wait() // every worker is blocked on release
		if got := running.Load(); got != 3 {
			t.Errorf("%d items running at once, want 3", got)
		}
		close(release)
		res := <-done
		if len(res) != 10 || peak.Load() != 3 {
			t.Errorf("%d results, peak %d", len(res), peak.Load())
		}
	})
}

func TestParallelMaxErrorsAndCancel(t *testing.T) {
	leakcheck.None(t)
	fail := func(context.Context, int) (int, error) { return 0, errors.New("no") }
	res, err := programs.Batch(context.Background(), make([]int, 20), fail, programs.WithConcurrency(1), programs.WithMaxErrors(2))
	if !errors.Is(err, programs.ErrTooManyErrors) {
		t.Fatalf("Batch: %v, want ErrTooManyErrors", err)
	}
	var skipped int
	for _, r := range res {
		if errors.Is(r.Err, programs.ErrTooManyErrors) {
			skipped++
		}
	}
	if skipped != 17 {
		t.Errorf("%d items skipped, want 17 (3 ran, one more than the 2 allowed)", skipped)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int64
	stop := func(_ context.Context, i int) (int, error) {
		if ran.Add(1) == 2 {
			cancel()
		}
		return i, nil
	}
	res, err = programs.Batch(ctx, make([]int, 10), stop, programs.WithConcurrency(1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Batch after cancel: %v", err)
	}
	if ran.Load() != 2 || !errors.Is(res[9].Err, context.Canceled) {
		t.Errorf("%d items ran; last item error %v", ran.Load(), res[9].Err)
	}
	if _, err := programs.Batch(context.Background(), []int{1}, stop, programs.WithConcurrency(0)); err == nil {
		t.Error("WithConcurrency(0): no error")
	}
}

// TestParallelSimulator answers a batch of dataset questions with the
// embedded model server over HTTP, several at a time.
func TestParallelSimulator(t *testing.T) {
	model, srv := startSimulator(t)
	qa := programs.MustPredict[query, answerOut](programs.WithLM(model))
	items := dataset.QA()[:16]
	batch := make([]programs.Values, len(items))
	for i, it := range items {
		batch[i] = programs.Values{"question": it.Question}
	}
	res, err := programs.Parallel(context.Background(), qa, batch, programs.WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	var right int
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("item %d: %v", i, r.Err)
			continue
		}
		if dataset.Normalize(fmt.Sprint(r.Value.Values["answer"])) != "" {
			right++
		}
	}
	if right != len(items) {
		t.Errorf("%d of %d items answered", right, len(items))
	}
	st := srv.Stats()
	if st.Requests != int64(len(items)) || st.MaxInFlight > 4 {
		t.Errorf("%d requests, peak concurrency %d; want %d requests, at most 4 at once", st.Requests, st.MaxInFlight, len(items))
	}
	// Typed programs batch too.
	typed, err := programs.Batch(lm.NewContext(context.Background(), model), []query{{Question: items[0].Question}},
		func(ctx context.Context, q query) (answerOut, error) { return qa.Call(ctx, q) })
	if err != nil || typed[0].Err != nil || typed[0].Value.Answer == "" {
		t.Errorf("Batch(qa.Call) = %+v, %v", typed, err)
	}
}
