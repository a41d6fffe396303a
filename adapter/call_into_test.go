package adapter

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// TestCallIntoBaseInResult: CallInto with the base request built in the
// result it fills (base == &res.Request), over a result holding an
// earlier call's outcome, sends the same requests and gives the same
// Result and error as Call, fallbacks included.
func TestCallIntoBaseInResult(t *testing.T) {
	sig := newSig(t, "", []signature.Field{{Name: "question"}},
		[]signature.Field{{Name: "answer"}, {Name: "year", Type: signature.TypeInt}})
	chatOK := "[[ ## answer ## ]]\nAround 1600\n\n[[ ## year ## ]]\n1600\n\n[[ ## completed ## ]]"
	jsonOK := `{"answer": "Around 1600", "year": 1600}`
	garbled := "I think it was around 1600."
	temp, seed := 0.7, 42
	base := lm.Request{Model: "m", Temperature: &temp, MaxTokens: 64, N: 1, Stop: []string{"END"}, Seed: &seed, RolloutID: 3, NoCache: true}
	refused := &lm.ProviderError{Provider: "openai", Status: 400,
		Err: errors.New("Invalid parameter: 'response_format' of type 'json_object' is not supported with this model.")}
	providerErr := &lm.ProviderError{Provider: "fake", Status: 503, Retryable: true, Err: errors.New("overloaded")}
	type script = []func(lm.Request) (lm.Response, error)

	tests := []struct {
		name    string
		adapter Adapter
		inputs  Values
		replies script
	}{
		{"chat", Chat{}, nil, script{reply(chatOK)}},
		{"nil adapter", nil, nil, script{reply(chatOK)}},
		{"fallback to json", Chat{}, nil, script{reply(garbled), reply(jsonOK)}},
		{"both garbled", Chat{}, nil, script{reply(garbled), reply(garbled)}},
		{"provider error on fallback", Chat{}, nil, script{reply(garbled), fail(providerErr)}},
		{"response format refused", JSON{}, nil, script{fail(refused), reply(jsonOK)}},
		{"fallback, then response format refused", Chat{}, nil, script{reply(garbled), fail(refused), reply(jsonOK)}},
		{"provider error", Chat{}, nil, script{fail(providerErr)}},
		{"no choices", Chat{}, nil, script{reply()}},
		{"missing input", Chat{}, Values{"other": "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inputs := tt.inputs
			if inputs == nil {
				inputs = Values{"question": "When was Hamlet written?"}
			}
			ctx := context.Background()
			callLM := &scriptedLM{replies: tt.replies}
			want, wantErr := Call(ctx, callLM, tt.adapter, sig, nil, inputs, base)

			intoLM := &scriptedLM{replies: tt.replies}
			res := Result{
				Outputs:  []Values{{"stale": true}},
				Response: lm.Response{ID: "stale", Choices: []lm.Choice{{}}},
				Usage:    lm.Usage{TotalTokens: 99},
				Fallback: true,
			}
			res.Request = base
			err := CallInto(ctx, &res, intoLM, tt.adapter, &sig, nil, inputs, &res.Request)

			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("CallInto err = %v, Call's = %v", err, wantErr)
			}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("CallInto result = %+v\nCall's = %+v", res, want)
			}
			if got, want := intoLM.requests(), callLM.requests(); !reflect.DeepEqual(got, want) {
				t.Errorf("CallInto sent %+v\nCall sent %+v", got, want)
			}
			for i, req := range intoLM.requests() {
				if req.Model != "m" || req.Temperature != &temp || req.Seed != &seed || req.MaxTokens != 64 ||
					req.RolloutID != 3 || !req.NoCache || !reflect.DeepEqual(req.Stop, []string{"END"}) {
					t.Errorf("request %d lost the base settings: %+v", i, req)
				}
			}
		})
	}
}
