package programs

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// Refine is DSPy's Refine: like BestOfN it runs a program up to N times
// with different rollouts and keeps the best prediction by reward, but after
// an attempt that falls short of the threshold it asks an LM for advice, per
// predictor, on what to do differently, and the next attempt runs with that
// advice appended to each advised predictor's instructions ("Hint from an
// earlier attempt: ...").
//
// The advice comes from a feedback predictor that sees the program's
// predictors, inputs, trajectory (each predictor call with its inputs and
// outputs), outputs, the reward and the threshold. It runs with the LM in
// the context unless NewRefine was given WithLM (or other predictor
// options) for it. A failed advice call counts as a failed attempt, and the
// next attempt runs without advice.
//
// Like BestOfN, Refine names the wrapped program's predictors
// "module.<name>"; the feedback predictor is not among them. A Refine is
// immutable and safe for concurrent use.
type Refine struct {
	runner
	feedback *Predictor
}

// Fields of the feedback signature.
const (
	feedbackModules    = "module_names"
	feedbackAdvice     = "advice"
	adviceNotAvailable = "N/A"
)

// feedbackSignature is the signature of Refine's feedback predictor.
var feedbackSignature = func() signature.Signature {
	str := func(name, desc string) signature.Field {
		return signature.Field{Name: name, Desc: desc, Type: signature.TypeString}
	}
	sig, err := signature.New("OfferFeedback",
		"A program made of several modules ran on some inputs, and a reward function scored its outputs below the target threshold. "+
			"Discuss which modules are to blame for the low reward, if any. Then, for each module, give concrete advice on how it "+
			"should act differently when it next receives the same or similar inputs. The modules will not see their earlier "+
			"attempt, only your advice, so make it specific and actionable. For a module that is not to blame, the advice is N/A.",
		[]signature.Field{
			str("modules_defn", "Each module of the program, with its input and output fields and its instructions"),
			str("program_inputs", "The inputs the program ran on"),
			str("program_trajectory", "Each module call of the run, in order, with its inputs and outputs"),
			str("program_outputs", "The outputs of the program"),
			{Name: "reward_value", Desc: "The reward the outputs received", Type: signature.TypeFloat},
			{Name: "target_threshold", Desc: "The reward the outputs should reach", Type: signature.TypeFloat},
			{Name: feedbackModules, Desc: "The names of the modules to advise", Type: signature.ListOf(signature.TypeString)},
		},
		[]signature.Field{
			str("discussion", "Which modules went wrong and how, if any did"),
			{Name: feedbackAdvice, Desc: "For each module name: the situations in which it went wrong and what it should do " +
				"instead, or N/A", Type: signature.MapOf(signature.TypeString)},
		})
	if err != nil {
		panic(err) // a constant signature
	}
	return sig
}()

// NewRefine wraps prog. n is the number of attempts, reward scores them,
// threshold is the reward to reach. WithFailCount sets how many attempts may
// fail; the other options configure the feedback predictor.
func NewRefine(prog Program, n int, reward RewardFunc, threshold float64, opts ...Option) (*Refine, error) {
	r, err := newRunner("Refine", prog, n, reward, threshold, opts)
	if err != nil {
		return nil, err
	}
	fb, err := NewPredictFrom(feedbackSignature, append([]Option{WithName("refine.feedback")}, r.predict...)...)
	if err != nil {
		return nil, err
	}
	return &Refine{runner: r, feedback: fb}, nil
}

// Forward runs the attempts and returns the best prediction.
func (r *Refine) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	ctx, span := telemetry.Start(withTelemetry(enterModule(ctx, r), r.feedback.call.model), "Refine", "")
	describeCall(span, "Refine", "", nil)
	pred, err := r.run(ctx, inputs, r.advise)
	telemetry.End(span, err)
	return pred, err
}

// Program returns the wrapped program.
func (r *Refine) Program() Program { return r.prog }

// NamedPredictors returns the wrapped program's predictors, prefixed with
// "module.".
func (r *Refine) NamedPredictors() []NamedPredictor { return r.namedPredictors() }

// ReplacePredictors returns a Refine over a copy of the program with the
// named predictors replaced.
func (r *Refine) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	run, err := r.replace(replace)
	if err != nil {
		return nil, err
	}
	return &Refine{runner: run, feedback: r.feedback}, nil
}

// advise asks the feedback predictor what each predictor of the program
// should do differently after attempt a.
func (r *Refine) advise(ctx context.Context, inputs Values, a attempt) (map[string]string, Prediction, error) {
	nps, err := NamedPredictors(r.prog)
	if err != nil {
		return nil, Prediction{}, err
	}
	names := make([]string, len(nps))
	nameOf := make(map[*Predictor]string, len(nps))
	var defn strings.Builder
	for i, np := range nps {
		names[i] = np.Name
		nameOf[np.Predictor] = np.Name
		describePredictor(&defn, np)
	}
	type call struct {
		Module  string `json:"module_name"`
		Inputs  Values `json:"inputs"`
		Outputs Values `json:"outputs"`
	}
	calls := make([]call, 0, len(a.entries))
	for _, e := range a.entries {
		calls = append(calls, call{Module: nameOf[e.Predictor], Inputs: e.Inputs, Outputs: e.Outputs})
	}
	// The feedback call is not part of the program's run: keep it out of the
	// caller's trace.
	quiet, _ := WithTrace(ctx)
	pred, err := r.feedback.Forward(quiet, Values{
		"modules_defn":       defn.String(),
		"program_inputs":     jsonText(inputs),
		"program_trajectory": jsonText(calls),
		"program_outputs":    jsonText(a.pred.Values),
		"reward_value":       a.reward,
		"target_threshold":   r.threshold,
		feedbackModules:      names,
	})
	if err != nil {
		return nil, pred, err
	}
	advice := make(map[string]string)
	rv := reflect.ValueOf(pred.Values[feedbackAdvice])
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, pred, fmt.Errorf("programs: Refine: advice is %T, not a map", pred.Values[feedbackAdvice])
	}
	for _, k := range rv.MapKeys() {
		text := strings.TrimSpace(fmt.Sprint(rv.MapIndex(k).Interface()))
		if text != "" && !strings.EqualFold(text, adviceNotAvailable) {
			advice[k.String()] = text
		}
	}
	return advice, pred, nil
}

// describePredictor writes a predictor's name, fields and instructions for
// the feedback predictor.
func describePredictor(b *strings.Builder, np NamedPredictor) {
	sig := np.Predictor.Signature()
	fmt.Fprintf(b, "Module %s\n", np.Name)
	for _, role := range []signature.Role{signature.Input, signature.Output} {
		fmt.Fprintf(b, "\t%s fields:\n", strings.ToUpper(role.String()[:1])+role.String()[1:])
		for _, f := range sig.Fields(role) {
			fmt.Fprintf(b, "\t\t`%s` (%s)", f.Name, f.Type)
			if f.Desc != "" {
				fmt.Fprintf(b, ": %s", f.Desc)
			}
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(b, "\tInstructions: %s\n", strings.ReplaceAll(sig.Instructions(), "\n", "\n\t\t"))
}

// jsonText renders v as indented JSON, or with fmt when it is not
// JSON-encodable.
func jsonText(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
