package actors

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/allegro/bigcache/v3"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// responseCache holds successful replies keyed by a hash of the request.
// It is created by the ClientManager and outlives restarts of the client
// actor that uses it. It is safe for concurrent use.
type responseCache struct {
	c   *bigcache.BigCache
	ttl time.Duration
	now func() time.Time
}

// newResponseCache returns a cache, or nil when s disables it.
func newResponseCache(s config.Cache) (*responseCache, error) {
	ttl := s.TTL.Duration()
	if !s.Enabled || ttl <= 0 {
		return nil, nil
	}
	cfg := bigcache.Config{
		Shards:             16,
		LifeWindow:         ttl,
		CleanWindow:        max(ttl, time.Second),
		MaxEntriesInWindow: cmp.Or(max(s.MaxEntries, 0), 1024),
		MaxEntrySize:       1024,
		HardMaxCacheSize:   s.MaxSizeMB,
		Verbose:            false,
	}
	c, err := bigcache.New(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("actors: response cache: %w", err)
	}
	return &responseCache{c: c, ttl: ttl, now: time.Now}, nil
}

// get returns the cached response for key, if present and fresh.
func (rc *responseCache) get(key string) (lm.Response, bool) {
	if rc == nil {
		return lm.Response{}, false
	}
	b, err := rc.c.Get(key)
	if err != nil || len(b) < 8 {
		return lm.Response{}, false
	}
	expires := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	if !rc.now().Before(expires) {
		return lm.Response{}, false
	}
	var resp lm.Response
	if err := json.Unmarshal(b[8:], &resp); err != nil {
		return lm.Response{}, false
	}
	resp.Cached = true
	return resp, true
}

// put stores resp under key when it is worth caching: it has choices.
func (rc *responseCache) put(key string, resp lm.Response) {
	if rc == nil || len(resp.Choices) == 0 {
		return
	}
	resp.Cached = false
	body, err := json.Marshal(resp)
	if err != nil {
		return
	}
	b := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint64(b, uint64(rc.now().Add(rc.ttl).UnixNano()))
	b = append(b, body...)
	_ = rc.c.Set(key, b) // A full cache only loses this entry.
}

// len returns the number of entries.
func (rc *responseCache) len() int {
	if rc == nil {
		return 0
	}
	return rc.c.Len()
}

// close stops the cache's cleaner goroutine.
func (rc *responseCache) close() error {
	if rc == nil {
		return nil
	}
	return rc.c.Close()
}

// cacheKeyInput is what a cache key is computed from. It names the provider,
// the model and every field that changes the reply. It never holds
// credentials.
type cacheKeyInput struct {
	Provider    string       `json:"p"`
	Model       string       `json:"m"`
	Messages    []lm.Message `json:"msgs"`
	Temperature *float64     `json:"t,omitempty"`
	MaxTokens   int          `json:"mt,omitempty"`
	N           int          `json:"n,omitempty"`
	Stop        []string     `json:"stop,omitempty"`
	Seed        *int         `json:"seed,omitempty"`
	Format      lm.Format    `json:"fmt,omitempty"`
	RolloutID   int          `json:"r,omitempty"`
}

// cacheKey returns the hex SHA-256 of the request's identity for provider
// and model. It reports false for a request that cannot be keyed (a NaN
// temperature), which then bypasses the cache.
func cacheKey(provider, model string, req lm.Request) (string, bool) {
	b, err := json.Marshal(cacheKeyInput{
		Provider:    provider,
		Model:       model,
		Messages:    req.Messages,
		Temperature: req.Temperature,
		MaxTokens:   req.MaxTokens,
		N:           req.N,
		Stop:        req.Stop,
		Seed:        req.Seed,
		Format:      req.ResponseFormat,
		RolloutID:   req.RolloutID,
	})
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), true
}
