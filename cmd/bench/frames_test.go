package main

import (
	"slices"
	"testing"
)

// traceback is a shortened GOTRACEBACK=system dump: a goroutine of
// another call, then one holding an inlined frame.
const traceback = `goroutine 7 gp=0x1 m=nil [select]:
runtime.gopark(0x1?, 0x0?)
	/go/src/runtime/proc.go:460 +0xce fp=0xc000100120 sp=0xc000100100 pc=0x1
main.other(...)
	/main.go:9 +0x1 fp=0xc000100200 sp=0xc000100120 pc=0x2

goroutine 9 gp=0x2 m=nil [select]:
runtime.gopark(0x1?, 0x0?)
	/go/src/runtime/proc.go:460 +0xce fp=0xc000200030 sp=0xc000200010 pc=0x1
github.com/x/y.inlined(...)
	/y.go:3
github.com/x/y.(*T).Chat(_, {_, _}, {{0x1, 0x7}})
	/y.go:10 +0x2 fp=0xc000200230 sp=0xc000200030 pc=0x3
main.(*paths).predictCall.func3({0x1, 0x2}, 0x0?)
	/main.go:40 +0x3 fp=0xc0002002b8 sp=0xc000200230 pc=0x4
`

func TestCallerFrames(t *testing.T) {
	got, ok := callerFrames(traceback, "predictCall")
	if !ok {
		t.Fatal("no goroutine found")
	}
	want := []frame{
		{name: "runtime.gopark", size: 0x20},
		{name: "github.com/x/y.(*T).Chat", size: 0x200},
		{name: "main.(*paths).predictCall.func3", size: 0x88},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("frames = %+v, want %+v", got, want)
	}
	if _, ok := callerFrames(traceback, "rawCall"); ok {
		t.Fatal("found a goroutine for a marker that is not there")
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"runtime.gopark(0x1?, 0x0?)", "runtime.gopark"},
		{"github.com/x/lm.(*OpenAI).Chat(_, {_, _}, {{0x1, 0x7}})", "github.com/x/lm.(*OpenAI).Chat"},
		{"main.(*bench).run.(*paths).predictCall.func3({0x1, 0x2}, 0x0?)", "main.(*bench).run.(*paths).predictCall.func3"},
		{"github.com/x/programs.(*Predict[...]).Call(...)", "github.com/x/programs.(*Predict[...]).Call"},
		{"runtime.goexit({})", "runtime.goexit"},
		{"no.arguments", "no.arguments"},
	} {
		if got := shorten(tc.in); got != tc.want {
			t.Errorf("shorten(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// overflow is a shortened traceback of runtime/debug.SetMaxStack's abort.
const overflow = `runtime: goroutine stack exceeds 8192-byte limit
runtime: sp=0xc000200010 stack=[0xc000200000, 0xc000202000]
fatal error: stack overflow

runtime stack:
runtime.throw({0x1, 0x2})
	/go/src/runtime/panic.go:1 +0x1 fp=0x7f00 sp=0x7e00 pc=0x1

goroutine 9 gp=0x2 m=0 mp=0x3 [running]:
encoding/json.Marshal({0x1, 0x2})
	/json.go:1 +0x1 fp=0xc000200030 sp=0xc000200010 pc=0x1
main.(*paths).predictCall.func3({0x1, 0x2}, 0x0?)
	/main.go:40 +0x3 fp=0xc0002000b8 sp=0xc000200030 pc=0x4

goroutine 1 gp=0x4 m=nil [sleep]:
main.holdInFlight(...)
	/main.go:50 +0x1 fp=0xc000300100 sp=0xc000300000 pc=0x5
main.(*paths).rawCall.func3({0x1, 0x2}, 0x0?)
	/main.go:30 +0x3 fp=0xc000300200 sp=0xc000300100 pc=0x6
`

func TestOutgrown(t *testing.T) {
	got, err := outgrown(overflow, "predictCall")
	if err != nil {
		t.Fatal(err)
	}
	want := []frame{{"encoding/json.Marshal", 0x20}, {"main.(*paths).predictCall.func3", 0x88}}
	if !slices.Equal(got, want) {
		t.Errorf("outgrown = %v, want %v", got, want)
	}
	// The goroutine that outgrew the limit is the first: not a later one
	// that happens to hold the marker.
	if _, err := outgrown(overflow, "rawCall"); err == nil {
		t.Error("outgrown found a call in a goroutine that did not outgrow the limit")
	}
	if _, err := outgrown("panic: boom\n", "predictCall"); err == nil {
		t.Error("outgrown accepted a traceback of another failure")
	}
}
