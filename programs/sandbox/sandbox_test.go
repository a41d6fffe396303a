package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func run(t *testing.T, interp Interpreter, env Env, code string) (Result, error) {
	t.Helper()
	s, err := interp.NewSession(env)
	if err != nil {
		t.Fatal(err)
	}
	return s.Run(context.Background(), code)
}

func TestRun(t *testing.T) {
	small, err := NewStarlark(WithMaxSteps(10_000), WithMaxValue(1000), WithMaxAlloc(100_000))
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Globals: map[string]any{"n": 6, "words": []string{"a", "b"}}, Final: []string{"FINAL", "SUBMIT"}}
	tests := []struct {
		name     string
		code     string
		output   string
		final    any
		kind     error
		line     int
		contains string
	}{
		{name: "print", code: "x = n * 7\nprint(x)\nprint('done', len(words))", output: "42\ndone 2\n"},
		{name: "final dict", code: "FINAL({'answer': n + 1})\nprint('not reached')", final: map[string]any{"answer": int64(7)}},
		{name: "submit kwargs", code: "SUBMIT(answer='x', count=2)", final: map[string]any{"answer": "x", "count": int64(2)}},
		{name: "python style", code: "total = 0\nfor i in range(n):\n    if i % 2 == 0:\n        total += i\nwhile total < 10:\n    total += 1\nprint(total)", output: "10\n"},
		{name: "syntax error", code: "x = 1\ny = (2 +\n", kind: ErrSyntax, line: 3},
		{name: "undefined name", code: "x = 1\nprint(totl)", kind: ErrSyntax, line: 2, contains: "undefined: totl"},
		{name: "runtime error", code: "x = 1\ny = x // 0", kind: ErrRuntime, line: 2, contains: "division by zero"},
		{name: "fail", code: "fail('bad input')", kind: ErrRuntime, line: 1, contains: "bad input"},
		{name: "endless loop", code: "x = 0\nwhile True:\n    x += 1", kind: ErrStepLimit, contains: "10000 steps"},
		{name: "huge repeat", code: "s = 'x' * 100000000", kind: ErrMemoryLimit, line: 1},
		{name: "huge list repeat", code: "l = [0] * 5000", kind: ErrMemoryLimit},
		{name: "doubling", code: "s = 'ab'\nfor i in range(40):\n    s = s + s", kind: ErrMemoryLimit, line: 3},
		{name: "augmented doubling", code: "s = 'ab'\nfor i in range(40):\n    s += s", kind: ErrMemoryLimit, line: 3},
		{name: "augmented repeat", code: "s = 'ab'\ns *= 100000", kind: ErrMemoryLimit, line: 2},
		{name: "list of range", code: "l = list(range(100000000))", kind: ErrMemoryLimit, line: 1},
		{name: "sorted range", code: "l = sorted(range(100000000))", kind: ErrMemoryLimit},
		{name: "extend", code: "l = []\nl.extend(range(100000000))", kind: ErrMemoryLimit, line: 2},
		{name: "list plus range", code: "l = [1]\nl += range(100000000)", kind: ErrMemoryLimit, line: 2},
		{name: "replace", code: "s = 'a' * 500\nt = s.replace('a', 'bbbb')", kind: ErrMemoryLimit, line: 2},
		{name: "join", code: "s = 'a' * 500\nt = ','.join([s, s, s])", kind: ErrMemoryLimit, line: 2},
		{name: "format amplification", code: "f = '{0}' * 300\nt = f.format('x' * 900)", kind: ErrMemoryLimit, line: 2},
		{name: "format kwargs", code: "f = '{a}' * 300\nt = f.format(a='x' * 900)", kind: ErrMemoryLimit, line: 2},
		{name: "percent amplification", code: "f = '%s' * 300\nt = f % tuple(['y' * 900] * 300)", kind: ErrMemoryLimit, line: 2},
		{name: "big int", code: "x = 7\nfor i in range(30):\n    x = x * x", kind: ErrMemoryLimit, line: 3},
		{name: "total allocation", code: "keep = []\nfor i in range(300):\n    keep.append('y' * 900)", kind: ErrMemoryLimit},
		{name: "small values fine", code: "s = 'ab' * 10\nl = list(range(5)) + [1]\nprint(len(s), len(l), ','.join(['a', 'b']), 'a-b'.replace('-', '+'), '{}!'.format(3))", output: "20 6 a,b a+b 3!\n"},
		{name: "reserved name", code: "__sandbox_binop('*', 1, 2)", kind: ErrSyntax, contains: "reserved"},
		{name: "no open", code: "f = open('/etc/passwd')", kind: ErrSyntax, contains: "undefined: open"},
		{name: "no import", code: "import os", kind: ErrSyntax},
		{name: "no load", code: "load('os.star', 'system')", kind: ErrRuntime},
		{name: "no clock", code: "t = time.now()", kind: ErrSyntax, contains: "undefined: time"},
		{name: "no socket", code: "s = socket.socket()", kind: ErrSyntax, contains: "undefined: socket"},
		{name: "no dunder import", code: "os = __import__('os')", kind: ErrSyntax},
		{name: "frozen global", code: "words.append('c')", kind: ErrRuntime, contains: "frozen"},
		{name: "recursion refused", code: "def f(n):\n    return f(n - 1) if n else 0\nprint(f(3))", kind: ErrRuntime, contains: "recursively"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, small, env, tt.code)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				var se *Error
				if !errors.As(err, &se) {
					t.Fatalf("err is %T, want *Error", err)
				}
				if tt.line != 0 && se.Line != tt.line {
					t.Errorf("line = %d, want %d (%v)", se.Line, tt.line, err)
				}
				if tt.line != 0 && !strings.Contains(err.Error(), "line ") {
					t.Errorf("message %q does not name the line", err)
				}
				if tt.contains != "" && !strings.Contains(err.Error(), tt.contains) {
					t.Errorf("message %q does not contain %q", err, tt.contains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Output != tt.output {
				t.Errorf("output = %q, want %q", res.Output, tt.output)
			}
			if tt.final != nil {
				if !res.Finished {
					t.Fatal("not finished")
				}
				if got, want := toString(res.Final), toString(tt.final); got != want {
					t.Errorf("final = %s, want %s", got, want)
				}
			} else if res.Finished {
				t.Errorf("finished with %v", res.Final)
			}
		})
	}
}

