package adapter

import (
	"errors"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

func TestImageListRendersAsDSPyJSONList(t *testing.T) {
	sig := signature.MustParse("pages: list[dspy.Image] -> summary")
	req, err := Chat{}.Format(sig, nil, Values{"pages": []signature.Image{
		mustImage(t, "https://example.com/1.png"), signature.ImageFromBytes([]byte("GIF89a"), "image/gif")}})
	if err != nil {
		t.Fatal(err)
	}
	parts := req.Messages[1].Parts
	want := []lm.ContentPart{
		lm.TextPart(`[[ ## pages ## ]]` + "\n" + `["`),
		lm.ImageURLPart("https://example.com/1.png"),
		lm.TextPart(`", "`),
		lm.ImageURLPart("data:image/gif;base64,R0lGODlh"),
		lm.TextPart(`"]` + "\n\nRespond with the corresponding output fields, starting with the field `[[ ## summary ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."),
	}
	if diff := cmp.Diff(want, parts); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
	if c := req.Messages[1].Content; strings.Contains(c, "R0lGODlh") || !strings.Contains(c, "<IMAGE_BASE_64_ENCODED(8)>") {
		t.Errorf("Content shows the image bytes or no placeholder: %q", c)
	}
}

func TestImageValuesAccepted(t *testing.T) {
	sig := signature.MustParse("image: Image -> answer")
	for name, v := range map[string]any{
		"Image":        mustImage(t, "https://example.com/a.png"),
		"pointer":      ptr(mustImage(t, "https://example.com/a.png")),
		"URL string":   "https://example.com/a.png",
		"saved as map": map[string]any{"url": "https://example.com/a.png"},
	} {
		req, err := Chat{}.Format(sig, nil, Values{"image": v})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !containsPart(req.Messages[1].Parts, imagePart("https://example.com/a.png")) {
			t.Errorf("%s: parts = %+v", name, req.Messages[1].Parts)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestBadImageValueIsTypedError(t *testing.T) {
	sig := signature.MustParse("image: Image -> answer")
	for name, v := range map[string]any{
		"local path": "/etc/passwd",
		"number":     3,
		"bad data":   "data:image/png,notbase64",
	} {
		_, err := Chat{}.Format(sig, nil, Values{"image": v})
		if !errors.Is(err, signature.ErrBadImage) {
			t.Errorf("%s: error %v, want ErrBadImage", name, err)
		}
	}
}

func TestMissingHistoryMeansNoTurns(t *testing.T) {
	sig := signature.MustParse("history: History, question -> answer")
	for _, a := range []Adapter{Chat{}, JSON{}} {
		req, err := a.Format(sig, nil, Values{"question": "q"})
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Messages) != 2 || strings.Contains(req.Messages[1].Content, "history") {
			t.Errorf("%T: messages = %+v", a, req.Messages)
		}
	}
}

func TestHistoryTurnRendering(t *testing.T) {
	sig := signature.MustParse("history: History, question, context -> answer, score: float")
	h := signature.History{Messages: []map[string]any{
		{"question": "q1", "answer": "a1"}, // no score: None
		{"answer": "a2", "score": 0.5},     // no inputs: no user message
	}}
	req, err := Chat{}.Format(sig, nil, Values{"question": "q", "context": "c", "history": h})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range req.Messages[1 : len(req.Messages)-1] {
		got = append(got, string(m.Role)+": "+m.Content)
	}
	want := []string{
		"user: [[ ## question ## ]]\nq1",
		"assistant: [[ ## answer ## ]]\na1\n\n[[ ## score ## ]]\nNone\n\n[[ ## completed ## ]]\n",
		"assistant: [[ ## answer ## ]]\na2\n\n[[ ## score ## ]]\n0.5\n\n[[ ## completed ## ]]\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("turns (-want +got):\n%s", diff)
	}
	if _, err := (Chat{}).Format(sig, nil, Values{"question": "q", "context": "c", "history": 42}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("a number as history: error %v, want ErrInvalidValue", err)
	}
}

func TestImageWithoutImagesStaysPlainText(t *testing.T) {
	req, err := Chat{}.Format(signature.MustParse("question -> answer"), nil, Values{"question": "q"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range req.Messages {
		if m.Parts != nil {
			t.Errorf("plain message has parts: %+v", m)
		}
	}
}
