package test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

type nativeLookup struct {
	Query string `json:"query" desc:"the question to look up"`
}

// nativeFailingTools are two tools that never help: one returns an error,
// the other panics.
func nativeFailingTools() []programs.Tool {
	return []programs.Tool{
		programs.MustTool("search_web", "Searches the web.",
			func(context.Context, nativeLookup) (string, error) { return "", errors.New("network unreachable") }),
		programs.MustTool("ask_oracle", "Asks the oracle.",
			func(context.Context, nativeLookup) (string, error) { panic("the oracle is silent") }),
	}
}

// bodies records the request bodies the simulator receives.
type bodies struct {
	mu  sync.Mutex
	all [][]byte
}

func (b *bodies) script(info simlm.RequestInfo) *simlm.Fault {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all = append(b.all, append([]byte(nil), info.Body...))
	return nil
}

func (b *bodies) list() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.all...)
}

// TestReActNativeToolsEndToEnd runs ReAct with native tool calling through
// the runtime (client actor, cache, history) against the embedded model
// server over HTTP, in both protocols: the OpenAI-compatible provider
// (tools / tool_calls / role "tool") and the Anthropic one (tool_use /
// tool_result). Of its two tools one returns an error and one panics;
// both become observations, the agent calls finish, and the extraction
// answers. The history records the tool calls; a second run is served
// from the cache whole, so the keys include the tools and the tool
// traffic is replayed identically.
func TestReActNativeToolsEndToEnd(t *testing.T) {
	for _, protocol := range []struct {
		name, lmID, path string
		provider         func(*simlm.Server) config.Provider
	}{
		{"openai", "sim", "/v1/chat/completions", func(srv *simlm.Server) config.Provider {
			return config.Provider{Name: "sim", BaseURL: srv.URL(), APIKey: "sk-native-test", DefaultModel: simlm.DefaultModel}
		}},
		{"anthropic", "claude", "/v1/messages", func(srv *simlm.Server) config.Provider {
			return config.Provider{Name: "claude", Kind: config.KindAnthropic, BaseURL: srv.URL(), APIKey: "sk-ant-native-test", DefaultModel: "claude-sim"}
		}},
	} {
		t.Run(protocol.name, func(t *testing.T) {
			rec := &bodies{}
			srv := rtSim(t, simlm.WithFaults(simlm.Faults{Script: rec.script}))
			cfg := rtConfig(srv)
			cfg.Providers = []config.Provider{protocol.provider(srv)}
			cfg.Cache.Enabled, cfg.Cache.Persistent = true, false
			cfg.History.Size = 100
			rt := rtStart(t, dspex.WithConfig(cfg))
			agent, err := programs.NewReAct[anthropicQuestion, anthropicAnswer](nativeFailingTools(),
				programs.WithLM(rt.LM(protocol.lmID)), programs.WithNativeTools())
			if err != nil {
				t.Fatal(err)
			}
			ctx, trace := programs.WithTrace(rtCtx(t))
			out, traj, err := agent.Call(ctx, anthropicQuestion{Question: "What is the capital of Japan?"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.Answer, "Tokyo") {
				t.Errorf("answer %q, want Tokyo", out.Answer)
			}
			want := []struct{ tool, obs string }{
				{"search_web", "Failed to execute: tool search_web: network unreachable"},
				{"ask_oracle", "Failed to execute: tool ask_oracle: tool panicked: the oracle is silent"},
				{"finish", "Completed."},
			}
			if len(traj) != len(want) {
				t.Fatalf("trajectory %+v", traj)
			}
			for i, w := range want {
				if traj[i].Tool != w.tool || !strings.Contains(traj[i].Observation, w.obs) || traj[i].ToolCallID == "" {
					t.Errorf("step %d: %+v, want %s: %s", i, traj[i], w.tool, w.obs)
				}
			}

			// The wire: tools offered in every step, results sent back.
			sent := rec.list()
			if len(sent) != len(want)+1 {
				t.Fatalf("%d requests, want %d steps and the extraction", len(sent), len(want))
			}
			for i, body := range sent[:len(want)] {
				var req struct {
					Tools []json.RawMessage `json:"tools"`
				}
				if err := json.Unmarshal(body, &req); err != nil || len(req.Tools) != 3 {
					t.Errorf("step %d request offers %d tools (%v): %s", i, len(req.Tools), err, body)
				}
			}
			resultMarker := map[string]string{"openai": `"role":"tool"`, "anthropic": `"type":"tool_result"`}[protocol.name]
			if last := string(sent[len(want)-1]); strings.Count(last, resultMarker) != 2 || !strings.Contains(last, "tool panicked") {
				t.Errorf("the last step does not send the two results back (%s):\n%s", resultMarker, last)
			}
			if extraction := string(sent[len(want)]); strings.Contains(extraction, `"tools"`) {
				t.Errorf("the extraction offers tools:\n%s", extraction)
			}
			for _, r := range srv.Requests() {
				if r.Path != protocol.path || r.Status != 200 {
					t.Errorf("request %d: %s answered %d", r.Seq, r.Path, r.Status)
				}
			}

			// The history records each call's tool calls, and the
			// messages carry the calls and their results.
			var called []string
			results := 0
			records := rt.History()
			for i, r := range records {
				for _, calls := range r.ToolCalls {
					for _, c := range calls {
						called = append(called, c.Name)
					}
				}
				if i == len(want)-1 {
					for _, m := range r.Messages {
						if m.Role == lm.RoleTool && m.ToolCallID != "" {
							results++
						}
					}
				}
			}
			if strings.Join(called, ",") != "search_web,ask_oracle,finish" || results != 2 {
				t.Errorf("history: calls %v, %d results in the last step", called, results)
			}
			// The trace records the steps as the text-mode predictor's.
			var steps []string
			for _, e := range trace.Entries() {
				if name, ok := e.Outputs["next_tool_name"].(string); ok {
					steps = append(steps, name)
				}
			}
			if strings.Join(steps, ",") != "search_web,ask_oracle,finish" {
				t.Errorf("trace steps %v", steps)
			}

			// Again: every call is a cache hit, nothing reaches the server.
			pred, err := agent.Forward(rtCtx(t), programs.Values{"question": "What is the capital of Japan?"})
			if err != nil {
				t.Fatal(err)
			}
			if !pred.Cached || len(rec.list()) != len(sent) {
				t.Errorf("second run: cached %v, %d requests after %d", pred.Cached, len(rec.list()), len(sent))
			}
		})
	}
}

// TestReActNativeToolsConfiguredOff: a provider configured without native
// tools gets the tools described in text, and the agent still finishes.
func TestReActNativeToolsConfiguredOff(t *testing.T) {
	rec := &bodies{}
	srv := rtSim(t, simlm.WithFaults(simlm.Faults{Script: rec.script}))
	cfg := rtConfig(srv)
	off := false
	cfg.Providers[0].NativeTools = &off
	rt := rtStart(t, dspex.WithConfig(cfg))
	agent, err := programs.NewReAct[anthropicQuestion, anthropicAnswer](nativeFailingTools(),
		programs.WithLM(rt.LM("sim")), programs.WithNativeTools())
	if err != nil {
		t.Fatal(err)
	}
	out, traj, err := agent.Call(rtCtx(t), anthropicQuestion{Question: "What is the capital of Japan?"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Answer, "Tokyo") || len(traj) != 3 || traj[2].Tool != "finish" {
		t.Errorf("answer %q, trajectory %+v", out.Answer, traj)
	}
	for i, body := range rec.list() {
		if strings.Contains(string(body), `"tools"`) {
			t.Errorf("request %d carries tools:\n%s", i, body)
		}
	}
}
