package programs_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

// simulated starts the embedded model server and returns an LM on it.
func simulated() (lm.LM, func()) {
	srv, err := simlm.Start()
	if err != nil {
		panic(err)
	}
	transport := &http.Transport{}
	model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: srv.Model(), HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		panic(err)
	}
	return model, func() { transport.CloseIdleConnections(); _ = srv.Close() }
}

type WordProblem struct {
	Question string `desc:"an arithmetic word problem"`
}

type Count struct {
	Answer int `desc:"a whole number"`
}

func ExampleNewProgramOfThought() {
	model, stop := simulated()
	defer stop()
	pot, err := programs.NewProgramOfThought[WordProblem, Count](programs.WithLM(model))
	if err != nil {
		fmt.Println(err)
		return
	}
	problem := dataset.Arithmetic()[1]
	fmt.Println(problem.Question)
	out, steps, err := pot.Call(context.Background(), WordProblem{Question: problem.Question})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, s := range steps {
		if s.Error != "" {
			fmt.Printf("program %d failed: %s\n", i+1, strings.SplitN(s.Error, "\n", 2)[0])
			continue
		}
		fmt.Printf("program %d returned %s\n", i+1, s.Output)
	}
	fmt.Println("answer:", out.Answer)
	// Output:
	// Tom has 40 shells. Tom splits them into 4 equal groups and keeps one group. He then collects until there are 4 times as many. He ends up with 3 times that number. He splits them into 2 equal groups and keeps one group. He gives away 22. How many shells does Tom have now?
	// program 1 failed: SyntaxError on line 7: undefined: sehlls (did you mean shells?)
	// program 2 returned {"answer":38}
	// answer: 38
}

type ForecastArgs struct {
	City string `json:"city"`
	Days int    `json:"days"`
}

type Forecast struct {
	City  string    `json:"city"`
	Highs []float64 `json:"highs"`
}

func ExampleNewCodeAct() {
	forecast := programs.MustTool("forecast", "Daily high temperatures for the next days.",
		func(_ context.Context, a ForecastArgs) (Forecast, error) {
			if a.Days > 7 {
				return Forecast{}, fmt.Errorf("at most 7 days, not %d", a.Days)
			}
			return Forecast{City: a.City, Highs: []float64{-3, -1, 2, 4, 1, 0, -2}[:a.Days]}, nil
		})
	// The fake LM acts as the agent: its first snippet asks for too many
	// days, the second computes the average from the tool's result.
	model := scriptedLM(func(system, user string) string {
		if !strings.Contains(system, "generated_code") {
			return chatReply("reasoning", "The code printed the average.", "answer", "0.5 degrees")
		}
		if !strings.Contains(user, "observation_0") {
			return chatReply("generated_code", "```python\nf = forecast('Oslo', days=10)\nprint(f)\n```", "finished", "False")
		}
		return chatReply("generated_code", "```python\nf = forecast(city='Oslo', days=4)\ntotal = 0\nfor h in f['highs']:\n    total += h\nprint(total / len(f['highs']))\n```", "finished", "True")
	})
	agent, err := programs.NewCodeAct[CityQuestion, CityAnswer]([]programs.Tool{forecast}, programs.WithLM(model))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, traj, err := agent.Call(context.Background(), CityQuestion{Question: "What is the average high in Oslo over the next four days?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, s := range traj {
		fmt.Printf("step %d: output %q error %q\n", i+1, s.Output, strings.SplitN(s.Error, "\n", 2)[0])
	}
	fmt.Println("answer:", out.Answer)
	// Output:
	// step 1: output "" error "Failed to execute the generated code: Error on line 1: forecast: at most 7 days, not 10"
	// step 2: output "0.5\n" error ""
	// answer: 0.5 degrees
}

type Lookup struct {
	Context string `desc:"a long registry, one entry per line"`
	Query   string
}

type Holder struct {
	Answer string `desc:"a person's name"`
}

func ExampleNewRLM() {
	model, stop := simulated()
	defer stop()
	rlm, err := programs.NewRLM[Lookup, Holder](programs.WithLM(model), programs.WithMaxLLMCalls(5))
	if err != nil {
		fmt.Println(err)
		return
	}
	archive := dataset.Archive() // ~500 KB: far more than the simulated 8192-token context
	q := dataset.ArchiveQuestions()[0]
	out, run, err := rlm.Call(context.Background(), Lookup{Context: archive, Query: q.Question})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Question)
	for i, s := range run.Steps {
		fmt.Printf("step %d: %s\n", i+1, strings.SplitN(s.Code, "\n", 2)[0])
	}
	fmt.Println("sub-LM calls:", run.LLMCalls)
	fmt.Println("answer:", out.Answer)
	// Output:
	// Who is the town doctor of Dunhaven?
	// step 1: print(len(context))
	// step 2: hits = [line for line in context.split("\n") if "Dunhaven" in line]
	// step 3: answer = llm_query("Answer the question using only the passage. Reply with the answer only.\nQuestion: " + query + "\nPassage:\n" + "\n".join(hits[:40]))
	// step 4: SUBMIT(answer=answer.strip())
	// sub-LM calls: 1
	// answer: Sven Brandt
}
