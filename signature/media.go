package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// Image is the value of an Image field (DSPy's dspy.Image): an image the
// adapters send to the model as an image content part, in the place of the
// field's value. URL is an http(s) (or gs) URL the provider fetches, or a
// base64 data: URL holding the image's bytes.
//
// Build one with ImageFromURL, ImageFromBytes or ImageFromFile. Like
// DSPy's Image, an Image never downloads anything. Its String form is a
// short placeholder that never holds the bytes, safe for logs.
type Image struct {
	URL string `json:"url"`
}

// History is the value of a History field (DSPy's dspy.History): the
// earlier turns of a conversation, oldest first. Each turn maps field names
// of the signature (inputs and outputs) to values; the adapters render each
// turn as a user message (its inputs) and an assistant message (its
// outputs) before the current input, as DSPy's format_conversation_history
// does. HistoryOf builds one from typed turns.
type History struct {
	Messages []map[string]any `json:"messages"`
}

// ErrBadImage means an image source is not usable: a string that is not an
// http(s)/gs or data: URL, an unreadable file, or a MIME type that cannot be
// told.
var ErrBadImage = errors.New("signature: bad image")

// ImageFromURL returns the Image of an http(s) or gs URL, or of a base64
// data: URL. Like DSPy's Image(url) it does not fetch anything; any other
// string (a local path, say) is an error wrapping ErrBadImage: load files
// with ImageFromFile.
func ImageFromURL(rawURL string) (Image, error) {
	rawURL = strings.TrimSpace(rawURL)
	if strings.HasPrefix(rawURL, "data:") {
		head, _, ok := strings.Cut(strings.TrimPrefix(rawURL, "data:"), ",")
		if !ok || !strings.HasSuffix(head, ";base64") || head == ";base64" {
			return Image{}, fmt.Errorf("%w: data URL is not data:<mime>;base64,<data>", ErrBadImage)
		}
		return Image{URL: rawURL}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "gs") || u.Host == "" {
		return Image{}, fmt.Errorf("%w: %q is not an http(s), gs or data: URL (load local files with ImageFromFile)", ErrBadImage, shorten(rawURL))
	}
	return Image{URL: rawURL}, nil
}

// ImageFromBytes returns the Image holding data as a base64 data: URL.
// mimeType is e.g. "image/png"; empty means sniffed from the bytes
// (http.DetectContentType).
func ImageFromBytes(data []byte, mimeType string) Image {
	if mimeType == "" {
		mimeType = http.DetectContentType(data)
		if i := strings.IndexByte(mimeType, ';'); i >= 0 {
			mimeType = mimeType[:i]
		}
	}
	return Image{URL: "data:" + mimeType + ";base64," + base64.StdEncoding.EncodeToString(data)}
}

// ImageFromFile reads an image file into a data: URL Image, its MIME type
// guessed from the file name's extension (as DSPy's from_path does), or
// sniffed from the bytes when the extension says nothing.
func ImageFromFile(path string) (Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	mimeType := mime.TypeByExtension(strings.ToLower(filepath.Ext(path)))
	if i := strings.IndexByte(mimeType, ';'); i >= 0 {
		mimeType = mimeType[:i]
	}
	return ImageFromBytes(data, mimeType), nil
}

// String returns a short description of the image that never holds its
// bytes, in the form of DSPy's Image repr:
// "Image(url='https://...')" or
// "Image(url=data:image/png;base64,<IMAGE_BASE_64_ENCODED(1234)>)".
func (i Image) String() string {
	if rest, ok := strings.CutPrefix(i.URL, "data:"); ok {
		head, data, _ := strings.Cut(rest, ",")
		mimeType, _, _ := strings.Cut(head, ";")
		return fmt.Sprintf("Image(url=data:%s;base64,<IMAGE_BASE_64_ENCODED(%d)>)", mimeType, len(data))
	}
	return "Image(url='" + i.URL + "')"
}

// GoString is String, so that %#v does not print the bytes either.
func (i Image) GoString() string { return i.String() }

