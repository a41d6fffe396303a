package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dspex-go/dspex/cache"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/internal/bufpool"
	"github.com/dspex-go/dspex/lm"
)

// responseCache holds successful replies keyed by a hash of the request,
// in a cache.Store: the runtime's store shared by every client (given to
// NewClients), or a memory store of the client's own. It outlives restarts
// of the client actor that uses it. It is safe for concurrent use.
//
// A store's front tier (a memory store) is looked up in the actor's
// mailbox; its back tier (a disk or remote store) on the request's
// goroutine, so that slow lookups never queue behind each other.
type responseCache struct {
	front cache.Store // looked up in the mailbox; nil when none
	back  cache.Store // looked up on the request goroutine; nil when none
	all   cache.Store // where replies are put
	ttl   time.Duration
	now   func() time.Time
	owned bool // closed with the client
	// copies reports that the store in all copies the values it is
	// given (a memory store), so that put may hand it a pooled buffer.
	copies bool
	// decoded remembers the latest responses decoded from the front
	// tier, so that a hit on the same bytes is not decoded again.
	decoded decodedMemo
}

// decodedSlots is the number of responses decodedMemo remembers (at
// most; two keys may share a slot, and the latest wins).
const decodedSlots = 512

// maxDecoded is the largest cached value whose decoding decodedMemo
// remembers: with the decoded copy, a memo holds at most about
// 2 × decodedSlots × maxDecoded bytes (8 MiB) per client.
const maxDecoded = 8 << 10

// decodedMemo remembers decoded responses by cache key, in a fixed table
// of slots read and written without locks. It never answers by itself:
// the store is still asked for every lookup, and a remembered response
// serves only when the bytes the store returns are the very bytes it was
// decoded from. Expiry, eviction, Clear and rewrites of the store are
// therefore seen as they happen; the memo only saves the JSON decoding.
type decodedMemo struct {
	seed  maphash.Seed
	slots [decodedSlots]atomic.Pointer[decodedResponse]
}

// decodedResponse is a response decoded from raw, stored under key.
type decodedResponse struct {
	key  string
	raw  []byte
	resp lm.Response
}

// decode returns the response raw (the value under key) decodes to,
// from the memo when it decoded the same bytes under key before.
func (m *decodedMemo) decode(key string, raw []byte) (lm.Response, bool) {
	slot := &m.slots[maphash.String(m.seed, key)%decodedSlots]
	if d := slot.Load(); d != nil && d.key == key && bytes.Equal(d.raw, raw) {
		return cloneResponse(d.resp), true
	}
	resp, ok := decodeValue(raw)
	if !ok {
		return lm.Response{}, false
	}
	if len(raw) > maxDecoded {
		return resp, true // nothing else holds resp: no copy
	}
	// The store handed over raw (a copy), and nothing else holds resp.
	slot.Store(&decodedResponse{key: key, raw: raw, resp: resp})
	return cloneResponse(resp), true
}

// cloneResponse copies what a caller could change in place in a response
// the memo keeps: its slices (strings are immutable).
func cloneResponse(r lm.Response) lm.Response {
	r.Choices = slices.Clone(r.Choices)
	for i := range r.Choices {
		m := &r.Choices[i].Message
		if m.Parts != nil {
			m.Parts = slices.Clone(m.Parts)
		}
		if m.ToolCalls != nil {
			m.ToolCalls = slices.Clone(m.ToolCalls)
		}
	}
	return r
}

// newResponseCache returns a cache over shared, or over a memory store of
// its own when shared is nil; it returns nil when s disables caching.
func newResponseCache(s config.Cache, shared cache.Store) (*responseCache, error) {
	ttl := s.TTL.Duration()
	if !s.Enabled || ttl <= 0 {
		return nil, nil
	}
	rc := &responseCache{all: shared, ttl: ttl, now: time.Now}
	rc.decoded.seed = maphash.MakeSeed()
	if shared == nil {
		m, err := cache.NewMemory(cache.MemoryConfig{TTL: ttl, MaxEntries: s.MaxEntries, MaxSizeMB: s.MaxSizeMB})
		if err != nil {
			return nil, fmt.Errorf("actors: response cache: %w", err)
		}
		rc.all, rc.owned = m, true
	}
	switch st := rc.all.(type) {
	case *cache.Memory:
		rc.front, rc.copies = st, true
	case *cache.Tiered:
		rc.front, rc.back = st.Front(), st.Back()
	default:
		rc.back = st
	}
	return rc, nil
}

// getFront returns the response cached in the front tier, if any.
func (rc *responseCache) getFront(key string) (lm.Response, bool) {
	if rc == nil || rc.front == nil {
		return lm.Response{}, false
	}
	e, ok, err := rc.front.Get(context.Background(), key)
	if !ok || err != nil {
		return lm.Response{}, false
	}
	return rc.decoded.decode(key, e.Value)
}

