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
