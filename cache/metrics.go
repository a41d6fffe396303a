package cache

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Names of the instruments RegisterMetrics creates. Each observation has
// the attribute AttrTier. (The runtime's dspex.cache.hits and
// dspex.cache.misses count LM calls by provider and model; these count
// store lookups by tier.)
const (
	// MetricHits counts lookups a tier answered.
	MetricHits = "dspex.cache.store.hits"
	// MetricMisses counts lookups a tier could not answer.
	MetricMisses = "dspex.cache.store.misses"
	// MetricEvictions counts entries evicted to stay within the size cap.
	MetricEvictions = "dspex.cache.store.evictions"
	// MetricWriteErrors counts failed writes (a full disk).
	MetricWriteErrors = "dspex.cache.store.write_errors"
	// MetricSize is the size of a tier's entries, in bytes.
	MetricSize = "dspex.cache.store.size"
	// MetricEntries is the number of a tier's entries.
	MetricEntries = "dspex.cache.store.entries"
)

// AttrTier names the tier of an observation: "memory", "disk"...
const AttrTier = attribute.Key("dspex.cache.tier")

// RegisterMetrics makes m observe s's stats at each collection, one
// series per tier (each of Stats.Tiers, or s itself when it has none).
// Unregister the returned registration before closing s.
func RegisterMetrics(m metric.Meter, s Store) (metric.Registration, error) {
	hits, err1 := m.Int64ObservableCounter(MetricHits, metric.WithUnit("{lookup}"),
		metric.WithDescription("Response cache lookups answered, by tier"))
	misses, err2 := m.Int64ObservableCounter(MetricMisses, metric.WithUnit("{lookup}"),
		metric.WithDescription("Response cache lookups not answered, by tier"))
	evictions, err3 := m.Int64ObservableCounter(MetricEvictions, metric.WithUnit("{entry}"),
		metric.WithDescription("Response cache entries evicted to stay within the size cap, by tier"))
	writeErrors, err4 := m.Int64ObservableCounter(MetricWriteErrors, metric.WithUnit("{write}"),
		metric.WithDescription("Response cache writes that failed, by tier"))
	size, err5 := m.Int64ObservableGauge(MetricSize, metric.WithUnit("By"),
		metric.WithDescription("Size of the response cache's entries, by tier"))
	entries, err6 := m.Int64ObservableGauge(MetricEntries, metric.WithUnit("{entry}"),
		metric.WithDescription("Number of the response cache's entries, by tier"))
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return nil, err
	}
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := s.Stats()
		tiers := st.Tiers
		if len(tiers) == 0 {
			tiers = []Stats{st}
		}
		for _, t := range tiers {
			attrs := metric.WithAttributes(AttrTier.String(t.Tier))
			o.ObserveInt64(hits, t.Hits, attrs)
			o.ObserveInt64(misses, t.Misses, attrs)
			o.ObserveInt64(evictions, t.Evictions, attrs)
			o.ObserveInt64(writeErrors, t.WriteErrors, attrs)
			o.ObserveInt64(size, t.Bytes, attrs)
			o.ObserveInt64(entries, t.Entries, attrs)
		}
		return nil
	}, hits, misses, evictions, writeErrors, size, entries)
}
