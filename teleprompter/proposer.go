package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// Proposer proposes a new instruction for one predictor of a program
// (DSPy's instruction proposer). The instruction optimizers call it once
// per candidate, each time with another tip, demo set and rollout.
//
// Implementations must be safe for concurrent use.
type Proposer interface {
	ProposeInstruction(ctx context.Context, req ProposalRequest) (string, error)
}

// DatasetSummarizer is implemented by proposers that describe the
// training set once, before proposing; the summary is passed back in
// ProposalRequest.DatasetSummary.
type DatasetSummarizer interface {
	SummarizeDataset(ctx context.Context, base *programs.Predictor, trainset []dataset.Example) (string, error)
}

// ScoredInstruction is an instruction tried before, with its score.
type ScoredInstruction struct {
	Instruction string  `json:"instruction"`
	Score       float64 `json:"score"`
}

// ProposalRequest is what a proposer is given to propose one instruction.
type ProposalRequest struct {
	// Name is the predictor's name in the program.
	Name string
	// Predictor is the student's predictor: its signature and current
	// instructions. The grounded proposer runs on its LM and adapter
	// unless it has a prompt model of its own.
	Predictor *programs.Predictor
	// ProgramDescription describes the whole program and the predictor's
	// place in it.
	ProgramDescription string
	// DatasetSummary is the proposer's own summary of the training set
	// (see DatasetSummarizer), or empty.
	DatasetSummary string
	// Demos is a demo set of the predictor, shown as examples of the task.
	Demos []programs.Values
	// Previous lists instructions tried before with their scores, best
	// first (COPRO's later rounds); empty for MIPROv2 and BEACON.
	Previous []ScoredInstruction
	// Tip is advice on how to write the instruction ("write it plainly").
	Tip string
	// Temperature is the sampling temperature for the proposal.
	Temperature float64
	// Rollout distinguishes proposals that would otherwise be the same
	// request, so a cache does not return one reply for all.
	Rollout int
}

// DefaultTips returns the tips given to the proposer, one per proposal
// (the empty tip means none). Like DSPy's grounded proposer (TIPS in
// dspy/propose/grounded_proposer.py, stanfordnlp/dspy at commit
// 015c64940362f132c67a50da4a49c346756bb243), they are advice on how to
// write the instruction, not text for it: the proposer reads them and
// writes the instruction from the data and the examples.
func DefaultTips() []string {
	return []string{
		"",
		"Feel free to take an unusual angle when you write the new instruction.",
		"Aim for an instruction that is plain and easy to follow.",
		"Write an instruction that tells the model everything it needs to know about the task.",
		"Frame the instruction around a situation in which getting the task right matters a great deal.",
		"Open the instruction with a persona suited to the task, such as \"You are a ...\".",
		"Ground the instruction in what the example inputs and outputs have in common.",
	}
}

// ErrEmptyProposal means a proposer produced no usable instruction.
var ErrEmptyProposal = errors.New("teleprompter: the proposer produced an empty instruction")

// The proposer's own signatures. Their output field names are stable, so
// a simulator can recognise the proposer's prompts: proposed_instruction
// for a proposal, dataset_observations for the dataset summary.
var (
	proposeSignature = mustSignature("ProposeInstruction",
		"You write instructions for a step of a language-model program. Read the description of the data, "+
			"the program and the step, the example inputs and outputs, the step's current instruction and the "+
			"instructions tried before with their scores, and follow the tip. Then write one new instruction "+
			"that will make the step solve its task better. Reply with the instruction only.",
		[]signature.Field{
			{Name: "dataset_description", Desc: "What the task's data looks like", Type: signature.TypeString},
			{Name: "program_description", Desc: "What the program does and the steps it is made of", Type: signature.TypeString},
			{Name: "predictor_name", Desc: "The step to write an instruction for", Type: signature.TypeString},
			{Name: "predictor_role", Desc: "The step's inputs, outputs and role in the program", Type: signature.TypeString},
			{Name: "task_demos", Desc: "Example inputs and outputs of the step", Type: signature.TypeString},
			{Name: "previous_instructions", Desc: "Instructions tried before with their scores, best first", Type: signature.TypeString},
			{Name: "basic_instruction", Desc: "The step's current instruction", Type: signature.TypeString},
			{Name: "tip", Desc: "A tip for the new instruction", Type: signature.TypeString},
		},
		[]signature.Field{
			{Name: "proposed_instruction", Desc: "The new instruction for the step", Type: signature.TypeString},
		})
	summarySignature = mustSignature("DescribeDataset",
		"Look at the examples of a dataset and describe, in a few sentences, what they have in common: "+
			"the kind of questions or inputs, the topics, and the form and length of the answers.",
		[]signature.Field{{Name: "examples", Desc: "Examples of the dataset", Type: signature.TypeString}},
		[]signature.Field{{Name: "dataset_observations", Desc: "What the examples have in common", Type: signature.TypeString}})
)

func mustSignature(name, instructions string, in, out []signature.Field) signature.Signature {
	s, err := signature.New(name, instructions, in, out)
	if err != nil {
		panic(err)
	}
	return s
}

// GroundedProposer is the default proposer (DSPy's GroundedProposer): a
// dspex program of two predictors. The first summarises a sample of the
// training set (once per compilation); the second is given that summary,
// a description of the program and of the predictor's role, a demo set,
// the current instruction, earlier attempts with their scores and a tip,
// and proposes the new instruction, its output proposed_instruction.
//
// It runs on its prompt model, or else on the LM and adapter of the
// predictor it proposes for. A GroundedProposer is immutable and safe for
// concurrent use.
type GroundedProposer struct {
	model   lm.LM
	summary int
}

