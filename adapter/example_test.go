package adapter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

func ExampleChat_Format() {
	sig, err := signature.New("", "",
		[]signature.Field{{Name: "question"}},
		[]signature.Field{{Name: "answer"}})
	if err != nil {
		panic(err)
	}
	demos := []adapter.Values{{"question": "What is the capital of France?", "answer": "Paris"}}
	req, err := adapter.Chat{}.Format(sig, demos, adapter.Values{"question": "What is the capital of Italy?"})
	if err != nil {
		panic(err)
	}
	for _, m := range req.Messages {
		fmt.Printf("--- %s\n", m.Role)
		// Trailing spaces are trimmed for display: the objective line ends
		// with one, as in DSPy.
		for _, line := range strings.Split(m.Content, "\n") {
			fmt.Println(strings.TrimRight(line, " "))
		}
	}
	// Output:
	// --- system
	// Your input fields are:
	// 1. `question` (str):
	// Your output fields are:
	// 1. `answer` (str):
	// All interactions will be structured in the following way, with the appropriate values filled in.
	//
	// [[ ## question ## ]]
	// {question}
	//
	// [[ ## answer ## ]]
	// {answer}
	//
	// [[ ## completed ## ]]
	// In adhering to this structure, your objective is:
	//         Given the fields `question`, produce the fields `answer`.
	// --- user
	// [[ ## question ## ]]
	// What is the capital of France?
	// --- assistant
	// [[ ## answer ## ]]
	// Paris
	//
	// [[ ## completed ## ]]
	//
	// --- user
	// [[ ## question ## ]]
	// What is the capital of Italy?
	//
	// Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.
}

func ExampleChat_Parse() {
	sig, err := signature.New("", "",
		[]signature.Field{{Name: "question"}},
		[]signature.Field{
			{Name: "answer"},
			{Name: "year", Type: signature.TypeInt},
			{Name: "sources", Type: signature.ListOf(signature.TypeString)},
		})
	if err != nil {
		panic(err)
	}
	completion := `[[ ## answer ## ]]
William Shakespeare

[[ ## year ## ]]
1,600

[[ ## sources ## ]]
["First Folio", "Quarto"]

[[ ## completed ## ]]`
	out, err := adapter.Chat{}.Parse(sig, completion)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q %T(%v) %#v\n", out["answer"], out["year"], out["year"], out["sources"])

	_, err = adapter.Chat{}.Parse(sig, "[[ ## answer ## ]]\nShakespeare\n\n[[ ## year ## ]]\nlong ago")
	var pe *adapter.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Field, errors.Is(err, adapter.ErrInvalidValue))
	}
	// Output:
	// "William Shakespeare" int64(1600) []interface {}{"First Folio", "Quarto"}
	// year true
}

func ExampleCall() {
	sig, err := signature.New("", "",
		[]signature.Field{{Name: "question"}},
		[]signature.Field{{Name: "answer"}})
	if err != nil {
		panic(err)
	}
	// A stand-in LM that always gives the same reply.
	model := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{
			Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: "[[ ## answer ## ]]\nRome\n\n[[ ## completed ## ]]"}}},
			Usage:   lm.Usage{PromptTokens: 90, CompletionTokens: 10, TotalTokens: 100},
		}, nil
	})
	res, err := adapter.Call(context.Background(), model, adapter.Chat{}, sig, nil,
		adapter.Values{"question": "What is the capital of Italy?"},
		lm.Request{Model: "gpt-4o-mini", Temperature: lm.Float(0)})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Outputs[0]["answer"], res.Usage.TotalTokens, res.Request.Model)
	// Output:
	// Rome 100 gpt-4o-mini
}
