package history_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestRingKeepsTheLastN(t *testing.T) {
	h := history.New(100)
	for i := range 100_000 {
		h.Add(history.Record{Rollout: i})
	}
	if h.Len() != 100 || h.Size() != 100 || h.Total() != 100_000 {
		t.Fatalf("Len %d Size %d Total %d", h.Len(), h.Size(), h.Total())
	}
	recs := h.Records()
	for i, r := range recs {
		if want := 99_900 + i; r.Rollout != want {
			t.Fatalf("record %d: rollout %d, want %d", i, r.Rollout, want)
		}
	}
}

func TestLast(t *testing.T) {
	tests := []struct {
		size, added, n int
		want           []int
	}{
		{size: 3, added: 0, n: 2, want: []int{}},
		{size: 3, added: 2, n: -1, want: []int{0, 1}},
		{size: 3, added: 2, n: 5, want: []int{0, 1}},
		{size: 3, added: 3, n: 1, want: []int{2}},
		{size: 3, added: 4, n: -1, want: []int{1, 2, 3}},
		{size: 3, added: 7, n: 2, want: []int{5, 6}},
		{size: 1, added: 5, n: 3, want: []int{4}},
	}
	for _, tt := range tests {
		h := history.New(tt.size)
		for i := range tt.added {
			h.Add(history.Record{Rollout: i})
		}
		got := []int{}
		for _, r := range h.Last(tt.n) {
			got = append(got, r.Rollout)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("size %d added %d Last(%d): (-want +got)\n%s", tt.size, tt.added, tt.n, diff)
		}
	}
}

func TestOffHistoryRecordsNothing(t *testing.T) {
	h := history.New(0)
	if h != nil {
		t.Fatal("New(0) is not nil")
	}
	h.Add(history.Record{})
	if h.Len() != 0 || h.Records() != nil {
		t.Fatal("an off history kept a record")
	}
}

// fixedClock advances by step at each reading.
func fixedClock(step time.Duration) func() time.Time {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		now = now.Add(step)
		return now
	}
}

func reply(text string) lm.Response {
	return lm.Response{
		Model:    "gpt-4o-mini-2024-07-18",
		Choices:  []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: text}, FinishReason: "stop"}},
		Usage:    lm.Usage{PromptTokens: 1200, CompletionTokens: 40, TotalTokens: 1240, CacheReadTokens: 1024},
		Attempts: 1,
	}
}

type CityQuestion struct {
	Question string
}

type CityAnswer struct {
	Answer string `desc:"a few words"`
}

const cotReply = "[[ ## reasoning ## ]]\nFrance's capital is Paris.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"

func TestInspectChainOfThoughtGolden(t *testing.T) {
	var sent []lm.Message
	fake := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		sent = req.Messages
		return reply(cotReply), nil
	})
	h := history.New(10)
	model := history.Wrap(fake, "openai", h, history.WithClock(fixedClock(250*time.Millisecond)))
	cot := programs.MustChainOfThought[CityQuestion, CityAnswer](programs.WithLM(model))
	out, err := cot.Call(context.Background(), CityQuestion{Question: "What is the capital of France?"})
	if err != nil || out.Out.Answer != "Paris" {
		t.Fatalf("Call = %+v, %v", out, err)
	}
	recs := h.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if diff := cmp.Diff(sent, r.Messages); diff != "" {
		t.Errorf("messages differ from those sent (-sent +recorded)\n%s", diff)
	}
	if r.Predictor == "" || r.Provider != "openai" || r.Model != "gpt-4o-mini-2024-07-18" || r.Replies[0] != cotReply || r.Attempts != 1 {
		t.Errorf("record = %+v", r)
	}
	// 176 fresh * 0.15 + 1024 cached * 0.075 + 40 * 0.60 = 26.4 + 76.8 + 24 µ$
	if !r.Cost.Known() || r.Cost.Amount < 0.0001271999 || r.Cost.Amount > 0.0001272001 {
		t.Errorf("cost = %+v", r.Cost)
	}

	var buf bytes.Buffer
	if err := h.Inspect(&buf, 1); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "inspect_cot.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("Inspect output differs from %s (-want +got)\n%s", golden, diff)
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("colour codes in output to a non-terminal")
	}
}

