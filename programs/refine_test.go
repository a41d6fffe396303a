package programs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// exactAnswer rewards an answer equal to want after normalisation.
func exactAnswer(want string) programs.RewardFunc {
	return func(_ context.Context, _ programs.Values, pred programs.Prediction) (float64, error) {
		if dataset.Normalize(fmt.Sprint(pred.Values["answer"])) == dataset.Normalize(want) {
			return 1, nil
		}
		return 0, nil
	}
}

// adviser is a fake feedback LM that advises the predictor "self".
func adviser(advice string) *recordingLM {
	return &recordingLM{f: func(req lm.Request) (string, error) {
		return chatReply("discussion", "The answer is too wordy.", "advice", fmt.Sprintf(`{"self": %q, "other": "N/A"}`, advice)), nil
	}}
}

func TestRefineFeedsAdviceForward(t *testing.T) {
	program := &recordingLM{f: func(req lm.Request) (string, error) {
		if strings.Contains(systemMsg(req), "Hint from an earlier attempt: Name only the city.") {
			return chatReply("answer", "Paris"), nil
		}
		return chatReply("answer", "I believe it is Paris, the city of light."), nil
	}}
	feedback := adviser("Name only the city.")
	qa := programs.MustPredict[query, answerOut](programs.WithLM(program))
	refine, err := programs.NewRefine(qa, 3, exactAnswer("Paris"), 1, programs.WithLM(feedback))
	if err != nil {
		t.Fatal(err)
	}
	ctx, trace := programs.WithTrace(context.Background())
	pred, err := refine.Forward(ctx, programs.Values{"question": "What is the capital of France?"})
	if err != nil {
		t.Fatal(err)
	}
	if pred.Values["answer"] != "Paris" {
		t.Errorf("answer = %v, want Paris after the advice", pred.Values["answer"])
	}
	if n := len(program.requests()); n != 2 {
		t.Errorf("%d program calls, want 2", n)
	}
	fb := feedback.requests()
	if len(fb) != 1 {
		t.Fatalf("%d feedback calls, want 1", len(fb))
	}
	msg := lastUserMsg(fb[0])
	for _, want := range []string{`"module_name": "self"`, "I believe it is Paris", "[[ ## module_names ## ]]", "Module self"} {
		if !strings.Contains(msg, want) {
			t.Errorf("feedback prompt lacks %q:\n%s", want, msg)
		}
	}
	// The trace holds the best attempt, attributed to the original predictor.
	if e := trace.Entries(); len(e) != 1 || e[0].Predictor != qa.Predictor() || e[0].Outputs["answer"] != "Paris" {
		t.Errorf("trace = %+v", e)
	}
	// The hint never reaches the original program.
	if strings.Contains(qa.Predictor().Instructions(), "Hint") {
		t.Error("the original predictor was modified")
	}
	if pred.Usage.TotalTokens != 3*15 {
		t.Errorf("usage %d, want two attempts and one feedback call", pred.Usage.TotalTokens)
	}
}

