package test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
)

// evSim starts the embedded model server for one test.
func evSim(tb testing.TB, opts ...simlm.Option) *simlm.Server { return rtSim(tb, opts...) }

// evRuntime starts a dspex runtime whose only provider, "sim", is srv,
// with fast retries; edit adjusts the configuration.
func evRuntime(tb testing.TB, srv *simlm.Server, edit func(*config.Config)) *dspex.Runtime {
	tb.Helper()
	cfg := config.Default()
	cfg.Providers = []config.Provider{{
		Name:         "sim",
		BaseURL:      srv.URL(),
		APIKey:       config.Secret("sk-evaluate-test"),
		DefaultModel: simlm.DefaultModel,
	}}
	cfg.Retry.MaxAttempts = 3
	cfg.Retry.Initial = config.Duration(time.Millisecond)
	cfg.Retry.Max = config.Duration(5 * time.Millisecond)
	cfg.Breaker.Enabled = false
	cfg.Concurrency = 64
	if edit != nil {
		edit(&cfg)
	}
	rt, err := dspex.Start(context.Background(), dspex.WithConfig(cfg))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
	})
	return rt
}

// evOpenAI returns the OpenAI-compatible provider pointed at srv, with a
// connection pool sized for concurrency.
func evOpenAI(tb testing.TB, srv *simlm.Server, concurrency int) lm.LM {
	tb.Helper()
	m, err := lm.NewOpenAI(lm.OpenAIConfig{
		BaseURL:        srv.URL(),
		APIKey:         "sk-evaluate-test",
		Model:          simlm.DefaultModel,
		EmbeddingModel: "simlm-embed",
		HTTPClient:     evHTTPClient(concurrency),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func evHTTPClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency
	tr.MaxIdleConnsPerHost = concurrency
	return &http.Client{Transport: tr}
}

// evQA returns n examples cycling through the shipped dataset, each with
// a unique id.
func evQA(n int) []dataset.Example {
	items := dataset.QA()
	out := make([]dataset.Example, n)
	for i := range out {
		it := items[i%len(items)]
		out[i] = it.Example().WithID(fmt.Sprintf("%s#%d", it.ID, i))
	}
	return out
}

func evSig(tb testing.TB, s string) signature.Signature {
	tb.Helper()
	sig, err := signature.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}
