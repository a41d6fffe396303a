package dspex_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/lm"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestStartRejectsBadOptions(t *testing.T) {
	stub := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return lm.Response{}, nil })
	tests := map[string]dspex.Option{
		"empty provider name": dspex.WithProvider("", stub),
		"slash in name":       dspex.WithProvider("a/b", stub),
		"nil provider":        dspex.WithProvider("a", nil),
		"empty file":          dspex.WithConfigFile(""),
		"nil logger":          dspex.WithLogger(nil),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			rt, err := dspex.Start(context.Background(), dspex.WithConfig(config.Default()), dspex.WithSimulator(), opt)
			if err == nil {
				_ = rt.Close(context.Background())
				t.Fatal("Start accepted it")
			}
		})
	}
}

func TestCustomProviderAndClose(t *testing.T) {
	var got lm.Request
	echo := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		got = req
		return lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: "hi"}}}}, nil
	})
	ctx := context.Background()
	rt, err := dspex.Start(ctx, dspex.WithConfig(config.Default()), dspex.WithProvider("echo", echo))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.LM("echo/m1").Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "x"}}})
	if err != nil || resp.Choices[0].Message.Content != "hi" || got.Model != "m1" {
		t.Fatalf("Chat = %+v, %v (model %q)", resp, err, got.Model)
	}
	st, err := rt.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Providers) != 1 || st.Providers[0] != "echo" {
		t.Fatalf("providers = %v, want [echo] (no simulator when a provider is registered)", st.Providers)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := rt.LM("echo").Chat(ctx, lm.Request{}); !errors.Is(err, dspex.ErrClosed) {
		t.Fatalf("Chat after Close = %v, want ErrClosed", err)
	}
	if err := rt.UpdateConfig(ctx, config.Default()); !errors.Is(err, dspex.ErrClosed) {
		t.Fatalf("UpdateConfig after Close = %v, want ErrClosed", err)
	}
}

// TestStartWithoutProvider checks that a runtime never answers from the
// simulator unless asked to.
func TestStartWithoutProvider(t *testing.T) {
	rt, err := dspex.Start(context.Background(), dspex.WithConfig(config.Default()))
	if err == nil {
		_ = rt.Close(context.Background())
		t.Fatal("Start with no provider and no WithSimulator succeeded")
	}
	if !errors.Is(err, config.ErrNoProvider) {
		t.Errorf("err = %v, want config.ErrNoProvider", err)
	}

	rt, err = dspex.Start(context.Background(), dspex.WithConfig(config.Default()), dspex.WithSimulator())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	if !rt.Simulated() {
		t.Error("Simulated() = false with WithSimulator and no provider")
	}
}
