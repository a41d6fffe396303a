package actors

import (
	"testing"

	"github.com/dspex-go/dspex/lm"
)

// TestCacheKeyIncludesImages checks that two requests alike but for an
// image (its URL, or the bytes of a data: URL) do not share a cached
// response, and that the key of a text-only request is unchanged by the
// content-parts field.
func TestCacheKeyIncludesImages(t *testing.T) {
	withImage := func(p lm.ContentPart) lm.Request {
		parts := []lm.ContentPart{lm.TextPart("[[ ## photo ## ]]\n"), p}
		return lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: lm.PartsText(parts), Parts: parts}}}
	}
	keys := map[string]lm.Request{
		"url a":   withImage(lm.ImageURLPart("https://example.com/a.png")),
		"url b":   withImage(lm.ImageURLPart("https://example.com/b.png")),
		"bytes a": withImage(lm.ImageDataPart("image/png", []byte("aaaa"))),
		"bytes b": withImage(lm.ImageDataPart("image/png", []byte("aaab"))),
	}
	seen := map[string]string{}
	for name, req := range keys {
		k, ok := cacheKey("p", "m", req)
		if !ok {
			t.Fatalf("%s: no key", name)
		}
		if prev, dup := seen[k]; dup {
			t.Errorf("%s and %s share a cache key", name, prev)
		}
		seen[k] = name
	}
	plain, _ := cacheKey("p", "m", hello("hi"))
	again, _ := cacheKey("p", "m", lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
	if plain != again {
		t.Error("a text-only request's key depends on how it was built")
	}
}
