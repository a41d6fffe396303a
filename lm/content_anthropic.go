package lm

import "github.com/anthropics/anthropic-sdk-go/v2"

// anthropicBlocks maps content parts to Anthropic content blocks: text
// blocks, and image blocks with a base64 source for a data: URL or a url
// source otherwise. With mark, the last block carries the prompt-cache
// breakpoint.
func anthropicBlocks(parts []ContentPart, mark bool) ([]anthropic.ContentBlockParamUnion, error) {
	if err := checkParts(parts); err != nil {
		return nil, err
	}
	out := make([]anthropic.ContentBlockParamUnion, len(parts))
	for i, p := range parts {
		if p.Type != PartImage {
			out[i] = anthropic.ContentBlockParamUnion{OfText: &anthropic.TextBlockParam{Text: p.Text}}
			continue
		}
		mime, b64, isData, _ := ParseDataURL(p.ImageURL) // checkParts vetted it
		if isData {
			out[i] = anthropic.NewImageBlock(anthropic.Base64ImageSourceParam{
				Data: b64, MediaType: anthropic.Base64ImageSourceMediaType(mime)})
		} else {
			out[i] = anthropic.NewImageBlock(anthropic.URLImageSourceParam{URL: p.ImageURL})
		}
	}
	if mark && len(out) > 0 {
		cc := anthropic.NewCacheControlEphemeralParam()
		switch last := out[len(out)-1]; {
		case last.OfText != nil:
			last.OfText.CacheControl = cc
		case last.OfImage != nil:
			last.OfImage.CacheControl = cc
		}
	}
	return out, nil
}
