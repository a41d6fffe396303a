package cache

import (
	"context"
	"errors"
	"sync"
)

// Tiered is a store of two tiers: a fast front (usually Memory) before a
// durable back (usually Disk, or a shared store such as Redis). Get looks
// in the front, then in the back, copying a back hit to the front; Set
// writes both. It owns its tiers: Close closes both. It is safe for
// concurrent use.
type Tiered struct {
	front, back Store
	closeOnce   sync.Once
	closeErr    error
}

// NewTiered returns a store over front and back.
func NewTiered(front, back Store) (*Tiered, error) {
	if front == nil || back == nil {
		return nil, errors.New("cache: tiered store: nil tier")
	}
	return &Tiered{front: front, back: back}, nil
}

// Front returns the front tier.
func (t *Tiered) Front() Store { return t.front }

// Back returns the back tier.
func (t *Tiered) Back() Store { return t.back }

// Get implements Store. An error of the back tier is returned with a miss.
func (t *Tiered) Get(ctx context.Context, key string) (Entry, bool, error) {
	if e, ok, _ := t.front.Get(ctx, key); ok {
		return e, true, nil
	}
	e, ok, err := t.back.Get(ctx, key)
	if !ok {
		return Entry{}, false, err
	}
	_ = t.front.Set(ctx, key, e) // The front only speeds up the next Get.
	return e, true, nil
}

// Set implements Store. The entry is in the front even when the back
// fails; the back's error is returned.
func (t *Tiered) Set(ctx context.Context, key string, e Entry) error {
	_ = t.front.Set(ctx, key, e)
	return t.back.Set(ctx, key, e)
}

// Delete implements Store.
func (t *Tiered) Delete(ctx context.Context, key string) error {
	return errors.Join(t.front.Delete(ctx, key), t.back.Delete(ctx, key))
}

// Clear implements Store.
func (t *Tiered) Clear(ctx context.Context) error {
	return errors.Join(t.front.Clear(ctx), t.back.Clear(ctx))
}

// Stats implements Store: Hits adds both tiers' hits, Misses are the back
// tier's (a request neither tier could answer), the size is the back's,
// Evictions and WriteErrors add both; Tiers has each tier's own.
func (t *Tiered) Stats() Stats {
	f, b := t.front.Stats(), t.back.Stats()
	return Stats{
		Tier:        "tiered",
		Hits:        f.Hits + b.Hits,
		Misses:      b.Misses,
		Entries:     b.Entries,
		Bytes:       b.Bytes,
		Evictions:   f.Evictions + b.Evictions,
		WriteErrors: f.WriteErrors + b.WriteErrors,
		Tiers:       []Stats{f, b},
	}
}

// Close implements Store; it closes both tiers.
func (t *Tiered) Close() error {
	t.closeOnce.Do(func() {
		t.closeErr = errors.Join(t.front.Close(), t.back.Close())
	})
	return t.closeErr
}
