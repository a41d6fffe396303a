package telemetry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/config"
)

// batchExporter records the batches it is given. While block is not nil
// an export waits for it to close or for its context to end.
type batchExporter struct {
	mu       sync.Mutex
	batches  []int // sizes
	names    []string
	block    chan struct{}
	fail     error         // returned by every export
	exported chan struct{} // signalled after each export; capacity 64
	shutdown int
	during   bool // Shutdown was called while an export ran
	running  bool
}

func newBatchExporter() *batchExporter {
	return &batchExporter{exported: make(chan struct{}, 64)}
}

func (e *batchExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	block := e.block
	e.running = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.running = false
		e.mu.Unlock()
	}()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Lock()
	defer func() {
		select {
		case e.exported <- struct{}{}:
		default:
		}
	}()
	if e.fail != nil {
		e.mu.Unlock()
		return e.fail
	}
	e.batches = append(e.batches, len(spans))
	for _, s := range spans {
		e.names = append(e.names, s.Name())
	}
	e.mu.Unlock()
	return nil
}

func (e *batchExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shutdown++
	e.during = e.during || e.running
	return nil
}

func (e *batchExporter) state() (batches []int, spans, shutdown int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.batches...), len(e.names), e.shutdown
}

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// endedSpan returns an ended span named name, sampled or not.
func endedSpan(name string, sampled bool) sdktrace.ReadOnlySpan {
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: flags})
	return tracetest.SpanStub{Name: name, SpanContext: sc}.Snapshot()
}

func TestBatcherSettings(t *testing.T) {
	for _, tc := range []struct {
		name               string
		vars               map[string]string
		delay, timeout     time.Duration
		maxQueue, maxBatch int
	}{
		{"defaults", nil, 5 * time.Second, 30 * time.Second, 2048, 512},
		{"variables", map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "1000",
			"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10"},
			250 * time.Millisecond, time.Second, 100, 10},
		{"batch larger than the queue", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "400"},
			5 * time.Second, 30 * time.Second, 100, 100},
		{"no export timeout", map[string]string{"OTEL_BSP_EXPORT_TIMEOUT": "0"}, 5 * time.Second, 0, 2048, 512},
		{"invalid values", map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "soon", "OTEL_BSP_MAX_QUEUE_SIZE": "-3",
			"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0"}, 5 * time.Second, 30 * time.Second, 2048, 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBatcher(newBatchExporter(), env(tc.vars))
			defer b.Shutdown(context.Background())
			if b.delay != tc.delay || b.timeout != tc.timeout || b.maxQueue != tc.maxQueue || b.maxBatch != tc.maxBatch {
				t.Errorf("delay %v, timeout %v, queue %d, batch %d; want %v, %v, %d, %d",
					b.delay, b.timeout, b.maxQueue, b.maxBatch, tc.delay, tc.timeout, tc.maxQueue, tc.maxBatch)
			}
		})
	}
}

