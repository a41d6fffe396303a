package sandbox

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Default limits of a Starlark interpreter.
const (
	// DefaultMaxSteps is the instruction limit of one run.
	DefaultMaxSteps = 1_000_000
	// DefaultMaxValue is the largest string (in bytes) or list, tuple,
	// dict or set (in elements) one operation may build.
	DefaultMaxValue = 1 << 20
	// DefaultMaxAlloc is how much all the checked operations of one run
	// may build in total, strings in bytes and containers in elements
	// (an element counts as 16 bytes).
	DefaultMaxAlloc = 64 << 20
	// DefaultMaxOutput is how many bytes of printed output one run keeps.
	DefaultMaxOutput = 64 << 10
)

// snippetFile is the file name code runs under; tracebacks show it.
const snippetFile = "snippet"

// elemBytes is what one container element counts for in the total.
const elemBytes = 16

// Starlark is an Interpreter that runs Starlark, a dialect of Python:
// deterministic, with no file, network, clock or environment access (there
// is no module to import; load fails). while loops, top-level if/for/while
// and set() are allowed; recursion is not, as in standard Starlark.
//
// Limits: a run stops at the step limit (StepLimitError) and when its
// context ends (TimeoutError); a string or container larger than the value
// limit, or more than the total allocation limit across a run, is refused
// before it is built (MemoryError). The checks cover the operators + * %,
// their augmented forms, the builtins that build containers (list, tuple,
// dict, set, sorted, reversed, enumerate, zip) and the string and list
// methods that can grow a value (replace, join, format, extend); a value
// grown one element at a time is bounded by the step limit.
//
// The zero value is not usable; call NewStarlark. A Starlark is immutable
// and safe for concurrent use.
type Starlark struct {
	maxSteps  uint64
	maxValue  int
	maxAlloc  int64
	maxOutput int
}

// Option configures a Starlark interpreter.
type Option func(*Starlark) error

// WithMaxSteps sets the instruction limit of one run (default
// DefaultMaxSteps).
func WithMaxSteps(n uint64) Option {
	return func(s *Starlark) error {
		if n == 0 {
			return errors.New("sandbox: max steps must be positive")
		}
		s.maxSteps = n
		return nil
	}
}

// WithMaxValue sets the largest string (bytes) or container (elements) one
// operation may build (default DefaultMaxValue).
func WithMaxValue(n int) Option {
	return func(s *Starlark) error {
		if n <= 0 {
			return errors.New("sandbox: max value size must be positive")
		}
		s.maxValue = n
		return nil
	}
}

// WithMaxAlloc sets the total a run's checked operations may build
// (default DefaultMaxAlloc).
func WithMaxAlloc(n int64) Option {
	return func(s *Starlark) error {
		if n <= 0 {
			return errors.New("sandbox: max allocation must be positive")
		}
		s.maxAlloc = n
		return nil
	}
}

// WithMaxOutput sets how many bytes of printed output a run keeps (default
// DefaultMaxOutput).
func WithMaxOutput(n int) Option {
	return func(s *Starlark) error {
		if n <= 0 {
			return errors.New("sandbox: max output must be positive")
		}
		s.maxOutput = n
		return nil
	}
}