func TestOmitMessagesKeepsUsageAndCost(t *testing.T) {
	fake := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return reply("secret reply"), nil })
	h := history.New(4, history.OmitMessages())
	model := history.Wrap(fake, "openai", h)
	if _, err := model.Chat(context.Background(), lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "private text"}}}); err != nil {
		t.Fatal(err)
	}
	r := h.Records()[0]
	if r.Messages != nil || r.Replies != nil || r.Usage.TotalTokens != 1240 || !r.Cost.Known() {
		t.Fatalf("record = %+v", r)
	}
	var buf bytes.Buffer
	_ = h.Inspect(&buf, -1)
	if strings.Contains(buf.String(), "private") || strings.Contains(buf.String(), "secret") {
		t.Fatalf("omitted text printed:\n%s", buf.String())
	}
}

// TestOmitMessagesKeepsNoReplyAlive: a history that omits messages and
// replies keeps none of a reply's text in memory, not even unreachable:
// what it keeps of a record (finish reasons, usage) holds no reference to
// the reply.
func TestOmitMessagesKeepsNoReplyAlive(t *testing.T) {
	var text weak.Pointer[byte]
	fake := lm.Func(func(context.Context, lm.Request) (lm.Response, error) {
		content := strings.Repeat("secret reply ", 1000) // on the heap, this call's own
		text = weak.Make(unsafe.StringData(content))
		return reply(content), nil
	})
	h := history.New(4, history.OmitMessages())
	model := history.Wrap(fake, "openai", h)
	if _, err := model.Chat(context.Background(), lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "q"}}}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	if text.Value() != nil {
		t.Fatal("the history keeps an omitted reply's text alive")
	}
	if r := h.Records()[0]; len(r.FinishReasons) != 1 || r.FinishReasons[0] != "stop" {
		t.Fatalf("finish reasons = %q", r.FinishReasons)
	}
}

func TestRecordsErrorsAndUnknownPrices(t *testing.T) {
	boom := &lm.ProviderError{Provider: "local", Model: "llama", Status: 500}
	calls := 0
	fake := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		calls++
		if calls == 1 {
			return lm.Response{}, boom
		}
		return lm.Response{Model: "llama", Choices: []lm.Choice{{Message: lm.Message{Content: "hi"}}}, Usage: lm.Usage{PromptTokens: 5, CompletionTokens: 1, TotalTokens: 6}}, nil
	})
	h := history.New(4)
	model := history.Wrap(fake, "local", h)
	ctx := history.WithPredictor(context.Background(), "qa.predict")
	ctx, meter := history.WithMeter(ctx)
	if _, err := model.Chat(ctx, lm.Request{Model: "llama"}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := model.Chat(ctx, lm.Request{Model: "llama", RolloutID: 3}); err != nil {
		t.Fatal(err)
	}
	recs := h.Records()
	if recs[0].Err == "" || recs[0].Cost.Known() || recs[1].Cost.String() != "unknown" || recs[1].Rollout != 3 || recs[1].Predictor != "qa.predict" {
		t.Fatalf("records = %+v", recs)
	}
	got := meter.ByModel()["local/llama"]
	if got.Calls != 2 || got.Usage.TotalTokens != 6 || got.Cost.Unpriced != 2 {
		t.Fatalf("meter = %+v", got)
	}
}

