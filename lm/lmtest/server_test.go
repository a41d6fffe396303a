package lmtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm/lmtest"
	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) {
	leakcheck.Main(m)
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %q is not JSON: %v", raw, err)
	}
	return resp.StatusCode, out
}

func TestServerRejectsInvalidRequests(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	tests := []struct {
		name, path, body string
		status           int
	}{
		{"unknown endpoint", "/completions", `{}`, 404},
		{"not JSON", "/chat/completions", `{`, 400},
		{"no model", "/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, 400},
		{"no messages", "/chat/completions", `{"model":"m","messages":[]}`, 400},
		{"n zero", "/chat/completions", `{"model":"m","n":0,"messages":[{"role":"user","content":"x"}]}`, 400},
		{"temperature out of range", "/chat/completions", `{"model":"m","temperature":3,"messages":[{"role":"user","content":"x"}]}`, 400},
		{"stop of wrong type", "/chat/completions", `{"model":"m","stop":5,"messages":[{"role":"user","content":"x"}]}`, 400},
		{"embeddings without input", "/embeddings", `{"model":"m","input":[]}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, srv.URL()+tt.path, tt.body)
			if status != tt.status {
				t.Errorf("status = %d, want %d", status, tt.status)
			}
			if _, ok := body["error"].(map[string]any); !ok {
				t.Errorf("body %v has no OpenAI error object", body)
			}
		})
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("invalid requests were recorded: %d", n)
	}
}

func TestServerDefaults(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	status, body := post(t, srv.URL()+"/chat/completions",
		`{"model":"m","n":2,"stop":"END","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"two words"}]}`)
	if status != 200 {
		t.Fatalf("status = %d, body %v", status, body)
	}
	want := map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": float64(1700000001), "model": "m",
		"choices": []any{
			map[string]any{"index": float64(0), "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "two words"}},
			map[string]any{"index": float64(1), "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "two words"}},
		},
		"usage": map[string]any{"prompt_tokens": float64(4), "completion_tokens": float64(4), "total_tokens": float64(8)},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	call := srv.Calls()[0]
	if diff := cmp.Diff([]string{"END"}, call.Chat.Stop); diff != "" {
		t.Errorf("stop (-want +got):\n%s", diff)
	}

	status, body = post(t, srv.URL()+"/embeddings", `{"model":"e","input":"one"}`)
	if status != 200 {
		t.Fatalf("status = %d", status)
	}
	data := body["data"].([]any)
	if len(data) != 1 || len(data[0].(map[string]any)["embedding"].([]any)) != lmtest.VectorDims {
		t.Errorf("embeddings response %v", body)
	}
}

func TestVector(t *testing.T) {
	a, b := lmtest.Vector("hello"), lmtest.Vector("hello")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("Vector is not deterministic:\n%s", diff)
	}
	var norm float32
	for _, x := range lmtest.Vector("some text") {
		norm += x * x
	}
	if norm < 0.999 || norm > 1.001 {
		t.Errorf("|Vector| = %v, want 1", norm)
	}
	if cmp.Equal(lmtest.Vector("abc"), lmtest.Vector("xyz!")) {
		t.Error("different texts embed equally")
	}
}

func TestServerScriptedError(t *testing.T) {
	srv := lmtest.NewServer(func(c lmtest.Call) lmtest.Script {
		return lmtest.Script{Status: 429, RetryAfter: "3", Error: "slow down", Header: http.Header{"X-Request-Id": {"r1"}}}
	})
	defer srv.Close()
	resp, err := http.Post(srv.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct{ Message, Type string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || resp.Header.Get("X-Request-Id") != "r1" ||
		body.Error.Message != "slow down" || body.Error.Type != "rate_limit_error" {
		t.Errorf("got %d %v %+v", resp.StatusCode, resp.Header, body)
	}
}