// NewStarlark returns a Starlark interpreter with the given limits.
func NewStarlark(opts ...Option) (*Starlark, error) {
	s := &Starlark{maxSteps: DefaultMaxSteps, maxValue: DefaultMaxValue, maxAlloc: DefaultMaxAlloc, maxOutput: DefaultMaxOutput}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Default returns a Starlark interpreter with the default limits.
func Default() *Starlark {
	s, _ := NewStarlark()
	return s
}

// Names reserved for the rewritten operators; code cannot use names
// starting with this prefix.
const hidden = "__sandbox_"

// NewSession implements Interpreter.
func (s *Starlark) NewSession(env Env) (Session, error) {
	ss := &session{interp: s, globals: starlark.StringDict{}}
	for name, v := range env.Globals {
		if err := checkName(name); err != nil {
			return nil, err
		}
		sv, err := fromGo(v)
		if err != nil {
			return nil, fmt.Errorf("sandbox: global %s: %w", name, err)
		}
		sv.Freeze()
		ss.globals[name] = sv
	}
	for _, f := range env.Funcs {
		if err := checkName(f.Name); err != nil {
			return nil, err
		}
		if f.Call == nil {
			return nil, fmt.Errorf("sandbox: function %s: nil Call", f.Name)
		}
		if _, dup := ss.globals[f.Name]; dup {
			return nil, fmt.Errorf("sandbox: %s is defined twice", f.Name)
		}
		ss.globals[f.Name] = starlark.NewBuiltin(f.Name, ss.hostFunc(f))
	}
	for _, name := range env.Final {
		if err := checkName(name); err != nil {
			return nil, err
		}
		if _, dup := ss.globals[name]; dup {
			return nil, fmt.Errorf("sandbox: %s is defined twice", name)
		}
		ss.globals[name] = starlark.NewBuiltin(name, ss.finalBuiltin)
	}
	for name, b := range ss.guards() {
		ss.globals[name] = b
	}
	return ss, nil
}

func checkName(name string) error {
	if !isIdent(name) {
		return fmt.Errorf("sandbox: %q is not an identifier", name)
	}
	if strings.HasPrefix(name, hidden) {
		return fmt.Errorf("sandbox: names starting with %s are reserved", hidden)
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// session is a Starlark REPL session.
type session struct {
	interp  *Starlark
	globals starlark.StringDict

	// Per run.
	ctx      context.Context
	out      strings.Builder
	cut      bool
	alloc    int64
	finished bool
	final    any
}

// finalSignal stops a run when the code calls a Final function.
var finalSignal = errors.New("final answer given")

// fileOptions are the dialect options: Python-like control flow at the top
// level, while loops, sets, rebinding globals; no recursion.
var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}

// Run implements Session.
func (ss *session) Run(ctx context.Context, code string) (Result, error) {
	ss.ctx, ss.out, ss.cut, ss.alloc, ss.finished, ss.final = ctx, strings.Builder{}, false, 0, false, nil
	defer func() { ss.ctx = nil }()
	if err := ctx.Err(); err != nil {
		return Result{}, &Error{Kind: ErrCanceled, Msg: "the run was canceled before it started: " + err.Error(), cause: err}
	}
	f, err := fileOptions.Parse(snippetFile, code, 0)
	if err != nil {
		return Result{}, syntaxError(err)
	}
	if err := rewrite(f); err != nil {
		return Result{}, syntaxError(err)
	}
	thread := &starlark.Thread{Name: "sandbox", Print: ss.print}
	thread.SetMaxExecutionSteps(ss.interp.maxSteps)
	stepsHit := false
	thread.OnMaxSteps = func(t *starlark.Thread) {
		stepsHit = true
		t.Cancel("too many steps")
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			thread.Cancel("context done")
		case <-done:
		}
	})
	err = starlark.ExecREPLChunk(f, thread, ss.globals)
	close(done)
	wg.Wait()
	res := Result{Output: ss.output(), Steps: thread.ExecutionSteps()}
	if err == nil || errors.Is(err, finalSignal) {
		res.Finished, res.Final = ss.finished, ss.final
		return res, nil
	}
	return res, ss.runError(err, stepsHit)
}

func (ss *session) output() string {
	s := ss.out.String()
	if ss.cut {
		s += fmt.Sprintf("\n... (output cut at %d bytes)", ss.interp.maxOutput)
	}
	return s
}

func (ss *session) print(_ *starlark.Thread, msg string) {
	if ss.cut {
		return
	}
	room := ss.interp.maxOutput - ss.out.Len()
	if len(msg)+1 > room {
		if room > 0 {
			ss.out.WriteString(msg[:room])
		}
		ss.cut = true
		return
	}
	ss.out.WriteString(msg)
	ss.out.WriteByte('\n')
}

