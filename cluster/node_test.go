package cluster

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// answerLM answers every question "Paris" in the Chat adapter's format.
var answerLM = lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
	return lm.Response{Model: "fixed", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant,
		Content: "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"}}}}, nil
})

// panicLM panics on every request.
var panicLM = lm.Func(func(context.Context, lm.Request) (lm.Response, error) { panic("the LM went wrong") })

// TestNodeRunNeverPanics runs Evaluate messages whose handling panics at
// different steps on a node: each is the call's KindPanic failure, and the
// node goes on serving (a panic would end the node's process, and then
// each node the call is reassigned to).
func TestNodeRunNeverPanics(t *testing.T) {
	sig := signature.MustParse("question -> answer")
	plain, err := programs.NewPredictFrom(sig)
	if err != nil {
		t.Fatal(err)
	}
	var state bytes.Buffer
	if err := programs.Save(&state, plain); err != nil {
		t.Fatal(err)
	}
	reg := &Registry{}
	for kind, ctor := range map[string]Constructor{
		"ctor-panics": func() (programs.Program, error) { panic("constructor went wrong") },
		"ok":          func() (programs.Program, error) { return programs.NewPredictFrom(sig) },
	} {
		if err := reg.Register(kind, ctor); err != nil {
			t.Fatal(err)
		}
	}
	inputs, err := encodeValues(programs.Values{"question": "q"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, kind        string
		lm                lm.LM
		wantKind, wantMsg string
	}{
		{"constructor", "ctor-panics", answerLM, KindPanic, "constructor went wrong"},
		{"program", "ok", panicLM, KindPanic, "the LM went wrong"},
		{"none", "ok", answerLM, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &Node{cfg: NodeConfig{Registry: reg, LM: tc.lm}}
			res := n.run(context.Background(), &pb.Evaluate{CallId: 7, Kind: tc.kind, State: state.Bytes(), Inputs: inputs}, "node:1")
			if res.CallId != 7 || res.Node != "node:1" || res.ErrorKind != tc.wantKind || !strings.Contains(res.Error, tc.wantMsg) {
				t.Fatalf("result %v, want kind %q with %q", res, tc.wantKind, tc.wantMsg)
			}
		})
	}
}