func TestRefineAdviceFailureCountsAsFailure(t *testing.T) {
	program := &recordingLM{f: func(lm.Request) (string, error) { return chatReply("answer", "wordy answer"), nil }}
	broken := lm.Func(func(context.Context, lm.Request) (lm.Response, error) {
		return lm.Response{}, errors.New("critic down")
	})
	qa := programs.MustPredict[query, answerOut](programs.WithLM(program))

	refine, err := programs.NewRefine(qa, 3, exactAnswer("Paris"), 1, programs.WithLM(broken))
	if err != nil {
		t.Fatal(err)
	}
	pred, err := refine.Forward(context.Background(), programs.Values{"question": "q"})
	if err != nil || pred.Values["answer"] != "wordy answer" {
		t.Errorf("Forward = %v, %v; want the best attempt despite the failed advice", pred.Values, err)
	}
	strict, err := programs.NewRefine(qa, 3, exactAnswer("Paris"), 1, programs.WithLM(broken), programs.WithFailCount(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Forward(context.Background(), programs.Values{"question": "q"}); err == nil || !strings.Contains(err.Error(), "critic down") {
		t.Errorf("Forward with WithFailCount(0): %v, want the advice error", err)
	}
}

// tapLM forwards to an LM and records the requests and replies.
type tapLM struct {
	lm.LM
	mu    sync.Mutex
	calls []tapCall
}

type tapCall struct {
	req   lm.Request
	reply string
}

func (t *tapLM) Chat(ctx context.Context, req lm.Request) (lm.Response, error) {
	resp, err := t.LM.Chat(ctx, req)
	reply := ""
	if err == nil && len(resp.Choices) > 0 {
		reply = resp.Choices[0].Message.Content
	}
	t.mu.Lock()
	t.calls = append(t.calls, tapCall{req, reply})
	t.mu.Unlock()
	return resp, err
}

// split returns the program's calls and the feedback calls, in order.
func (t *tapLM) split() (program, feedback []tapCall) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.calls {
		if strings.Contains(systemMsg(c.req), "`module_names`") {
			feedback = append(feedback, c)
		} else {
			program = append(program, c)
		}
	}
	return program, feedback
}

// TestRefineSimulator refines a Predict served by the embedded model server
// over HTTP; the simulator is the adviser too. It answers zero-shot
// questions verbosely; reading a verbose answer, it advises concision, which
// it follows once the advice is in the instructions.
func TestRefineSimulator(t *testing.T) {
	model, _ := startSimulator(t)
	qa := programs.MustPredict[query, answerOut](programs.WithLM(model))
	ctx := context.Background()
	var item dataset.Item
	for _, it := range dataset.QA() {
		if it.Kind != dataset.KindFact {
			continue
		}
		out, err := qa.Call(ctx, query{Question: it.Question}, programs.WithTemperature(1), programs.WithRollout(0))
		if err != nil {
			t.Fatal(err)
		}
		if dataset.Normalize(out.Answer) != dataset.Normalize(it.Answer) && strings.Contains(dataset.Normalize(out.Answer), dataset.Normalize(it.Answer)) {
			item = it // known, but answered verbosely
			break
		}
	}
	if item.ID == "" {
		t.Fatal("no verbose answer found in the dataset")
	}
	tap := &tapLM{LM: model}
	refine, err := programs.NewRefine(programs.MustPredict[query, answerOut](programs.WithLM(tap)), 3, exactAnswer(item.Answer), 1, programs.WithLM(tap))
	if err != nil {
		t.Fatal(err)
	}
	pred, err := refine.Forward(ctx, programs.Values{"question": item.Question})
	if err != nil {
		t.Fatal(err)
	}
	if dataset.Normalize(fmt.Sprint(pred.Values["answer"])) != dataset.Normalize(item.Answer) {
		t.Errorf("%s: answer %q, want %q", item.ID, pred.Values["answer"], item.Answer)
	}
	program, feedback := tap.split()
	if len(program) != 2 || len(feedback) != 1 {
		t.Fatalf("%d program and %d feedback calls, want 2 and 1", len(program), len(feedback))
	}
	if strings.Contains(systemMsg(program[0].req), "Hint") {
		t.Error("the first attempt has a hint")
	}
	if !strings.Contains(feedback[0].reply, `"self":"Answer concisely`) {
		t.Errorf("the simulator's advice is not concision:\n%s", feedback[0].reply)
	}
	if hint := systemMsg(program[1].req); !strings.Contains(hint, "Hint from an earlier attempt: Answer concisely") {
		t.Errorf("the second attempt lacks the advice:\n%s", hint)
	}
}

// TestRefineSimulatorAdvice checks the simulator's advice for each kind of
// failure, with both adapters: reward 0 forces a second attempt, whose
// instructions carry the advice.
func TestRefineSimulatorAdvice(t *testing.T) {
	var math, fact dataset.Item
	for _, it := range dataset.QA() {
		switch {
		case it.Kind == dataset.KindMath && it.Steps > 1 && math.ID == "":
			math = it
		case it.Kind == dataset.KindFact && fact.ID == "":
			fact = it
		}
	}
	never := func(context.Context, programs.Values, programs.Prediction) (float64, error) { return 0, nil }
	tests := []struct {
		name     string
		question string
		instr    string
		advice   string   // in the adviser's reply
		want     []string // in the second attempt's hint
		notWant  []string
	}{
		{"math: step by step", math.Question, "", `"self":"Think step by step`, []string{"Think step by step"}, nil},
		{"a short fact answer: no advice", fact.Question, "Answer concisely.", `"self":"N/A"`, nil, []string{"Hint"}},
	}
	adapters := []struct {
		name string
		opts []programs.Option
	}{{"chat", nil}, {"json", []programs.Option{programs.WithAdapter(adapter.NewJSON())}}}
	for _, tt := range tests {
		for _, ad := range adapters {
			t.Run(tt.name+"/"+ad.name, func(t *testing.T) {
				model, _ := startSimulator(t)
				tap := &tapLM{LM: model}
				sig := signature.MustParse("question -> answer")
				if tt.instr != "" {
					sig = sig.WithInstructions(tt.instr)
				}
				qa, err := programs.NewPredictFrom(sig, append([]programs.Option{programs.WithLM(tap)}, ad.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				refine, err := programs.NewRefine(qa, 2, never, 1, append([]programs.Option{programs.WithLM(tap)}, ad.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := refine.Forward(context.Background(), programs.Values{"question": tt.question}); err != nil {
					t.Fatal(err)
				}
				program, feedback := tap.split()
				if len(program) != 2 || len(feedback) != 1 {
					t.Fatalf("%d program and %d feedback calls, want 2 and 1", len(program), len(feedback))
				}
				if !strings.Contains(feedback[0].reply, tt.advice) {
					t.Errorf("the adviser's reply lacks %s:\n%s", tt.advice, feedback[0].reply)
				}
				sys := systemMsg(program[1].req)
				for _, w := range tt.want {
					if !strings.Contains(sys, "Hint from an earlier attempt: ") || !strings.Contains(sys, w) {
						t.Errorf("second attempt lacks a hint with %q:\n%s", w, sys)
					}
				}
				for _, w := range tt.notWant {
					if strings.Contains(sys, w) {
						t.Errorf("second attempt has %q:\n%s", w, sys)
					}
				}
			})
		}
	}
}
