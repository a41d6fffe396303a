package cache

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allegro/bigcache/v3"

	"github.com/dspex-go/dspex/internal/bufpool"
)

// MemoryConfig configures a memory store.
type MemoryConfig struct {
	// TTL bounds how long any entry stays in memory, whatever its
	// Expires; it must be positive.
	TTL time.Duration
	// MaxEntries is the expected number of entries; it sizes the shards
	// up front. 0 means 1024.
	MaxEntries int
	// MaxSizeMB caps the memory of the entries, in megabytes; 0 means no
	// cap. The oldest entries are overwritten when it is full.
	MaxSizeMB int
}

// Memory is a store in the process's memory, on bigcache: sharded, with
// entries kept out of the garbage collector's sight. It is the front tier
// of the runtime's cache. It is safe for concurrent use.
type Memory struct {
	c   *bigcache.BigCache
	now func() time.Time

	hits, misses, evictions atomic.Int64
	closeOnce               sync.Once
	closed                  atomic.Bool
}

// entryHeader is the size of the expiry stamp before each value held by
// a Memory store.
const entryHeader = 8

// NewMemory returns a memory store.
func NewMemory(cfg MemoryConfig, opts ...Option) (*Memory, error) {
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("cache: memory store: TTL %v must be positive", cfg.TTL)
	}
	if cfg.MaxSizeMB < 0 {
		return nil, fmt.Errorf("cache: memory store: MaxSizeMB %d must be >= 0", cfg.MaxSizeMB)
	}
	o := buildOptions(opts)
	m := &Memory{now: o.now}
	bc := bigcache.Config{
		Shards:             16,
		LifeWindow:         cfg.TTL,
		CleanWindow:        max(cfg.TTL, time.Second),
		MaxEntriesInWindow: cmp.Or(max(cfg.MaxEntries, 0), 1024),
		MaxEntrySize:       1024,
		HardMaxCacheSize:   cfg.MaxSizeMB,
		OnRemoveWithReason: func(_ string, _ []byte, r bigcache.RemoveReason) {
			if r == bigcache.NoSpace {
				m.evictions.Add(1)
			}
		},
	}
	c, err := bigcache.New(context.Background(), bc)
	if err != nil {
		return nil, fmt.Errorf("cache: memory store: %w", err)
	}
	m.c = c
	return m, nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) (Entry, bool, error) {
	if m.closed.Load() {
		return Entry{}, false, ErrClosed
	}
	b, err := m.c.Get(key)
	if err != nil {
		m.misses.Add(1)
		return Entry{}, false, nil
	}
	e, ok := decodeEntry(b)
	if !ok || !e.live(m.now()) {
		m.misses.Add(1)
		return Entry{}, false, nil
	}
	m.hits.Add(1)
	return e, true, nil
}

// Set implements Store. It copies e.Value, which the caller may reuse
// once Set returns.
func (m *Memory) Set(_ context.Context, key string, e Entry) error {
	if m.closed.Load() {
		return ErrClosed
	}
	// bigcache copies what it is given: the stamped value is built in a
	// pooled buffer.
	bp := bufpool.Get()
	defer bufpool.Put(bp)
	*bp = appendEntry((*bp)[:0], e)
	// A full cache only loses an entry: bigcache evicts the oldest.
	return m.c.Set(key, *bp)
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key string) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := m.c.Delete(key); err != nil && !errors.Is(err, bigcache.ErrEntryNotFound) {
		return fmt.Errorf("cache: memory store: %w", err)
	}
	return nil
}

// Clear implements Store.
func (m *Memory) Clear(context.Context) error {
	if m.closed.Load() {
		return ErrClosed
	}
	return m.c.Reset()
}

// Stats implements Store.
func (m *Memory) Stats() Stats {
	st := Stats{Tier: "memory", Hits: m.hits.Load(), Misses: m.misses.Load(), Evictions: m.evictions.Load()}
	if !m.closed.Load() {
		st.Entries = int64(m.c.Len())
		st.Bytes = int64(m.c.Capacity())
	}
	return st
}

// Close implements Store; it stops bigcache's cleaner goroutine.
func (m *Memory) Close() error {
	var err error
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		err = m.c.Close()
	})
	return err
}

// appendEntry appends e's value to b, stamped with its expiry (Unix
// nanoseconds, 0 for none).
func appendEntry(b []byte, e Entry) []byte {
	var exp int64
	if !e.Expires.IsZero() {
		exp = e.Expires.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(exp))
	return append(b, e.Value...)
}

// decodeEntry parses what appendEntry wrote; it reports false for bytes
// too short to hold the stamp.
func decodeEntry(b []byte) (Entry, bool) {
	if len(b) < entryHeader {
		return Entry{}, false
	}
	var e Entry
	if exp := int64(binary.BigEndian.Uint64(b[:entryHeader])); exp != 0 {
		e.Expires = time.Unix(0, exp)
	}
	e.Value = b[entryHeader:] // bigcache returns a copy: no aliasing
	return e, true
}
