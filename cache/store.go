package cache

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ErrClosed is returned by a store's methods after Close.
var ErrClosed = errors.New("cache: store closed")

// ErrWriteFailed wraps a write that the disk tier could not make (a full
// disk, an I/O error, a store turned off after corruption). Callers of a
// response cache usually ignore it: the entry is only lost.
var ErrWriteFailed = errors.New("cache: write failed")

// Entry is one cached value and the time it stops being valid.
type Entry struct {
	// Value is the cached bytes; a store keeps its own copy.
	Value []byte
	// Expires is when the entry stops being returned. The zero time
	// means the entry never expires by age (only by eviction).
	Expires time.Time
}

// live reports whether e is still valid at now.
func (e Entry) live(now time.Time) bool {
	return e.Expires.IsZero() || now.Before(e.Expires)
}

// Store is the storage behind a response cache. Keys are opaque strings
// (the runtime uses hex SHA-256 digests of a request's identity); values
// are opaque bytes. Implementations must be safe for concurrent use.
//
// Get reports ok=false for an absent or expired entry; an error means the
// store could not answer (the caller treats it as a miss). Set replaces
// any entry under key. Close is idempotent and releases the store; the
// other methods then fail with ErrClosed (Get reports a miss).
//
// A Redis- or memcached-backed Store plugs in through dspex.WithCache;
// cachetest.Run is the conformance suite every store must pass.
type Store interface {
	// Get returns the live entry under key.
	Get(ctx context.Context, key string) (Entry, bool, error)
	// Set stores e under key.
	Set(ctx context.Context, key string, e Entry) error
	// Delete removes the entry under key, if any.
	Delete(ctx context.Context, key string) error
	// Clear removes every entry.
	Clear(ctx context.Context) error
	// Stats returns the store's counters and size.
	Stats() Stats
	// Close releases the store.
	Close() error
}

// Stats is a snapshot of a store. Counters count this process's
// operations since the store was opened; Entries and Bytes describe the
// store's content (for a disk store shared by processes, everyone's).
type Stats struct {
	// Tier names the store: "memory", "disk", "tiered", or what a
	// custom store calls itself.
	Tier string
	// Hits and Misses count Get calls that found a live entry or not.
	Hits, Misses int64
	// Entries is the number of entries held.
	Entries int64
	// Bytes is the size of the entries held (keys and values; for the
	// memory tier, the memory its queues hold).
	Bytes int64
	// Evictions counts entries removed to stay within the size cap.
	Evictions int64
	// WriteErrors counts Set calls that failed (full disk, I/O errors);
	// they are also logged.
	WriteErrors int64
	// Tiers holds each tier's own stats, front first, for a store made
	// of tiers (Tiered); nil otherwise.
	Tiers []Stats
}

// Option configures a store built by this package.
type Option interface{ apply(*options) }

type options struct {
	logger *slog.Logger
	now    func() time.Time
	// maxPageCount, when > 0, caps the disk file's pages, to test what
	// a full disk does.
	maxPageCount int
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithLogger sends the store's warnings (a corrupt file moved aside, an
// old format discarded, failed writes) to l. By default they go to
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}

// WithClock makes the store read the time from now instead of time.Now,
// for tests of expiry and recency.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

func buildOptions(opts []Option) options {
	o := options{logger: slog.Default(), now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	return o
}
