package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
)

// benchConfig says what to measure.
type benchConfig struct {
	N           int           // examples (and raw requests)
	Concurrency int           // evaluator actors / raw workers
	Latency     time.Duration // the simulator's latency per request
	Runtime     bool          // evaluate through the dspex runtime's LM instead of lm.OpenAI
}

// benchResult holds the measured throughputs.
type benchResult struct {
	Raw, Evaluate           time.Duration
	RawPerSec, EvalPerSec   float64
	Ratio                   float64
	RawErrors, EvalFailures int
	Score                   float64
	RawInFlight             int64 // peak requests in flight at the server
	EvalInFlight            int64
}

func (r benchResult) String() string {
	return fmt.Sprintf("raw go-openai: %.0f req/s (%v, %d errors, peak %d in flight); "+
		"evaluate: %.0f examples/s (%v, %d failed, score %.3f, peak %d in flight); ratio %.3f",
		r.RawPerSec, r.Raw.Round(time.Millisecond), r.RawErrors, r.RawInFlight,
		r.EvalPerSec, r.Evaluate.Round(time.Millisecond), r.EvalFailures, r.Score, r.EvalInFlight, r.Ratio)
}

func httpClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency
	tr.MaxIdleConnsPerHost = concurrency
	tr.MaxConnsPerHost = 0
	return &http.Client{Transport: tr}
}

// runBench starts a simulator with the given latency and measures, in the
// same process and against the same server, raw go-openai issuing the chat
// requests the Chat adapter builds for N examples, then Evaluate of a
// Predict over the same N examples.
func runBench(ctx context.Context, cfg benchConfig) (benchResult, error) {
	srv, err := simlm.Start(simlm.WithFaults(simlm.Faults{Latency: cfg.Latency}), func() simlm.Option {
		return simlm.WithModel(simlm.DefaultModel)
	}())
	if err != nil {
		return benchResult{}, err
	}
	defer srv.Close()

	sig, err := signature.Parse("question -> answer")
	if err != nil {
		return benchResult{}, err
	}
	sig = sig.WithInstructions("Answer concisely.")
	items := dataset.QA()
	devset := make([]dataset.Example, cfg.N)
	for i := range devset {
		it := items[i%len(items)]
		devset[i] = it.Example().WithID(fmt.Sprintf("%s#%d", it.ID, i))
	}

	var res benchResult
	res.Raw, res.RawErrors, err = runRaw(ctx, srv.URL(), sig, devset, cfg.Concurrency)
	if err != nil {
		return res, err
	}
	res.RawInFlight = srv.Stats().MaxInFlight
	srv.ResetStats()

	var model lm.LM
	if cfg.Runtime {
		c := config.Default()
		c.Providers = []config.Provider{{Name: "sim", BaseURL: srv.URL(), APIKey: "sk-bench", DefaultModel: simlm.DefaultModel}}
		c.Cache.Enabled = false
		c.Breaker.Enabled = false
		c.Concurrency = cfg.Concurrency
		rt, err := dspex.Start(ctx, dspex.WithConfig(c), dspex.WithHTTPClient(httpClient(cfg.Concurrency)))
		if err != nil {
			return res, err
		}
		defer rt.Close(context.Background())
		model = rt.LM("sim")
	} else {
		model, err = lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), APIKey: "sk-bench", Model: simlm.DefaultModel,
			HTTPClient: httpClient(cfg.Concurrency)})
		if err != nil {
			return res, err
		}
	}
	pred, err := programs.NewPredictFrom(sig, programs.WithLM(model))
	if err != nil {
		return res, err
	}
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		return pred.Forward(ctx, in)
	})
	ev, err := evaluate.New(evaluate.ExactMatch("answer"), evaluate.WithConcurrency(cfg.Concurrency), evaluate.WithoutProgress())
	if err != nil {
		return res, err
	}
	start := time.Now()
	out, err := ev.Run(ctx, prog, devset)
	res.Evaluate = time.Since(start)
	if err != nil {
		return res, err
	}
	if len(out.Rows) != cfg.N || !out.Complete {
		return res, fmt.Errorf("evaluate accounted for %d of %d examples", len(out.Rows), cfg.N)
	}
	res.EvalFailures, res.Score = out.Failed, out.Score
	res.EvalInFlight = srv.Stats().MaxInFlight
	res.RawPerSec = float64(cfg.N) / res.Raw.Seconds()
	res.EvalPerSec = float64(cfg.N) / res.Evaluate.Seconds()
	res.Ratio = res.EvalPerSec / res.RawPerSec
	return res, nil
}

// runRaw sends the Chat adapter's request for every example with go-openai
// from concurrency workers.
func runRaw(ctx context.Context, baseURL string, sig signature.Signature, devset []dataset.Example, concurrency int) (time.Duration, int, error) {
	reqs := make([]openai.ChatCompletionRequest, len(devset))
	for i, ex := range devset {
		r, err := adapter.Chat{}.Format(sig, nil, ex.Inputs())
		if err != nil {
			return 0, 0, err
		}
		msgs := make([]openai.ChatCompletionMessage, len(r.Messages))
		for j, m := range r.Messages {
			msgs[j] = openai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content}
		}
		reqs[i] = openai.ChatCompletionRequest{Model: simlm.DefaultModel, Messages: msgs}
	}
	oc := openai.DefaultConfig("sk-bench")
	oc.BaseURL = baseURL
	oc.HTTPClient = httpClient(concurrency)
	client := openai.NewClientWithConfig(oc)

	jobs := make(chan int)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   int
		errCtx error
	)
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				resp, err := client.CreateChatCompletion(ctx, reqs[i])
				if err == nil && len(resp.Choices) == 0 {
					err = errors.New("no choices")
				}
				if err != nil {
					mu.Lock()
					errs++
					if ctx.Err() != nil {
						errCtx = ctx.Err()
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range reqs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return time.Since(start), errs, errCtx
}
