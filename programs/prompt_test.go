package programs_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// TestPromptFollowsDerivedPredictors: a Predictor formats its prompts
// with what it computed once, yet every predictor derived from it with
// other instructions, demos, adapter or signature sends the prompt the
// adapter builds for what it now holds, the first call and later ones.
func TestPromptFollowsDerivedPredictors(t *testing.T) {
	sig := signature.MustParse("question -> answer")
	fake := &recordingLM{f: func(lm.Request) (string, error) { return chatReply("answer", "a"), nil }}
	base := programs.MustPredictFrom(sig, programs.WithLM(fake))
	demo := programs.Values{"question": "Q0", "answer": "A0"}
	withJSON, err := base.WithOptions(programs.WithAdapter(adapter.JSON{}))
	if err != nil {
		t.Fatal(err)
	}
	withDemoOption, err := base.WithOptions(programs.WithDemos(demo))
	if err != nil {
		t.Fatal(err)
	}
	other := signature.MustParse("question, context -> answer")
	preds := map[string]struct {
		p     *programs.Predictor
		a     adapter.Adapter
		sig   signature.Signature
		demos []programs.Values
	}{
		"base":                  {base, adapter.Chat{}, sig, nil},
		"instructions":          {base.WithInstructions("Answer in one word."), adapter.Chat{}, sig.WithInstructions("Answer in one word."), nil},
		"demos":                 {base.WithDemos([]programs.Values{demo}), adapter.Chat{}, sig, []programs.Values{demo}},
		"demos as option":       {withDemoOption, adapter.Chat{}, sig, []programs.Values{demo}},
		"adapter":               {withJSON, adapter.JSON{}, sig, nil},
		"signature":             {base.WithSignature(other), adapter.Chat{}, other, nil},
		"renamed (same prompt)": {base.WithName("qa"), adapter.Chat{}, sig, nil},
	}
	ctx := context.Background()
	for name, c := range preds {
		t.Run(name, func(t *testing.T) {
			for i, q := range []string{"Q1", "Q2", "Q3"} {
				in := programs.Values{"question": q, "context": "C"}
				n := len(fake.requests())
				if _, err := c.p.Call(ctx, in); err != nil && name != "adapter" {
					t.Fatal(err) // the JSON adapter fails to parse the Chat reply: the prompt is what counts
				}
				sent := fake.requests()[n]
				want, err := c.a.Format(c.sig, c.demos, in)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want.Messages, sent.Messages); diff != "" {
					t.Fatalf("call %d (-adapter +sent):\n%s", i, diff)
				}
			}
		})
	}
}
