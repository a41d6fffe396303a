package programs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs/sandbox"
)

// codeConfig holds the settings of the modules that write and run code.
type codeConfig struct {
	interp         sandbox.Interpreter
	maxLLMCalls    int
	subLM          lm.LM
	maxOutputChars int
	tools          []Tool
}

var codeModules = []string{"ProgramOfThought", "CodeAct", "RLM"}

// WithInterpreter sets the sandbox that runs the code ProgramOfThought,
// CodeAct and RLM write (default: sandbox.Default(), a Starlark
// interpreter with the default limits).
func WithInterpreter(i sandbox.Interpreter) Option {
	return moduleOption{name: "WithInterpreter", modules: codeModules, apply: func(c *moduleConfig) error {
		if i == nil {
			return errors.New("programs: WithInterpreter(nil)")
		}
		c.code.interp = i
		return nil
	}}
}

// WithMaxLLMCalls sets how many sub-LM calls (llm_query and
// llm_query_batched prompts) one RLM run may make (default 50, as DSPy).
func WithMaxLLMCalls(n int) Option {
	return moduleOption{name: "WithMaxLLMCalls", modules: []string{"RLM"}, apply: func(c *moduleConfig) error {
		if n <= 0 {
			return fmt.Errorf("programs: max LLM calls %d must be positive", n)
		}
		c.code.maxLLMCalls = n
		return nil
	}}
}

// WithSubLM sets the LM that answers RLM's llm_query calls (default: the
// LM the module's predictors use).
func WithSubLM(m lm.LM) Option {
	return moduleOption{name: "WithSubLM", modules: []string{"RLM"}, apply: func(c *moduleConfig) error {
		if m == nil {
			return errors.New("programs: WithSubLM(nil)")
		}
		c.code.subLM = m
		return nil
	}}
}

// WithTools gives an RLM's code Go tools to call as functions, besides
// llm_query (as DSPy's RLM tools argument); they are listed in the
// instructions, and are called as CodeAct's are.
func WithTools(tools ...Tool) Option {
	return moduleOption{name: "WithTools", modules: []string{"RLM"}, apply: func(c *moduleConfig) error {
		c.code.tools = append(c.code.tools, tools...)
		return nil
	}}
}

// WithMaxOutputChars sets how many characters of a snippet's output RLM
// shows the model in its REPL history (default 10,000, as DSPy).
func WithMaxOutputChars(n int) Option {
	return moduleOption{name: "WithMaxOutputChars", modules: []string{"RLM"}, apply: func(c *moduleConfig) error {
		if n <= 0 {
			return fmt.Errorf("programs: max output chars %d must be positive", n)
		}
		c.code.maxOutputChars = n
		return nil
	}}
}

func (c codeConfig) interpreter() sandbox.Interpreter {
	if c.interp == nil {
		return sandbox.Default()
	}
	return c.interp
}

// CodeStep is one program a code-writing module ran: the code, what it
// printed (or the value it returned) and the error it failed with.
type CodeStep struct {
	// Reasoning is what the LM wrote before the code, when it was asked to.
	Reasoning string `json:"reasoning,omitempty"`
	// Code is the program, fences removed.
	Code string `json:"code"`
	// Output is what the program printed or returned.
	Output string `json:"output,omitempty"`
	// Error is why the program could not be parsed or failed; empty on
	// success.
	Error string `json:"error,omitempty"`
}

// ErrCodeFailed means a code-writing module gave up: every program it
// wrote failed. It is matched through a *CodeError.
var ErrCodeFailed = errors.New("programs: the generated code kept failing")

// CodeError is a ProgramOfThought run whose programs all failed.
type CodeError struct {
	// Module names the module.
	Module string
	// Steps are the programs tried, with their errors.
	Steps []CodeStep
}

// Error implements error.
func (e *CodeError) Error() string {
	last := ""
	if n := len(e.Steps); n > 0 {
		last = e.Steps[n-1].Error
	}
	return fmt.Sprintf("programs: %s: %d programs failed; the last with: %s", e.Module, len(e.Steps), last)
}

// Is reports whether target is ErrCodeFailed.
func (e *CodeError) Is(target error) bool { return target == ErrCodeFailed }

// stripFences extracts the code from an LM's reply: the first fenced block
// (```python, ```py, ```starlark or bare ```), else the whole text. A
// fence tagged with another language is an error the model can read (as
// in DSPy's dspy/predict/rlm.py _strip_code_fences, commit 00d9fbd8).
func stripFences(text string) (string, error) {
	code := strings.TrimSpace(text)
	i := strings.Index(code, "```")
	if i < 0 {
		if code == "" {
			return "", errors.New("the reply holds no code")
		}
		return code, nil
	}
	lang, rest, ok := strings.Cut(code[i+3:], "\n")
	if !ok {
		return "", errors.New("the code fence is never closed")
	}
	switch l := strings.ToLower(strings.TrimSpace(lang)); l {
	case "", "python", "py", "python3", "starlark", "star":
	default:
		return "", fmt.Errorf("expected Starlark (Python) code but got a ```%s block; write Python-style code", l)
	}
	if j := strings.Index(rest, "```"); j >= 0 {
		rest = rest[:j]
	}
	if strings.TrimSpace(rest) == "" {
		return "", errors.New("the code block is empty")
	}
	return strings.TrimRight(rest, " \n") + "\n", nil
}

// toolFuncs turns tools into sandbox functions: positional arguments are
// matched to the tool's arguments in schema order, keyword arguments by
// name, and the result comes back as a value (structs through JSON). A
// tool's error or panic fails the snippet; the model reads it.
func toolFuncs(tools []Tool) []sandbox.Func {
	out := make([]sandbox.Func, len(tools))
	for i, t := range tools {
		out[i] = sandbox.Func{Name: t.name, Call: func(ctx context.Context, args []any, kwargs map[string]any) (any, error) {
			all := make(map[string]any, len(args)+len(kwargs))
			for j, a := range args {
				if j >= len(t.params.Props) {
					return nil, fmt.Errorf("takes %d arguments, got %d", len(t.params.Props), len(args))
				}
				all[t.params.Props[j].Name] = a
			}
			for k, v := range kwargs {
				if _, dup := all[k]; dup {
					return nil, fmt.Errorf("argument %s given twice", k)
				}
				all[k] = v
			}
			res, err := t.invoke(ctx, all)
			var te *ToolError
			if errors.As(err, &te) {
				err = te.Err // the sandbox names the function already
			}
			return res, err
		}}
	}
	return out
}

// toolList describes tools for an instruction, one per line, as ReAct
// does: "(1) name, whose description is <desc>...</desc>. It takes
// arguments {...} in JSON format."
func toolList(b *strings.Builder, tools []Tool) {
	for i, t := range tools {
		fmt.Fprintf(b, "(%d) %s", i+1, t.name)
		if t.desc != "" {
			fmt.Fprintf(b, ", whose description is <desc>%s</desc>", strings.ReplaceAll(t.desc, "\n", "  "))
		}
		fmt.Fprintf(b, ". It takes arguments %s in JSON format.\n", t.arguments())
	}
}

// checkTools validates a module's tools: built with NewTool, distinct
// names, none reserved.
func checkTools(module string, tools []Tool, reserved ...string) error {
	seen := map[string]bool{}
	for _, r := range reserved {
		seen[r] = true
	}
	for _, t := range tools {
		if t.call == nil {
			return fmt.Errorf("programs: %s: zero Tool (use NewTool)", module)
		}
		if seen[t.name] {
			return fmt.Errorf("programs: %s: the tool name %q is taken", module, t.name)
		}
		seen[t.name] = true
	}
	return nil
}
