package lm

import openai "github.com/sashabaranov/go-openai"

// openAIParts maps content parts to OpenAI's content array: text parts
// and image_url parts (a data: URL stays one, as OpenAI accepts it).
func openAIParts(parts []ContentPart) ([]openai.ChatMessagePart, error) {
	if err := checkParts(parts); err != nil {
		return nil, err
	}
	out := make([]openai.ChatMessagePart, len(parts))
	for i, p := range parts {
		if p.Type == PartImage {
			out[i] = openai.ChatMessagePart{Type: openai.ChatMessagePartTypeImageURL,
				ImageURL: &openai.ChatMessageImageURL{URL: p.ImageURL}}
			continue
		}
		out[i] = openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText, Text: p.Text}
	}
	return out, nil
}