// NewGroundedProposer returns a grounded proposer running on model, or on
// each predictor's own LM when model is nil.
func NewGroundedProposer(model lm.LM) *GroundedProposer {
	return &GroundedProposer{model: model, summary: 20}
}

// runner returns the proposer's predictor for sig, on base's LM and
// adapter unless the proposer has its own model.
func (g *GroundedProposer) runner(base *programs.Predictor, sig signature.Signature, name string) (*programs.Predictor, error) {
	p := base.WithSignature(sig).WithDemos(nil).WithName(name)
	if g.model != nil {
		return p.WithOptions(programs.WithLM(g.model))
	}
	return p, nil
}

// SummarizeDataset describes up to 20 training examples in a few
// sentences.
func (g *GroundedProposer) SummarizeDataset(ctx context.Context, base *programs.Predictor, trainset []dataset.Example) (string, error) {
	if len(trainset) == 0 {
		return "", nil
	}
	p, err := g.runner(base, summarySignature, "describe_dataset")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, ex := range trainset[:min(len(trainset), g.summary)] {
		fmt.Fprintf(&b, "Example %d:\n%s\n", i+1, formatValues(ex.Values(), sortedKeys(ex.Values())))
	}
	pred, err := p.Call(ctx, programs.Values{"examples": b.String()})
	if err != nil {
		return "", err
	}
	s, _ := pred.Values["dataset_observations"].(string)
	return strings.TrimSpace(s), nil
}

// ProposeInstruction asks the LM for one new instruction.
func (g *GroundedProposer) ProposeInstruction(ctx context.Context, req ProposalRequest) (string, error) {
	if req.Predictor == nil {
		return "", errors.New("teleprompter: ProposeInstruction: nil predictor")
	}
	p, err := g.runner(req.Predictor, proposeSignature, "propose_instruction")
	if err != nil {
		return "", err
	}
	sig := req.Predictor.Signature()
	var prev strings.Builder
	for _, s := range req.Previous {
		fmt.Fprintf(&prev, "Instruction: %s\nScore: %.1f%%\n\n", s.Instruction, 100*s.Score)
	}
	inputs := programs.Values{
		"dataset_description":   orNone(req.DatasetSummary),
		"program_description":   orNone(req.ProgramDescription),
		"predictor_name":        req.Name,
		"predictor_role":        "It takes " + fieldNames(sig.Inputs()) + " and produces " + fieldNames(sig.Outputs()) + ".",
		"task_demos":            orNone(formatDemos(req.Demos, sig)),
		"previous_instructions": orNone(strings.TrimSpace(prev.String())),
		"basic_instruction":     sig.Instructions(),
		"tip":                   orNone(req.Tip),
	}
	pred, err := p.Call(ctx, inputs, programs.WithTemperature(req.Temperature), programs.WithRollout(req.Rollout))
	if err != nil {
		return "", err
	}
	s, _ := pred.Values["proposed_instruction"].(string)
	if s = cleanInstruction(s); s == "" {
		return "", ErrEmptyProposal
	}
	return s, nil
}

// cleanInstruction trims a proposal: white space, a leading label and
// surrounding quotes.
func cleanInstruction(s string) string {
	s = strings.TrimSpace(s)
	for _, label := range []string{"proposed instruction:", "instruction:"} {
		if len(s) >= len(label) && strings.EqualFold(s[:len(label)], label) {
			s = strings.TrimSpace(s[len(label):])
		}
	}
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "None"
	}
	return s
}

func fieldNames(fs []signature.Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = "`" + f.Name + "`"
	}
	return strings.Join(names, ", ")
}

// formatDemos shows up to 5 demos as input and output blocks.
func formatDemos(demos []programs.Values, sig signature.Signature) string {
	var in, out []string
	for _, f := range sig.Inputs() {
		in = append(in, f.Name)
	}
	for _, f := range sig.Outputs() {
		out = append(out, f.Name)
	}
	var b strings.Builder
	for i, d := range demos[:min(len(demos), 5)] {
		fmt.Fprintf(&b, "Example %d\nInputs:\n%sOutputs:\n%s\n", i+1, formatValues(d, in), formatValues(d, out))
	}
	return strings.TrimSpace(b.String())
}

// formatValues writes "name: value" lines for the keys present in v,
// each value cut to 300 characters.
func formatValues(v programs.Values, keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		x, ok := v[k]
		if !ok {
			continue
		}
		s := strings.Join(strings.Fields(fmt.Sprint(x)), " ")
		if r := []rune(s); len(r) > 300 {
			s = string(r[:299]) + "…"
		}
		fmt.Fprintf(&b, "%s: %s\n", k, s)
	}
	return b.String()
}

func sortedKeys(v map[string]any) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// describeProgram describes the program's predictors in order, for the
// proposer: what each takes and produces, and its instructions.
func describeProgram(nps []programs.NamedPredictor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The program runs %d language-model step(s):\n", len(nps))
	for i, np := range nps {
		sig := np.Predictor.Signature()
		fmt.Fprintf(&b, "%d. `%s` takes %s and produces %s. Its instruction: %s\n",
			i+1, np.Name, fieldNames(sig.Inputs()), fieldNames(sig.Outputs()), strings.Join(strings.Fields(sig.Instructions()), " "))
	}
	return strings.TrimSpace(b.String())
}
