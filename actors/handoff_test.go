package actors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dspex-go/dspex/lm"
)

// TestCloseFailsAndWaitsForHandedBackRequests checks that Close cancels a
// request running on its caller's goroutine with ErrClosed and returns
// only once it has ended.
func TestCloseFailsAndWaitsForHandedBackRequests(t *testing.T) {
	started, ended := make(chan struct{}), make(chan struct{})
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		close(started)
		<-ctx.Done()
		close(ended)
		return lm.Response{}, context.Cause(ctx)
	})
	h := newHarness(t, testConfig(), map[string]lm.LM{"fake": provider})
	errc := make(chan error, 1)
	go func() {
		_, err := h.clients.Chat(context.Background(), "fake", hello("x"), time.Minute)
		errc <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.clients.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	default:
		t.Fatal("Close returned before the running request ended")
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Chat = %v, want ErrClosed", err)
	}
	if _, err := h.clients.Chat(context.Background(), "fake", hello("y"), time.Minute); !errors.Is(err, ErrClosed) {
		t.Fatalf("Chat after Close = %v, want ErrClosed", err)
	}
}

// embedProbe is a provider that reports whether its Embed saw the
// runtime's embedding marker in its context.
type embedProbe struct{ sawMarker chan bool }

func (embedProbe) Chat(context.Context, lm.Request) (lm.Response, error) {
	return lm.Response{}, errors.New("not a chat model")
}

func (p embedProbe) Embed(ctx context.Context, req lm.EmbedRequest) (lm.EmbedResponse, error) {
	p.sawMarker <- ctx.Value(embedKey{}) != nil
	return lm.EmbedResponse{Vectors: make([][]float32, len(req.Inputs))}, nil
}

// TestEmbedMarkerStaysInTheRuntime checks that a provider's context, now
// derived from the caller's, does not carry the marker that turns a Chat
// into an embedding request: a provider that calls the runtime in turn
// must make plain chats.
func TestEmbedMarkerStaysInTheRuntime(t *testing.T) {
	probe := embedProbe{sawMarker: make(chan bool, 1)}
	h := newHarness(t, testConfig(), map[string]lm.LM{"emb": probe})
	if _, err := h.clients.Embed(context.Background(), "emb/e", lm.EmbedRequest{Inputs: []string{"a"}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if <-probe.sawMarker {
		t.Fatal("the provider's context carries embedKey")
	}
}
