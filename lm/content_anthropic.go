package lm

import "github.com/anthropics/anthropic-sdk-go/v2"

// anthropicPartBlocks maps content parts to Anthropic content blocks: text
// blocks, and image blocks with a base64 source for a data: URL or a url
// source otherwise.
func anthropicPartBlocks(parts []ContentPart) ([]anthropic.ContentBlockParamUnion, error) {
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
	return out, nil
}
