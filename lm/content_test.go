package lm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// imageRequest is a DSPy-shaped request whose last user message holds an
// image by URL and one by bytes, between text parts, as the adapters
// split a message around its image fields.
func imageRequest() lm.Request {
	png := []byte("\x89PNG\r\n\x1a\nfake")
	parts := []lm.ContentPart{
		lm.TextPart("[[ ## photo ## ]]\n"),
		lm.ImageURLPart("https://example.com/cat.png"),
		lm.TextPart("\n\n[[ ## scan ## ]]\n"),
		lm.ImageDataPart("image/png", png),
		lm.TextPart("\n\nRespond with the corresponding output fields."),
	}
	return lm.Request{Model: "vision-test", Messages: []lm.Message{
		{Role: lm.RoleSystem, Content: "Describe images."},
		{Role: lm.RoleUser, Content: "[[ ## photo ## ]]\nhello"},
		{Role: lm.RoleAssistant, Content: "[[ ## answer ## ]]\nhi"},
		{Role: lm.RoleUser, Content: lm.PartsText(parts), Parts: parts},
	}}
}

// captureServer answers every request with a fixed reply in the given
// protocol and keeps the last request body.
type captureServer struct {
	*httptest.Server
	mu   sync.Mutex
	body []byte
}

func newCaptureServer(t *testing.T, reply string) *captureServer {
	t.Helper()
	cs := &captureServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		cs.mu.Lock()
		cs.body = b
		cs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *captureServer) lastBody() []byte {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.body
}

// checkGolden compares the JSON body with testdata/name, both indented.
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("request body differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestOpenAIImageRequestGolden(t *testing.T) {
	srv := newCaptureServer(t, `{"id":"c1","object":"chat.completion","model":"vision-test",
		"choices":[{"index":0,"message":{"role":"assistant","content":"a cat"},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL + "/v1"})
	resp, err := c.Chat(t.Context(), imageRequest())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "a cat" {
		t.Errorf("reply = %q", resp.Choices[0].Message.Content)
	}
	checkGolden(t, "image_request_openai.json", srv.lastBody())
}

func TestAnthropicImageRequestGolden(t *testing.T) {
	srv := newCaptureServer(t, `{"id":"m1","type":"message","role":"assistant","model":"vision-test",
		"content":[{"type":"text","text":"a cat"}],"stop_reason":"end_turn","stop_sequence":null,
		"usage":{"input_tokens":1,"output_tokens":1}}`)
	c := newTestAnthropic(t, lm.AnthropicConfig{BaseURL: srv.URL})
	resp, err := c.Chat(t.Context(), imageRequest())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "a cat" {
		t.Errorf("reply = %q", resp.Choices[0].Message.Content)
	}
	checkGolden(t, "image_request_anthropic.json", srv.lastBody())
}

func TestBadContentPartsAreRejectedBeforeSending(t *testing.T) {
	bad := []struct {
		name string
		part lm.ContentPart
	}{
		{"image without URL", lm.ContentPart{Type: lm.PartImage}},
		{"data URL not base64", lm.ImageURLPart("data:image/png,rawbytes")},
		{"data URL without MIME type", lm.ImageURLPart("data:;base64,AAAA")},
		{"unknown part type", lm.ContentPart{Type: "audio"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			for _, proto := range []string{"openai", "anthropic"} {
				srv := newCaptureServer(t, `{}`)
				var c lm.LM
				if proto == "openai" {
					c = newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL + "/v1"})
				} else {
					c = newTestAnthropic(t, lm.AnthropicConfig{BaseURL: srv.URL})
				}
				_, err := c.Chat(t.Context(), lm.Request{Model: "m", Messages: []lm.Message{
					{Role: lm.RoleUser, Content: "x", Parts: []lm.ContentPart{lm.TextPart("x"), tt.part}}}})
				if !errors.Is(err, lm.ErrBadContentPart) {
					t.Errorf("%s: error %v, want ErrBadContentPart", proto, err)
				}
				if srv.lastBody() != nil {
					t.Errorf("%s: a bad request was sent", proto)
				}
			}
		})
	}
}

func TestImagePlaceholderHidesBytes(t *testing.T) {
	data := bytes.Repeat([]byte{0xff, 0xd8, 0x01}, 100)
	tests := []struct {
		url, want string
	}{
		{"https://example.com/a.png", "Image(url='https://example.com/a.png')"},
		{lm.DataURL("image/jpeg", data), "Image(url=data:image/jpeg;base64,<IMAGE_BASE_64_ENCODED(400)>)"},
		{"data:image/png,raw", "Image(url=data:<MALFORMED>)"},
	}
	for _, tt := range tests {
		if got := lm.ImagePlaceholder(tt.url); got != tt.want {
			t.Errorf("ImagePlaceholder(%.40q) = %q, want %q", tt.url, got, tt.want)
		}
	}
	msgs := imageRequest().Messages
	red := lm.RedactImages(msgs)
	b, err := json.Marshal(red)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "base64,iVBOR") || !strings.Contains(string(b), "IMAGE_BASE_64_ENCODED") {
		t.Errorf("redacted messages still hold the bytes: %s", b)
	}
	if !strings.Contains(msgs[3].Parts[3].ImageURL, ";base64,iVBOR") {
		t.Errorf("RedactImages modified its input: %q", msgs[3].Parts[3].ImageURL)
	}
	if got := lm.RedactImages(msgs[:3]); &got[0] != &msgs[0] {
		t.Error("RedactImages copied messages without images")
	}
	if !lm.HasImages(msgs) || lm.HasImages(msgs[:3]) {
		t.Error("HasImages is wrong")
	}
}

func TestParseDataURL(t *testing.T) {
	tests := []struct {
		url            string
		mime, b64      string
		isData, hasErr bool
	}{
		{"data:image/png;base64,AAAA", "image/png", "AAAA", true, false},
		{"https://x/y.png", "", "", false, false},
		{"data:image/png;utf8,AAAA", "", "", true, true},
		{"data:image/png;base64", "", "", true, true},
	}
	for _, tt := range tests {
		mime, b64, isData, err := lm.ParseDataURL(tt.url)
		if mime != tt.mime || b64 != tt.b64 || isData != tt.isData || (err != nil) != tt.hasErr {
			t.Errorf("ParseDataURL(%q) = %q, %q, %v, %v", tt.url, mime, b64, isData, err)
		}
		if err != nil && !errors.Is(err, lm.ErrBadDataURL) {
			t.Errorf("ParseDataURL(%q) error %v is not ErrBadDataURL", tt.url, err)
		}
	}
}

func FuzzParseDataURL(f *testing.F) {
	for _, s := range []string{"data:image/png;base64,AAAA", "data:,", "data:;base64,", "https://x", "data:a;b;base64,c,d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mime, b64, isData, err := lm.ParseDataURL(s)
		if !isData && (err != nil || mime != "" || b64 != "") {
			t.Fatalf("not a data URL but got %q %q %v", mime, b64, err)
		}
		if err == nil && isData && lm.DataURL(mime, nil) != "data:"+mime+";base64," {
			t.Fatalf("MIME type %q does not round-trip", mime)
		}
		p := lm.ImagePlaceholder(s)
		if isData && err == nil && len(b64) > 8 && strings.Contains(p, b64) {
			t.Fatalf("placeholder %q holds the data", p)
		}
	})
}
