package test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/actors"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/teleprompter"
)

const embedID = "sim/sim-embed"

// embedRuntime is a runtime on srv with the response cache on and up to
// three attempts per request.
func embedRuntime(t *testing.T, srv *simlm.Server) *dspex.Runtime {
	t.Helper()
	cfg := rtConfig(srv)
	cfg.Cache.Enabled = true
	cfg.Retry.MaxAttempts = 3
	cfg.Retry.Initial = config.Duration(time.Millisecond)
	cfg.Retry.Max = config.Duration(2 * time.Millisecond)
	return rtStart(t, dspex.WithConfig(cfg))
}

func embedClient(t *testing.T, rt *dspex.Runtime) dspex.ClientStatus {
	t.Helper()
	st, err := rt.Status(rtCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(st.Clients, func(c dspex.ClientStatus) bool { return c.ID == embedID })
	if i < 0 {
		t.Fatalf("no client %s in %+v", embedID, st.Clients)
	}
	return st.Clients[i]
}

// TestRuntimeEmbedderCache: a repeated embedding request is answered from
// the client actor's cache, without a second HTTP request.
func TestRuntimeEmbedderCache(t *testing.T) {
	srv := rtSim(t)
	rt := embedRuntime(t, srv)
	emb := rt.Embedder(embedID)
	req := lm.EmbedRequest{Inputs: []string{"What is the capital of France?", "two plus two"}}
	first, err := emb.Embed(rtCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Vectors) != 2 || len(first.Vectors[0]) != simlm.DefaultEmbeddingDim || first.Usage.PromptTokens == 0 {
		t.Fatalf("first response %+v", first)
	}
	second, err := emb.Embed(rtCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("cached response differs (-first +second):\n%s", diff)
	}
	if st := embedClient(t, rt); st.CacheHits != 1 || st.CacheMisses != 1 || st.Requests != 2 {
		t.Errorf("client status %+v, want 1 hit and 1 miss of 2 requests", st)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("the simulator saw %d requests, want 1", n)
	}
	// Other inputs, or a chat request with the same text, are not hits.
	if _, err := emb.Embed(rtCtx(t), lm.EmbedRequest{Inputs: req.Inputs[:1]}); err != nil {
		t.Fatal(err)
	}
	if st := embedClient(t, rt); st.CacheHits != 1 {
		t.Errorf("other inputs hit the cache: %+v", st)
	}
}

// TestRuntimeEmbedderRetries429: an embedding request refused with 429 is
// retried by the runtime and succeeds.
func TestRuntimeEmbedderRetries429(t *testing.T) {
	srv := rtSim(t)
	rt := embedRuntime(t, srv)
	srv.FailNext(1, 429)
	resp, err := rt.Embedder(embedID).Embed(rtCtx(t), lm.EmbedRequest{Inputs: []string{"hello"}})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(resp.Vectors) != 1 {
		t.Fatalf("response %+v", resp)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if diff := cmp.Diff([]int{429, 200}, statuses); diff != "" {
		t.Errorf("simulator statuses (-want +got):\n%s", diff)
	}
}

// TestRuntimeEmbedderWithoutEmbeddings: embedding on a provider that
// cannot embed fails with ErrNoEmbedder at once, without tripping the
// breaker that guards its chat requests.
func TestRuntimeEmbedderWithoutEmbeddings(t *testing.T) {
	srv := rtSim(t)
	cfg := rtConfig(srv)
	cfg.Providers = []config.Provider{{Name: "claude", Kind: config.KindAnthropic, BaseURL: srv.URL(), DefaultModel: "claude-sim"}}
	cfg.Breaker.Enabled = true
	cfg.Breaker.ConsecutiveFailures = 1
	cfg.Retry.MaxAttempts = 3
	rt := rtStart(t, dspex.WithConfig(cfg))
	for range 3 {
		_, err := rt.Embedder("claude").Embed(rtCtx(t), lm.EmbedRequest{Inputs: []string{"x"}})
		if !errors.Is(err, actors.ErrNoEmbedder) {
			t.Fatalf("error %v, want actors.ErrNoEmbedder", err)
		}
	}
	if _, err := rt.LM("claude").Chat(rtCtx(t), rtAsk("What is the capital of France?")); err != nil {
		t.Fatalf("chat after failed embeddings: %v", err)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("the simulator saw %d requests, want 1 (the chat)", n)
	}
}

// TestKNNFewShotOnRuntimeEmbedder: KNNFewShot embeds through the runtime;
// compiling twice embeds the training set once.
func TestKNNFewShotOnRuntimeEmbedder(t *testing.T) {
	srv := rtSim(t)
	rt := embedRuntime(t, srv)
	train, _ := dataset.TrainDev(0, 20)
	trainset := dataset.Examples(train)
	prog, err := programs.NewPredictFrom(evSig(t, "question -> answer"), programs.WithLM(rt.LM("sim")))
	if err != nil {
		t.Fatal(err)
	}
	knn, err := teleprompter.NewKNNFewShot(2, rt.Embedder(embedID))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := knn.Compile(context.Background(), prog, trainset); err != nil {
			t.Fatal(err)
		}
	}
	if st := embedClient(t, rt); st.CacheHits == 0 || st.CacheMisses == 0 {
		t.Errorf("client status %+v, want the second compile served from the cache", st)
	}
}
