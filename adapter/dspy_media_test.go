package adapter

import (
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

// DSPy's image and conversation-history adapter tests, at stanfordnlp/dspy
// 4ed377ee9110e912d4f5e1be43b317b87455053c (DSPy 3.3.1). The exact-message
// history case is a golden file (testdata/dspy/chat_with_history.json);
// the others assert parts of the messages and are transcribed here, each
// naming the test it follows.

// mediaGoldenCases are the golden-file cases of this file.
func mediaGoldenCases(t *testing.T) map[string]goldenCase {
	t.Helper()
	return map[string]goldenCase{
		// tests/adapters/test_chat_adapter.py:
		// test_chat_adapter_format_exact_messages_with_history.
		"chat_with_history.json": {
			sig: signature.MustParse("history: dspy.History, question: str -> answer: str"),
			inputs: Values{"question": "What is 3+3?", "history": signature.History{Messages: []map[string]any{
				{"question": "What is 1+1?", "answer": "2"},
				{"question": "What is 2+2?", "answer": "4"},
			}}},
		},
	}
}

// imagePart is the content part DSPy's tests look for.
func imagePart(url string) lm.ContentPart { return lm.ImageURLPart(url) }

func mustImage(t *testing.T, url string) signature.Image {
	t.Helper()
	img, err := signature.ImageFromURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// adapters runs f for DSPy's ChatAdapter and JSONAdapter tests alike.
func adapters(t *testing.T, f func(t *testing.T, a Adapter)) {
	t.Run("chat", func(t *testing.T) { f(t, Chat{}) })
	t.Run("json", func(t *testing.T) { f(t, JSON{}) })
}

// test_chat_adapter_formats_image, test_json_adapter_formats_image.
func TestDSPyFormatsImage(t *testing.T) {
	adapters(t, func(t *testing.T, a Adapter) {
		sig := signature.MustParse("image: dspy.Image -> text: str")
		req, err := a.Format(sig, nil, Values{"image": mustImage(t, "https://example.com/image.jpg")})
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Messages) != 2 {
			t.Fatalf("%d messages, want 2", len(req.Messages))
		}
		parts := req.Messages[1].Parts
		if len(parts) != 3 || parts[0].Type != lm.PartText || parts[2].Type != lm.PartText {
			t.Fatalf("user parts = %+v, want text, image, text", parts)
		}
		if parts[1] != imagePart("https://example.com/image.jpg") {
			t.Errorf("image part = %+v", parts[1])
		}
	})
}

// test_chat_adapter_formats_image_with_few_shot_examples,
// test_json_adapter_formats_image_with_few_shot_examples.
func TestDSPyFormatsImageWithFewShotExamples(t *testing.T) {
	adapters(t, func(t *testing.T, a Adapter) {
		sig := signature.MustParse("image: dspy.Image -> text: str")
		demos := []Values{
			{"image": mustImage(t, "https://example.com/image1.jpg"), "text": "This is a test image"},
			{"image": mustImage(t, "https://example.com/image2.jpg"), "text": "This is another test image"},
		}
		req, err := a.Format(sig, demos, Values{"image": mustImage(t, "https://example.com/image3.jpg")})
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Messages) != 6 {
			t.Fatalf("%d messages, want 6", len(req.Messages))
		}
		if _, ok := a.(Chat); ok {
			for _, i := range []int{2, 4} {
				if !strings.Contains(req.Messages[i].Content, "[[ ## completed ## ]]\n") {
					t.Errorf("message %d lacks the completed marker: %q", i, req.Messages[i].Content)
				}
			}
		}
		for i, url := range map[int]string{1: "https://example.com/image1.jpg", 3: "https://example.com/image2.jpg", 5: "https://example.com/image3.jpg"} {
			if !containsPart(req.Messages[i].Parts, imagePart(url)) {
				t.Errorf("message %d lacks %s: %+v", i, url, req.Messages[i].Parts)
			}
		}
	})
}

func containsPart(parts []lm.ContentPart, p lm.ContentPart) bool {
	for _, q := range parts {
		if q == p {
			return true
		}
	}
	return false
}

