package lmtest_test

import (
	"testing"

	"github.com/dspex-go/dspex/lm/lmtest"
	"github.com/google/go-cmp/cmp"
)

func TestServerMessagesAPI(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	invalid := []struct{ name, body string }{
		{"no model", `{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}`},
		{"no max_tokens", `{"model":"m","messages":[{"role":"user","content":"x"}]}`},
		{"no messages", `{"model":"m","max_tokens":5,"messages":[]}`},
		{"system role in messages", `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`},
		{"temperature above 1", `{"model":"m","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"x"}]}`},
		{"block without type", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"text":"x"}]}]}`},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, srv.RootURL()+"/v1/messages", tt.body)
			if status != 400 || body["type"] != "error" {
				t.Errorf("status %d body %v, want a 400 Anthropic error", status, body)
			}
		})
	}
	status, body := post(t, srv.RootURL()+"/v1/messages",
		`{"model":"m","max_tokens":5,"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],`+
			`"messages":[{"role":"user","content":"two words"}]}`)
	if status != 200 {
		t.Fatalf("status %d body %v", status, body)
	}
	want := map[string]any{
		"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
		"content":     []any{map[string]any{"type": "text", "text": "two words"}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": float64(4), "output_tokens": float64(2),
			"cache_creation_input_tokens": float64(0), "cache_read_input_tokens": float64(0)},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].Anthropic.CacheBreakpoints() != 1 {
		t.Errorf("calls %+v, want one with one cache breakpoint", calls)
	}
}
