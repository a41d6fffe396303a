package test

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/telemetry"
)

// TestTelemetryAnthropicProvider: the chat span of an Anthropic provider
// names it as the GenAI conventions do ("anthropic").
func TestTelemetryAnthropicProvider(t *testing.T) {
	srv := rtSim(t)
	cfg := telConfig(srv)
	cfg.Providers = []config.Provider{{Name: "claude", Kind: config.KindAnthropic, BaseURL: srv.URL(), DefaultModel: "claude-sim"}}
	rt, rec, _ := telRuntime(t, cfg)
	qa, err := programs.NewPredict[telQ, telA](programs.WithLM(rt.LM("claude")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qa.Call(rtCtx(t), telQ{Question: "What is the capital of France?"}); err != nil {
		t.Fatal(err)
	}
	trees := telTrees(rec.Ended())
	if len(trees) != 1 {
		t.Fatalf("%d root spans, want 1", len(trees))
	}
	chat := trees[0].child(t, "chat ").span
	for _, key := range []attribute.Key{telemetry.AttrGenAISystem, telemetry.AttrGenAIProviderName} {
		if v, _ := telAttr(chat, key); v.AsString() != "anthropic" {
			t.Errorf("%s = %q, want anthropic", key, v.AsString())
		}
	}
}
