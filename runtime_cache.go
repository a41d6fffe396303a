package dspex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
)

// WithCache makes s the response cache the runtime's client actors share,
// in place of the one the configuration describes (a Redis-backed store,
// say). The configuration's cache.enabled and cache.ttl still apply. The
// runtime does not close s: the caller does, after Close.
func WithCache(s cache.Store) Option {
	return optionFunc(func(o *options) error {
		if s == nil {
			return errors.New("dspex: WithCache: nil store")
		}
		if o.cache != nil {
			return fmt.Errorf("%w: WithCache given twice", ErrConflictingOptions)
		}
		o.cache = s
		return nil
	})
}

// openCache returns the store the configuration describes, and whether the
// runtime owns it: nil when caching is off; memory, or memory before disk
// when cfg.Cache.Persistent. A disk tier that cannot be opened (a directory
// that cannot be written) is logged, and the runtime caches in memory
// only: the run goes on.
func openCache(ctx context.Context, cfg config.Cache, given cache.Store, logger *slog.Logger) (cache.Store, bool, error) {
	if given != nil {
		return given, false, nil
	}
	if !cfg.Enabled {
		return nil, false, nil
	}
	mem, err := cache.NewMemory(cache.MemoryConfig{TTL: cfg.TTL.Duration(), MaxEntries: cfg.MaxEntries, MaxSizeMB: cfg.MaxSizeMB})
	if err != nil {
		return nil, false, fmt.Errorf("dspex: cache: %w", err)
	}
	if !cfg.Persistent {
		return mem, true, nil
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = cache.DefaultDir(); err != nil {
			logger.Warn("dspex: no disk cache: caching in memory only", slog.Any("error", err))
			return mem, true, nil
		}
	}
	disk, err := cache.OpenDisk(ctx, cache.DiskConfig{Dir: dir, MaxSizeMB: cfg.MaxSizeMB}, cache.WithLogger(logger))
	if err != nil {
		logger.Warn("dspex: no disk cache: caching in memory only", slog.String("dir", dir), slog.Any("error", err))
		return mem, true, nil
	}
	t, err := cache.NewTiered(mem, disk)
	if err != nil {
		return nil, false, errors.Join(err, mem.Close(), disk.Close())
	}
	return t, true, nil
}

// CacheStats returns the statistics of the runtime's response cache (per
// tier in Tiers), or false when it has none.
func (r *Runtime) CacheStats() (cache.Stats, bool) {
	if r.cache == nil {
		return cache.Stats{}, false
	}
	return r.cache.Stats(), true
}

// ClearCache removes every entry of the runtime's response cache: for a
// persistent cache, from disk too, for every process sharing its
// directory.
func (r *Runtime) ClearCache(ctx context.Context) error {
	if r.closed() {
		return ErrClosed
	}
	if r.cache == nil {
		return nil
	}
	return r.cache.Clear(ctx)
}

// closeCache closes the runtime's cache if it owns it.
func (r *Runtime) closeCache() error {
	if r.cache == nil || !r.ownCache {
		return nil
	}
	return r.cache.Close()
}
