package test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/supervision"
)

// rtPanicky wraps a real provider and panics on requests that contain
// "PANIC", as a buggy provider would.
func rtPanicky(tb testing.TB, srv *simlm.Server) lm.LM {
	real, err := lm.NewOpenAI(lm.OpenAIConfig{
		Provider:   "flaky",
		BaseURL:    srv.URL(),
		APIKey:     "sk-runtime-test",
		Model:      simlm.DefaultModel,
		HTTPClient: rtHTTPClient(tb),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "PANIC") {
			panic("provider bug")
		}
		return real.Chat(ctx, req)
	})
}

func TestRuntimeClientPanicRestartsAndKeepsCache(t *testing.T) {
	srv := rtSim(t)
	cfg := rtConfig(srv)
	cfg.Providers = nil
	cfg.Cache.Enabled = true
	events := make(rtEvents, 64)
	rt := rtStart(t, dspex.WithConfig(cfg),
		dspex.WithProvider("flaky", rtPanicky(t, srv)),
		dspex.WithSupervisionObserver(events.observe))
	m := rt.LM("flaky/" + simlm.DefaultModel)

	first, err := m.Chat(rtCtx(t), rtAsk("What is the capital of France?"))
	if err != nil || first.Cached {
		t.Fatalf("first call = %+v, %v", first, err)
	}
	_, err = m.Chat(rtCtx(t), rtAsk("PANIC"))
	if !errors.Is(err, dspex.ErrProviderPanic) {
		t.Fatalf("panicking call = %v, want ErrProviderPanic", err)
	}
	var pe *lm.ProviderError
	if !errors.As(err, &pe) || pe.Provider != "flaky" {
		t.Fatalf("panicking call = %#v, want a *lm.ProviderError of flaky", err)
	}
	events.wait(t, supervision.EventRestart, "flaky:"+simlm.DefaultModel)

	if _, err := m.Chat(rtCtx(t), rtAsk("What is 2+2?")); err != nil {
		t.Fatalf("call after restart: %v", err)
	}
	served := srv.Stats().Requests
	again, err := m.Chat(rtCtx(t), rtAsk("What is the capital of France?"))
	if err != nil || !again.Cached || again.Choices[0].Message.Content != first.Choices[0].Message.Content {
		t.Fatalf("repeated call = %+v, %v; want the cached first reply", again, err)
	}
	if n := srv.Stats().Requests; n != served {
		t.Fatalf("simulator served %d requests, want %d: the cache did not survive the restart", n, served)
	}
	st, err := rt.Status(rtCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clients) != 1 || st.Clients[0].Restarts != 1 || st.Clients[0].CacheHits != 1 {
		t.Fatalf("status clients = %+v, want one client restarted once with one cache hit", st.Clients)
	}
	if st.ClientManagerRestarts != 0 {
		t.Fatalf("ClientManager restarted %d times, want 0", st.ClientManagerRestarts)
	}
}

func TestRuntimeClientRestartIntensityEscalates(t *testing.T) {
	srv := rtSim(t)
	cfg := rtConfig(srv)
	cfg.Providers = nil
	cfg.Cache.Enabled = true
	cfg.Supervision.MaxRestarts = 1
	cfg.Supervision.Within = config.Duration(time.Hour)
	events := make(rtEvents, 64)
	rt := rtStart(t, dspex.WithConfig(cfg),
		dspex.WithProvider("flaky", rtPanicky(t, srv)),
		dspex.WithSupervisionObserver(events.observe))
	m := rt.LM("flaky")
	client := "flaky"

	cached, err := m.Chat(rtCtx(t), rtAsk("What is the capital of Japan?"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := m.Chat(rtCtx(t), rtAsk("PANIC %d", i)); !errors.Is(err, dspex.ErrProviderPanic) {
			t.Fatalf("panic %d: %v", i, err)
		}
		if i == 0 {
			events.wait(t, supervision.EventRestart, client)
		}
	}
	// The second failure exceeds the intensity (1 restart): the client
	// spec escalates, and the root supervisor restarts the ClientManager.
	events.wait(t, supervision.EventEscalate, client)
	events.wait(t, supervision.EventRestart, dspex.ActorClients)

	st, err := rt.Status(rtCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.ClientManagerRestarts != 1 {
		t.Fatalf("ClientManager restarts = %d, want 1", st.ClientManagerRestarts)
	}
	if c := st.Supervision[client]; c.Restarts != 1 || c.Escalations != 1 {
		t.Fatalf("client supervision counts = %+v, want 1 restart and 1 escalation", c)
	}
	// The re-spawned client serves, from the cache that outlived it all.
	served := srv.Stats().Requests
	again, err := m.Chat(rtCtx(t), rtAsk("What is the capital of Japan?"))
	if err != nil || !again.Cached || again.Choices[0].Message.Content != cached.Choices[0].Message.Content {
		t.Fatalf("after escalation = %+v, %v; want a cache hit", again, err)
	}
	if _, err := m.Chat(rtCtx(t), rtAsk("What is 3+3?")); err != nil {
		t.Fatalf("fresh request after escalation: %v", err)
	}
	if n := srv.Stats().Requests; n != served+1 {
		t.Fatalf("simulator served %d requests, want %d", n, served+1)
	}
}

func TestRuntimeConfigManagerRestartsWithLastGoodConfig(t *testing.T) {
	srv := rtSim(t)
	events := make(rtEvents, 64)
	rt := rtStart(t, dspex.WithConfig(rtConfig(srv)), dspex.WithSupervisionObserver(events.observe))

	good := rt.Config()
	good.Retry.MaxAttempts = 4
	if err := rt.UpdateConfig(rtCtx(t), good); err != nil {
		t.Fatal(err)
	}
	if err := rt.Kill(rtCtx(t), dspex.ActorConfig); err != nil {
		t.Fatal(err)
	}
	// This update is queued behind the crash: the restarted ConfigManager
	// rejects it and keeps the last good configuration.
	bad := good
	bad.Retry.MaxAttempts = -1
	var ve *config.ValidationError
	if err := rt.UpdateConfig(rtCtx(t), bad); !errors.As(err, &ve) || ve.Key != "retry.max_attempts" {
		t.Fatalf("invalid update = %v, want a ValidationError for retry.max_attempts", err)
	}
	events.wait(t, supervision.EventRestart, dspex.ActorConfig)
	if got := rt.Config().Retry.MaxAttempts; got != 4 {
		t.Fatalf("after restart MaxAttempts = %d, want the last good 4", got)
	}
	st, err := rt.Status(rtCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.ConfigRestarts != 1 {
		t.Fatalf("ConfigManager restarts = %d, want 1", st.ConfigRestarts)
	}

	// The restarted ConfigManager still reaches the clients: with retries
	// back on, one failure is retried away.
	good.Retry.MaxAttempts = 2
	good.Retry.Initial = config.Duration(time.Millisecond)
	if err := rt.UpdateConfig(rtCtx(t), good); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, 500)
	if _, err := rt.LM("sim").Chat(rtCtx(t), rtAsk("What is 1+1?")); err != nil {
		t.Fatalf("request after update: %v", err)
	}
}
