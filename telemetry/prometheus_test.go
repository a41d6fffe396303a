package telemetry

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric"

	"github.com/dspex-go/dspex/config"
)

// TestPrometheusScrape records through providers built over a Prometheus
// reader and finds the values, under their Prometheus names, in a scrape.
func TestPrometheusScrape(t *testing.T) {
	prom, err := NewPrometheus()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Setup(context.Background(), config.Telemetry{}, WithMetricReader(prom.Reader()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()
	if !p.MetricsEnabled() {
		t.Fatal("a Prometheus reader did not enable metrics")
	}
	m := p.Meter(InstrumentationName)
	reqs, err := m.Int64Counter(MetricRequests)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := m.Int64Histogram(MetricTokenUsage, metric.WithUnit("{token}"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	reqs.Add(ctx, 3, metric.WithAttributes(AttrProvider.String("sim")))
	tokens.Record(ctx, 40, metric.WithAttributes(AttrGenAITokenType.String(TokenTypeInput)))

	rec := httptest.NewRecorder()
	prom.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`dspex_lm_requests_total{`,
		`dspex_provider="sim"`,
		`gen_ai_client_token_usage_sum{`,
		`gen_ai_token_type="input"`,
		`service_name="dspex"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "dspex_lm_requests_total{") && !strings.HasSuffix(line, " 3") {
			t.Errorf("requests line %q, want the value 3", line)
		}
	}
}
