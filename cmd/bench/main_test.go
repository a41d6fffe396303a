package main

import (
	"context"
	"testing"

	"github.com/dspex-go/dspex/config"
)

// TestSpread checks the rounds line: each figure is taken within a round,
// then the lowest and highest over the rounds.
func TestSpread(t *testing.T) {
	samples := [][]sample{
		{{rate: 100, cpuUS: 100}, {rate: 200, cpuUS: 50}}, // raw
		{{rate: 90, cpuUS: 120}, {rate: 200, cpuUS: 55}},  // off
		{{rate: 81, cpuUS: 150}, {rate: 210, cpuUS: 50}},  // noop
	}
	got := spread([]string{"off", "noop"}, samples)
	want := "        rounds: rt off ratio 0.90–1.00, cpu× 1.10–1.20; rt noop ratio 0.81–1.05, cpu× 1.00–1.50; noop/off throughput 0.90–1.05"
	if got != want {
		t.Errorf("spread =\n%q\nwant\n%q", got, want)
	}
}

// TestCacheMB checks that -cache-mb caps the runtime's memory tier and
// sizes its shards to the cap from the start, and that without it the
// runtime keeps the default cache.
func TestCacheMB(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		mb                int
		wantMB, wantCount int
	}{
		{mb: 0, wantMB: config.Default().Cache.MaxSizeMB, wantCount: config.Default().Cache.MaxEntries},
		{mb: 2, wantMB: 2, wantCount: 2048},
	} {
		b := bench{cacheMB: tc.mb}
		rt, _, err := b.runtimeFor(ctx, "http://127.0.0.1:1", modeOff) // never called
		if err != nil {
			t.Fatal(err)
		}
		got := rt.Config().Cache
		if err := rt.Close(ctx); err != nil {
			t.Error(err)
		}
		if got.MaxSizeMB != tc.wantMB || got.MaxEntries != tc.wantCount {
			t.Errorf("-cache-mb %d: cache max_size_mb %d, max_entries %d; want %d, %d", tc.mb, got.MaxSizeMB, got.MaxEntries, tc.wantMB, tc.wantCount)
		}
	}
}
