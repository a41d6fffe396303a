package telemetry

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// maxValueLen caps the length of an attribute value PrintSpanTree prints.
const maxValueLen = 72

// PrintSpanTree writes spans as indented trees, one per trace, for people
// to read: each span with its duration, attributes and events, its children
// below it in start order. A Predict with step spans
// (config.Telemetry.StepSpans):
//
//	Predict QA  2.1ms  dspex.program.type=Predict ...
//	├─ format chat  41µs  dspex.adapter=chat
//	├─ chat sim-1  1.9ms  gen_ai.request.model=sim-1 ...
//	│  └─ attempt 1  1.8ms  dspex.retry.attempt=1
//	└─ parse chat  12µs  dspex.adapter=chat
//
// A span whose parent is not among spans is printed as a root. Long
// attribute values are shortened.
func PrintSpanTree(w io.Writer, spans []sdktrace.ReadOnlySpan) error {
	bw := bufio.NewWriter(w)
	present := make(map[trace.SpanID]bool, len(spans))
	for _, s := range spans {
		present[s.SpanContext().SpanID()] = true
	}
	children := make(map[trace.SpanID][]sdktrace.ReadOnlySpan)
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if p := s.Parent(); p.IsValid() && present[p.SpanID()] {
			children[p.SpanID()] = append(children[p.SpanID()], s)
			continue
		}
		roots = append(roots, s)
	}
	byStart := func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) }
	slices.SortStableFunc(roots, byStart)
	for _, c := range children {
		slices.SortStableFunc(c, byStart)
	}
	var walk func(s sdktrace.ReadOnlySpan, prefix, branch, cont string)
	walk = func(s sdktrace.ReadOnlySpan, prefix, branch, cont string) {
		fmt.Fprintf(bw, "%s%s%s  %s%s\n", prefix, branch, s.Name(), duration(s), describe(s))
		for _, ev := range s.Events() {
			fmt.Fprintf(bw, "%s%s· %s%s\n", prefix, cont, ev.Name, attrs(ev.Attributes))
		}
		kids := children[s.SpanContext().SpanID()]
		for i, k := range kids {
			if i == len(kids)-1 {
				walk(k, prefix+cont, "└─ ", "   ")
			} else {
				walk(k, prefix+cont, "├─ ", "│  ")
			}
		}
	}
	for _, r := range roots {
		walk(r, "", "", "")
	}
	return bw.Flush()
}

func duration(s sdktrace.ReadOnlySpan) string {
	d := s.EndTime().Sub(s.StartTime())
	switch {
	case s.EndTime().IsZero():
		return "(running)"
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func describe(s sdktrace.ReadOnlySpan) string {
	out := attrs(s.Attributes())
	if st := s.Status(); st.Code == codes.Error {
		out += "  ERROR"
		if st.Description != "" {
			out += ": " + shorten(st.Description)
		}
	}
	return out
}

func attrs(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		b.WriteString("  ")
		b.WriteString(string(kv.Key))
		b.WriteByte('=')
		b.WriteString(shorten(kv.Value.Emit()))
	}
	return b.String()
}

func shorten(v string) string {
	v = strings.ReplaceAll(v, "\n", `\n`)
	if r := []rune(v); len(r) > maxValueLen {
		return string(r[:maxValueLen-1]) + "…"
	}
	return v
}

// TreePrinter is a span processor that prints each trace with
// PrintSpanTree once its root span ends — a readable console view of what
// one prediction, evaluation or compilation did:
//
//	tp := telemetry.NewTreePrinter(os.Stdout)
//	rt, err := dspex.Start(ctx, dspex.WithTelemetry(telemetry.WithSpanProcessor(tp)))
//
// Spans that end after their trace was printed (a call abandoned by a
// timeout) are printed by ForceFlush and Shutdown. A TreePrinter is safe
// for concurrent use.
type TreePrinter struct {
	mu      sync.Mutex
	w       io.Writer
	pending map[trace.TraceID][]sdktrace.ReadOnlySpan
	closed  bool
}

var _ sdktrace.SpanProcessor = (*TreePrinter)(nil)

// NewTreePrinter returns a TreePrinter writing to w.
func NewTreePrinter(w io.Writer) *TreePrinter {
	return &TreePrinter{w: w, pending: make(map[trace.TraceID][]sdktrace.ReadOnlySpan)}
}

// OnStart implements sdktrace.SpanProcessor; it does nothing.
func (p *TreePrinter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd implements sdktrace.SpanProcessor: it keeps the span, and prints
// its trace when it is the root (a span without a parent in this
// process).
func (p *TreePrinter) OnEnd(s sdktrace.ReadOnlySpan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	id := s.SpanContext().TraceID()
	p.pending[id] = append(p.pending[id], s)
	if parent := s.Parent(); !parent.IsValid() || parent.IsRemote() {
		_ = PrintSpanTree(p.w, p.pending[id])
		delete(p.pending, id)
	}
}

// ForceFlush implements sdktrace.SpanProcessor: it prints the spans of
// traces whose root has not ended.
func (p *TreePrinter) ForceFlush(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flush()
}

// Shutdown implements sdktrace.SpanProcessor: it prints what is pending
// and ignores later spans.
func (p *TreePrinter) Shutdown(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.flush()
}

func (p *TreePrinter) flush() error {
	var all []sdktrace.ReadOnlySpan
	for id, spans := range p.pending {
		all = append(all, spans...)
		delete(p.pending, id)
	}
	if len(all) == 0 {
		return nil
	}
	return PrintSpanTree(p.w, all)
}
