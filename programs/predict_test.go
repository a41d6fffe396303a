package programs_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/lm/lmtest"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

type ptIn struct {
	Question string `dspy:"question"`
}

type ptOut struct {
	Answer     string  `dspy:"answer"`
	Confidence float64 `dspy:"confidence"`
	Votes      int     `dspy:"votes"`
}

func TestPredictTypedOutput(t *testing.T) {
	fake := &recordingLM{f: func(lm.Request) (string, error) {
		return chatReply("answer", "Paris", "confidence", "0.9", "votes", "3"), nil
	}}
	p, err := programs.NewPredict[ptIn, ptOut](programs.WithLM(fake), programs.WithTemperature(0.3))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Call(context.Background(), ptIn{Question: "Capital of France?"}, programs.WithMaxTokens(50))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ptOut{Answer: "Paris", Confidence: 0.9, Votes: 3}, got); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if reqs[0].Temperature == nil || *reqs[0].Temperature != 0.3 || reqs[0].MaxTokens != 50 {
		t.Errorf("request sampling = temperature %v, max tokens %d; want 0.3 (construction default) and 50 (call)", reqs[0].Temperature, reqs[0].MaxTokens)
	}
	if !strings.Contains(lastUserMsg(reqs[0]), "Capital of France?") {
		t.Errorf("last user message does not hold the input:\n%s", lastUserMsg(reqs[0]))
	}
}

func TestPredictErrors(t *testing.T) {
	sig := signature.MustParse("question -> answer, votes: int")
	tests := []struct {
		name   string
		reply  string
		err    error
		inputs programs.Values
		noLM   bool
		check  func(t *testing.T, err error)
	}{
		{
			name: "no LM", noLM: true, inputs: programs.Values{"question": "q"},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, lm.ErrNoLM) {
					t.Errorf("err = %v, want lm.ErrNoLM", err)
				}
			},
		},
		{
			name: "missing input", inputs: programs.Values{"other": "q"},
			check: func(t *testing.T, err error) {
				var mi *adapter.MissingInputError
				if !errors.As(err, &mi) || mi.Field != "question" {
					t.Errorf("err = %v, want *adapter.MissingInputError for question", err)
				}
			},
		},
		{
			name: "reply missing a field", inputs: programs.Values{"question": "q"}, reply: chatReply("answer", "x"),
			check: func(t *testing.T, err error) {
				var pe *adapter.ParseError
				if !errors.As(err, &pe) || pe.Field != "votes" || !errors.Is(err, adapter.ErrMissingField) {
					t.Errorf("err = %v, want *adapter.ParseError for votes wrapping ErrMissingField", err)
				}
			},
		},
		{
			name: "uncoercible value", inputs: programs.Values{"question": "q"}, reply: chatReply("answer", "x", "votes", "many"),
			check: func(t *testing.T, err error) {
				var pe *adapter.ParseError
				if !errors.As(err, &pe) || pe.Field != "votes" || pe.Raw == "" {
					t.Errorf("err = %v, want *adapter.ParseError for votes with the raw text", err)
				}
			},
		},
		{
			name: "provider error passes through", inputs: programs.Values{"question": "q"},
			err: &lm.ProviderError{Provider: "fake", Status: 503, Retryable: true},
			check: func(t *testing.T, err error) {
				var pe *lm.ProviderError
				if !errors.As(err, &pe) || pe.Status != 503 || !lm.IsRetryable(err) {
					t.Errorf("err = %v, want retryable *lm.ProviderError 503", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []programs.Option
			if !tt.noLM {
				opts = append(opts, programs.WithLM(&recordingLM{f: func(lm.Request) (string, error) { return tt.reply, tt.err }}))
			}
			p, err := programs.NewPredictFrom(sig, append(opts, programs.WithName("qa"))...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Forward(context.Background(), tt.inputs)
			if err == nil {
				t.Fatal("Forward succeeded, want an error")
			}
			var perr *programs.Error
			if !errors.As(err, &perr) || perr.Predictor != "qa" {
				t.Errorf("err = %v, want a *programs.Error naming predictor qa", err)
			}
			tt.check(t, err)
		})
	}
}

// TestPredictProviderHTTPErrors checks that 4xx and 5xx answers of a real
// OpenAI-compatible HTTP server reach the caller as typed provider errors.
func TestPredictProviderHTTPErrors(t *testing.T) {
	tests := []struct {
		status    int
		retryable bool
	}{
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusNotFound, false},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusServiceUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := lmtest.NewServer(func(lmtest.Call) lmtest.Script {
				return lmtest.Script{Status: tt.status, Error: "scripted failure"}
			})
			defer srv.Close()
			model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), APIKey: "sk-secret-key", Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			p := programs.MustPredict[ptIn, ptOut](programs.WithLM(model))
			_, err = p.Call(context.Background(), ptIn{Question: "q"})
			var pe *lm.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *lm.ProviderError", err)
			}
			if pe.Status != tt.status || pe.Retryable != tt.retryable {
				t.Errorf("ProviderError status %d retryable %v, want %d %v", pe.Status, pe.Retryable, tt.status, tt.retryable)
			}
			if strings.Contains(err.Error(), "sk-secret-key") {
				t.Errorf("error text reveals the API key: %v", err)
			}
		})
	}
}

