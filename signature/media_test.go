package signature_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/signature"
)

func TestImageAndHistoryAnnotations(t *testing.T) {
	for _, s := range []string{
		"image: dspy.Image, history: dspy.History -> answer",
		"image: Image, history: History -> answer",
		"pages: list[Image], history: signature.History -> answer",
		"image: Optional[Image] -> answer",
	} {
		sig, err := signature.Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if got := sig.Inputs()[0].Type.String(); !strings.Contains(got, "Image") {
			t.Errorf("Parse(%q): first type %s", s, got)
		}
	}
	for _, s := range []string{
		"question -> image: Image",
		"question -> history: History",
		"question -> scans: dict[str, Image]",
		"turns: list[History] -> answer",
		"history: Optional[History] -> answer",
	} {
		var fe *signature.FieldError
		if _, err := signature.Parse(s); !errors.As(err, &fe) {
			t.Errorf("Parse(%q): error %v, want a *FieldError", s, err)
		}
	}
}

func TestImageAndHistoryInStructs(t *testing.T) {
	type in struct {
		Photo   signature.Image
		History signature.History
		Pages   []signature.Image
	}
	type out struct{ Caption string }
	sig, err := signature.Of[in, out]()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range sig.Inputs() {
		kinds = append(kinds, f.Type.String())
	}
	if got := strings.Join(kinds, ","); got != "Image,History,list[Image]" {
		t.Errorf("types = %s", got)
	}
	// An Image nested in a model is an input DSPy splits around (see
	// adapter); as an output it is refused.
	type nested struct{ Img signature.Image }
	type wrapped struct{ N nested }
	sigNested, err := signature.Of[wrapped, out]()
	if err != nil {
		t.Fatalf("an Image nested in an input struct: %v", err)
	}
	if !signature.NestsImage(sigNested.Inputs()[0].Type) {
		t.Error("NestsImage = false for a struct holding an Image")
	}
	if _, err := signature.Of[out, wrapped](); err == nil {
		t.Error("an Image nested in an output struct was accepted")
	}
	if _, err := signature.Parse("scans: dict[str, Image] -> answer"); err != nil {
		t.Errorf("dict[str, Image] input: %v", err)
	}
	vals, err := signature.Encode(in{Photo: signature.Image{URL: "https://x/y.png"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vals["photo"].(signature.Image); !ok {
		t.Errorf("Encode gave %T for an Image", vals["photo"])
	}
}

func TestImageConstructors(t *testing.T) {
	dir := t.TempDir()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	path := filepath.Join(dir, "a.png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := signature.ImageFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(img.URL, "data:image/png;base64,iVBORw0KGgo") {
		t.Errorf("ImageFromFile URL = %q", img.URL)
	}
	if s := img.String(); strings.Contains(s, "iVBOR") || !strings.Contains(s, "IMAGE_BASE_64_ENCODED") {
		t.Errorf("String() shows the bytes: %s", s)
	}
	if _, err := signature.ImageFromFile(filepath.Join(dir, "missing.png")); !errors.Is(err, signature.ErrBadImage) {
		t.Errorf("missing file: error %v", err)
	}
	if got := signature.ImageFromBytes(png, "").URL; !strings.HasPrefix(got, "data:image/png;base64,") {
		t.Errorf("sniffed MIME type: %q", got)
	}
	for _, u := range []string{"https://example.com/a.png", "gs://bucket/a.png", "data:image/png;base64,AAAA"} {
		if _, err := signature.ImageFromURL(u); err != nil {
			t.Errorf("ImageFromURL(%q): %v", u, err)
		}
	}
	for _, u := range []string{"a.png", "/tmp/a.png", "ftp://x/a.png", "data:image/png,raw", "data:;base64,AA"} {
		if _, err := signature.ImageFromURL(u); !errors.Is(err, signature.ErrBadImage) {
			t.Errorf("ImageFromURL(%q): error %v, want ErrBadImage", u, err)
		}
	}
}

func TestHistoryOf(t *testing.T) {
	type turn struct {
		Question string
		Answer   string
	}
	h, err := signature.HistoryOf(turn{"q1", "a1"}, turn{"q2", "a2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 2 || h.Messages[1]["question"] != "q2" || h.Messages[0]["answer"] != "a1" {
		t.Errorf("HistoryOf = %+v", h)
	}
	m, err := signature.HistoryOf(map[string]any{"question": "q"})
	if err != nil || m.Messages[0]["question"] != "q" {
		t.Errorf("HistoryOf(map) = %+v, %v", m, err)
	}
	for _, v := range []any{h, &h, h.Messages, []any{map[string]any{"q": 1}}, map[string]any{"messages": []any{}}} {
		if _, err := signature.AsHistory(v); err != nil {
			t.Errorf("AsHistory(%T): %v", v, err)
		}
	}
	if _, err := signature.AsHistory([]any{1}); err == nil {
		t.Error("AsHistory accepted a list of numbers")
	}
}

func FuzzAsImage(f *testing.F) {
	for _, s := range []string{"https://x/a.png", "data:image/png;base64,AA", "gs://b/o", "/tmp/a", "data:", "http://", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		img, err := signature.AsImage(s)
		if err != nil {
			if !errors.Is(err, signature.ErrBadImage) {
				t.Fatalf("error %v is not ErrBadImage", err)
			}
			return
		}
		if img.URL == "" {
			t.Fatal("accepted an image without a URL")
		}
		if strings.HasPrefix(img.URL, "data:") && strings.Contains(img.String(), img.URL) && len(img.URL) > 40 {
			t.Fatalf("String shows the data: %s", img.String())
		}
	})
}
