package cache

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// clock is a settable clock for expiry and recency.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// stores builds each shipped store over the clock, in a fresh directory.
func stores(t *testing.T, clk *clock) map[string]func() Store {
	t.Helper()
	mem := func() Store {
		m, err := NewMemory(MemoryConfig{TTL: time.Hour}, WithClock(clk.now))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	disk := func() Store {
		d, err := OpenDisk(context.Background(), DiskConfig{Dir: t.TempDir()}, WithClock(clk.now))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return map[string]func() Store{
		"memory": mem,
		"disk":   disk,
		"tiered": func() Store {
			s, err := NewTiered(mem(), disk())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func TestTieredPromotesBackHits(t *testing.T) {
	clk := newClock()
	mk := stores(t, clk)
	front, back := mk["memory"](), mk["disk"]()
	s, err := NewTiered(front, back)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := Entry{Value: []byte("v"), Expires: clk.now().Add(time.Minute)}
	mustSet(t, back, "k", e) // only in the back, as after a restart
	mustGet(t, s, "k")
	mustGet(t, s, "k")
	st := s.Stats()
	if len(st.Tiers) != 2 {
		t.Fatalf("Tiers = %+v, want two", st.Tiers)
	}
	f, b := st.Tiers[0], st.Tiers[1]
	if f.Tier != "memory" || f.Hits != 1 || f.Misses != 1 || b.Tier != "disk" || b.Hits != 1 || st.Hits != 2 {
		t.Fatalf("stats = %+v; want the first tiered Get from disk, the second from memory", st)
	}
}

func mustSet(t *testing.T, s Store, key string, e Entry) {
	t.Helper()
	if err := s.Set(context.Background(), key, e); err != nil {
		t.Fatalf("Set(%q) = %v", key, err)
	}
}

func mustGet(t *testing.T, s Store, key string) Entry {
	t.Helper()
	e, ok, err := s.Get(context.Background(), key)
	if !ok || err != nil {
		t.Fatalf("Get(%q) = ok %v, err %v; want a hit", key, ok, err)
	}
	return e
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{})
	f.Add(encodeEntry(Entry{Value: []byte("v"), Expires: time.Unix(0, 42)}))
	f.Add(encodeEntry(Entry{Value: nil}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := decodeEntry(b)
		if !ok {
			if len(b) >= entryHeader {
				t.Fatalf("decodeEntry(%d bytes) failed", len(b))
			}
			return
		}
		if got := encodeEntry(e); !bytes.Equal(got, b) {
			t.Fatalf("round trip: %x != %x", got, b)
		}
	})
}

// encodeEntry returns e as a memory store holds it (appendEntry).
func encodeEntry(e Entry) []byte {
	return appendEntry(make([]byte, 0, entryHeader+len(e.Value)), e)
}