// syntaxError converts a parse or resolve error.
func syntaxError(err error) *Error {
	var se syntax.Error
	if errors.As(err, &se) {
		return &Error{Kind: ErrSyntax, Line: int(se.Pos.Line), Msg: se.Msg}
	}
	var rl resolve.ErrorList
	if errors.As(err, &rl) && len(rl) > 0 {
		if len(rl) == 1 {
			return &Error{Kind: ErrSyntax, Line: int(rl[0].Pos.Line), Msg: rl[0].Msg}
		}
		msgs := make([]string, len(rl))
		for i, e := range rl {
			msgs[i] = fmt.Sprintf("line %d: %s", e.Pos.Line, e.Msg)
		}
		return &Error{Kind: ErrSyntax, Line: int(rl[0].Pos.Line), Msg: strings.Join(msgs, "; ")}
	}
	return &Error{Kind: ErrSyntax, Msg: err.Error()}
}

// memError is a refused allocation.
type memError struct{ msg string }

func (e *memError) Error() string { return e.msg }

// hostError is an error or panic of a host function.
type hostError struct {
	name string
	err  error
}

func (e *hostError) Error() string { return e.name + ": " + e.err.Error() }
func (e *hostError) Unwrap() error { return e.err }

// runError converts an execution error.
func (ss *session) runError(err error, stepsHit bool) *Error {
	var rl resolve.ErrorList
	if errors.As(err, &rl) {
		return syntaxError(err) // ExecREPLChunk resolves names
	}
	e := &Error{Kind: ErrRuntime, Msg: err.Error()}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		e.Msg = ee.Msg
		e.Traceback = strings.TrimRight(ee.Backtrace(), "\n")
		for _, fr := range slices.Backward(ee.CallStack) {
			if fr.Pos.Filename() == snippetFile {
				e.Line = int(fr.Pos.Line)
				break
			}
		}
	}
	var me *memError
	var he *hostError
	switch {
	case stepsHit:
		e.Kind = ErrStepLimit
		e.Msg = fmt.Sprintf("the code ran more than %d steps (an endless loop, or too much work for one run)", ss.interp.maxSteps)
	case ss.ctx.Err() != nil:
		e.Kind, e.cause = ErrCanceled, ss.ctx.Err()
		e.Msg = "the run was stopped: " + ss.ctx.Err().Error()
	case errors.As(err, &me):
		e.Kind = ErrMemoryLimit
	case errors.As(err, &he):
		e.cause = he.err
	}
	return e
}

// hostFunc adapts f to a Starlark builtin: arguments are converted to Go,
// panics are recovered, the result is converted back.
func (ss *session) hostFunc(f Func) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (res starlark.Value, err error) {
		goArgs := make([]any, len(args))
		for i, a := range args {
			if goArgs[i], err = toGo(a); err != nil {
				return nil, fmt.Errorf("%s: argument %d: %w", f.Name, i+1, err)
			}
		}
		goKw := make(map[string]any, len(kwargs))
		for _, kv := range kwargs {
			k, _ := starlark.AsString(kv[0])
			if goKw[k], err = toGo(kv[1]); err != nil {
				return nil, fmt.Errorf("%s: argument %s: %w", f.Name, k, err)
			}
		}
		out, err := ss.callHost(f, goArgs, goKw)
		if err != nil {
			return nil, &hostError{name: f.Name, err: err}
		}
		v, err := fromGo(out)
		if err != nil {
			return nil, fmt.Errorf("%s: result: %w", f.Name, err)
		}
		if err := ss.charge(v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// panicError is a recovered panic of a host function.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panicked: %v", e.value) }

func (ss *session) callHost(f Func, args []any, kwargs map[string]any) (out any, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return f.Call(ss.ctx, args, kwargs)
}

// final is the builtin behind Env.Final.
func (ss *session) finalBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v any
	var err error
	switch {
	case len(args) == 1 && len(kwargs) == 0:
		v, err = toGo(args[0])
	case len(args) == 0 && len(kwargs) > 0:
		m := make(map[string]any, len(kwargs))
		for _, kv := range kwargs {
			k, _ := starlark.AsString(kv[0])
			if m[k], err = toGo(kv[1]); err != nil {
				break
			}
		}
		v = m
	default:
		return nil, fmt.Errorf("%s takes one value, or keyword arguments (name=value, ...)", b.Name())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	ss.finished, ss.final = true, v
	return nil, finalSignal
}
