package multihop

import (
	"fmt"
	"slices"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

var exact = evaluate.ExactMatch("answer")

// Metric is the task's metric: 1 when the normalised answer equals the gold
// answer (evaluate.ExactMatch), else 0.
func Metric(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) float64 {
	return exact(ex, pred, trace)
}

// PassageRecall is the fraction of an example's gold passages (gold_ids)
// among the passages the program read (passage_ids).
func PassageRecall(ex dataset.Example, pred programs.Prediction, _ *programs.Trace) float64 {
	gold := goldIDs(ex)
	if len(gold) == 0 {
		return 0
	}
	got, _ := pred.Values["passage_ids"].([]string)
	n := 0
	for _, g := range gold {
		if slices.Contains(got, g) {
			n++
		}
	}
	return float64(n) / float64(len(gold))
}

func goldIDs(ex dataset.Example) []string {
	switch v, _ := ex.Get("gold_ids"); g := v.(type) {
	case []string:
		return g
	case []any:
		out := make([]string, 0, len(g))
		for _, x := range g {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Feedback is Metric with feedback for GEPA and SIMBA, per stage: the
// answer step is told when its answer holds the gold answer among other
// words or is wrong; the hop step when the second search missed the
// author's passage although the first found the book's; the query step
// when the first search missed the book's passage.
func Feedback(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) teleprompter.Feedback {
	gold := ex.Text("answer")
	got := fmt.Sprint(pred.Values["answer"])
	if Metric(ex, pred, trace) == 1 {
		return teleprompter.Feedback{Score: 1, Text: fmt.Sprintf("Correct: the answer %q is the expected one.", got)}
	}
	ids, _ := pred.Values["passage_ids"].([]string)
	g := goldIDs(ex)
	fb := teleprompter.Feedback{Predictors: map[string]string{}}
	switch {
	case len(g) == 2 && !slices.Contains(ids, g[0]):
		fb.Text = fmt.Sprintf("The passages never named the author of the book in the question, so the answer %q could not be found; the expected answer is %q.", got, gold)
		fb.Predictors["query"] = fmt.Sprintf("The first search query did not find the passage about the book in the question %q.", ex.Text("question"))
	case len(g) == 2 && !slices.Contains(ids, g[1]):
		fb.Text = fmt.Sprintf("The passages named the author of the book but held nothing about that author, so the answer %q is unsupported; the expected answer is %q.", got, gold)
		fb.Predictors["hop"] = "The second search query repeated the question instead of naming the author found in the first passages; search for that author's name."
	case evaluate.Contains("answer")(ex, pred, trace) == 1:
		fb.Text = fmt.Sprintf("The answer %q holds the expected answer %q among other words: it is too long, and should be the value alone, not a sentence.", got, gold)
	default:
		fb.Text = fmt.Sprintf("The answer %q is incorrect although the passages held the facts; the expected answer is %q.", got, gold)
	}
	return fb
}

var _ teleprompter.FeedbackMetric = Feedback
