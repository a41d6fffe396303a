package test

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

type streamQAIn struct {
	Question string `dspy:"question"`
}

type streamQAOut struct {
	Answer string `dspy:"answer" desc:"often between 1 and 5 words"`
}

// gatedLM passes a streaming LM through, but once the reply's answer
// field has begun it holds the rest of the stream until the consumer has
// seen a chunk of the answer (or fails after 30 s). A program that did
// not stream would never see one: the test proves the order of events
// without measuring time.
type gatedLM struct {
	lm.Streamer
	seen chan struct{}
	held chan struct{} // closed when the provider stream is held
}

func (g gatedLM) Stream(ctx context.Context, req lm.Request) iter.Seq2[lm.Chunk, error] {
	return func(yield func(lm.Chunk, error) bool) {
		var acc lm.Accumulator
		gated := false
		for c, err := range g.Streamer.Stream(ctx, req) {
			if err != nil {
				yield(c, err)
				return
			}
			acc.Add(c)
			text := acc.Text()
			i := strings.Index(text, "[[ ## answer ## ]]")
			hold := !gated && i >= 0 && strings.TrimSpace(text[i+len("[[ ## answer ## ]]"):]) != ""
			if hold {
				gated = true
				close(g.held) // before the chunk goes out
			}
			if !yield(c, nil) {
				return
			}
			if hold {
				select {
				case <-g.seen:
				case <-time.After(30 * time.Second):
					yield(lm.Chunk{}, errors.New("gatedLM: the consumer never saw the answer"))
					return
				}
			}
		}
	}
}

func simProvider(t *testing.T, srv *simlm.Server) *lm.OpenAI {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	m, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), APIKey: "sk-stream-test", Model: srv.Model(),
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStreamChainOfThought streams a ChainOfThought through the runtime
// against the simulator with a per-chunk latency: the answer's first
// chunk reaches the caller while the provider is still streaming, the
// chunks of each field concatenate to the blocking call's values, and the
// final typed output equals the blocking call's.
func TestStreamChainOfThought(t *testing.T) {
	srv := rtSim(t, simlm.WithChunkLatency(2*time.Millisecond))
	gate := gatedLM{Streamer: simProvider(t, srv), seen: make(chan struct{}), held: make(chan struct{})}
	rt := rtStart(t, dspex.WithConfig(rtConfig(srv)), dspex.WithProvider("gated", gate))
	cot := programs.MustChainOfThought[streamQAIn, streamQAOut](programs.WithLM(rt.LM("gated/" + srv.Model())))
	ctx := rtCtx(t)
	in := streamQAIn{Question: "Who wrote Hamlet?"}

	want, wantPred, err := cot.Completions(ctx, in)
	if err != nil {
		t.Fatal(err)
	}

	var (
		fields    = map[string]string{}
		order     []string // "chunk:<field>" or "output"
		final     *programs.Reasoned[streamQAOut]
		finalPred *programs.Prediction
	)
	for ev, err := range cot.Stream(ctx, in) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Chunk != nil:
			if ev.Chunk.Predictor != "predict" {
				t.Errorf("chunk of predictor %q", ev.Chunk.Predictor)
			}
			if ev.Chunk.Field == "answer" && fields["answer"] == "" {
				select {
				case <-gate.held: // the provider is waiting for us
				default:
					t.Error("the answer's first chunk arrived before the provider reached it")
				}
				close(gate.seen)
			}
			fields[ev.Chunk.Field] += ev.Chunk.Text
			if len(order) == 0 || order[len(order)-1] != "chunk:"+ev.Chunk.Field {
				order = append(order, "chunk:"+ev.Chunk.Field)
			}
		case ev.Output != nil:
			final, finalPred = ev.Output, ev.Prediction
			order = append(order, "output")
		}
	}
	if diff := cmp.Diff([]string{"chunk:reasoning", "chunk:answer", "output"}, order); diff != "" {
		t.Errorf("event order (-want +got):\n%s", diff)
	}
	if final == nil {
		t.Fatal("no final output")
	}
	if diff := cmp.Diff(want[0], *final); diff != "" {
		t.Errorf("streamed output differs from the blocking call's (-blocking +streamed):\n%s", diff)
	}
	if fields["reasoning"] != want[0].Reasoning || fields["answer"] != want[0].Out.Answer {
		t.Errorf("chunks concatenate to %q, want %+v", fields, want[0])
	}
	if diff := cmp.Diff(wantPred.Values, finalPred.Values); diff != "" || finalPred.Usage != wantPred.Usage {
		t.Errorf("prediction differs (-blocking +streamed):\n%s\nusage %+v vs %+v", diff, wantPred.Usage, finalPred.Usage)
	}
}

