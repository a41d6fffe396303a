package lm

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// PartType is the kind of one content part of a message.
type PartType string

// The kinds of content parts.
const (
	// PartText is a piece of text.
	PartText PartType = "text"
	// PartImage is an image, by URL: an http(s) URL, or a data: URL
	// holding the image's bytes in base64 with its MIME type.
	PartImage PartType = "image"
)

// ContentPart is one part of a message's content: text or an image. A
// message with images is sent as parts in order, as OpenAI's content array
// ({"type":"text"} and {"type":"image_url"}) and Anthropic's content blocks
// (text and image blocks, a data: URL as a base64 source).
type ContentPart struct {
	// Type says which of the fields below is set.
	Type PartType `json:"type"`
	// Text is the text of a PartText.
	Text string `json:"text,omitempty"`
	// ImageURL is the URL of a PartImage: http(s) or data:.
	ImageURL string `json:"image_url,omitempty"`
}

// TextPart returns a text part.
func TextPart(text string) ContentPart { return ContentPart{Type: PartText, Text: text} }

// ImageURLPart returns an image part for url (http(s) or data:).
func ImageURLPart(url string) ContentPart { return ContentPart{Type: PartImage, ImageURL: url} }

// ImageDataPart returns an image part holding data, of the given MIME type
// (e.g. "image/png"), as a base64 data: URL.
func ImageDataPart(mimeType string, data []byte) ContentPart {
	return ImageURLPart(DataURL(mimeType, data))
}

// DataURL returns the base64 data: URL of data with the given MIME type.
func DataURL(mimeType string, data []byte) string {
	return "data:" + mimeType + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// ErrBadDataURL means an image's data: URL is not "data:<mime>;base64,<data>".
var ErrBadDataURL = errors.New("lm: malformed base64 data URL")

// ParseDataURL splits a base64 data: URL into its MIME type and its base64
// text (not decoded). ok is false when url is not a data: URL at all; err
// is set (wrapping ErrBadDataURL) when it is one but not in base64 form.
func ParseDataURL(url string) (mimeType, b64 string, ok bool, err error) {
	rest, found := strings.CutPrefix(url, "data:")
	if !found {
		return "", "", false, nil
	}
	head, data, found := strings.Cut(rest, ",")
	mime, enc, hasEnc := strings.Cut(head, ";")
	if !found || !hasEnc || enc != "base64" || mime == "" {
		return "", "", true, fmt.Errorf("%w (want data:<mime>;base64,<data>)", ErrBadDataURL)
	}
	return mime, data, true, nil
}

// ImagePlaceholder is the short text that stands for an image in logs,
// history and Message.Content, as DSPy's Image repr writes it: the URL of
// an http(s) image, and for a data: URL only its MIME type and the length
// of its base64 text, never the bytes.
func ImagePlaceholder(url string) string {
	if mime, b64, ok, err := ParseDataURL(url); ok {
		if err != nil {
			return "Image(url=data:<MALFORMED>)"
		}
		return fmt.Sprintf("Image(url=data:%s;base64,<IMAGE_BASE_64_ENCODED(%d)>)", mime, len(b64))
	}
	return "Image(url='" + url + "')"
}

// PartsText is the text of parts, each image replaced by its
// ImagePlaceholder: the Content of a message that has Parts.
func PartsText(parts []ContentPart) string {
	var b strings.Builder
	for _, p := range parts {
		switch p.Type {
		case PartImage:
			b.WriteString(ImagePlaceholder(p.ImageURL))
		default:
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// HasImages reports whether any message has an image part.
func HasImages(msgs []Message) bool {
	for _, m := range msgs {
		for _, p := range m.Parts {
			if p.Type == PartImage {
				return true
			}
		}
	}
	return false
}

// RedactImages returns msgs with the bytes of every data: URL image
// replaced by its ImagePlaceholder, for records that must not hold the
// image (logs, traces, history). msgs is not modified; when no message has
// a data: URL image it is returned as is.
func RedactImages(msgs []Message) []Message {
	var out []Message
	for i, m := range msgs {
		for j, p := range m.Parts {
			if p.Type != PartImage || !strings.HasPrefix(p.ImageURL, "data:") {
				continue
			}
			if out == nil {
				out = append([]Message(nil), msgs...)
			}
			if &out[i].Parts[0] == &msgs[i].Parts[0] {
				out[i].Parts = append([]ContentPart(nil), m.Parts...)
			}
			out[i].Parts[j].ImageURL = ImagePlaceholder(p.ImageURL)
		}
	}
	if out == nil {
		return msgs
	}
	return out
}

// ErrBadContentPart means a message's content part cannot be sent: an
// unknown type, an image without a URL, or a malformed data: URL.
var ErrBadContentPart = errors.New("lm: bad content part")

// checkParts validates the parts of a message before it is sent.
func checkParts(parts []ContentPart) error {
	for i, p := range parts {
		switch p.Type {
		case PartText:
		case PartImage:
			if p.ImageURL == "" {
				return fmt.Errorf("%w %d: image without a URL", ErrBadContentPart, i)
			}
			if _, _, _, err := ParseDataURL(p.ImageURL); err != nil {
				return fmt.Errorf("%w %d: %w", ErrBadContentPart, i, err)
			}
		default:
			return fmt.Errorf("%w %d: unknown type %q", ErrBadContentPart, i, p.Type)
		}
	}
	return nil
}
