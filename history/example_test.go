package history_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
)

// ExampleHistory_Inspect records the calls of a plain LM and prints the
// last one as DSPy's inspect_history does (plain text: stdout is not a
// terminal here).
func ExampleHistory_Inspect() {
	echo := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{
			Model:   "gpt-4o-mini",
			Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: "Paris."}, FinishReason: "stop"}},
			Usage:   lm.Usage{PromptTokens: 20, CompletionTokens: 2, TotalTokens: 22},
		}, nil
	})
	h := history.New(100)
	model := history.Wrap(echo, "openai", h, history.WithClock(fixedClock(time.Second)))

	_, err := model.Chat(context.Background(), lm.Request{Messages: []lm.Message{
		{Role: lm.RoleSystem, Content: "Answer in one word."},
		{Role: lm.RoleUser, Content: "What is the capital of France?"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = h.Inspect(os.Stdout, 1)
	// Output:
	//
	//
	//
	// [2026-01-02T03:04:06Z] openai/gpt-4o-mini
	//
	// System message:
	//
	// Answer in one word.
	//
	//
	// User message:
	//
	// What is the capital of France?
	//
	//
	// Response:
	//
	// Paris.
	//
	// Usage: 20 prompt + 2 completion = 22 tokens · cost $0.000004 · 1s
}
