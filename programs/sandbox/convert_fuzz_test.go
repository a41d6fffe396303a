package sandbox

import (
	"context"
	"errors"
	"testing"

	"go.starlark.net/starlark"
)

// FuzzConvert evaluates an arbitrary Starlark expression and converts the
// value to Go and back: conversion never panics, and a value that converts
// comes back equal (as Starlark prints it, after a second round).
func FuzzConvert(f *testing.F) {
	for _, s := range []string{
		`None`, `True`, `42`, `-7`, `1 << 100`, `3.25`, `float("nan")`, `"héllo"`, `b"\x00\xff"`,
		`[1, "a", [2.5, None]]`, `(1, 2)`, `{"a": 1, "b": [True]}`, `{1: 2}`, `set([1, 2])`,
		`range(3)`, `len`, `lambda x: x`, `[[[[[[1]]]]]]`, `{"k": {"k": {"k": {}}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		thread := &starlark.Thread{Name: "fuzz"}
		thread.SetMaxExecutionSteps(10_000)
		v, err := starlark.Eval(thread, "fuzz", expr, nil)
		if err != nil {
			return
		}
		g, err := toGo(v)
		if err != nil {
			return
		}
		back, err := fromGo(g)
		if err != nil {
			t.Fatalf("fromGo(toGo(%s)) = %v", v, err)
		}
		g2, err := toGo(back)
		if err != nil {
			t.Fatalf("toGo of a converted value %s: %v", back, err)
		}
		again, err := fromGo(g2)
		if err != nil {
			t.Fatal(err)
		}
		if back.String() != again.String() {
			t.Fatalf("round trip changed %s into %s", back, again)
		}
	})
}

// FuzzFromJSON converts arbitrary JSON (as a tool's result would arrive)
// into Starlark and back to Go: no panics, and values that enter the
// sandbox can leave it.
func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{`null`, `1`, `1e400`, `-0.5`, `"x"`, `[1,[2,[3]]]`, `{"a":{"b":null}}`, `[`, `12345678901234567890`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := fromJSON(raw, 0)
		if err != nil {
			return
		}
		if _, err := toGo(v); err != nil {
			// Integers beyond 64 bits enter as Starlark ints but cannot leave.
			if _, big := v.(starlark.Int); !big {
				if _, isList := v.(*starlark.List); !isList {
					if _, isDict := v.(*starlark.Dict); !isDict {
						t.Fatalf("toGo(%s): %v", v, err)
					}
				}
			}
		}
	})
}

// FuzzRun runs arbitrary snippets under tight limits: the sandbox never
// panics, and every failure is an *Error of a known kind.
func FuzzRun(f *testing.F) {
	for _, s := range []string{
		"x = 1\nprint(x)", "s = 'a' * 10\ns *= 3\nprint(s.replace('a', 'bb'))", "l = [1]\nl += [2]\nl[0] += 5",
		"def f(a, b=2 * 3):\n    return a % b\nprint(f(7))", "FINAL({'a': [1, 2]})", "d = {k: k * 2 for k in range(5)}",
		"while True:\n    pass", "x = '{0}'.format(1) + '%d' % 3", "print(lambda x: x + 1)", "a, b = 1, 2\na += b",
	} {
		f.Add(s)
	}
	interp, err := NewStarlark(WithMaxSteps(10_000), WithMaxValue(10_000), WithMaxAlloc(1_000_000), WithMaxOutput(1000))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code string) {
		s, err := interp.NewSession(Env{Globals: map[string]any{"data": []any{int64(1), "two"}}, Final: []string{"FINAL"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Run(context.Background(), code)
		if err == nil {
			return
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("error %T %v is not an *Error", err, err)
		}
		switch se.Kind {
		case ErrSyntax, ErrRuntime, ErrStepLimit, ErrMemoryLimit:
		default:
			t.Fatalf("unexpected kind %v", se.Kind)
		}
	})
}
