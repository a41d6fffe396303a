package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// This file renders Image and History fields as DSPy 3.3 does
// (stanfordnlp/dspy 4ed377ee9110e912d4f5e1be43b317b87455053c):
//
//   - dspy/adapters/types/base_type.py and _legacy_type_markers.py: a
//     custom type's value is written into the user message between
//     <<CUSTOM-TYPE-START-IDENTIFIER>> markers, and the finished message is
//     split at them into content parts: the text around each value, and
//     the value's own parts (an image_url part for dspy.Image, see
//     dspy/adapters/types/image.py). Empty text between parts is dropped.
//     dspex builds the parts directly instead of through in-band markers,
//     so that text supplied by a user cannot smuggle an image part into a
//     prompt; the resulting parts are the same.
//   - dspy/adapters/base.py format / format_conversation_history: a
//     History field's turns come after the demos, each as a user message
//     with the turn's inputs (left out when it has none) and an assistant
//     message with its outputs (an absent output as None), formatted with
//     the signature without the History field; the final user message
//     leaves the History field out too. The system message still lists it.

// piece is one part of a user message under construction.
type piece struct {
	text  string
	image string // the image's URL when set
}

// pieces is a user message under construction: text and images in order.
type pieces []piece

func (p *pieces) addText(s string) {
	if n := len(*p); n > 0 && (*p)[n-1].image == "" {
		(*p)[n-1].text += s
		return
	}
	*p = append(*p, piece{text: s})
}

func (p *pieces) addImage(url string) { *p = append(*p, piece{image: url}) }

func (p *pieces) add(q pieces) {
	for _, x := range q {
		if x.image != "" {
			p.addImage(x.image)
		} else {
			p.addText(x.text)
		}
	}
}

// message returns the user message of p, its ends trimmed of white space
// as DSPy strips the whole message. Without images it is plain text; with
// images it has Parts, empty text parts dropped, and Content is their
// text with a placeholder per image (lm.PartsText).
func (p pieces) message() lm.Message {
	if len(p) > 0 && p[0].image == "" {
		p[0].text = strings.TrimLeftFunc(p[0].text, unicode.IsSpace)
	}
	if n := len(p); n > 0 && p[n-1].image == "" {
		p[n-1].text = strings.TrimRightFunc(p[n-1].text, unicode.IsSpace)
	}
	var parts []lm.ContentPart
	images := false
	for _, x := range p {
		switch {
		case x.image != "":
			images = true
			parts = append(parts, lm.ImageURLPart(x.image))
		case x.text != "":
			parts = append(parts, lm.TextPart(x.text))
		}
	}
	if !images {
		text := ""
		if len(parts) > 0 {
			text = parts[0].Text
		}
		return lm.Message{Role: lm.RoleUser, Content: text}
	}
	return lm.Message{Role: lm.RoleUser, Content: lm.PartsText(parts), Parts: parts}
}

// isImageField reports whether f holds an Image or a list of Images.
func isImageField(f signature.Field) bool {
	t := f.Type.NonOptional()
	return t.Kind == signature.ImageKind || t.Kind == signature.List && t.ElemType().NonOptional().Kind == signature.ImageKind
}

// renderImages renders the value of an Image field as an image, and that
// of a list[Image] field as DSPy's JSON list of images: the brackets,
// quotes and commas as text between the image parts. A nil value is None.
func renderImages(f signature.Field, v any) (pieces, error) {
	var out pieces
	if v == nil {
		out.addText("None")
		return out, nil
	}
	if f.Type.NonOptional().Kind == signature.ImageKind {
		img, err := signature.AsImage(v)
		if err != nil {
			return nil, err
		}
		out.addImage(img.URL)
		return out, nil
	}
	items, ok := sliceItems(v)
	if !ok {
		return nil, fmt.Errorf("%w: a list[Image] field needs a list, not a %T", ErrInvalidValue, v)
	}
	out.addText("[")
	for i, it := range items {
		if i > 0 {
			out.addText(", ")
		}
		img, err := signature.AsImage(it)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out.addText(`"`)
		out.addImage(img.URL)
		out.addText(`"`)
	}
	out.addText("]")
	return out, nil
}

