package programs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// The files under testdata/dspy_saved were saved by DSPy (2.6.25, 3.0.0
// and a 3.3.0b1 development build; two more by DSPy 2.5.5 or earlier,
// which LoadDSPy refuses) and are kept verbatim; testdata/dspy_saved/README.md names the
// repository, path, commit and licence of each. Each golden file there
// holds the messages DSPy's ChatAdapter sends for one of their predictors
// and one request, written by testdata/dspy_saved/transcribe.py from DSPy's
// formatting rules.

// savedCleaner is a module holding a ChainOfThought ("chain.predict"), as
// knutole/dspy-demo's PIIRemover.
type savedCleaner struct {
	Chain *programs.ChainOfThought[programs.Values, programs.Values]
}

// savedJudge is a module holding a Predict ("judge"), as the SamePlaceModule
// of DSPy's Flex demo.
type savedJudge struct {
	Judge *programs.Predictor
}

// savedIntent is a module holding a ChainOfThought ("classify.predict"), as
// the BANKING77 module of DSPy's Flex demo.
type savedIntent struct {
	Classify *programs.ChainOfThought[programs.Values, programs.Values]
}

type wikipediaArgs struct {
	Query string `json:"query"`
}

// savedPrograms returns a dspex program of the same shape as the DSPy
// program that saved each file (the README quotes its source).
func savedPrograms(t testing.TB) map[string]func() any {
	t.Helper()
	cot := func(sig string) *programs.ChainOfThought[programs.Values, programs.Values] {
		c, err := programs.NewChainOfThoughtFrom(signature.MustParse(sig))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return map[string]func() any{
		"dspy_react_3.0.0.json": func() any {
			search := programs.MustTool("search_wikipedia", "",
				func(context.Context, wikipediaArgs) (string, error) { return "", nil })
			r, err := programs.NewReActFrom(signature.MustParse("question -> answer"), []programs.Tool{search})
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		"knutole_cot_bootstrapped_2.6.25.json": func() any {
			return &savedCleaner{Chain: cot("text -> clean_text")}
		},
		"dspy_flex_predict_3.3.0b1.json": func() any {
			return &savedJudge{Judge: programs.MustPredictFrom(signature.MustParse(
				"input_name: str, input_address: str, match_name: str, match_address: str, distance: float -> is_same: bool"))}
		},
		"dspy_flex_cot_3.3.0b1.json": func() any {
			return &savedIntent{Classify: cot("text -> intent")}
		},
	}
}

type savedGolden struct {
	Repo      string          `json:"dspy_repo"`
	Commit    string          `json:"dspy_commit"`
	Fixture   string          `json:"fixture"`
	Predictor string          `json:"predictor"`
	Request   programs.Values `json:"request"`
	Messages  []goldenMessage `json:"messages"`
	Files     []string        `json:"dspy_files"`
	FromDemo  *int            `json:"request_from_demo"`
}

type goldenMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// TestLoadDSPySavedFilesRenderAsDSPy loads each real DSPy file into a dspex
// program of the same shape and checks that the chat adapter formats, for
// one of the file's demos' inputs, exactly the messages DSPy would send.
func TestLoadDSPySavedFilesRenderAsDSPy(t *testing.T) {
	progs := savedPrograms(t)
	goldens, err := filepath.Glob(filepath.Join("testdata", "dspy_saved", "*.chat.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(goldens) < 5 {
		t.Fatalf("%d golden files, want one per case of transcribe.py", len(goldens))
	}
	covered := map[string]bool{}
	for _, path := range goldens {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".chat.golden"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var g savedGolden
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			if g.Repo != "stanfordnlp/dspy" || len(g.Commit) != 40 || len(g.Files) == 0 {
				t.Fatalf("golden does not cite DSPy's source: %s", path)
			}
			mk, ok := progs[g.Fixture]
			if !ok {
				t.Fatalf("no program for %s", g.Fixture)
			}
			covered[g.Fixture] = true
			f, err := os.Open(filepath.Join("testdata", "dspy_saved", g.Fixture))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			prog, err := programs.LoadDSPy(f, mk())
			if err != nil {
				t.Fatal(err)
			}
			p := predictorNamed(t, prog, g.Predictor)
			req, err := adapter.Chat{}.Format(p.Signature(), p.Demos(), g.Request)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(g.Messages, asGoldenMessages(t, req.Messages)); diff != "" {
				t.Errorf("%s %q: messages differ from DSPy's (-dspy +dspex):\n%s", g.Fixture, g.Predictor, diff)
			}
		})
	}
	for name := range progs {
		if !covered[name] {
			t.Errorf("no golden renders %s", name)
		}
	}
}

// asGoldenMessages returns msgs in the golden files' form.
func asGoldenMessages(t *testing.T, msgs any) []goldenMessage {
	t.Helper()
	b, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var out []goldenMessage
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func predictorNamed(t *testing.T, prog any, name string) *programs.Predictor {
	t.Helper()
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, np := range nps {
		if np.Name == name {
			return np.Predictor
		}
		names = append(names, np.Name)
	}
	t.Fatalf("no predictor %q in %v", name, names)
	return nil
}

// member is one member of a JSON object, in order.
type member struct {
	Key   string
	Value any
}

// decodeOrdered decodes JSON keeping object members in their order (as
// []member) and numbers as written (json.Number), so that 1.0 and 1, or
// the same keys in another order, compare different.
func decodeOrdered(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := orderedValue(dec)
	if err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
	return v
}

func orderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := []member{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := orderedValue(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{k.(string), v})
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := orderedValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	}
	return tok, nil
}

// TestLoadDSPySavedFilesRoundTrip loads each real file, saves it with
// SaveDSPy and loads that again: the saved JSON is DSPy's file, member for
// member and in the same order (numbers as written, "metadata" with its
// dependency_versions and other top-level keys, each predictor's "lm",
// "traces" and "train", the demos' keys in order with their "augmented"
// flags and other keys), the program loaded back is the same, and a second
// save is byte for byte the first.
func TestLoadDSPySavedFilesRoundTrip(t *testing.T) {
	for name, mk := range savedPrograms(t) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "dspy_saved", name))
			if err != nil {
				t.Fatal(err)
			}
			prog, err := programs.LoadDSPy(bytes.NewReader(raw), mk())
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := programs.SaveDSPy(&out, prog); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeOrdered(t, raw), decodeOrdered(t, out.Bytes())); diff != "" {
				t.Errorf("saved file differs from DSPy's (-dspy +dspex):\n%s", diff)
			}
			again, err := programs.LoadDSPy(bytes.NewReader(out.Bytes()), mk())
			if err != nil {
				t.Fatal(err)
			}
			var a, b bytes.Buffer
			if err := programs.Save(&a, prog); err != nil {
				t.Fatal(err)
			}
			if err := programs.Save(&b, again); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Errorf("state differs after load, save, load:\n%s\n%s", a.String(), b.String())
			}
			var twice bytes.Buffer
			if err := programs.SaveDSPy(&twice, again); err != nil {
				t.Fatal(err)
			}
			if twice.String() != out.String() {
				t.Errorf("second save differs from the first:\n%s\n%s", out.String(), twice.String())
			}
		})
	}
}

