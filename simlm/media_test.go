package simlm_test

import (
	"strings"
	"testing"

	"github.com/dspex-go/dspex/simlm"
)

func TestDescribeImageIsDeterministic(t *testing.T) {
	a := simlm.DescribeImage("https://example.com/a.png")
	if a != simlm.DescribeImage("https://example.com/a.png") || !strings.HasPrefix(a, "a ") {
		t.Fatalf("DescribeImage = %q, not stable", a)
	}
	// The same bytes look the same whatever the MIME type says.
	if simlm.DescribeImage("data:image/png;base64,AAEC") != simlm.DescribeImage("data:image/jpeg;base64,AAEC") {
		t.Error("a data: URL's description depends on more than its bytes")
	}
	distinct := map[string]bool{}
	for _, u := range []string{"https://x/1.png", "https://x/2.png", "https://x/3.png", "https://x/4.png", "https://x/5.png"} {
		distinct[simlm.DescribeImage(u)] = true
	}
	if len(distinct) < 3 {
		t.Errorf("five images gave %d descriptions", len(distinct))
	}
}

// TestChatCompletionsSeesImageParts sends a DSPy-shaped prompt whose image
// is an OpenAI image_url part: the answer is the image's description.
func TestChatCompletionsSeesImageParts(t *testing.T) {
	srv, c := start(t)
	const url = "https://example.com/photo.jpg"
	body := map[string]any{
		"model": simlm.DefaultModel,
		"messages": []any{
			map[string]any{"role": "system", "content": "Your input fields are:\n1. `image` (Image): \n2. `question` (str):\n" +
				"Your output fields are:\n1. `answer` (str):\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n" +
				"[[ ## image ## ]]\n{image}\n\n[[ ## question ## ]]\n{question}\n\n[[ ## answer ## ]]\n{answer}\n\n[[ ## completed ## ]]\n" +
				"In adhering to this structure, your objective is: \n        Given the fields `image`, `question`, produce the fields `answer`."},
			map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "text", "text": "[[ ## image ## ]]\n"},
				map[string]any{"type": "image_url", "image_url": map[string]any{"url": url}},
				map[string]any{"type": "text", "text": "\n\n[[ ## question ## ]]\nWhat is this?\n\nRespond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."},
			}},
		},
	}
	r := post(t, t.Context(), c, srv.URL(), body)
	if r.status != 200 || len(r.choices) != 1 {
		t.Fatalf("status %d, %d choices: %s", r.status, len(r.choices), r.raw)
	}
	if want := simlm.DescribeImage(url); !strings.Contains(r.choices[0], want) {
		t.Errorf("reply %q does not name the image (%q)", r.choices[0], want)
	}
}
