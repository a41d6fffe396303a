package teleprompter

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// Feedback is what a feedback metric returns: a score, as a plain metric
// returns, and text saying what was right or wrong, for a reflection LM
// to read (GEPA, SIMBA).
type Feedback struct {
	// Score is the example's score, higher is better, usually in [0, 1].
	Score float64 `json:"score"`
	// Text explains the score for the whole program.
	Text string `json:"text,omitempty"`
	// Predictors holds feedback for individual predictors, by name, when the
	// metric can tell which predictor was at fault; a predictor without
	// an entry gets Text.
	Predictors map[string]string `json:"predictors,omitempty"`
}

// For returns the feedback for the named predictor: its own entry, else
// Text.
func (f Feedback) For(predictor string) string {
	if t, ok := f.Predictors[predictor]; ok && t != "" {
		return t
	}
	return f.Text
}

// FeedbackMetric scores a prediction and explains the score. trace holds
// the predictor calls that made the prediction when the optimizer records
// them (always for GEPA's minibatches), else nil. It must be safe for
// concurrent use.
type FeedbackMetric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) Feedback

// Metric returns the plain metric of f: its score alone, for evaluate.
func (f FeedbackMetric) Metric() evaluate.Metric {
	return func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) float64 {
		return f(ex, pred, trace).Score
	}
}

// FeedbackOf turns a plain metric (a float or bool function) into a
// FeedbackMetric whose text only states the score, "score 0.50", so that
// GEPA and SIMBA accept metrics without feedback.
func FeedbackOf[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S) FeedbackMetric {
	m := evaluate.MetricOf(metric)
	return func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) Feedback {
		s := m(ex, pred, trace)
		return Feedback{Score: s, Text: fmt.Sprintf("score %.2f", s)}
	}
}

// ExactMatchFeedback is evaluate.ExactMatch(field) with feedback: the score
// is 1 when the normalised prediction equals a gold answer, else 0, and
// the text says what the metric saw, quoting the gold answer, as DSPy's
// GEPA feedback functions do:
//
//   - for a match, that it matches;
//   - when the prediction holds the gold answer among other words, that
//     the metric compares the whole text, so the other words make it fail;
//   - when the gold answer is a number, that the number differs and a
//     computation went astray;
//   - otherwise, that it does not match the gold answer.
func ExactMatchFeedback(field string) FeedbackMetric {
	em, contains := evaluate.ExactMatch(field), evaluate.Contains(field)
	return func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) Feedback {
		got := fmt.Sprint(pred.Values[field])
		gold := ex.Text(field)
		if em(ex, pred, trace) == 1 {
			return Feedback{Score: 1, Text: fmt.Sprintf("Right: the %s %q matches the gold answer.", field, got)}
		}
		if contains(ex, pred, trace) == 1 {
			return Feedback{Text: fmt.Sprintf("Not an exact match: the %s %q holds the gold answer %q, but the metric "+
				"compares the whole text, and the words around the gold answer make the comparison fail.", field, got, gold)}
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(gold), 64); err == nil {
			return Feedback{Text: fmt.Sprintf("Wrong: the %s %q differs from the gold result %q; a computation went astray.", field, got, gold)}
		}
		return Feedback{Text: fmt.Sprintf("Wrong: the %s %q does not match the gold answer %q.", field, got, gold)}
	}
}