// getBack returns the response cached in the back tier, if any, copying
// it to the front tier.
func (rc *responseCache) getBack(ctx context.Context, key string) (lm.Response, bool) {
	if rc == nil || rc.back == nil {
		return lm.Response{}, false
	}
	e, ok, err := rc.back.Get(ctx, key)
	resp, ok := decodeResponse(e, ok, err)
	if ok && rc.front != nil {
		_ = rc.front.Set(ctx, key, e) // only speeds up the next lookup
	}
	return resp, ok
}

// decodeResponse decodes a store's answer; a value that does not decode
// is a miss.
func decodeResponse(e cache.Entry, ok bool, err error) (lm.Response, bool) {
	if !ok || err != nil {
		return lm.Response{}, false
	}
	return decodeValue(e.Value)
}

// decodeValue decodes a cached value; one that does not decode, or
// holds no choice, is a miss.
func decodeValue(b []byte) (lm.Response, bool) {
	var resp lm.Response
	if err := json.Unmarshal(b, &resp); err != nil || len(resp.Choices) == 0 {
		return lm.Response{}, false
	}
	resp.Cached = true
	return resp, true
}

// put stores resp under key when it is worth caching: it has choices. A
// failed write (a full disk) only loses the entry; the store counts and
// logs it.
func (rc *responseCache) put(ctx context.Context, key string, resp lm.Response) {
	if rc == nil || len(resp.Choices) == 0 {
		return
	}
	resp.Cached = false
	bp := bufpool.Get()
	defer bufpool.Put(bp)
	v, pooled := encodeResponseIn(bp, &resp)
	if pooled && !rc.copies {
		v = bytes.Clone(v) // the store may keep it
	}
	_ = rc.all.Set(ctx, key, cache.Entry{Value: v, Expires: rc.now().Add(rc.ttl)})
}

// encodeResponseIn returns the JSON encoding/json writes for resp. A plain
// response (text choices: no parts, tool calls or tool call ids) is
// written by appendPlainResponse into *bp, a pooled buffer (pooled is
// true: the bytes are *bp's until it goes back to the pool), at a
// fraction of encoding/json's cost; any other goes through encoding/json.
// Stored entries stay byte for byte what earlier versions wrote.
func encodeResponseIn(bp *[]byte, resp *lm.Response) (b []byte, pooled bool) {
	b, ok := appendPlainResponse((*bp)[:0], resp)
	if !ok {
		return marshalResponse(*resp), false
	}
	*bp = b
	return b, true
}

// marshalResponse is json.Marshal of resp, which always encodes. It
// takes a copy, so that put's response stays on its stack: only a
// response that is not plain is copied to the heap.
//
//go:noinline
func marshalResponse(resp lm.Response) []byte {
	body, _ := json.Marshal(&resp)
	return body
}

// appendPlainResponse appends resp as encoding/json encodes it, when it is
// plain (see encodeResponse). Else it reports false, and b is garbage.
func appendPlainResponse(b []byte, resp *lm.Response) ([]byte, bool) {
	b = append(b, `{"ID":`...)
	b = appendJSONString(b, resp.ID)
	b = append(b, `,"Model":`...)
	b = appendJSONString(b, resp.Model)
	b = append(b, `,"Choices":`...)
	if resp.Choices == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range resp.Choices {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"Message":`...)
			var ok bool
			if b, ok = appendPlainMessage(b, &resp.Choices[i].Message); !ok {
				return b, false
			}
			b = append(b, `,"FinishReason":`...)
			b = appendJSONString(b, resp.Choices[i].FinishReason)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	u := &resp.Usage
	b = append(b, `,"Usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	if u.CacheReadTokens != 0 {
		b = append(b, `,"cache_read_tokens":`...)
		b = strconv.AppendInt(b, int64(u.CacheReadTokens), 10)
	}
	if u.CacheWriteTokens != 0 {
		b = append(b, `,"cache_write_tokens":`...)
		b = strconv.AppendInt(b, int64(u.CacheWriteTokens), 10)
	}
	b = append(b, `},"Cached":`...)
	b = strconv.AppendBool(b, resp.Cached)
	b = append(b, `,"Attempts":`...)
	b = strconv.AppendInt(b, int64(resp.Attempts), 10)
	return append(b, '}'), true
}

// len returns the number of entries of the store.
func (rc *responseCache) len() int {
	if rc == nil {
		return 0
	}
	return int(rc.all.Stats().Entries)
}

// close closes the store when the client owns it.
func (rc *responseCache) close() error {
	if rc == nil || !rc.owned {
		return nil
	}
	return rc.all.Close()
}
