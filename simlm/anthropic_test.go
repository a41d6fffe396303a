package simlm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/simlm"
)

type messagesReply struct {
	status int
	Type   string `json:"type"`
	Error  struct {
		Type string `json:"type"`
	} `json:"error"`
	Content []struct {
		Type, Text string
	} `json:"content"`
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        struct {
		Input  int `json:"input_tokens"`
		Output int `json:"output_tokens"`
		Write  int `json:"cache_creation_input_tokens"`
		Read   int `json:"cache_read_input_tokens"`
	} `json:"usage"`
}

func postMessages(t *testing.T, c *http.Client, url string, body map[string]any) messagesReply {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post(strings.TrimSuffix(url, "/v1")+"/v1/messages", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out messagesReply
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("reply %s: %v", raw, err)
	}
	out.status = resp.StatusCode
	return out
}

// anthropicBody turns a spec into a Messages API body: the system message
// apart, marked for the prompt cache when mark is set.
func anthropicBody(s spec, mark bool) map[string]any {
	msgs := s.messages()
	system := map[string]any{"type": "text", "text": msgs[0]["content"]}
	if mark {
		system["cache_control"] = map[string]string{"type": "ephemeral"}
	}
	var turns []map[string]any
	for _, m := range msgs[1:] {
		turns = append(turns, map[string]any{"role": m["role"], "content": m["content"]})
	}
	return map[string]any{"model": "claude-sim", "max_tokens": 200, "system": []any{system}, "messages": turns}
}

func TestMessagesAnswersLikeChat(t *testing.T) {
	srv, c := start(t)
	s := qa("What is the capital of France?")
	r := postMessages(t, c, srv.URL(), anthropicBody(s, false))
	if r.status != 200 || r.Type != "message" || len(r.Content) != 1 {
		t.Fatalf("reply %+v", r)
	}
	if want := ask(t, c, srv.URL(), s); r.Content[0].Text != want {
		t.Errorf("Messages API answer %q, chat completions answer %q: the same model must answer both", r.Content[0].Text, want)
	}
	if r.StopReason != "end_turn" || r.Usage.Write != 0 || r.Usage.Read != 0 || r.Usage.Input == 0 || r.Usage.Output == 0 {
		t.Errorf("reply %+v, want end_turn and uncached usage", r)
	}
}

func TestMessagesPromptCache(t *testing.T) {
	srv, c := start(t)
	first := postMessages(t, c, srv.URL(), anthropicBody(qa("What is the capital of France?"), true))
	second := postMessages(t, c, srv.URL(), anthropicBody(qa("What is the capital of Japan?"), true))
	if first.Usage.Write == 0 || first.Usage.Read != 0 {
		t.Errorf("first usage %+v, want the system prompt written", first.Usage)
	}
	if second.Usage.Read != first.Usage.Write || second.Usage.Write != 0 {
		t.Errorf("second usage %+v, want the %d system tokens read", second.Usage, first.Usage.Write)
	}
	other := anthropicBody(qa("What is the capital of Japan?"), true)
	other["model"] = "another-model"
	if r := postMessages(t, c, srv.URL(), other); r.Usage.Read != 0 {
		t.Errorf("another model read the cache: %+v", r.Usage)
	}
}

func TestMessagesStopAndMaxTokens(t *testing.T) {
	srv, c := start(t)
	body := anthropicBody(qa("What is the capital of France?"), false)
	body["stop_sequences"] = []string{"[[ ## completed"}
	r := postMessages(t, c, srv.URL(), body)
	if r.StopReason != "stop_sequence" || r.StopSequence == nil || *r.StopSequence != "[[ ## completed" ||
		strings.Contains(r.Content[0].Text, "completed") {
		t.Errorf("reply %+v, want it cut at the stop sequence", r)
	}
	body = anthropicBody(qa("What is the capital of France?"), false)
	body["max_tokens"] = 2
	if r := postMessages(t, c, srv.URL(), body); r.StopReason != "max_tokens" || r.Usage.Output != 2 {
		t.Errorf("reply %+v, want max_tokens after 2 tokens", r)
	}
}

func TestMessagesRejectsInvalidRequests(t *testing.T) {
	srv, c := start(t)
	user := []any{map[string]any{"role": "user", "content": "hi"}}
	tests := []struct {
		name string
		body map[string]any
	}{
		{"no model", map[string]any{"max_tokens": 5, "messages": user}},
		{"no max_tokens", map[string]any{"model": "m", "messages": user}},
		{"no messages", map[string]any{"model": "m", "max_tokens": 5, "messages": []any{}}},
		{"system turn", map[string]any{"model": "m", "max_tokens": 5, "messages": []any{map[string]any{"role": "system", "content": "x"}}}},
		{"temperature 2", map[string]any{"model": "m", "max_tokens": 5, "temperature": 2, "messages": user}},
		{"bad content", map[string]any{"model": "m", "max_tokens": 5, "messages": []any{map[string]any{"role": "user", "content": 5}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postMessages(t, c, srv.URL(), tt.body)
			if diff := cmp.Diff([]any{400, "error", "invalid_request_error"}, []any{r.status, r.Type, r.Error.Type}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzMessagesRequest sends arbitrary bodies to /v1/messages: each gets a
// 400 Anthropic error or a well-formed message whose usage adds up.
func FuzzMessagesRequest(f *testing.F) {
	f.Add(`{"model":"m","max_tokens":50,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"What is the capital of France?"}]}`)
	f.Add(`{"model":"m","max_tokens":1,"stop_sequences":[""],"messages":[{"role":"user","content":[{"type":"text","text":"[[ ## question ## ]]\nx"}]}]}`)
	f.Add(`{"model":"m","max_tokens":5,"temperature":0.5,"messages":[{"role":"assistant","content":[]}]}`)
	f.Add(`{"messages":null}`)
	srv, err := simlm.NewServer(simlm.Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/messages", strings.NewReader(body)))
		var r messagesReply
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("status %d, body %q is not JSON: %v", rec.Code, rec.Body, err)
		}
		switch rec.Code {
		case http.StatusOK:
			if r.Type != "message" || len(r.Content) != 1 || r.Usage.Input < 0 || r.Usage.Read < 0 || r.Usage.Write < 0 {
				t.Fatalf("reply %s", rec.Body)
			}
		case http.StatusBadRequest:
			if r.Type != "error" || r.Error.Type != "invalid_request_error" {
				t.Fatalf("error reply %s", rec.Body)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