// TestLoadDSPyRefusesLegacyFiles loads two real files saved by DSPy 2.5.5
// or earlier (flat "signature_instructions" keys, no "signature"), which
// DSPy 3.x cannot load either: both fail with ErrLegacyDSPyState naming the
// entry.
func TestLoadDSPyRefusesLegacyFiles(t *testing.T) {
	type multihop struct {
		GenerateAnswer *programs.ChainOfThought[programs.Values, programs.Values]
	}
	type game struct {
		Predictor *programs.ChainOfThought[programs.Values, programs.Values]
	}
	cot := func(sig string) *programs.ChainOfThought[programs.Values, programs.Values] {
		c, err := programs.NewChainOfThoughtFrom(signature.MustParse(sig))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		file, entry string
		prog        any
	}{
		{"dspy_multihop_legacy_2.5.json", "generate_query[0]", &multihop{GenerateAnswer: cot("context, question -> answer")}},
		{"sliwa_legacy_2.5.json", "predictor", &game{Predictor: cot("game_state, player_action -> updated_game_state")}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "dspy_saved", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = programs.LoadDSPy(bytes.NewReader(raw), tt.prog)
			if !errors.Is(err, programs.ErrLegacyDSPyState) || !strings.Contains(err.Error(), strconv.Quote(tt.entry)) {
				t.Errorf("err = %v, want ErrLegacyDSPyState naming %q", err, tt.entry)
			}
		})
	}
}

// decodeNumbers decodes JSON keeping numbers as written (json.Number), so
// that 1.0 and 1 compare different.
func decodeNumbers(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
	return m
}

// BenchmarkDSPyRoundTrip loads and saves each real DSPy-saved file: the
// cost of keeping each demo as read.
func BenchmarkDSPyRoundTrip(b *testing.B) {
	for name, mk := range savedPrograms(b) {
		raw, err := os.ReadFile(filepath.Join("testdata", "dspy_saved", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				prog, err := programs.LoadDSPy(bytes.NewReader(raw), mk())
				if err != nil {
					b.Fatal(err)
				}
				if err := programs.SaveDSPy(io.Discard, prog); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
