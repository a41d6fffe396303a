package adapter

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// TestPreparedFormatsAsChat: a Prepared Chat adapter's prompts are the
// Chat adapter's, byte for byte, from the first call (the adapter's own)
// to the later ones (rendered from the kept template), for every DSPy
// golden case and for inputs that change from call to call.
func TestPreparedFormatsAsChat(t *testing.T) {
	type run struct {
		sig    signature.Signature
		demos  []Values
		inputs []Values
	}
	runs := map[string]run{
		"qa with demos": {sig: qaSig(t), demos: qaDemos, inputs: []Values{
			qaInputs,
			{"question": "Who wrote <Hamlet> & why?", "context": []string{"a", "b"}},
			{"question": "", "context": "one\n\ntwo"},
		}},
		"typed outputs, no demos": {sig: typedSig(t), inputs: []Values{{"question": "q1"}, {"question": "q2"}}},
	}
	cases := goldenCases(t)
	maps.Copy(cases, mediaGoldenCases(t))
	for name, tc := range cases {
		if tc.systemOnly || tc.inputs == nil {
			continue
		}
		runs[name] = run{sig: tc.sig, demos: tc.demos, inputs: []Values{tc.inputs, tc.inputs}}
	}
	for name, r := range runs {
		t.Run(name, func(t *testing.T) {
			p := Prepare(Chat{}, r.sig, r.demos)
			for round := range 2 {
				for i, in := range r.inputs {
					want, wantErr := Chat{}.Format(r.sig, r.demos, in)
					got, err := p.Format(r.sig, r.demos, in)
					if (err != nil) != (wantErr != nil) {
						t.Fatalf("round %d, inputs %d: error %v, want %v", round, i, err, wantErr)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("round %d, inputs %d (-chat +prepared):\n%s", round, i, diff)
					}
				}
			}
		})
	}
}

// TestPreparedFallsBack: Prepared is the adapter itself where it cannot
// help (JSON, a History input), formats other signatures and demo sets
// with the adapter, reports a missing input as the adapter does, and is
// the Chat adapter for Call's fallback and span names.
func TestPreparedFallsBack(t *testing.T) {
	sig := qaSig(t)
	if a := Prepare(JSON{}, sig, nil); a != (JSON{}) {
		t.Errorf("Prepare(JSON) = %T", a)
	}
	hist := signature.MustParse("question: str, history: History -> answer")
	if a := Prepare(Chat{}, hist, nil); a != (Chat{}) {
		t.Errorf("Prepare with a History input = %T", a)
	}
	p := Prepare(nil, sig, qaDemos)
	if !isChat(p) || adapterName(p) != "chat" {
		t.Errorf("isChat %v, name %q: want the Chat adapter's", isChat(p), adapterName(p))
	}
	if _, err := p.Format(sig, qaDemos, qaInputs); err != nil { // learns
		t.Fatal(err)
	}
	other := typedSig(t)
	want, _ := Chat{}.Format(other, nil, Values{"question": "q"})
	got, err := p.Format(other, nil, Values{"question": "q"})
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("another signature: %v\n%s", err, cmp.Diff(want, got))
	}
	fewer := qaDemos[:1]
	want, _ = Chat{}.Format(sig, fewer, qaInputs)
	if got, err = p.Format(sig, fewer, qaInputs); err != nil || !cmp.Equal(want, got) {
		t.Errorf("other demos: %v\n%s", err, cmp.Diff(want, got))
	}
	_, err = p.Format(sig, qaDemos, Values{"question": "no context"})
	var missing *MissingInputError
	if !errors.As(err, &missing) {
		t.Errorf("missing input: %v, want a *MissingInputError", err)
	}
}

// TestPreparedRejectsAMismatch: when the adapter's first prompt is not
// what the template would render (here a request with more than
// messages), Prepared keeps formatting with the adapter.
func TestPreparedRejectsAMismatch(t *testing.T) {
	sig := qaSig(t)
	p := Prepare(Chat{}, sig, nil).(*Prepared)
	req, err := Chat{}.Format(sig, nil, qaInputs)
	if err != nil {
		t.Fatal(err)
	}
	req.Tools = []lm.ToolDef{{Name: "lookup"}}
	p.learn(req, qaInputs)
	if !p.rejected.Load() || p.template.Load() != nil {
		t.Fatal("a request with tools gave a template")
	}
	q := Prepare(Chat{}, sig, nil).(*Prepared)
	req.Tools = nil
	req.Messages[len(req.Messages)-1].Content += " "
	q.learn(req, qaInputs)
	if !q.rejected.Load() {
		t.Fatal("a final message the template does not render gave a template")
	}
	want, _ := Chat{}.Format(sig, nil, qaInputs)
	if got, err := q.Format(sig, nil, qaInputs); err != nil || !cmp.Equal(want, got) {
		t.Errorf("after a rejection: %v\n%s", err, cmp.Diff(want, got))
	}
}

// A Chat prepared for one predictor keeps the adapter's native function
// calling: the provider's tool calls fill the ToolCalls output, and the
// incremental parser is Chat's.
func TestPreparedKeepsNativeFunctionCalling(t *testing.T) {
	sig := signature.MustParse("question: str, tools: list[dspy.Tool] -> answer: str, tool_calls: dspy.ToolCalls")
	inputs := Values{"question": "What is the weather in Paris?", "tools": weatherTools(t)[:1]}
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){
		toolCallReply("", lm.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}),
	}}
	a := Prepare(NewChat(WithNativeFunctionCalling(true)), sig, nil)
	res, err := Call(context.Background(), model, a, sig, nil, inputs, lm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	calls, ok := res.Outputs[0]["tool_calls"].(signature.ToolCalls)
	if !ok || len(calls.Calls) != 1 || calls.Calls[0].Name != "get_weather" {
		t.Errorf("tool_calls = %#v, want the provider's get_weather call", res.Outputs[0]["tool_calls"])
	}
	if _, ok := NewFieldStream(a, sig).(*ChatStream); !ok {
		t.Errorf("NewFieldStream(prepared chat) = %T, want *ChatStream", NewFieldStream(a, sig))
	}
}