// historyField returns the name of sig's History input field, if any.
func historyField(sig signature.Signature) (string, bool) {
	for _, f := range sig.Inputs() {
		if f.Type.Kind == signature.HistoryKind {
			return f.Name, true
		}
	}
	return "", false
}

// conversation renders the History value of inputs as user/assistant
// message pairs over sig (the signature without the History field), as
// DSPy's format_conversation_history does. A missing or nil History is no
// turns.
func conversation(sig signature.Signature, value any,
	reply func(signature.Signature, Values, *string) (string, error), native bool) ([]lm.Message, error) {
	if value == nil {
		return nil, nil
	}
	h, err := signature.AsHistory(value)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	var msgs []lm.Message
	for i, turn := range h.Messages {
		user, err := userMessage(sig, turn, "", "")
		if err != nil {
			return nil, fmt.Errorf("history turn %d: %w", i, err)
		}
		if user.Content != "" || len(user.Parts) > 0 {
			msgs = append(msgs, user)
		}
		if field, calls, ok := turnToolCalls(turn); ok {
			replay, err := replayToolCalls(sig, turn, field, calls, reply, native)
			if err != nil {
				return nil, fmt.Errorf("history turn %d: %w", i, err)
			}
			msgs = append(msgs, replay...)
			continue
		}
		// An output the turn lacks is rendered as None (null), as DSPy
		// passes outputs.get(name) without a missing-field message.
		outs := make(Values, len(sig.Outputs()))
		for _, f := range sig.Outputs() {
			outs[f.Name] = turn[f.Name]
		}
		text, err := reply(sig, outs, nil)
		if err != nil {
			return nil, fmt.Errorf("history turn %d: %w", i, err)
		}
		msgs = append(msgs, lm.Message{Role: lm.RoleAssistant, Content: text})
	}
	return msgs, nil
}

// renderNestedImages renders the value of an input field whose type holds
// Images below its top (list[Model], a model with an Image property, a
// dict of Images) as DSPy does: the value's JSON with Python's separators,
// each Image written where its JSON would be as a quote, the image part
// and a quote (DSPy puts the Image's marker string there and splits the
// message at it). The places of Images come from the field's type, never
// from the value's text.
func renderNestedImages(f signature.Field, v any) (pieces, error) {
	compact, err := appendJSON(nil, v, 0)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(compact))
	dec.UseNumber()
	var out pieces
	if err := walkImages(dec, f.Type, &out, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// walkImages writes the next JSON value of dec, of type t, into out.
func walkImages(dec *json.Decoder, t signature.Type, out *pieces, depth int) error {
	if depth > maxDepth {
		return errors.New("value nested too deeply")
	}
	t = t.NonOptional()
	if t.Kind == signature.ImageKind {
		var raw any
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if raw == nil {
			out.addText("null")
			return nil
		}
		img, err := signature.AsImage(normalizeJSON(raw))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidValue, err)
		}
		out.addText(`"`)
		out.addImage(img.URL)
		out.addText(`"`)
		return nil
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch x := tok.(type) {
	case json.Delim:
		if x == '[' {
			out.addText("[")
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.addText(", ")
				}
				elem := signature.TypeObject
				if t.Kind == signature.List {
					elem = t.ElemType()
				}
				if err := walkImages(dec, elem, out, depth+1); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			out.addText("]")
			return err
		}
		out.addText("{")
		for i := 0; dec.More(); i++ {
			if i > 0 {
				out.addText(", ")
			}
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := k.(string)
			out.addText(string(appendJSONString(nil, key)) + ": ")
			if err := walkImages(dec, propType(t, key), out, depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		out.addText("}")
		return err
	case string:
		out.addText(string(appendJSONString(nil, x)))
	case json.Number:
		out.addText(string(x))
	case bool:
		out.addText(strconv.FormatBool(x))
	case nil:
		out.addText("null")
	}
	return nil
}

// propType is the type of the value under key in an object of type t: a
// model's property, a dict's value type, Any otherwise.
func propType(t signature.Type, key string) signature.Type {
	switch t.Kind {
	case signature.Map:
		return t.ElemType()
	case signature.Struct:
		for _, p := range t.Props {
			if p.Name == key {
				return p.Type
			}
		}
	}
	return signature.TypeObject
}
