package telemetry

import (
	"context"
	"errors"
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

	ready   chan struct{}   // a full batch waits; capacity 1
	flushes chan chan error // ForceFlush: gets the export's outcome
	stop    chan struct{}   // closed by Shutdown
	done    chan struct{}   // closed when the goroutine has exported all and returned

	// ctx is the parent of every export's context: Shutdown cancels it
	// when its own ctx ends first, which ends the export under way and
	// skips the batches left.
	ctx    context.Context
	cancel context.CancelFunc

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
		delay:    envMillis(getenv, "OTEL_BSP_SCHEDULE_DELAY", defaultBatchDelay, false),
		timeout:  envMillis(getenv, "OTEL_BSP_EXPORT_TIMEOUT", defaultExportTimeout, true),
		maxQueue: envCount(getenv, "OTEL_BSP_MAX_QUEUE_SIZE", defaultMaxQueue),
		maxBatch: envCount(getenv, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", defaultMaxBatch),
		ready:    make(chan struct{}, 1),
		flushes:  make(chan chan error),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if b.maxBatch > b.maxQueue {
		b.maxBatch = min(defaultMaxBatch, b.maxQueue) // as the SDK does
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	go b.run()
	return b
}

// envMillis returns the duration in milliseconds the variable name holds,
// or def when it is unset, negative, not an integer, or 0 without
// zeroOK (the export timeout's 0 means no timeout, as with the SDK).
func envMillis(getenv func(string) string, name string, def time.Duration, zeroOK bool) time.Duration {
	n, err := strconv.Atoi(getenv(name))
	if err != nil || n < 0 || n == 0 && !zeroOK {
		return def
	}
	return time.Duration(n) * time.Millisecond
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
	case n > b.maxBatch && (n-b.maxBatch)%b.yieldEvery() == 0 && !b.exporting.Load():
		// A full batch still waits for the goroutine, which was told
		// but has not run: callers that never block would fill the
		// queue before the scheduler gets to it. Yield to it, a few
		// times per batch at most: past that the queue drops spans, as
		// the SDK's does.
		runtime.Gosched()
	}
}

// yieldEvery is how many spans past a full batch OnEnd takes between
// yields to the goroutine.
func (b *batcher) yieldEvery() int { return max(b.maxBatch/4, 1) }

// run is the batcher's goroutine: it exports what is queued whenever a
// batch is full, the delay has passed or ForceFlush asks, and everything
// left once Shutdown stops it.
func (b *batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(b.delay)
	defer timer.Stop()
	var spare []sdktrace.ReadOnlySpan
	for {
		var flushed chan error
		select {
		case <-b.stop:
			b.export(spare)
			return
		case <-b.ready:
		case <-timer.C:
		case flushed = <-b.flushes:
		}
		var err error
		spare, err = b.export(spare)
		switch {
		case flushed != nil:
			flushed <- err // capacity 1: ForceFlush may have gone
		case err != nil:
			otel.Handle(err)
		}
		timer.Reset(b.delay)
	}
}

// export exports the queue in batches of at most maxBatch, leaving spare,
// emptied, as the new queue; it returns the old queue, emptied, as the
// next spare, and the export errors. Once b.ctx is cancelled it skips the
// batches left.
func (b *batcher) export(spare []sdktrace.ReadOnlySpan) ([]sdktrace.ReadOnlySpan, error) {
	b.mu.Lock()
	spans := b.queue
	b.queue = spare[:0]
	b.mu.Unlock()
	b.exporting.Store(true)
	defer b.exporting.Store(false)
	var errs []error
	for rest := spans; len(rest) > 0 && b.ctx.Err() == nil; {
		n := min(len(rest), b.maxBatch)
		ctx, cancel := b.ctx, context.CancelFunc(func() {})
		if b.timeout > 0 {
			ctx, cancel = context.WithTimeout(b.ctx, b.timeout)
		}
		if err := b.exp.ExportSpans(ctx, rest[:n]); err != nil {
			errs = append(errs, fmt.Errorf("telemetry: exporting %d spans: %w", n, err))
		}
		cancel()
		rest = rest[n:]
	}
	clear(spans) // hold no span past its export
	return spans[:0], errors.Join(errs...)
}

// ForceFlush implements sdktrace.SpanProcessor: it returns once the spans
// queued before it was called are exported, with the exporter's errors,
// or with ctx's error when ctx ends first. After Shutdown it returns nil.
func (b *batcher) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	stopped := b.stopped
	b.mu.Unlock()
	if stopped {
		return nil // Shutdown exports what is left
	}
	flushed := make(chan error, 1)
	select {
	case b.flushes <- flushed:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-flushed:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown implements sdktrace.SpanProcessor: it stops taking spans,
// exports those queued and shuts the exporter down, within ctx. When ctx
// ends first it returns ctx's error and cancels the export under way (the
// OTLP exporters retry for up to a minute) and the batches left; the
// exporter is then shut down as soon as the goroutine has returned, never
// while it exports. It is idempotent: later calls return the first
// result. Spans the full queue dropped are reported to otel.Handle.
func (b *batcher) Shutdown(ctx context.Context) error {
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		dropped := b.dropped
		b.mu.Unlock()
		close(b.stop)
		if dropped > 0 {
			otel.Handle(fmt.Errorf("telemetry: %d spans dropped: the export queue (%d spans, OTEL_BSP_MAX_QUEUE_SIZE) was full", dropped, b.maxQueue))
		}
		select {
		case <-b.done:
			b.cancel()
			b.stopErr = b.exp.Shutdown(ctx)
		case <-ctx.Done():
			b.stopErr = ctx.Err()
			b.cancel()
			go func() {
				<-b.done
				if err := b.exp.Shutdown(context.Background()); err != nil {
					otel.Handle(fmt.Errorf("telemetry: shutting the span exporter down: %w", err))
				}
			}()
		}
	})
	return b.stopErr
}
