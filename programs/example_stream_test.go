package programs_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

// ExamplePredict_Stream streams a typed Predict from the embedded
// simulator: chunks of the answer field as they arrive, then the typed
// output.
func ExamplePredict_Stream() {
	srv, err := simlm.Start(simlm.WithFaults(simlm.Faults{ChunkTokens: 1}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: srv.Model(), HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		log.Fatal(err)
	}
	qa := programs.MustPredict[CapitalQuestion, CapitalAnswer](programs.WithLM(model))
	for ev, err := range qa.Stream(context.Background(), CapitalQuestion{Question: "Who wrote Hamlet?"}) {
		switch {
		case err != nil:
			log.Fatal(err)
		case ev.Chunk != nil:
			fmt.Printf("%s: %q\n", ev.Chunk.Field, ev.Chunk.Text)
		case ev.Output != nil:
			fmt.Println("output:", ev.Output.Answer)
		}
	}
	// Output:
	// answer: "William"
	// answer: " Shakespeare"
	// output: William Shakespeare
}
