package test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// savedDir holds real programs saved by DSPy and, for one predictor of each
// and one request, the messages DSPy 3.3.1's ChatAdapter sends, transcribed
// from DSPy's formatting rules (programs/testdata/dspy_saved/README.md).
const savedDir = "../programs/testdata/dspy_saved"

type savedSearchArgs struct {
	Query string `json:"query"`
}

// savedProgram returns a dspex program of the shape of the DSPy program that
// saved fixture.
func savedProgram(t *testing.T, fixture string) any {
	t.Helper()
	cot := func(sig string) *programs.ChainOfThought[programs.Values, programs.Values] {
		c, err := programs.NewChainOfThoughtFrom(signature.MustParse(sig))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	switch fixture {
	case "dspy_react_3.0.0.json":
		search := programs.MustTool("search_wikipedia", "",
			func(context.Context, savedSearchArgs) (string, error) { return "", nil })
		r, err := programs.NewReActFrom(signature.MustParse("question -> answer"), []programs.Tool{search})
		if err != nil {
			t.Fatal(err)
		}
		return r
	case "knutole_cot_bootstrapped_2.6.25.json":
		return &struct {
			Chain *programs.ChainOfThought[programs.Values, programs.Values]
		}{cot("text -> clean_text")}
	case "dspy_flex_predict_3.3.0b1.json":
		return &struct{ Judge *programs.Predictor }{programs.MustPredictFrom(signature.MustParse(
			"input_name: str, input_address: str, match_name: str, match_address: str, distance: float -> is_same: bool"))}
	case "dspy_flex_cot_3.3.0b1.json":
		return &struct {
			Classify *programs.ChainOfThought[programs.Values, programs.Values]
		}{cot("text -> intent")}
	}
	t.Fatalf("no program for %s", fixture)
	return nil
}

// TestDSPySavedProgramsOverHTTP loads each real DSPy-saved file, calls the
// predictor of each golden with the golden's request against the embedded
// model server over HTTP, and checks that the chat messages the server
// received are, byte for byte, those DSPy would have sent: what "optimise
// in Python, serve in Go" needs of the prompt.
func TestDSPySavedProgramsOverHTTP(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join(savedDir, "*.chat.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(goldens) < 5 {
		t.Fatalf("%d goldens in %s", len(goldens), savedDir)
	}
	srv := rtSim(t)
	for _, path := range goldens {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".chat.golden"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var g struct {
				Fixture   string          `json:"fixture"`
				Predictor string          `json:"predictor"`
				Request   programs.Values `json:"request"`
				Messages  []lm.Message    `json:"messages"`
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join(savedDir, g.Fixture))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			prog, err := programs.LoadDSPy(f, savedProgram(t, g.Fixture))
			if err != nil {
				t.Fatal(err)
			}
			nps, err := programs.NamedPredictors(prog)
			if err != nil {
				t.Fatal(err)
			}
			var p *programs.Predictor
			for _, np := range nps {
				if np.Name == g.Predictor {
					p = np.Predictor
				}
			}
			if p == nil {
				t.Fatalf("no predictor %q", g.Predictor)
			}
			base := &http.Transport{}
			t.Cleanup(base.CloseIdleConnections)
			rec := &recordingTransport{next: base}
			model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), APIKey: "sk-saved-test", Model: srv.Model(),
				HTTPClient: &http.Client{Transport: rec}})
			if err != nil {
				t.Fatal(err)
			}
			if p, err = p.WithOptions(programs.WithLM(model)); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Call(context.Background(), g.Request); err != nil {
				t.Fatalf("Call: %v", err)
			}
			rec.mu.Lock()
			bodies := rec.bodies
			rec.mu.Unlock()
			if len(bodies) != 1 {
				t.Fatalf("%d requests, want 1", len(bodies))
			}
			var body struct {
				Messages []struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(bodies[0], &body); err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, m := range g.Messages {
				want = append(want, string(m.Role)+": "+m.Content)
			}
			for _, m := range body.Messages {
				got = append(got, m.Role+": "+m.Content)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("messages sent differ from DSPy's (-dspy +dspex):\n%s", diff)
			}
		})
	}
}
