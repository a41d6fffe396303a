package actors

import (
	"context"
	"hash/maphash"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// TestCacheFrontHitsDecodeOnce: a hit in the front tier answers the
// response that was put, marked cached; a second hit on the same bytes
// comes from the memo of decoded responses, yet a caller changing its
// copy changes nothing for the next caller; and whatever the store says
// wins over the memo: a rewritten entry is decoded anew, a cleared one
// is a miss.
func TestCacheFrontHitsDecodeOnce(t *testing.T) {
	ctx := context.Background()
	rc, err := newResponseCache(config.Cache{Enabled: true, TTL: config.Duration(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	put := lm.Response{ID: "r1", Model: "m", Usage: lm.Usage{PromptTokens: 3, CompletionTokens: 2},
		Choices: []lm.Choice{{FinishReason: "tool_calls", Message: lm.Message{Role: lm.RoleAssistant, Content: "hi",
			Parts:     []lm.ContentPart{lm.TextPart("hi")},
			ToolCalls: []lm.ToolCall{{ID: "c1", Name: "lookup", Arguments: "{}"}}}}}}
	rc.put(ctx, "k", put)
	want := put
	want.Cached = true

	for i := range 3 {
		got, ok := rc.getFront("k")
		if !ok {
			t.Fatalf("lookup %d: miss", i)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("lookup %d (-want +got):\n%s", i, diff)
		}
		// A caller may change what it was given.
		got.Choices[0].Message.Content = "changed"
		got.Choices[0].Message.Parts[0].Text = "changed"
		got.Choices[0].Message.ToolCalls[0].Name = "changed"
	}

	rewritten := reply("other")
	rc.put(ctx, "k", rewritten)
	got, ok := rc.getFront("k")
	if !ok || got.Choices[0].Message.Content != "other" {
		t.Fatalf("after a rewrite: %+v, %v; want the new reply", got, ok)
	}

	if err := rc.all.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if got, ok := rc.getFront("k"); ok {
		t.Fatalf("after Clear: hit %+v", got)
	}
	if _, ok := rc.getFront("never put"); ok {
		t.Fatal("hit on a key never put")
	}
}

// TestCacheFrontMissesUndecodable: a value that does not decode, or
// decodes to no choice, is a miss, every time.
func TestCacheFrontMissesUndecodable(t *testing.T) {
	rc, err := newResponseCache(config.Cache{Enabled: true, TTL: config.Duration(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	for _, v := range []string{"{", `{"Choices":[]}`, "null"} {
		t.Run(v, func(t *testing.T) {
			if _, ok := rc.decoded.decode("k", []byte(v)); ok {
				t.Fatal("decoded")
			}
			if _, ok := rc.decoded.decode("k", []byte(v)); ok {
				t.Fatal("decoded the second time")
			}
		})
	}
}

// TestCacheFrontLargeValues: a value too large for the memo is decoded
// at every hit, and answers all the same.
func TestCacheFrontLargeValues(t *testing.T) {
	rc, err := newResponseCache(config.Cache{Enabled: true, TTL: config.Duration(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	big := reply(strings.Repeat("x", maxDecoded))
	rc.put(context.Background(), "big", big)
	for i := range 2 {
		got, ok := rc.getFront("big")
		if !ok || got.Choices[0].Message.Content != big.Choices[0].Message.Content || !got.Cached {
			t.Fatalf("lookup %d: %v, %v", i, ok, got.Cached)
		}
	}
	slot := rc.decoded.slots[maphash.String(rc.decoded.seed, "big")%decodedSlots].Load()
	if slot != nil && slot.key == "big" {
		t.Error("a value larger than maxDecoded was remembered")
	}
}