// test_chat_adapter_formats_conversation_history,
// test_json_adapter_formats_conversation_history.
func TestDSPyFormatsConversationHistory(t *testing.T) {
	history := signature.History{Messages: []map[string]any{
		{"question": "What is the capital of France?", "answer": "Paris"},
		{"question": "What is the capital of Germany?", "answer": "Berlin"},
	}}
	want := map[string][]string{
		"chat": {"[[ ## question ## ]]\nWhat is the capital of France?", "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]\n",
			"[[ ## question ## ]]\nWhat is the capital of Germany?", "[[ ## answer ## ]]\nBerlin\n\n[[ ## completed ## ]]\n"},
		"json": {"[[ ## question ## ]]\nWhat is the capital of France?", "{\n  \"answer\": \"Paris\"\n}",
			"[[ ## question ## ]]\nWhat is the capital of Germany?", "{\n  \"answer\": \"Berlin\"\n}"},
	}
	adapters(t, func(t *testing.T, a Adapter) {
		sig := signature.MustParse("question: str, history: dspy.History -> answer: str")
		req, err := a.Format(sig, nil, Values{"question": "What is the capital of France?", "history": history})
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Messages) != 6 {
			t.Fatalf("%d messages, want 6", len(req.Messages))
		}
		name := "chat"
		if _, ok := a.(JSON); ok {
			name = "json"
		}
		var got []string
		for _, m := range req.Messages[1:5] {
			got = append(got, m.Content)
		}
		if diff := cmp.Diff(want[name], got); diff != "" {
			t.Errorf("history messages (-dspy +dspex):\n%s", diff)
		}
	})
}

// ImageWrapper stands for the pydantic model of DSPy's nested-image tests.
type ImageWrapper struct {
	Images []signature.Image `json:"images"`
	Tag    []string          `json:"tag"`
}

// test_chat_adapter_formats_image_with_nested_images,
// test_json_adapter_formats_image_with_nested_images,
// test_chat_adapter_formats_image_with_few_shot_examples_with_nested_images and
// test_json_adapter_formats_image_with_few_shot_examples_with_nested_images:
// each Image inside a model becomes an image part. DSPy's tests check that
// the parts are there; this test also pins the text around them, which is
// the model's JSON cut where DSPy's marker strings stand
// (dspy/adapters/_legacy_type_markers.py): quotes around each image.
func TestDSPyFormatsNestedImages(t *testing.T) {
	type in struct{ Image ImageWrapper }
	type out struct{ Text string }
	sig := signature.MustOf[in, out]()
	wrapper := ImageWrapper{Images: []signature.Image{
		mustImage(t, "https://example.com/image1.jpg"), mustImage(t, "https://example.com/image2.jpg"),
		mustImage(t, "https://example.com/image3.jpg")}, Tag: []string{"test", "example"}}
	wrapper2 := ImageWrapper{Images: []signature.Image{mustImage(t, "https://example.com/image4.jpg")}, Tag: []string{"test", "example"}}
	adapters(t, func(t *testing.T, a Adapter) {
		req, err := a.Format(sig, nil, Values{"image": wrapper})
		if err != nil {
			t.Fatal(err)
		}
		parts := req.Messages[1].Parts
		want := []lm.ContentPart{
			lm.TextPart("[[ ## image ## ]]\n{\"images\": [\""), imagePart("https://example.com/image1.jpg"),
			lm.TextPart(`", "`), imagePart("https://example.com/image2.jpg"),
			lm.TextPart(`", "`), imagePart("https://example.com/image3.jpg"),
		}
		if len(parts) != len(want)+1 {
			t.Fatalf("%d parts, want %d: %+v", len(parts), len(want)+1, parts)
		}
		if diff := cmp.Diff(want, parts[:len(want)]); diff != "" {
			t.Errorf("parts (-want +got):\n%s", diff)
		}
		if last := parts[len(want)].Text; !strings.HasPrefix(last, `"], "tag": ["test", "example"]}`+"\n\nRespond with ") {
			t.Errorf("last part = %q", last)
		}

		req, err = a.Format(sig, []Values{{"image": wrapper, "text": "This is a test image"}}, Values{"image": wrapper2})
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Messages) != 4 {
			t.Fatalf("%d messages, want 4", len(req.Messages))
		}
		for _, url := range []string{"https://example.com/image1.jpg", "https://example.com/image2.jpg", "https://example.com/image3.jpg"} {
			if !containsPart(req.Messages[1].Parts, imagePart(url)) {
				t.Errorf("demo message lacks %s", url)
			}
		}
		if !containsPart(req.Messages[3].Parts, imagePart("https://example.com/image4.jpg")) {
			t.Errorf("last message lacks image4: %+v", req.Messages[3].Parts)
		}
	})
}
