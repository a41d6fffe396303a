package cluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/lm/lmtest"
)

// cacheUsage has every usage count set, prompt-cache counts included.
var cacheUsage = lm.Usage{PromptTokens: 1200, CompletionTokens: 40, TotalTokens: 1240, CacheReadTokens: 1024, CacheWriteTokens: 96}

// TestUsageSurvivesWire sends usage through both messages that carry it
// (a gateway's ChatResponse, a node's Result) as protobuf bytes.
func TestUsageSurvivesWire(t *testing.T) {
	roundTrip := func(m proto.Message, into proto.Message) {
		t.Helper()
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(b, into); err != nil {
			t.Fatal(err)
		}
	}
	var chat pb.ChatResponse
	roundTrip(responseToWire(lm.Response{ID: "r", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: "ok"}}},
		Usage: cacheUsage}), &chat)
	if diff := cmp.Diff(cacheUsage, responseFromWire(&chat).Usage); diff != "" {
		t.Errorf("ChatResponse usage (-sent +received):\n%s", diff)
	}
	var res pb.Result
	roundTrip(&pb.Result{Values: []byte(`{"answer":"ok"}`), Usage: usageToWire(cacheUsage)}, &res)
	pred, err := prediction(&res)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cacheUsage, pred.Usage); diff != "" {
		t.Errorf("Result usage (-sent +received):\n%s", diff)
	}
	if got := usageFromWire(nil); got != (lm.Usage{}) {
		t.Errorf("usageFromWire(nil) = %+v", got)
	}
}

// TestGatewayCarriesCachedTokens runs a chat through a gateway in another
// process whose provider reports prompt-cache reads (OpenAI's
// cached_tokens): the caller sees them.
func TestGatewayCarriesCachedTokens(t *testing.T) {
	want := lm.Usage{PromptTokens: 2048, CompletionTokens: 8, TotalTokens: 2056, CacheReadTokens: 1536}
	srv := lmtest.NewServer(func(lmtest.Call) lmtest.Script {
		u := want
		return lmtest.Script{Replies: []string{"fine"}, Usage: &u}
	})
	t.Cleanup(srv.Close)
	p := startGatewayProcess(t, "openai", gwEnvURL+"="+srv.URL(), gwEnvKey+"=sk-usage-test-0123")
	resp, err := gatewayLM(t, p.addr).Chat(t.Context(), hi())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, resp.Usage); diff != "" {
		t.Errorf("usage through the gateway (-provider +caller):\n%s", diff)
	}
}
