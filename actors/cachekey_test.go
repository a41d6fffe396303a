package actors

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/dspex-go/dspex/lm"
)

// marshalKey is the cache key's input as encoding/json writes it: what
// appendPlainKey must reproduce byte for byte.
func marshalKey(t testing.TB, provider, model string, req lm.Request) []byte {
	t.Helper()
	b, err := json.Marshal(newCacheKeyInput(provider, model, &req))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCacheKeyPlainMatchesJSON: for plain chat requests appendPlainKey
// writes what encoding/json writes, so keys are those of earlier versions
// (a persistent cache keeps its entries); other requests are left to
// encoding/json.
func TestCacheKeyPlainMatchesJSON(t *testing.T) {
	msgs := []lm.Message{{Role: lm.RoleSystem, Content: "Your input fields are:\n1. `question` (str)"},
		{Role: lm.RoleUser, Content: "[[ ## question ## ]]\n<b>&</b> \"q\" \\ \t\r\b\f\x01\x7f é \u2028\u2029 \xff"}}
	plain := map[string]lm.Request{
		"messages only":  {Messages: msgs},
		"no messages":    {},
		"empty messages": {Messages: []lm.Message{}},
		"every field": {Messages: msgs, Temperature: lm.Float(0.7), MaxTokens: 100, N: 3,
			Stop: []string{"\n\n", "<end>"}, Seed: lm.Int(-42), ResponseFormat: lm.FormatJSON, RolloutID: 7},
		"zero temperature":   {Messages: msgs, Temperature: lm.Float(0)},
		"negative zero":      {Messages: msgs, Temperature: lm.Float(math.Copysign(0, -1))},
		"large temperature":  {Messages: msgs, Temperature: lm.Float(123456789.125)},
		"tiny temperature":   {Messages: msgs, Temperature: lm.Float(1e-6)},
		"empty stop":         {Messages: msgs, Stop: []string{}},
		"empty content":      {Messages: []lm.Message{{Role: lm.RoleUser}}},
		"no cache and model": {Messages: msgs, NoCache: true, Model: "ignored"},
	}
	for name, req := range plain {
		t.Run(name, func(t *testing.T) {
			got, ok := appendPlainKey(nil, "sim", "simlm-1", &req)
			if !ok {
				t.Fatal("not plain")
			}
			if want := marshalKey(t, "sim", "simlm-1", req); !bytes.Equal(got, want) {
				t.Fatalf("appendPlainKey:\n%s\nencoding/json:\n%s", got, want)
			}
		})
	}
	others := map[string]lm.Request{
		"tools":       {Messages: msgs, Tools: []lm.ToolDef{{Name: "lookup"}}},
		"tool choice": {Messages: msgs, ToolChoice: lm.ToolChoiceRequired},
		"parts":       {Messages: []lm.Message{{Role: lm.RoleUser, Parts: []lm.ContentPart{lm.TextPart("x")}}}},
		"tool calls":  {Messages: []lm.Message{{Role: lm.RoleAssistant, ToolCalls: []lm.ToolCall{{ID: "c"}}}}},
		"tool result": {Messages: []lm.Message{{Role: lm.RoleTool, ToolCallID: "c", Content: "ok"}}},
		"tiny float":  {Messages: msgs, Temperature: lm.Float(1e-7)},
		"huge float":  {Messages: msgs, Temperature: lm.Float(1e21)},
		"NaN":         {Messages: msgs, Temperature: lm.Float(math.NaN())},
	}
	for name, req := range others {
		t.Run(name, func(t *testing.T) {
			if _, ok := appendPlainKey(nil, "sim", "simlm-1", &req); ok {
				t.Fatal("encoded as plain")
			}
		})
	}
	if _, ok := cacheKey("sim", "m", lm.Request{Temperature: lm.Float(math.Inf(1))}); ok {
		t.Error("an infinite temperature was keyed")
	}
	a, okA := cacheKey("sim", "m", others["tools"])
	b, okB := cacheKey("sim", "m", lm.Request{Messages: msgs})
	if !okA || !okB || a == b || len(a) != 64 {
		t.Errorf("keys %q (%v), %q (%v)", a, okA, b, okB)
	}
}

// FuzzCacheKeyPlain: whatever the text and settings of a plain request,
// appendPlainKey writes what encoding/json writes.
func FuzzCacheKeyPlain(f *testing.F) {
	f.Add("sim", "system <&>", "user \u2028 \xff \x00", "stop", 0.7, 3, int64(1))
	f.Add("", "", "", "", 0.0, 0, int64(0))
	f.Add("p\"", "\\", "é\t", "\n", -1e-6, -1, int64(-5))
	f.Fuzz(func(t *testing.T, provider, system, user, stop string, temp float64, n int, seed int64) {
		seedInt := int(seed)
		req := lm.Request{
			Messages:    []lm.Message{{Role: lm.RoleSystem, Content: system}, {Role: lm.Role(stop), Content: user}},
			Temperature: &temp, N: n, MaxTokens: -n, Stop: []string{stop, user}, Seed: &seedInt,
			RolloutID: n * 3, ResponseFormat: lm.Format(system),
		}
		got, ok := appendPlainKey(nil, provider, user, &req)
		want, err := json.Marshal(newCacheKeyInput(provider, user, &req))
		if !ok {
			if abs := math.Abs(temp); err == nil && (abs == 0 || abs >= 1e-6 && abs < 1e21) {
				t.Fatalf("temperature %v: not encoded as plain", temp)
			}
			return
		}
		if err != nil {
			t.Fatalf("encoding/json failed (%v) where appendPlainKey wrote %s", err, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendPlainKey:\n%q\nencoding/json:\n%q", got, want)
		}
	})
}
