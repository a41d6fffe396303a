package teleprompter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/dspex-go/dspex/lm"
)

// tipLM is a fake LM for the instruction optimizers. It knows the capitals
// of facts and answers in the Chat adapter's format:
//
//   - a proposer prompt (output proposed_instruction) is answered with the
//     tip as the new instruction, or the basic instruction when the tip is
//     "None";
//   - a dataset-summary prompt with a fixed sentence;
//   - a question tersely when the instructions say "concise" or the
//     prompt has demos, verbosely otherwise, like a real model;
//   - any prompt whose instructions say "poison" fails, like a provider
//     error that outlasted its retries.
type tipLM struct {
	calls atomic.Int64
}

var errPoisoned = errors.New("fake provider: poisoned prompt")

func (f *tipLM) Chat(_ context.Context, req lm.Request) (lm.Response, error) {
	f.calls.Add(1)
	system := req.Messages[0].Content
	last := req.Messages[len(req.Messages)-1].Content
	objective := system[strings.LastIndex(system, "your objective is:")+1:]
	reply := func(field, value string) (lm.Response, error) {
		return lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant,
			Content: fmt.Sprintf("[[ ## %s ## ]]\n%s\n\n[[ ## completed ## ]]", field, value)}}},
			Usage: lm.Usage{PromptTokens: 10, CompletionTokens: 2, TotalTokens: 12}}, nil
	}
	switch {
	case strings.Contains(system, "`proposed_instruction`"):
		tip := fieldValue(last, "tip")
		if tip == "None" || tip == "" {
			tip = fieldValue(last, "basic_instruction")
		}
		return reply("proposed_instruction", tip)
	case strings.Contains(system, "`improved_instruction`"): // GEPA's reflection
		return reply("improved_instruction", "Answer concisely.")
	case strings.Contains(system, "`rule`"): // SIMBA's rule
		return reply("rule", "Be concise.")
	case strings.Contains(system, "`dataset_observations`"):
		return reply("dataset_observations", "Questions about the capitals of countries; the answers are city names.")
	case strings.Contains(strings.ToLower(objective), "poison"):
		return lm.Response{}, errPoisoned
	}
	answer := "I do not know"
	for country, capital := range facts {
		if strings.Contains(last, "capital of "+country) {
			answer = capital
		}
	}
	if !strings.Contains(strings.ToLower(objective), "concise") && len(req.Messages) <= 2 {
		answer = "I believe the answer is " + answer + "."
	}
	return reply("answer", answer)
}

// fieldValue returns the value of a [[ ## name ## ]] block of a message.
func fieldValue(msg, name string) string {
	head := "[[ ## " + name + " ## ]]\n"
	i := strings.Index(msg, head)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(head):]
	if j := strings.Index(rest, "\n\n"); j >= 0 {
		rest = rest[:j]
	}
	return strings.TrimSpace(rest)
}
