package telemetry

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Prometheus is a metric reader that Prometheus scrapes: give Reader to
// Setup (WithMetricReader, or dspex.WithTelemetry) and serve the value
// itself, an http.Handler, on /metrics. Each Prometheus has its own
// registry, never the client library's global one, so that two runtimes
// in one process do not collide. The OpenTelemetry names are translated
// the Prometheus way: dspex.lm.requests becomes dspex_lm_requests_total,
// gen_ai.client.token.usage becomes gen_ai_client_token_usage_bucket and
// its _sum and _count.
type Prometheus struct {
	exp     *otelprom.Exporter
	handler http.Handler
}

// NewPrometheus returns a Prometheus reader with its own registry.
func NewPrometheus() (*Prometheus, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	return &Prometheus{exp: exp, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}, nil
}

// Reader returns the metric reader to give to Setup. A meter provider
// shuts it down with itself.
func (p *Prometheus) Reader() sdkmetric.Reader { return p.exp }

// ServeHTTP writes the metrics in the Prometheus text format (or the
// format the scraper negotiates).
func (p *Prometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }
