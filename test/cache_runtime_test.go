package test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/dspex-go/dspex/cache"
)

// TestCachePersistentThroughRuntime runs calls through a runtime with a
// persistent cache and checks what the issue asks of it: hits by tier in
// Status and in the OpenTelemetry instruments, a per-request bypass, no API
// key in the file, and ClearCache.
func TestCachePersistentThroughRuntime(t *testing.T) {
	srv := rtSim(t)
	dir := t.TempDir()
	cfg := telConfig(srv)
	cfg.Cache.Persistent, cfg.Cache.Dir = true, dir
	rt, _, reader := telRuntime(t, cfg)
	ctx := context.Background()
	m := rt.LM("sim")

	req := rtAsk("What is the capital of Italy? (%d)", 1)
	for i := range 3 {
		resp, err := m.Chat(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Cached != (i > 0) {
			t.Fatalf("call %d: Cached = %v", i, resp.Cached)
		}
	}
	bypass := req
	bypass.NoCache = true
	before := srv.Stats().Requests
	if resp, err := m.Chat(ctx, bypass); err != nil || resp.Cached {
		t.Fatalf("NoCache call: cached %v, err %v", resp.Cached, err)
	}
	if srv.Stats().Requests != before+1 {
		t.Fatal("a NoCache call did not reach the provider")
	}

	st, err := rt.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cache == nil || len(st.Cache.Tiers) != 2 {
		t.Fatalf("Status.Cache = %+v; want two tiers", st.Cache)
	}
	mem, disk := st.Cache.Tiers[0], st.Cache.Tiers[1]
	if mem.Tier != "memory" || mem.Hits != 2 || mem.Misses != 1 || disk.Tier != "disk" || disk.Misses != 1 || disk.Entries != 1 || disk.Bytes == 0 {
		t.Fatalf("tiers = %+v; want memory 2 hits 1 miss, disk 1 miss 1 entry", st.Cache.Tiers)
	}

	rm := telCollect(t, reader)
	for _, c := range []struct {
		name, tier string
		want       int64
	}{
		{cache.MetricHits, "memory", 2},
		{cache.MetricMisses, "memory", 1},
		{cache.MetricMisses, "disk", 1},
		{cache.MetricEntries, "disk", 1},
	} {
		if got := telObserved(t, rm, c.name, c.tier); got != c.want {
			t.Errorf("%s{tier=%s} = %d, want %d", c.name, c.tier, got, c.want)
		}
	}

	raw, err := os.ReadFile(filepath.Join(dir, cache.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(filepath.Join(dir, cache.FileName+"-wal")); err == nil {
		raw = append(raw, wal...)
	}
	if key := cfg.Providers[0].APIKey.Reveal(); bytes.Contains(raw, []byte(key)) {
		t.Fatal("the cache file holds the API key")
	}
	if !bytes.Contains(raw, []byte("Rome")) {
		t.Fatal("the cache file does not hold the response: the check above proves nothing")
	}

	if err := rt.ClearCache(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, err := m.Chat(ctx, req); err != nil || resp.Cached {
		t.Fatalf("after ClearCache: cached %v, err %v", resp.Cached, err)
	}
}

// telObserved returns the value of an int64 sum or gauge data point with
// the given dspex.cache.tier.
func telObserved(t *testing.T, rm metricdata.ResourceMetrics, name, tier string) int64 {
	t.Helper()
	m, ok := telMetric(rm, name)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	var dps []metricdata.DataPoint[int64]
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		dps = d.DataPoints
	case metricdata.Gauge[int64]:
		dps = d.DataPoints
	default:
		t.Fatalf("%s is a %T", name, m.Data)
	}
	for _, dp := range dps {
		if v, ok := dp.Attributes.Value(cache.AttrTier); ok && v.AsString() == tier {
			return dp.Value
		}
	}
	return 0
}