func TestPredictLMResolution(t *testing.T) {
	reply := func(tag string) *recordingLM {
		return &recordingLM{f: func(lm.Request) (string, error) { return chatReply("answer", tag), nil }}
	}
	own, call, fromCtx := reply("own"), reply("call"), reply("ctx")
	sig := signature.MustParse("question -> answer")
	ctx := lm.NewContext(context.Background(), fromCtx)
	tests := []struct {
		name string
		opts []programs.Option
		call []programs.CallOption
		want string
	}{
		{"context LM when the predictor has none", nil, nil, "ctx"},
		{"predictor LM over context", []programs.Option{programs.WithLM(own)}, nil, "own"},
		{"call LM over predictor", []programs.Option{programs.WithLM(own)}, []programs.CallOption{programs.WithLM(call)}, "call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := programs.MustPredictFrom(sig, tt.opts...)
			pred, err := p.Call(ctx, programs.Values{"question": "q"}, tt.call...)
			if err != nil {
				t.Fatal(err)
			}
			if got := pred.Values["answer"]; got != tt.want {
				t.Errorf("answer = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPredictOptionErrors(t *testing.T) {
	sig := signature.MustParse("question -> answer")
	tests := []struct {
		name string
		opt  programs.Option
	}{
		{"temperature below 0", programs.WithTemperature(-0.1)},
		{"temperature above 2", programs.WithTemperature(2.5)},
		{"zero max tokens", programs.WithMaxTokens(0)},
		{"zero n", programs.WithN(0)},
		{"nil LM", programs.WithLM(nil)},
		{"nil adapter", programs.WithAdapter(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := programs.NewPredictFrom(sig, tt.opt); err == nil {
				t.Error("NewPredictFrom accepted a bad option")
			}
		})
	}
	if _, err := programs.NewPredictFrom(signature.Signature{}); err == nil {
		t.Error("NewPredictFrom accepted the zero signature")
	}
}

func TestPredictDemosAndImmutability(t *testing.T) {
	fake := &recordingLM{f: func(lm.Request) (string, error) {
		return chatReply("answer", "Tokyo", "confidence", "1", "votes", "1"), nil
	}}
	base := programs.MustPredict[ptIn, ptOut](programs.WithLM(fake))
	withDemos, err := base.WithDemos(programs.Demo[ptIn, ptOut]{
		In:  ptIn{Question: "Capital of Italy?"},
		Out: ptOut{Answer: "Rome", Confidence: 1, Votes: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(base.Predictor().Demos()); n != 0 {
		t.Fatalf("WithDemos changed the original: %d demos", n)
	}
	want := []programs.Values{{"question": "Capital of Italy?", "answer": "Rome", "confidence": 1.0, "votes": 2}}
	if diff := cmp.Diff(want, withDemos.Predictor().Demos()); diff != "" {
		t.Errorf("demos (-want +got):\n%s", diff)
	}
	if _, err := withDemos.Call(context.Background(), ptIn{Question: "Capital of Japan?"}); err != nil {
		t.Fatal(err)
	}
	msgs := fake.requests()[0].Messages
	var sawDemo bool
	for _, m := range msgs {
		if m.Role == lm.RoleAssistant && strings.Contains(m.Content, "Rome") {
			sawDemo = true
		}
	}
	if !sawDemo {
		t.Errorf("the demo's answer is not in the prompt: %+v", msgs)
	}

	// A predictor of another shape cannot back the typed Predict.
	other := programs.MustPredictFrom(signature.MustParse("question -> reply"))
	if _, err := base.WithPredictor(other); err == nil {
		t.Error("WithPredictor accepted a predictor of another shape")
	}
	renamed, err := base.WithPredictor(base.Predictor().WithInstructions("Be brief."))
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Signature().Instructions() != "Be brief." || base.Signature().Instructions() == "Be brief." {
		t.Error("WithPredictor did not return an independent copy with the new instructions")
	}
}

func TestPredictCompletions(t *testing.T) {
	model := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		var resp lm.Response
		for i, a := range []string{"Paris", "Lyon", "Nice"}[:req.N] {
			resp.Choices = append(resp.Choices, lm.Choice{Message: lm.Message{Role: lm.RoleAssistant,
				Content: chatReply("answer", a, "confidence", "0.5", "votes", string(rune('1'+i)))}})
		}
		resp.Usage = lm.Usage{PromptTokens: 10, CompletionTokens: 3, TotalTokens: 13}
		return resp, nil
	})
	p := programs.MustPredict[ptIn, ptOut](programs.WithLM(model))
	outs, pred, err := p.Completions(context.Background(), ptIn{Question: "q"}, programs.WithN(3))
	if err != nil {
		t.Fatal(err)
	}
	want := []ptOut{{"Paris", 0.5, 1}, {"Lyon", 0.5, 2}, {"Nice", 0.5, 3}}
	if diff := cmp.Diff(want, outs); diff != "" {
		t.Errorf("completions (-want +got):\n%s", diff)
	}
	if pred.Usage.TotalTokens != 13 {
		t.Errorf("usage = %+v", pred.Usage)
	}
}

func TestPredictTrace(t *testing.T) {
	fake := &recordingLM{f: func(lm.Request) (string, error) { return chatReply("answer", "A"), nil }}
	p := programs.MustPredictFrom(signature.MustParse("question -> answer"), programs.WithLM(fake), programs.WithName("qa"))
	ctx, trace := programs.WithTrace(context.Background())
	if _, err := p.Forward(ctx, programs.Values{"question": "q1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Forward(context.Background(), programs.Values{"question": "untraced"}); err != nil {
		t.Fatal(err)
	}
	entries := trace.Entries()
	if len(entries) != 1 || entries[0].Predictor.Name() != "qa" || entries[0].Outputs["answer"] != "A" {
		t.Errorf("trace = %+v, want one entry of qa answering A", entries)
	}
}
