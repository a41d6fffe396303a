package programs_test

import (
	"bytes"
	"testing"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// fuzzProgram is a two-predictor program whose saved state seeds the
// state fuzzers.
func fuzzProgram(f *testing.F) programs.Program {
	f.Helper()
	cot, err := programs.NewChainOfThoughtFrom(signature.MustParse("question, context: list[str] -> answer, confidence: float"))
	if err != nil {
		f.Fatal(err)
	}
	return cot
}

// FuzzLoad feeds Load arbitrary bytes: state reaches cluster nodes over the
// wire, so Load must fail with an error, never panic, and a state it
// accepts must save and load again to the same bytes.
func FuzzLoad(f *testing.F) {
	prog := fuzzProgram(f)
	var seed bytes.Buffer
	if err := programs.Save(&seed, prog); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add([]byte(`{"dspex":1,"predictors":[]}`))
	f.Add([]byte(`{"dspex":1,"predictors":[{"name":"predict","demos":[{"answer":1e400}]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := programs.Load(bytes.NewReader(data), prog)
		if err != nil {
			return
		}
		var once, twice bytes.Buffer
		if err := programs.Save(&once, got); err != nil {
			t.Fatalf("Save of a loaded state: %v", err)
		}
		again, err := programs.Load(bytes.NewReader(once.Bytes()), prog)
		if err != nil {
			t.Fatalf("Load of a saved state: %v\n%s", err, once.Bytes())
		}
		if err := programs.Save(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("state changed on a round trip:\n%s\n%s", once.Bytes(), twice.Bytes())
		}
	})
}

// FuzzLoadDSPy feeds LoadDSPy arbitrary bytes: it must fail with an error,
// never panic.
func FuzzLoadDSPy(f *testing.F) {
	prog := fuzzProgram(f)
	var seed bytes.Buffer
	if err := programs.SaveDSPy(&seed, prog); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"predict":{"demos":[{"augmented":true}],"signature":{"fields":[]}}}`))
	f.Add([]byte(`{"predict":{"demos":[{"augmented":true,"confidence":1.0,"x":1e400,"y":[1,1.0]}],"lm":{"api_key":"k","t":1.0}},"metadata":{"dependency_versions":{}}}`))
	f.Add([]byte(`{"predict":{"demos":[{"b":{"z":1,"a":2.50},"a":"\u00e9\/","a":1E2},{"x":[1,1.0]}],"signature":{"instructions":"","fields":[{"prefix":"Q:","description":"d"}]},"lm":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := programs.LoadDSPy(bytes.NewReader(data), prog)
		if err != nil {
			return
		}
		// A file LoadDSPy accepts saves, loads again and saves the same.
		var once, twice bytes.Buffer
		if err := programs.SaveDSPy(&once, got); err != nil {
			t.Fatalf("SaveDSPy of a loaded file: %v", err)
		}
		again, err := programs.LoadDSPy(bytes.NewReader(once.Bytes()), prog)
		if err != nil {
			t.Fatalf("LoadDSPy of a saved file: %v\n%s", err, once.Bytes())
		}
		if err := programs.SaveDSPy(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("file changed on a round trip:\n%s\n%s", once.Bytes(), twice.Bytes())
		}
	})
}