// TestStreamPredictFallbacks checks that a model that cannot stream, and a
// reply that only the JSON fallback parses, still give the blocking
// call's prediction at the end.
func TestStreamPredictFallbacks(t *testing.T) {
	srv := rtSim(t)
	plain := lm.Func(simProvider(t, srv).Chat) // no Stream method
	for _, tc := range []struct {
		name   string
		model  lm.LM
		garble bool
	}{
		{"plain model", plain, false},
		{"JSON fallback", simProvider(t, srv), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := programs.MustPredict[streamQAIn, streamQAOut](programs.WithLM(tc.model))
			in := streamQAIn{Question: "What is the capital of Japan?"}
			want, err := p.Call(rtCtx(t), in)
			if err != nil {
				t.Fatal(err)
			}
			if tc.garble {
				garbleFirst := true
				_ = srv.SetFaults(simlm.Faults{Script: func(simlm.RequestInfo) *simlm.Fault {
					if garbleFirst {
						garbleFirst = false
						return &simlm.Fault{Garble: true}
					}
					return nil
				}})
				defer func() { _ = srv.SetFaults(simlm.Faults{}) }()
			}
			var got *streamQAOut
			var pred *programs.Prediction
			for ev, err := range p.Stream(rtCtx(t), in) {
				if err != nil {
					t.Fatal(err)
				}
				if ev.Output != nil {
					got, pred = ev.Output, ev.Prediction
				}
			}
			if got == nil || *got != want {
				t.Fatalf("streamed %+v, want %+v", got, want)
			}
			if tc.garble && pred.Usage.TotalTokens == 0 {
				t.Errorf("fallback usage %+v", pred.Usage)
			}
		})
	}
}

// TestStreamCancelMidway cancels a streamed Predict after its first
// chunk: the simulator's request ends, and no goroutine is left (TestMain
// runs goleak).
func TestStreamCancelMidway(t *testing.T) {
	// The first chunk holds the reasoning's marker and first words; the
	// next would take an hour.
	srv := rtSim(t, simlm.WithFaults(simlm.Faults{ChunkLatency: time.Hour, ChunkTokens: 16}))
	rt := rtStart(t, dspex.WithConfig(rtConfig(srv)))
	p := programs.MustChainOfThought[streamQAIn, streamQAOut](programs.WithLM(rt.LM("sim")))
	ctx, cancel := context.WithCancel(rtCtx(t))
	defer cancel()
	var last error
	chunks := 0
	for ev, err := range p.Stream(ctx, streamQAIn{Question: "Who wrote Hamlet?"}) {
		if err != nil {
			last = err
			break
		}
		if ev.Chunk != nil {
			chunks++
			cancel()
		}
	}
	if chunks != 1 || !errors.Is(last, context.Canceled) {
		t.Errorf("%d chunks, error %v; want 1 chunk then context.Canceled", chunks, last)
	}
	if err := srv.WaitIdle(rtCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestStreamReAct streams a ReAct agent: status events for each tool
// call and return, in the trajectory's order, then the output the
// blocking call gives.
func TestStreamReAct(t *testing.T) {
	srv := rtSim(t)
	lookup := programs.MustTool("encyclopedia", "Looks a question up in the encyclopedia.",
		func(_ context.Context, a struct {
			Query string `json:"query" desc:"the question to look up"`
		}) (string, error) {
			it, ok := dataset.Lookup(a.Query)
			if !ok {
				return "", errors.New("no entry")
			}
			return it.Answer, nil
		})
	agent, err := programs.NewReAct[streamQAIn, streamQAOut]([]programs.Tool{lookup}, programs.WithLM(simProvider(t, srv)))
	if err != nil {
		t.Fatal(err)
	}
	in := streamQAIn{Question: "What is the capital of Japan?"}
	want, traj, err := agent.Call(rtCtx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []programs.ToolStatus
	var got *streamQAOut
	predictors := map[string]bool{}
	for ev, err := range agent.Stream(rtCtx(t), in) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Status != nil:
			statuses = append(statuses, *ev.Status)
		case ev.Chunk != nil:
			predictors[ev.Chunk.Predictor] = true
		case ev.Output != nil:
			got = ev.Output
		}
	}
	var wantStatuses []programs.ToolStatus
	for _, s := range traj {
		if s.Tool == "finish" {
			continue
		}
		wantStatuses = append(wantStatuses,
			programs.ToolStatus{Tool: s.Tool, Args: s.Args},
			programs.ToolStatus{Tool: s.Tool, Args: s.Args, Returned: true, Observation: s.Observation})
	}
	if len(wantStatuses) == 0 {
		t.Fatalf("the agent called no tool: %+v", traj)
	}
	if diff := cmp.Diff(wantStatuses, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got == nil || *got != want || !predictors["react"] || !predictors["extract"] {
		t.Errorf("output %+v (want %+v), chunks from %v", got, want, predictors)
	}
}
