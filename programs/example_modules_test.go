package programs_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// scripted is a fake LM answering with a function of the system and last
// user messages.
func scriptedLM(f func(system, user string) string) lm.LM {
	return lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return fakeResponse(f(systemMsg(req), lastUserMsg(req))), nil
	})
}

type CityQuestion struct {
	Question string
}

type CityAnswer struct {
	Answer string `desc:"a few words"`
}

func ExampleNewChainOfThought() {
	model := scriptedLM(func(_, _ string) string {
		return chatReply("reasoning", "France's capital city is Paris.", "answer", "Paris")
	})
	cot := programs.MustChainOfThought[CityQuestion, CityAnswer](programs.WithLM(model))

	out, err := cot.Call(context.Background(), CityQuestion{Question: "What is the capital of France?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("reasoning:", out.Reasoning)
	fmt.Println("answer:", out.Out.Answer)
	fmt.Println("signature:", cot.Signature())
	// Output:
	// reasoning: France's capital city is Paris.
	// answer: Paris
	// signature: question: str -> reasoning: str, answer: str
}

type WeatherArgs struct {
	City string `json:"city" desc:"the city's name"`
}

func ExampleNewReAct() {
	weather := programs.MustTool("weather", "Returns today's weather in a city.",
		func(_ context.Context, a WeatherArgs) (string, error) {
			if a.City != "Oslo" {
				return "", fmt.Errorf("unknown city %q", a.City)
			}
			return "snow, -3°C", nil
		})
	// The fake LM acts as the agent: it calls the tool with a misspelt city,
	// then with the right one, then finishes.
	model := scriptedLM(func(system, user string) string {
		if !strings.Contains(system, "next_tool_name") {
			return chatReply("reasoning", "The tool reports snow.", "answer", "Snow, -3°C")
		}
		switch strings.Count(user, "[[ ## observation_") {
		case 0:
			return chatReply("next_thought", "Ask the weather tool.", "next_tool_name", "weather", "next_tool_args", `{"city": "Olso"}`)
		case 1:
			return chatReply("next_thought", "I misspelt Oslo.", "next_tool_name", "weather", "next_tool_args", `{"city": "Oslo"}`)
		}
		return chatReply("next_thought", "I have the weather.", "next_tool_name", "finish", "next_tool_args", `{}`)
	})
	agent, err := programs.NewReAct[CityQuestion, CityAnswer]([]programs.Tool{weather}, programs.WithLM(model), programs.WithMaxIters(5))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, traj, err := agent.Call(context.Background(), CityQuestion{Question: "What is the weather in Oslo?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range traj {
		fmt.Printf("%s %v -> %s\n", s.Tool, s.Args, s.Observation)
	}
	fmt.Println("answer:", out.Answer)
	// Output:
	// weather map[city:Olso] -> Failed to execute: tool weather: unknown city "Olso"
	// weather map[city:Oslo] -> snow, -3°C
	// finish map[] -> Completed.
	// answer: Snow, -3°C
}

func ExampleNewBestOfN() {
	// A fake LM whose answer depends on the rollout, as sampling would.
	model := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		words := []string{"It is most likely Paris, I would say.", "Paris, France.", "Paris"}
		return fakeResponse(chatReply("answer", words[req.RolloutID%3])), nil
	})
	qa := programs.MustPredict[CityQuestion, CityAnswer](programs.WithLM(model))
	oneWord := func(_ context.Context, _ programs.Values, pred programs.Prediction) (float64, error) {
		if len(strings.Fields(fmt.Sprint(pred.Values["answer"]))) == 1 {
			return 1, nil
		}
		return 0, nil
	}
	best, err := programs.NewBestOfN(qa, 5, oneWord, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := best.Forward(context.Background(), programs.Values{"question": "What is the capital of France?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pred.Values["answer"])
	// Output:
	// Paris
}

func ExampleNewRefine() {
	// The program's LM answers tersely only when its instructions carry a hint.
	model := scriptedLM(func(system, _ string) string {
		if strings.Contains(system, "Hint from an earlier attempt") {
			return chatReply("answer", "Paris")
		}
		return chatReply("answer", "I believe the answer is Paris.")
	})
	// The critic's LM advises the predictor named "self".
	critic := scriptedLM(func(_, _ string) string {
		return chatReply("discussion", "The answer has extra words.", "advice", `{"self": "Reply with the name only."}`)
	})
	qa := programs.MustPredict[CityQuestion, CityAnswer](programs.WithLM(model))
	exact := func(_ context.Context, _ programs.Values, pred programs.Prediction) (float64, error) {
		if pred.Values["answer"] == "Paris" {
			return 1, nil
		}
		return 0, nil
	}
	refine, err := programs.NewRefine(qa, 3, exact, 1, programs.WithLM(critic))
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := refine.Forward(context.Background(), programs.Values{"question": "What is the capital of France?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pred.Values["answer"])
	// Output:
	// Paris
}

func ExampleNewMultiChainComparison() {
	model := scriptedLM(func(system, user string) string {
		if strings.Contains(system, "reasoning_attempt_1") {
			return chatReply("rationale", "Two of three attempts found 12, and 3 × 4 is 12.", "answer", "12")
		}
		return chatReply("reasoning", "3 boxes of 4 eggs.", "answer", "12")
	})
	mcc, err := programs.NewMultiChainComparison(signature.MustParse("question -> answer: int"), programs.WithLM(model))
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, err := mcc.Forward(context.Background(), programs.Values{"question": "How many eggs are in 3 boxes of 4?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pred.Values["answer"])
	fmt.Println(pred.Values["rationale"])
	// Output:
	// 12
	// Two of three attempts found 12, and 3 × 4 is 12.
}

func ExampleParallel() {
	model := scriptedLM(func(_, user string) string {
		q := inputField(user, "question")
		if q == "fail" {
			return "no structure at all"
		}
		return chatReply("answer", strings.ToUpper(q))
	})
	qa := programs.MustPredict[CityQuestion, CityAnswer](programs.WithLM(model))
	batch := []programs.Values{{"question": "a"}, {"question": "fail"}, {"question": "c"}}
	results, err := programs.Parallel(context.Background(), qa, batch, programs.WithConcurrency(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, r := range results {
		if r.Err != nil {
			fmt.Println(i, "error")
			continue
		}
		fmt.Println(i, r.Value.Values["answer"])
	}
	// Output:
	// 0 A
	// 1 error
	// 2 C
}

// SearchPipeline is a user's program: predictors in a struct, Go control flow in
// Forward.
type SearchPipeline struct {
	Rewrite *programs.Predictor
	Answer  *programs.ChainOfThought[programs.Values, programs.Values]
}

func (p *SearchPipeline) Forward(ctx context.Context, in programs.Values) (programs.Prediction, error) {
	q, err := p.Rewrite.Forward(ctx, in)
	if err != nil {
		return programs.Prediction{}, err
	}
	return p.Answer.Forward(ctx, programs.Values{"question": q.Values["query"]})
}

func ExampleWithPredictors() {
	prog := &SearchPipeline{
		Rewrite: programs.MustPredictFrom(signature.MustParse("question -> query")),
		Answer:  mustValue(programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"))),
	}
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, np := range nps {
		fmt.Println(np.Name, "-", np.Predictor.Signature())
	}
	// An optimizer returns a copy with new instructions; prog is untouched.
	tuned, err := programs.WithPredictors(prog, map[string]*programs.Predictor{
		"rewrite": nps[0].Predictor.WithInstructions("Rewrite the question as a search query."),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tuned.Rewrite.Instructions())
	fmt.Println(prog.Rewrite.Instructions())
	// Output:
	// rewrite - question: str -> query: str
	// answer.predict - question: str -> reasoning: str, answer: str
	// Rewrite the question as a search query.
	// Given the fields `question`, produce the fields `query`.
}

func ExampleSaveDSPy() {
	prog := &SearchPipeline{
		Rewrite: programs.MustPredictFrom(signature.MustParse("question -> query")),
		Answer:  mustValue(programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"))),
	}
	tuned, err := programs.WithPredictors(prog, map[string]*programs.Predictor{
		"rewrite": prog.Rewrite.WithDemos([]programs.Values{{"question": "Who wrote Hamlet?", "query": "Hamlet author"}}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The JSON DSPy's program.load reads, for a Python program with
	// self.rewrite = dspy.Predict(...) and self.answer = dspy.ChainOfThought(...).
	if err := programs.SaveDSPy(os.Stdout, tuned); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {
	//   "rewrite": {
	//     "traces": [],
	//     "train": [],
	//     "demos": [
	//       {
	//         "question": "Who wrote Hamlet?",
	//         "query": "Hamlet author"
	//       }
	//     ],
	//     "signature": {
	//       "instructions": "Given the fields `question`, produce the fields `query`.",
	//       "fields": [
	//         {
	//           "prefix": "Question:",
	//           "description": "${question}"
	//         },
	//         {
	//           "prefix": "Query:",
	//           "description": "${query}"
	//         }
	//       ]
	//     },
	//     "lm": null
	//   },
	//   "answer.predict": {
	//     "traces": [],
	//     "train": [],
	//     "demos": [],
	//     "signature": {
	//       "instructions": "Given the fields `question`, produce the fields `answer`.",
	//       "fields": [
	//         {
	//           "prefix": "Question:",
	//           "description": "${question}"
	//         },
	//         {
	//           "prefix": "Reasoning: Let's think step by step in order to",
	//           "description": "${reasoning}"
	//         },
	//         {
	//           "prefix": "Answer:",
	//           "description": "${answer}"
	//         }
	//       ]
	//     },
	//     "lm": null
	//   },
	//   "metadata": {
	//     "dependency_versions": {}
	//   }
	// }
}

func ExampleLoad() {
	prog := &SearchPipeline{
		Rewrite: programs.MustPredictFrom(signature.MustParse("question -> query")),
		Answer:  mustValue(programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"))),
	}
	state := `{"dspex": 1, "predictors": [
	  {"name": "rewrite", "signature": {"instructions": "Write a search query.", "fields": [
	    {"name": "question", "role": "input", "type": "str"},
	    {"name": "query", "role": "output", "type": "str", "prefix": "Search:"}]}, "demos": []},
	  {"name": "answer.predict", "signature": {"instructions": "Answer.", "fields": [
	    {"name": "question", "role": "input", "type": "str"},
	    {"name": "reasoning", "role": "output", "type": "str"},
	    {"name": "answer", "role": "output", "type": "str"}]}, "demos": []}]}`
	loaded, err := programs.Load(strings.NewReader(state), prog)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loaded.Rewrite.Instructions())
	f, _, _ := loaded.Rewrite.Signature().Field("query")
	fmt.Println(f.Label())

	// A program of another shape is refused.
	other := &SearchPipeline{
		Rewrite: programs.MustPredictFrom(signature.MustParse("question -> query, keywords")),
		Answer:  prog.Answer,
	}
	_, err = programs.Load(strings.NewReader(state), other)
	fmt.Println(err)
	// Output:
	// Write a search query.
	// Search:
	// programs: saved state does not match the program: predictor "rewrite": saved with 2 fields, the program has 3 (question: str -> query: str, keywords: str)
}

func mustValue[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
