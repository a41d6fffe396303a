package lm_test

import (
	"context"
	"fmt"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/lm/lmtest"
)

func ExampleNewOpenAI() {
	// A fake OpenAI-compatible server on 127.0.0.1 stands in for
	// https://api.openai.com/v1, Ollama, vLLM...
	srv := lmtest.NewServer(func(lmtest.Call) lmtest.Script {
		return lmtest.Script{Replies: []string{"Paris"}}
	})
	defer srv.Close()

	client, err := lm.NewOpenAI(lm.OpenAIConfig{
		BaseURL: srv.URL(),
		APIKey:  "sk-example",
		Model:   "gpt-4o-mini",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.Chat(context.Background(), lm.Request{
		Messages:    []lm.Message{{Role: lm.RoleUser, Content: "What is the capital of France?"}},
		Temperature: lm.Float(0),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Choices[0].Message.Content)
	fmt.Println(resp.Usage.TotalTokens, "tokens")
	// Output:
	// Paris
	// 7 tokens
}

// InPlaceOf lets code deep on a goroutine's stack call any LM by pointer:
// an LM that is an lm.InPlace (the OpenAI and Anthropic clients, the
// runtime's LMs) takes the call as it is, any other through its Chat.
func ExampleInPlaceOf() {
	echo := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: "echo: " + req.Messages[0].Content}}}}, nil
	})
	req := lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hello"}}}
	var resp lm.Response
	if err := lm.InPlaceOf(echo).ChatInto(context.Background(), &req, &resp); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Choices[0].Message.Content)
	// Output:
	// echo: hello
}