func TestBudgetRefusesBeforeSending(t *testing.T) {
	sent := 0
	fake := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { sent++; return reply("x"), nil })
	h := history.New(10)
	model := history.Wrap(fake, "openai", h)
	ctx := budget.With(context.Background(), budget.Budget{MaxTokens: 2000})
	for range 2 {
		if _, err := model.Chat(ctx, lm.Request{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := model.Chat(ctx, lm.Request{})
	var ee *budget.ExceededError
	if !errors.Is(err, budget.ErrExceeded) || !errors.As(err, &ee) || ee.Limit != "tokens" {
		t.Fatalf("err = %v", err)
	}
	if sent != 2 || h.Len() != 2 {
		t.Fatalf("sent %d, recorded %d", sent, h.Len())
	}
}

// TestEndRecordsDefaultModel checks that End records the model it is
// given for a request that names none, and the request's model otherwise,
// on success (when the reply names no model) and on failure alike.
func TestEndRecordsDefaultModel(t *testing.T) {
	fail := errors.New("provider down")
	tests := []struct {
		name     string
		reqModel string
		err      error
		want     string
	}{
		{"unnamed, answered", "", nil, "default-1"},
		{"unnamed, failed", "", fail, "default-1"},
		{"named, answered", "named-1", nil, "named-1"},
		{"named, failed", "named-1", fail, "named-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := history.New(1)
			call, err := history.NewRecorder(h).Begin(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			req := lm.Request{Model: tt.reqModel, Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}}
			var resp lm.Response
			if tt.err == nil {
				resp = reply("x")
				resp.Model = ""
			}
			call.End(context.Background(), "openai", "default-1", &req, &resp, tt.err)
			if got := h.Records()[0].Model; got != tt.want {
				t.Errorf("recorded model %q, want %q", got, tt.want)
			}
			if req.Model != tt.reqModel {
				t.Errorf("End changed the request's model to %q", req.Model)
			}
		})
	}
}

// TestBeginEndRecordsAsChat checks that a call made by its caller between
// Begin and End is recorded, priced and budgeted as Chat records it.
func TestBeginEndRecordsAsChat(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := history.WithClock(func() time.Time { return at })
	fake := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return reply("x"), nil })
	ctx := budget.With(context.Background(), budget.Budget{MaxCalls: 2})
	req := lm.Request{Model: "gpt-4o-mini", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}, RolloutID: 7}

	viaChat := history.New(10)
	if _, err := history.NewRecorder(viaChat, clock).Chat(ctx, "openai", fake, req); err != nil {
		t.Fatal(err)
	}
	viaBegin := history.New(10)
	rec := history.NewRecorder(viaBegin, clock)
	call, err := rec.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := fake.Chat(ctx, req)
	call.End(ctx, "openai", "", &req, &resp, err)
	if diff := cmp.Diff(viaChat.Records(), viaBegin.Records()); diff != "" {
		t.Fatalf("Begin/End record differs from Chat's (-chat +begin):\n%s", diff)
	}
	// Both calls counted against the budget of two: a third is refused.
	if _, err := rec.Begin(ctx); !errors.Is(err, budget.ErrExceeded) {
		t.Fatalf("third Begin: err = %v, want budget.ErrExceeded", err)
	}
	if viaBegin.Len() != 1 {
		t.Fatalf("a refused Begin recorded: %d records", viaBegin.Len())
	}
}

// TestObserverGetsEachCallsRecord checks that an observer that copies the
// record it is given (as WithObserver asks) gets the record of its own
// call, with calls on many goroutines: the recorder reuses its records.
func TestObserverGetsEachCallsRecord(t *testing.T) {
	fake := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		if req.RolloutID%5 == 4 {
			return lm.Response{}, fmt.Errorf("call %d failed", req.RolloutID)
		}
		return reply(fmt.Sprintf("reply %d", req.RolloutID)), nil
	})
	var (
		mu   sync.Mutex
		seen = map[int]history.Record{}
	)
	observe := func(_ context.Context, r *history.Record) {
		mu.Lock()
		defer mu.Unlock()
		seen[r.Rollout] = *r
	}
	const calls = 400
	h := history.New(calls)
	model := history.Wrap(fake, "openai", h, history.WithObserver(observe))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < calls; i += 8 {
				req := lm.Request{RolloutID: i, Messages: []lm.Message{{Role: lm.RoleUser, Content: fmt.Sprintf("q %d", i)}}}
				_, _ = model.Chat(context.Background(), req)
			}
		})
	}
	wg.Wait()
	if len(seen) != calls {
		t.Fatalf("the observer saw %d calls, want %d", len(seen), calls)
	}
	for _, kept := range h.Records() {
		got := seen[kept.Rollout]
		if kept.Rollout%5 == 4 {
			if want := fmt.Sprintf("call %d failed", kept.Rollout); got.Err != want || kept.Err != want || len(got.Replies) != 0 {
				t.Fatalf("call %d: observer saw err %q and replies %q, history kept err %q", kept.Rollout, got.Err, got.Replies, kept.Err)
			}
			continue
		}
		if want := []string{fmt.Sprintf("reply %d", kept.Rollout)}; !slices.Equal(got.Replies, want) || !slices.Equal(kept.Replies, want) || got.Err != "" {
			t.Fatalf("call %d: observer saw replies %q (err %q), history kept %q; want %q", kept.Rollout, got.Replies, got.Err, kept.Replies, want)
		}
		// The observer runs before the messages are copied for the history.
		got.Messages = kept.Messages
		if diff := cmp.Diff(kept, got); diff != "" {
			t.Fatalf("call %d: the observer's record differs from the history's (-history +observer):\n%s", kept.Rollout, diff)
		}
	}
}