func toString(v any) string {
	sv, err := fromGo(v)
	if err != nil {
		return "error: " + err.Error()
	}
	return sv.String()
}

func TestSessionKeepsState(t *testing.T) {
	s, err := Default().NewSession(Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Run(ctx, "hits = []\nfor w in ['a', 'bb', 'ccc']:\n    hits.append(len(w))"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, "hits.append(4)"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(ctx, "print(sum_of(hits)) if False else print(hits)")
	if err == nil {
		t.Fatalf("undefined sum_of accepted: %q", res.Output)
	}
	res, err = s.Run(ctx, "print(hits)")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "[1, 2, 3, 4]\n" {
		t.Errorf("output = %q", res.Output)
	}
}

func TestHostFunctions(t *testing.T) {
	type weather struct {
		City  string  `json:"city"`
		TempC float64 `json:"temp_c"`
	}
	var gotArgs []any
	var gotKw map[string]any
	env := Env{Funcs: []Func{
		{Name: "lookup", Call: func(_ context.Context, args []any, kw map[string]any) (any, error) {
			gotArgs, gotKw = args, kw
			return weather{City: "Oslo", TempC: -3.5}, nil
		}},
		{Name: "broken", Call: func(context.Context, []any, map[string]any) (any, error) {
			return nil, errors.New("the service is down")
		}},
		{Name: "crash", Call: func(context.Context, []any, map[string]any) (any, error) {
			var m map[string]int
			m["x"] = 1 // a nil map write panics
			return nil, nil
		}},
	}}
	res, err := run(t, Default(), env, "w = lookup('Oslo', units=['c', 'f'], n=2)\nprint(w['city'], w['temp_c'])")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "Oslo -3.5\n" {
		t.Errorf("output = %q", res.Output)
	}
	if toString(gotArgs) != `["Oslo"]` || toString(gotKw) != `{"n": 2, "units": ["c", "f"]}` {
		t.Errorf("args = %s %s", toString(gotArgs), toString(gotKw))
	}
	for _, tt := range []struct{ code, want string }{
		{"print('before')\nx = broken()", "broken: the service is down"},
		{"print('before')\nx = crash()", "crash: panicked: assignment to entry in nil map"},
	} {
		res, err := run(t, Default(), env, tt.code)
		if !errors.Is(err, ErrRuntime) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: err = %v, want a runtime error on line 2 with %q", tt.code, err, tt.want)
		}
		if res.Output != "before\n" {
			t.Errorf("%q: output before the failure = %q", tt.code, res.Output)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Default().NewSession(Env{Funcs: []Func{{Name: "stop", Call: func(context.Context, []any, map[string]any) (any, error) {
		cancel()
		return nil, nil
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(ctx, "stop()\nx = 0\nwhile True:\n    x += 1")
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrCanceled wrapping context.Canceled", err)
	}
	if _, err := s.Run(ctx, "x = 1"); !errors.Is(err, ErrCanceled) {
		t.Fatalf("run on a done context: err = %v", err)
	}
}

func TestOutputLimit(t *testing.T) {
	interp, err := NewStarlark(WithMaxOutput(20))
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(t, interp, Env{}, "for i in range(100):\n    print('line', i)")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Output, "line 0\nline 1\nline 2\n") || !strings.Contains(res.Output, "output cut at 20 bytes") {
		t.Errorf("output = %q", res.Output)
	}
}

func TestNewSessionErrors(t *testing.T) {
	for _, env := range []Env{
		{Globals: map[string]any{"bad name": 1}},
		{Globals: map[string]any{"x": make(chan int)}},
		{Funcs: []Func{{Name: "f"}}},
		{Funcs: []Func{{Name: "f", Call: func(context.Context, []any, map[string]any) (any, error) { return nil, nil }}}, Final: []string{"f"}},
		{Final: []string{"__sandbox_x"}},
	} {
		if _, err := Default().NewSession(env); err == nil {
			t.Errorf("NewSession(%+v) succeeded", env)
		}
	}
	for _, o := range []Option{WithMaxSteps(0), WithMaxValue(0), WithMaxAlloc(0), WithMaxOutput(-1)} {
		if _, err := NewStarlark(o); err == nil {
			t.Error("a zero limit was accepted")
		}
	}
}
