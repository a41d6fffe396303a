package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/cache/cachetest"
)

func TestConformance(t *testing.T) {
	memory := func(t *testing.T, now func() time.Time) cache.Store {
		m, err := cache.NewMemory(cache.MemoryConfig{TTL: time.Hour}, cache.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	disk := func(t *testing.T, now func() time.Time) cache.Store {
		d, err := cache.OpenDisk(context.Background(), cache.DiskConfig{Dir: t.TempDir()}, cache.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	stores := []struct {
		name     string
		newStore func(*testing.T, func() time.Time) cache.Store
	}{
		{"memory", memory},
		{"disk", disk},
		{"tiered", func(t *testing.T, now func() time.Time) cache.Store {
			s, err := cache.NewTiered(memory(t, now), disk(t, now))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { cachetest.Run(t, s.newStore) })
	}
}
