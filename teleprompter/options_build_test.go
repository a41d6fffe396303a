package teleprompter_test

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestWrongOptionsFailToBuild type-checks calls that give an optimizer an
// option of another one: each must fail to build (they used to fail at
// run time, in New...), while the same calls with options that apply
// build.
func TestWrongOptionsFailToBuild(t *testing.T) {
	tests := []struct {
		name, call string
		ok         bool
	}{
		{"seed everywhere", `tp.NewLabeledFewShot(2, tp.WithSeed(1))
			tp.NewBootstrapFewShot(em, tp.WithSeed(1), tp.WithMaxRounds(2), tp.WithMaxErrors(1))
			tp.NewBootstrapFewShotWithRandomSearch(em, tp.WithSeed(1), tp.WithNumCandidates(3), tp.WithStopAtScore(1))
			tp.NewKNNFewShot(1, nil, tp.WithSeed(1), tp.WithBootstrap(em), tp.WithMaxRounds(2))
			tp.NewMIPROv2(em, tp.WithSeed(1), tp.WithAuto(tp.AutoLight), tp.WithTips("x"), tp.WithMaxBootstrappedDemos(2))
			tp.NewBEACON(em, tp.WithSeed(1), tp.WithNumTrials(3), tp.WithValset(nil))
			tp.NewCOPRO(em, tp.WithSeed(1), tp.WithBreadth(3), tp.WithTips("x"), tp.WithValset(nil))
			tp.NewGEPA(fm, tp.WithSeed(1), tp.WithAuto(tp.AutoLight), tp.WithReflectionLM(nil), tp.WithValset(nil))
			tp.NewSIMBA(fm, tp.WithSeed(1), tp.WithMaxSteps(2), tp.WithNumCandidates(3), tp.WithMaxBootstrappedDemos(2))`, true},
		{"candidates on BootstrapFewShot", `tp.NewBootstrapFewShot(em, tp.WithNumCandidates(3))`, false},
		{"rounds on LabeledFewShot", `tp.NewLabeledFewShot(2, tp.WithMaxRounds(2))`, false},
		{"candidates on GEPA", `tp.NewGEPA(fm, tp.WithAuto(tp.AutoLight), tp.WithNumCandidates(3))`, false},
		{"GEPA budget on SIMBA", `tp.NewSIMBA(fm, tp.WithMaxFullEvals(2))`, false},
		{"SIMBA steps on BootstrapFewShot", `tp.NewBootstrapFewShot(em, tp.WithMaxSteps(2))`, false},
		{"breadth on MIPROv2", `tp.NewMIPROv2(em, tp.WithBreadth(3))`, false},
		{"auto on COPRO", `tp.NewCOPRO(em, tp.WithAuto(tp.AutoLight))`, false},
		{"bootstrap option on COPRO", `tp.NewCOPRO(em, tp.WithMaxBootstrappedDemos(2))`, false},
		{"auto on BootstrapFewShot", `tp.NewBootstrapFewShot(em, tp.WithAuto(tp.AutoLight))`, false},
		{"auto on SIMBA", `tp.NewSIMBA(fm, tp.WithAuto(tp.AutoLight))`, false},
		{"stop at score on BootstrapFewShot", `tp.NewBootstrapFewShot(em, tp.WithStopAtScore(1))`, false},
		{"KNN option on BootstrapFewShot", `tp.NewBootstrapFewShot(em, tp.WithEmbeddingModel("m"))`, false},
		{"evaluate options on LabeledFewShot", `tp.NewLabeledFewShot(2, tp.WithMaxErrors(1))`, false},
	}
	if testing.Short() {
		t.Skip("builds the export data of the package and its dependencies")
	}
	// The export data of every package the snippets import, from the go
	// command (the gc importer alone does not know modules).
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}",
		"github.com/dspex-go/dspex/teleprompter", "github.com/dspex-go/dspex/evaluate").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if path, file, ok := strings.Cut(line, "="); ok && file != "" {
			exports[path] = file
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf(`package p

import (
	"github.com/dspex-go/dspex/evaluate"
	tp "github.com/dspex-go/dspex/teleprompter"
)

var (
	em = evaluate.ExactMatch("answer")
	fm = tp.FeedbackOf(em)
)

func f() {
	%s
}
`, tt.call)
			file, err := parser.ParseFile(fset, "p.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			var errs []string
			conf := types.Config{Importer: imp, Error: func(err error) { errs = append(errs, err.Error()) }}
			_, _ = conf.Check("p", fset, []*ast.File{file}, nil)
			if tt.ok && len(errs) > 0 {
				t.Fatalf("does not build:\n%s", strings.Join(errs, "\n"))
			}
			if !tt.ok && !slicesContain(errs, "does not implement") {
				t.Fatalf("builds, or fails for another reason: %q", errs)
			}
		})
	}
}

func slicesContain(errs []string, sub string) bool {
	for _, e := range errs {
		if strings.Contains(e, sub) {
			return true
		}
	}
	return false
}