// TestBatcherFullBatch checks that a full batch is exported at once,
// without waiting for the delay, and that unsampled spans are not.
func TestBatcherFullBatch(t *testing.T) {
	exp := newBatchExporter()
	b := newBatcher(exp, env(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4"}))
	defer b.Shutdown(context.Background())
	b.OnEnd(endedSpan("unsampled", false))
	for range 4 {
		b.OnEnd(endedSpan("s", true))
	}
	select {
	case <-exp.exported:
	case <-time.After(10 * time.Second):
		t.Fatal("a full batch was not exported")
	}
	if batches, spans, _ := exp.state(); len(batches) != 1 || batches[0] != 4 || spans != 4 {
		t.Errorf("batches %v, %d spans; want one of 4", batches, spans)
	}
	exp.mu.Lock()
	defer exp.mu.Unlock()
	for _, name := range exp.names {
		if name != "s" {
			t.Errorf("exported %q", name)
		}
	}
}

// TestBatcherDelay checks that spans short of a batch are exported once
// the delay has passed.
func TestBatcherDelay(t *testing.T) {
	exp := newBatchExporter()
	b := newBatcher(exp, env(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "20"}))
	defer b.Shutdown(context.Background())
	for i := range 2 { // the timer is armed again after each export
		b.OnEnd(endedSpan("s", true))
		select {
		case <-exp.exported:
		case <-time.After(10 * time.Second):
			t.Fatalf("span %d was not exported after the delay", i+1)
		}
	}
}

// TestBatcherForceFlushWaitsForTheExport checks that ForceFlush returns
// only once the export is done, with the exporter's error.
func TestBatcherForceFlushWaitsForTheExport(t *testing.T) {
	exp := newBatchExporter()
	exp.block = make(chan struct{})
	exp.fail = errors.New("collector said no")
	b := newBatcher(exp, env(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000"}))
	defer b.Shutdown(context.Background())
	b.OnEnd(endedSpan("s", true))
	flushed := make(chan error, 1)
	go func() { flushed <- b.ForceFlush(context.Background()) }()
	waitFor(t, func() bool { exp.mu.Lock(); defer exp.mu.Unlock(); return exp.running })
	select {
	case err := <-flushed:
		t.Fatalf("ForceFlush returned %v while the export ran", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(exp.block)
	if err := <-flushed; !errors.Is(err, exp.fail) {
		t.Errorf("ForceFlush = %v, want the exporter's error", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.ForceFlush(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("ForceFlush with a cancelled ctx = %v", err)
	}
}

// TestBatcherFlushAndShutdown checks ForceFlush, then Shutdown: every span
// queued before them exported in batches of at most the batch size, the
// exporter shut down once, spans ended afterwards dropped, and Shutdown
// idempotent.
func TestBatcherFlushAndShutdown(t *testing.T) {
	exp := newBatchExporter()
	b := newBatcher(exp, env(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "8"}))
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 30 {
				b.OnEnd(endedSpan("s", true))
			}
		})
	}
	wg.Wait()
	if err := b.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	batches, spans, _ := exp.state()
	if spans != 300 {
		t.Fatalf("%d spans exported after ForceFlush, want 300", spans)
	}
	for _, n := range batches {
		if n > 8 {
			t.Errorf("a batch of %d spans, more than 8", n)
		}
	}
	for range 5 {
		b.OnEnd(endedSpan("s", true))
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	b.OnEnd(endedSpan("late", true))
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := b.ForceFlush(ctx); err != nil {
		t.Errorf("ForceFlush after Shutdown: %v", err)
	}
	if _, spans, shutdown := exp.state(); spans != 305 || shutdown != 1 {
		t.Errorf("%d spans exported, exporter shut down %d times; want 305 and 1", spans, shutdown)
	}
}

// TestBatcherQueueFull checks that spans past a full queue are dropped
// while the exporter is stuck, and the queue's spans exported once it is
// not.
func TestBatcherQueueFull(t *testing.T) {
	exp := newBatchExporter()
	exp.block = make(chan struct{})
	b := newBatcher(exp, env(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000",
		"OTEL_BSP_MAX_QUEUE_SIZE": "4", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2"}))
	// The first full batch goes to the exporter, which holds it.
	b.OnEnd(endedSpan("s", true))
	b.OnEnd(endedSpan("s", true))
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.queue) == 0 })
	for range 10 {
		b.OnEnd(endedSpan("s", true))
	}
	b.mu.Lock()
	queued, dropped := len(b.queue), b.dropped
	b.mu.Unlock()
	if queued != 4 || dropped != 6 {
		t.Errorf("%d queued, %d dropped; want 4 and 6", queued, dropped)
	}
	exp.mu.Lock()
	close(exp.block)
	exp.block = nil
	exp.mu.Unlock()
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, spans, _ := exp.state(); spans != 6 {
		t.Errorf("%d spans exported, want 6 (2 + the 4 queued)", spans)
	}
}

// TestBatcherShutdownStuckExporter checks that Shutdown returns ctx's
// error when the exporter does not finish in time, and shuts it down.
func TestBatcherShutdownStuckExporter(t *testing.T) {
	exp := newBatchExporter()
	exp.block = make(chan struct{})
	defer close(exp.block)
	b := newBatcher(exp, env(map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1"}))
	b.OnEnd(endedSpan("s", true)) // a full batch: exported at once, and stuck
	waitFor(t, func() bool { exp.mu.Lock(); defer exp.mu.Unlock(); return exp.running })
	b.OnEnd(endedSpan("s", true)) // left in the queue
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the deadline", err)
	}
	// Shutdown cancelled the export, and the exporter is shut down once
	// the goroutine has returned, not while it exported.
	waitFor(t, func() bool { _, _, n := exp.state(); return n == 1 })
	exp.mu.Lock()
	during := exp.during
	exp.mu.Unlock()
	if during {
		t.Error("the exporter was shut down during an export")
	}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Errorf("ForceFlush after Shutdown = %v", err)
	}
	if _, spans, _ := exp.state(); spans != 0 {
		t.Errorf("%d spans exported after the cancelled Shutdown, want 0", spans)
	}
}

// TestBatcherInSetup checks that Setup's tracer provider exports through
// a batcher: spans reach the exporter on ForceFlush and Shutdown.
func TestBatcherInSetup(t *testing.T) {
	exp := newBatchExporter()
	p, err := Setup(context.Background(), config.Telemetry{SampleRatio: 1}, WithSpanExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	if p.bsp == nil {
		t.Fatal("no batcher in front of the exporter")
	}
	_, span := p.Tracer("t").Start(context.Background(), "one")
	span.End()
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, span = p.Tracer("t").Start(context.Background(), "two")
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	exp.mu.Lock()
	defer exp.mu.Unlock()
	if len(exp.names) != 2 || exp.names[0] != "one" || exp.names[1] != "two" || exp.shutdown != 1 {
		t.Errorf("exported %v, shut down %d times", exp.names, exp.shutdown)
	}
}

// waitFor polls cond until it holds, for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
	}
}
