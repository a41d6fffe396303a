// Package sandbox runs code written by a language model, for the modules
// that act by writing code (programs.ProgramOfThought, programs.CodeAct and
// programs.RLM).
//
// The code runs behind a small interface, Interpreter, so that another
// engine can be plugged in. The implementation shipped here, Starlark, runs
// Starlark (go.starlark.net): a deterministic dialect of Python, embedded
// and pure Go, with no file, network or clock access. A run is bounded in
// instructions (a step limit), in time (through its context) and in memory
// (every operation and builtin that can build a large string or list is
// checked before it allocates), and every failure comes back as text with
// the line, so the model that wrote the code can read it and try again.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Errors a run can match with errors.Is, through the *Error it returns.
var (
	// ErrSyntax means the code does not parse or uses an undefined name.
	ErrSyntax = errors.New("syntax error")
	// ErrRuntime means the code failed while running: a bad operation,
	// fail(), or an error from a function the host provided.
	ErrRuntime = errors.New("runtime error")
	// ErrStepLimit means the code ran more instructions than allowed.
	ErrStepLimit = errors.New("step limit exceeded")
	// ErrMemoryLimit means the code tried to build a value, or to allocate
	// in total, more than allowed.
	ErrMemoryLimit = errors.New("memory limit exceeded")
	// ErrCanceled means the run's context was canceled or its deadline
	// passed; the *Error unwraps to the context's error.
	ErrCanceled = errors.New("canceled")
)

// Error is a failed run. Its message is meant for the model that wrote the
// code: the kind of failure, the line and what went wrong, with the
// traceback when there is one.
type Error struct {
	// Kind is ErrSyntax, ErrRuntime, ErrStepLimit, ErrMemoryLimit or
	// ErrCanceled.
	Kind error
	// Line is the 1-based line of the code where it failed; 0 when unknown.
	Line int
	// Msg says what went wrong.
	Msg string
	// Traceback is the call stack at the failure, innermost call last; empty
	// for syntax errors.
	Traceback string
	cause     error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case errors.Is(e.Kind, ErrSyntax):
		b.WriteString("SyntaxError")
	case errors.Is(e.Kind, ErrStepLimit):
		b.WriteString("StepLimitError")
	case errors.Is(e.Kind, ErrMemoryLimit):
		b.WriteString("MemoryError")
	case errors.Is(e.Kind, ErrCanceled):
		b.WriteString("TimeoutError")
	default:
		b.WriteString("Error")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " on line %d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Traceback != "" {
		b.WriteString("\n")
		b.WriteString(e.Traceback)
	}
	return b.String()
}

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the cause: the context's error for ErrCanceled, the error a
// host function returned, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Func is a Go function the code can call by Name. Positional and keyword
// arguments arrive converted to Go values (see Env); the result is
// converted back. An error, or a panic, fails the run with a runtime error
// whose message the model reads.
type Func struct {
	// Name is the function's name in the code; it must be an identifier.
	Name string
	// Call runs the function. ctx is the run's context.
	Call func(ctx context.Context, args []any, kwargs map[string]any) (any, error)
}

// Env is what a session starts with.
//
// Values cross between Go and the code as: nil and None; bool; integers
// (int64 in Go); floats (float64); strings; lists and tuples ([]any);
// dicts with string keys (map[string]any). Go slices, arrays, maps with
// string keys, structs and other values that encode to JSON are accepted
// as globals and function results, through their JSON form.
type Env struct {
	// Globals are variables the code can read, by name.
	Globals map[string]any
	// Funcs are host functions the code can call.
	Funcs []Func
	// Final names the functions that end the run with a final value, such
	// as DSPy's FINAL(value) and SUBMIT(name=value, ...). Called with one
	// positional argument, the final value is that argument; with keyword
	// arguments only, a map of them. The run stops at the call.
	Final []string
}

// Result is what a successful run produced.
type Result struct {
	// Output is what the code printed, one line per print call. It is cut
	// at the interpreter's output limit, with a note saying so.
	Output string
	// Finished reports that the code called a Final function; Final holds
	// the value it gave.
	Finished bool
	// Final is the value given to a Final function.
	Final any
	// Steps is the number of instructions the run executed.
	Steps uint64
}

// Interpreter starts sessions. Implementations must be safe for concurrent
// use.
type Interpreter interface {
	// NewSession returns a session with env's globals and functions.
	NewSession(env Env) (Session, error)
}

// Session runs snippets one after another in a shared global state: a
// variable a snippet defines can be read by the next, as in a REPL. A
// Session is not safe for concurrent use.
type Session interface {
	// Run executes code and returns what it printed and the final value it
	// gave, if any. A failure is an *Error; the Result then still holds what
	// the code printed before it failed.
	Run(ctx context.Context, code string) (Result, error)
}
