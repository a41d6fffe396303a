package actors

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dspex-go/dspex/lm"
)

// TestKeyMemo: a key computed with the memo, remembered prefix or not, is
// cacheKey's, whatever the request.
func TestKeyMemo(t *testing.T) {
	km := newKeyMemoFor(&responseCache{})
	r := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "sys <&>\n", "Your input fields are:\n1. `q`", "é\u2028\xff\x00", "other"}
	pick := func() string { return texts[r.IntN(len(texts))] }
	for i := range 20000 {
		req := lm.Request{RolloutID: i % 7, MaxTokens: r.IntN(3)}
		for range r.IntN(4) {
			role := []lm.Role{lm.RoleSystem, lm.RoleSystem, lm.RoleUser, lm.Role(pick())}[r.IntN(4)]
			req.Messages = append(req.Messages, lm.Message{Role: role, Content: pick()})
		}
		switch r.IntN(8) {
		case 0:
			req.Messages = append(req.Messages, lm.Message{Role: lm.RoleTool, ToolCallID: "c1"})
		case 1:
			req.Temperature = lm.Float(1e-9)
		case 2:
			req.Temperature = lm.Float(math.NaN())
		case 3:
			req.Tools = []lm.ToolDef{{Name: "t"}}
		case 4:
			req.Messages = []lm.Message{}
		}
		provider, model := pick(), pick()
		want, wantOK := cacheKey(provider, model, req)
		got, ok := km.key(provider, model, &req)
		if got != want || ok != wantOK {
			t.Fatalf("%q %q %+v: memo %q %v, cacheKey %q %v", provider, model, req, got, ok, want, wantOK)
		}
	}
	remembered := 0
	for i := range km.slots {
		if km.slots[i].Load() != nil {
			remembered++
		}
	}
	if remembered == 0 {
		t.Fatal("no request went through a remembered prompt")
	}
	var nilMemo *keyMemo
	req := lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}}
	if got, _ := nilMemo.key("p", "m", &req); got != func() string { k, _ := cacheKey("p", "m", req); return k }() {
		t.Fatal("nil memo")
	}
}
