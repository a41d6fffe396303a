package serve

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The OpenTelemetry semantic conventions of HTTP servers
// (https://opentelemetry.io/docs/specs/semconv/http/http-metrics/).
const (
	metricRequestDuration = "http.server.request.duration"
	metricActiveRequests  = "http.server.active_requests"
	attrMethod            = attribute.Key("http.request.method")
	attrRoute             = attribute.Key("http.route")
	attrStatus            = attribute.Key("http.response.status_code")
	attrScheme            = attribute.Key("url.scheme")
)

// httpMetrics records the HTTP server metrics.
type httpMetrics struct {
	duration metric.Float64Histogram
	active   metric.Int64UpDownCounter
}

func newHTTPMetrics(mp metric.MeterProvider) (*httpMetrics, error) {
	m := mp.Meter("github.com/dspex-go/dspex/serve")
	duration, err := m.Float64Histogram(metricRequestDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP server requests"),
		// The boundaries the semantic conventions advise.
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	if err != nil {
		return nil, fmt.Errorf("serve: metric %s: %w", metricRequestDuration, err)
	}
	active, err := m.Int64UpDownCounter(metricActiveRequests, metric.WithUnit("{request}"),
		metric.WithDescription("Number of HTTP server requests in flight"))
	if err != nil {
		return nil, fmt.Errorf("serve: metric %s: %w", metricActiveRequests, err)
	}
	return &httpMetrics{duration: duration, active: active}, nil
}

// serve runs h for r and records the request.
func (m *httpMetrics) serve(h http.Handler, w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	method := r.Method
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace:
	default:
		method = "_OTHER" // as the conventions ask, to bound cardinality
	}
	base := []attribute.KeyValue{attrMethod.String(method), attrScheme.String(scheme)}
	m.active.Add(ctx, 1, metric.WithAttributes(base...))
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		m.active.Add(ctx, -1, metric.WithAttributes(base...))
		attrs := append(base, attrStatus.Int(sw.status))
		// r.Pattern is the ServeMux pattern that matched, "POST
		// /v1/programs/{name}": the route is its path.
		if _, route, ok := strings.Cut(r.Pattern, " "); ok {
			attrs = append(attrs, attrRoute.String(route))
		}
		m.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
	}()
	h.ServeHTTP(sw, r)
}

// statusWriter remembers the status written. Unwrap lets
// http.ResponseController reach the connection's Flush.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
