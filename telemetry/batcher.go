package telemetry

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Batching defaults, the OpenTelemetry SDK's (and the specification's):
// each overridable by its OTEL_BSP_* environment variable, as the SDK's
// batch span processor reads them.
const (
	defaultBatchDelay    = 5 * time.Second  // OTEL_BSP_SCHEDULE_DELAY, ms
	defaultExportTimeout = 30 * time.Second // OTEL_BSP_EXPORT_TIMEOUT, ms
	defaultMaxQueue      = 2048             // OTEL_BSP_MAX_QUEUE_SIZE
	defaultMaxBatch      = 512              // OTEL_BSP_MAX_EXPORT_BATCH_SIZE
)

// batcher is the span processor Setup puts in front of the span exporter.
// It batches ended spans as the SDK's batch span processor does — batches
// of at most maxBatch spans, exported at least every delay, from a queue of
// at most maxQueue spans that drops spans when full — but hands a span over
// with a lock and an append. The SDK's processor sends every span over a
// channel to its goroutine, waking it up for each one: in a process that
// is not busy every such wake-up is a futex call and a context switch,
// which at two spans a call cost more CPU than recording the spans
// (issue 21; the same finding as opentelemetry-cpp#4466). The batcher's
// goroutine wakes up once per full batch, once per delay, and for
// ForceFlush and Shutdown.
//
// Only the goroutine calls the exporter, one batch at a time, as the
// SpanExporter contract asks; the exporter does not keep the slice.
type batcher struct {
	exp      sdktrace.SpanExporter
	delay    time.Duration
	timeout  time.Duration
	maxQueue int
	maxBatch int

	mu      sync.Mutex
	queue   []sdktrace.ReadOnlySpan
	stopped bool
	dropped int64 // spans the full queue turned away

	exporting atomic.Bool // the goroutine is exporting

	ready   chan struct{}      // a full batch waits; capacity 1
	flushes chan chan struct{} // ForceFlush: closed once the queue is exported
	stop    chan struct{}      // closed by Shutdown
	done    chan struct{}      // closed when the goroutine has exported all and returned

	stopOnce sync.Once
	stopErr  error
}

var _ sdktrace.SpanProcessor = (*batcher)(nil)

// newBatcher returns a batcher exporting to exp with the settings of the
// OTEL_BSP_* variables getenv reads (the defaults where unset or invalid),
// and starts its goroutine.
func newBatcher(exp sdktrace.SpanExporter, getenv func(string) string) *batcher {
	b := &batcher{
		exp:      exp,
		delay:    envMillis(getenv, "OTEL_BSP_SCHEDULE_DELAY", defaultBatchDelay),
		timeout:  envMillis(getenv, "OTEL_BSP_EXPORT_TIMEOUT", defaultExportTimeout),
		maxQueue: envCount(getenv, "OTEL_BSP_MAX_QUEUE_SIZE", defaultMaxQueue),
		maxBatch: envCount(getenv, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", defaultMaxBatch),
		ready:    make(chan struct{}, 1),
		flushes:  make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	b.maxBatch = min(b.maxBatch, b.maxQueue) // as the SDK does
	go b.run()
	return b
}

// envMillis returns the duration in milliseconds the variable name holds,
// or def when it is unset or not a positive integer.
func envMillis(getenv func(string) string, name string, def time.Duration) time.Duration {
	if n := envCount(getenv, name, 0); n > 0 {
		return time.Duration(n) * time.Millisecond
	}
	return def
}

// envCount returns the positive integer the variable name holds, or def.
func envCount(getenv func(string) string, name string, def int) int {
	n, err := strconv.Atoi(getenv(name))
	if err != nil || n <= 0 {
		return def
	}
	return n
}

// OnStart implements sdktrace.SpanProcessor: nothing to do.
func (*batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span for export; it drops it when the queue is
// full or the batcher is shut down.
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	if len(b.queue) >= b.maxQueue {
		b.dropped++
		b.mu.Unlock()
		return
	}
	b.queue = append(b.queue, s)
	n := len(b.queue)
	b.mu.Unlock()
	switch {
	case n == b.maxBatch:
		select {
		case b.ready <- struct{}{}:
		default: // the goroutine is told already
		}
	case n > b.maxBatch && !b.exporting.Load():
		// A full batch waits for the goroutine, which was told but has
		// not run: callers that never block would fill the queue before
		// the scheduler gets to it. Yield to it.
		runtime.Gosched()
	}
}

// run is the batcher's goroutine: it exports what is queued whenever a
// batch is full, the delay has passed or ForceFlush asks, and everything
// left once Shutdown stops it.
func (b *batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(b.delay)
	defer timer.Stop()
	var spare []sdktrace.ReadOnlySpan
	for {
		var flushed chan struct{}
		select {
		case <-b.stop:
			b.export(spare)
			return
		case <-b.ready:
		case <-timer.C:
		case flushed = <-b.flushes:
		}
		spare = b.export(spare)
		if flushed != nil {
			close(flushed)
		}
		timer.Reset(b.delay)
	}
}

// export exports the queue in batches of at most maxBatch, leaving spare,
// emptied, as the new queue; it returns the old queue, emptied, as the
// next spare.
func (b *batcher) export(spare []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	b.mu.Lock()
	spans := b.queue
	b.queue = spare[:0]
	b.mu.Unlock()
	b.exporting.Store(true)
	defer b.exporting.Store(false)
	for rest := spans; len(rest) > 0; {
		n := min(len(rest), b.maxBatch)
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		if err := b.exp.ExportSpans(ctx, rest[:n]); err != nil {
			otel.Handle(fmt.Errorf("telemetry: exporting %d spans: %w", n, err))
		}
		cancel()
		rest = rest[n:]
	}
	clear(spans) // hold no span past its export
	return spans[:0]
}

// ForceFlush implements sdktrace.SpanProcessor: it returns once the spans
// queued before it was called are exported, or with ctx's error.
func (b *batcher) ForceFlush(ctx context.Context) error {
	flushed := make(chan struct{})
	select {
	case b.flushes <- flushed:
	case <-b.done:
		return nil // shut down: everything is exported
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-flushed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown implements sdktrace.SpanProcessor: it stops taking spans,
// exports those queued and shuts the exporter down, within ctx. When ctx
// ends first it returns ctx's error, and still shuts the exporter down
// with ctx, which cancels an export under way (the OTLP exporters
// retry for up to a minute): no goroutine outlives Shutdown for long. It
// is idempotent: later calls return the first result.
func (b *batcher) Shutdown(ctx context.Context) error {
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		dropped := b.dropped
		b.mu.Unlock()
		close(b.stop)
		var err error
		select {
		case <-b.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if e := b.exp.Shutdown(ctx); err == nil {
			err = e
		}
		if dropped > 0 {
			otel.Handle(fmt.Errorf("telemetry: %d spans dropped: the export queue (%d spans, OTEL_BSP_MAX_QUEUE_SIZE) was full", dropped, b.maxQueue))
		}
		b.stopErr = err
	})
	return b.stopErr
}
