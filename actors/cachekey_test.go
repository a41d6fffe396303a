package actors

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/internal/bufpool"
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
		// A client's memo of the system prompt keys it as cacheKey does,
		// whether it remembers the prompt or not.
		km := newKeyMemoFor(&responseCache{})
		for range 2 {
			memo, memoOK := km.key(provider, user, &req)
			key, keyOK := cacheKey(provider, user, req)
			if memo != key || memoOK != keyOK {
				t.Fatalf("memo key %q %v, cacheKey %q %v", memo, memoOK, key, keyOK)
			}
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

// TestEncodeResponse checks that encodeResponse writes what encoding/json
// writes, plain or not.
func TestEncodeResponse(t *testing.T) {
	text := func(content, finish string) lm.Choice {
		return lm.Choice{Message: lm.Message{Role: lm.RoleAssistant, Content: content}, FinishReason: finish}
	}
	tests := []struct {
		name  string
		resp  lm.Response
		plain bool
	}{
		{"one choice", lm.Response{ID: "chatcmpl-1", Model: "m", Choices: []lm.Choice{text("[[ ## answer ## ]]\nParis", "stop")},
			Usage: lm.Usage{PromptTokens: 120, CompletionTokens: 12, TotalTokens: 132}, Attempts: 1}, true},
		{"several choices, cache tokens, escapes", lm.Response{ID: "<&>", Choices: []lm.Choice{text("a\u2028\"b\"\n\xff", "length"), text("", "")},
			Usage: lm.Usage{CacheReadTokens: 5, CacheWriteTokens: -2}, Cached: true, Attempts: -1}, true},
		{"no choices", lm.Response{Choices: []lm.Choice{}}, true},
		{"nil choices", lm.Response{}, true},
		{"tool calls", lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant,
			ToolCalls: []lm.ToolCall{{ID: "c1", Name: "search", Arguments: `{"q":"x"}`}}}}}}, false},
		{"parts", lm.Response{Choices: []lm.Choice{text("x", "stop"), {Message: lm.Message{Parts: []lm.ContentPart{{Type: lm.PartText, Text: "y"}}}}}}, false},
		{"tool call id", lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleTool, ToolCallID: "c1"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			if got := encodeResponse(&tt.resp); !bytes.Equal(got, want) {
				t.Errorf("encodeResponse:\n%s\nencoding/json:\n%s", got, want)
			}
			if _, plain := appendPlainResponse(nil, &tt.resp); plain != tt.plain {
				t.Errorf("plain = %v, want %v", plain, tt.plain)
			}
		})
	}
}

// FuzzEncodeResponse: whatever the text and counts of a plain response,
// appendPlainResponse writes what encoding/json writes.
func FuzzEncodeResponse(f *testing.F) {
	f.Add("chatcmpl-1", "gpt <&>", "[[ ## answer ## ]]\nParis \u2028 \xff \x00", "stop", 120, 12, 0, true, 2)
	f.Add("", "", "", "", 0, 0, -1, false, 0)
	f.Fuzz(func(t *testing.T, id, model, content, finish string, prompt, completion, cacheRead int, cached bool, choices int) {
		resp := lm.Response{ID: id, Model: model, Usage: lm.Usage{PromptTokens: prompt, CompletionTokens: completion,
			TotalTokens: prompt + completion, CacheReadTokens: cacheRead, CacheWriteTokens: -cacheRead}, Cached: cached, Attempts: completion}
		for i := range choices % 4 {
			resp.Choices = append(resp.Choices, lm.Choice{Message: lm.Message{Role: lm.Role(finish), Content: content[i%max(len(content), 1):]}, FinishReason: finish})
		}
		got, ok := appendPlainResponse(nil, &resp)
		if !ok {
			t.Fatal("a text response is not plain")
		}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendPlainResponse:\n%q\nencoding/json:\n%q", got, want)
		}
	})
}

// BenchmarkCacheKey keys a Chat-adapter-sized request, from scratch and
// with a client's memo of its system prompt.
func BenchmarkCacheKey(b *testing.B) {
	sys := strings.Repeat("Your input fields are:\n1. `question` (str): the question to answer.\n", 12)
	req := lm.Request{Model: "m", Messages: []lm.Message{
		{Role: lm.RoleSystem, Content: sys},
		{Role: lm.RoleUser, Content: "[[ ## question ## ]]\nWhat is the capital of France?\n\nRespond with the corresponding output fields."},
	}}
	b.Run("cacheKey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := cacheKey("openai", "m", req); !ok {
				b.Fatal("not keyed")
			}
		}
	})
	b.Run("memo", func(b *testing.B) {
		km := newKeyMemoFor(&responseCache{})
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := km.key("openai", "m", &req); !ok {
				b.Fatal("not keyed")
			}
		}
	})
}

// encodeResponse returns the JSON encoding/json writes for resp, as the
// response cache stores it (see encodeResponseIn), in memory of its own.
func encodeResponse(resp *lm.Response) []byte {
	bp := bufpool.Get()
	defer bufpool.Put(bp)
	b, pooled := encodeResponseIn(bp, resp)
	if pooled {
		return bytes.Clone(b)
	}
	return b
}
