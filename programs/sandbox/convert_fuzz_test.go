package sandbox

import (
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
