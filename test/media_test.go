package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
)

type photoIn struct {
	Photo    signature.Image
	Question string
}

type photoOut struct{ Answer string }

// TestImagePredictOverHTTP runs a typed Predict with an image input
// against the embedded model server over HTTP, on the OpenAI-compatible
// provider (image_url parts) and on the Anthropic provider (image blocks),
// for an image given by URL and one read from a file: the simulator
// "sees" each image (simlm.DescribeImage) and answers with it, so the
// answer shows that the image reached it as an image part.
func TestImagePredictOverHTTP(t *testing.T) {
	srv := rtSim(t)
	cfg := rtConfig(srv)
	cfg.Providers = append(cfg.Providers, config.Provider{
		Name: "claude", Kind: config.KindAnthropic, BaseURL: srv.URL(),
		APIKey: config.Secret("sk-ant-media-test"), DefaultModel: "claude-sim",
	})
	rt := rtStart(t, dspex.WithConfig(cfg))

	path := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(path, []byte("\x89PNG\r\n\x1a\nmedia test bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := signature.ImageFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fromURL, err := signature.ImageFromURL("https://images.example/cat.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, provider := range []string{"sim", "claude"} {
		for name, img := range map[string]signature.Image{"file": fromFile, "url": fromURL} {
			t.Run(provider+"/"+name, func(t *testing.T) {
				before := len(srv.Requests())
				p, err := programs.NewPredict[photoIn, photoOut](programs.WithLM(rt.LM(provider)))
				if err != nil {
					t.Fatal(err)
				}
				out, err := p.Call(rtCtx(t), photoIn{Photo: img, Question: "What is in the picture?"})
				if err != nil {
					t.Fatal(err)
				}
				if want := simlm.DescribeImage(img.URL); !strings.Contains(out.Answer, want) {
					t.Errorf("answer %q, want the simulator's view of the image, %q", out.Answer, want)
				}
				reqs := srv.Requests()[before:]
				wantPath := map[string]string{"sim": "/v1/chat/completions", "claude": "/v1/messages"}[provider]
				if len(reqs) != 1 || reqs[0].Path != wantPath || reqs[0].Status != 200 {
					t.Errorf("requests = %+v, want one to %s answered 200", reqs, wantPath)
				}
				// The runtime's history keeps a placeholder, not the bytes.
				recs := rt.History()
				rec, err := json.Marshal(recs[len(recs)-1])
				if err != nil {
					t.Fatal(err)
				}
				if b64 := strings.TrimPrefix(img.URL, "data:image/png;base64,"); b64 != img.URL && strings.Contains(string(rec), b64) {
					t.Error("the history record holds the image's bytes")
				}
				if !strings.Contains(string(rec), "Image(url=") {
					t.Errorf("the history record has no image placeholder: %s", rec)
				}
			})
		}
	}
	if simlm.DescribeImage(fromFile.URL) == simlm.DescribeImage(fromURL.URL) {
		t.Log("both test images look alike to the simulator; the answers above still had to name them")
	}
}

type chatIn struct {
	History  signature.History
	Question string
}

type chatOut struct{ Answer string }

// TestHistoryPredictOverHTTP runs a typed Predict whose input holds the
// earlier turns of a conversation, on both providers: the request carries
// them as user/assistant pairs before the question.
func TestHistoryPredictOverHTTP(t *testing.T) {
	srv := rtSim(t)
	cfg := rtConfig(srv)
	cfg.Providers = append(cfg.Providers, config.Provider{
		Name: "claude", Kind: config.KindAnthropic, BaseURL: srv.URL(),
		APIKey: config.Secret("sk-ant-media-test"), DefaultModel: "claude-sim",
	})
	rt := rtStart(t, dspex.WithConfig(cfg))
	type turn struct{ Question, Answer string }
	history, err := signature.HistoryOf(turn{"Who wrote Hamlet?", "Shakespeare"}, turn{"And Macbeth?", "Also Shakespeare"})
	if err != nil {
		t.Fatal(err)
	}
	for _, provider := range []string{"sim", "claude"} {
		t.Run(provider, func(t *testing.T) {
			p, err := programs.NewPredict[chatIn, chatOut](programs.WithLM(rt.LM(provider)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Call(rtCtx(t), chatIn{History: history, Question: "When was he born?"}); err != nil {
				t.Fatal(err)
			}
			recs := rt.History()
			var got []string
			for _, m := range recs[len(recs)-1].Messages {
				got = append(got, string(m.Role)+": "+strings.ReplaceAll(m.Content, "\n", " "))
			}
			want := []string{
				"user: [[ ## question ## ]] Who wrote Hamlet?",
				"assistant: [[ ## answer ## ]] Shakespeare  [[ ## completed ## ]] ",
				"user: [[ ## question ## ]] And Macbeth?",
				"assistant: [[ ## answer ## ]] Also Shakespeare  [[ ## completed ## ]] ",
			}
			if len(got) != 6 || strings.Join(got[1:5], "|") != strings.Join(want, "|") || !strings.HasPrefix(got[5], "user: [[ ## question ## ]] When was he born?") {
				t.Errorf("messages sent:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}