// shorten cuts a long string for an error message.
func shorten(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// AsImage returns the Image a field value stands for: an Image or *Image,
// a URL string (http(s), gs or data:), or a map with a "url" key (an Image
// as JSON, as saved demos hold it).
func AsImage(v any) (Image, error) {
	switch x := v.(type) {
	case Image:
		return x, nil
	case *Image:
		if x != nil {
			return *x, nil
		}
	case string:
		return ImageFromURL(x)
	case map[string]any:
		if s, ok := x["url"].(string); ok && len(x) == 1 {
			return ImageFromURL(s)
		}
	}
	return Image{}, fmt.Errorf("%w: cannot use a %T as an image", ErrBadImage, v)
}

// AsHistory returns the History a field value stands for: a History or
// *History, a list of turns ([]map[string]any or []any of maps), or a map
// with a "messages" key (a History as JSON).
func AsHistory(v any) (History, error) {
	switch x := v.(type) {
	case History:
		return x, nil
	case *History:
		if x != nil {
			return *x, nil
		}
	case []map[string]any:
		return History{Messages: x}, nil
	case []any:
		h := History{Messages: make([]map[string]any, len(x))}
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return History{}, fmt.Errorf("signature: history turn %d is a %T, not an object", i, e)
			}
			h.Messages[i] = m
		}
		return h, nil
	case map[string]any:
		if msgs, ok := x["messages"]; ok && len(x) == 1 {
			return AsHistory(msgs)
		}
	}
	return History{}, fmt.Errorf("signature: cannot use a %T as a conversation history", v)
}

// HistoryOf builds a History from typed turns: each turn is a struct whose
// fields (read as Of reads them) are the signature's inputs and outputs of
// that turn, or a map[string]any.
func HistoryOf[T any](turns ...T) (History, error) {
	h := History{Messages: make([]map[string]any, len(turns))}
	if reflect.TypeFor[T]().Kind() == reflect.Map {
		for i, t := range turns {
			m, ok := any(t).(map[string]any)
			if !ok {
				return History{}, fmt.Errorf("signature: history turns of type %T are not map[string]any", t)
			}
			h.Messages[i] = m
		}
		return h, nil
	}
	for i, t := range turns {
		m, err := Encode(t)
		if err != nil {
			return History{}, fmt.Errorf("signature: history turn %d: %w", i, err)
		}
		h.Messages[i] = m
	}
	return h, nil
}

var (
	imageType   = reflect.TypeFor[Image]()
	historyType = reflect.TypeFor[History]()
)

// TypeImage and TypeHistory are the types of Image and History fields.
var (
	TypeImage   = Type{Kind: ImageKind}
	TypeHistory = Type{Kind: HistoryKind}
)

// mediaPlacement reports why t cannot be the type of a field in the given
// role: History only as a top-level input; Tool as an input, alone or as
// the element of a list; ToolCalls as a top-level output; Image in inputs
// only, at any level (inside a model, a dict or a list too, as DSPy
// splits the JSON of such a value around its images).
// It returns "" when t is fine.
func mediaPlacement(t Type, role Role) string {
	top := t.NonOptional()
	switch {
	case top.Kind == HistoryKind:
		if role != Input {
			return "a History field must be an input"
		}
		if t.Optional {
			return "a History field cannot be optional (an empty History is no history)"
		}
		return ""
	case top.Kind == ImageKind || top.Kind == List && top.elem().NonOptional().Kind == ImageKind:
		if role != Input {
			return "an Image field must be an input"
		}
		return ""
	case top.Kind == ToolKind || top.Kind == List && top.elem().NonOptional().Kind == ToolKind:
		if role != Input {
			return "a Tool field must be an input"
		}
		return ""
	case top.Kind == ToolCallsKind:
		if role != Output {
			return "a ToolCalls field must be an output"
		}
		return ""
	}
	if nestsMedia(t, 0, HistoryKind, ToolKind, ToolCallsKind) {
		return "History, Tool and ToolCalls are supported only as a field's own type (or list[Tool]), not nested in another type"
	}
	if role != Input && nestsMedia(t, 0, ImageKind) {
		return "an Image nested in a type is supported only in an input field"
	}
	return ""
}

// NestsImage reports whether t holds an Image anywhere below its top
// (a model's property, a dict's value, a list's element), as DSPy allows
// in input fields.
func NestsImage(t Type) bool { return nestsMedia(t, 0, ImageKind) }

// nestsMedia reports whether t holds a value of one of kinds at any level.
func nestsMedia(t Type, depth int, kinds ...Kind) bool {
	if depth > maxTypeDepth {
		return false
	}
	if slices.Contains(kinds, t.Kind) {
		return true
	}
	switch t.Kind {
	case List, Map:
		return nestsMedia(t.elem(), depth+1, kinds...)
	case Struct:
		for _, p := range t.Props {
			if nestsMedia(p.Type, depth+1, kinds...) {
				return true
			}
		}
	}
	return false
}
