package teleprompter_test

import (
	"context"
	"hash/fnv"
	"strings"
	"sync"
	"testing"

	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

// bagEmbedder embeds a text as a hashed bag of its words.
type bagEmbedder struct {
	mu    sync.Mutex
	calls int
}

func (b *bagEmbedder) Embed(_ context.Context, req lm.EmbedRequest) (lm.EmbedResponse, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	out := lm.EmbedResponse{Vectors: make([][]float32, len(req.Inputs))}
	for i, text := range req.Inputs {
		v := make([]float32, 32)
		for _, w := range strings.Fields(strings.ToLower(strings.Trim(text, "?"))) {
			h := fnv.New32a()
			h.Write([]byte(strings.Trim(w, "?:")))
			v[h.Sum32()%32]++
		}
		out.Vectors[i] = v
	}
	return out, nil
}

func TestKNNFewShot(t *testing.T) {
	model := &fakeLM{}
	student := programs.MustPredict[QA, Answer](programs.WithLM(model))
	train := capitalSet("France", "Japan", "Italy")
	emb := &bagEmbedder{}
	for _, boot := range []bool{false, true} {
		opts := []teleprompter.KNNFewShotOption{}
		if boot {
			opts = append(opts, teleprompter.WithBootstrap(evaluate.ExactMatch("answer")), quiet)
		}
		knn, err := teleprompter.NewKNNFewShot(1, emb, opts...)
		if err != nil {
			t.Fatal(err)
		}
		c, err := knn.Compile(context.Background(), student, train)
		if err != nil {
			t.Fatal(err)
		}
		before := len(model.requests())
		// The nearest training question to "capital of France" is France's.
		pred, err := c.Forward(context.Background(), programs.Values{"question": "What is the capital of France?"})
		if err != nil {
			t.Fatal(err)
		}
		if pred.Values["answer"] != "Paris" {
			t.Errorf("bootstrap=%v: answer %v (a demo should make it terse)", boot, pred.Values["answer"])
		}
		req := model.requests()[before]
		if len(req.Messages) != 4 || !strings.Contains(req.Messages[1].Content, "France") {
			t.Errorf("bootstrap=%v: want one demo, France's; messages %v", boot, req.Messages)
		}
		if rep := c.Report(); boot && rep.Bootstrapped != 3 {
			t.Errorf("report %+v", rep)
		}
	}
	if _, err := teleprompter.NewKNNFewShot(0, emb); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, err := teleprompter.NewKNNFewShot(1, nil); err == nil {
		t.Error("nil embedder accepted")
	}
}
