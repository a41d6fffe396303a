package dspex

import (
	"context"
	"log/slog"

	"github.com/dspex-go/dspex/config"
)

// fileReserve is the number of open files the runtime leaves for what is
// not a provider connection: files, listeners, pipes, the cache.
const fileReserve = 64

// lowFileLimit is the open-file limit under which a cap is advised when
// there is none.
const lowFileLimit = 4096

// fileCap returns the number of requests that may be in flight at once,
// across the clients without a concurrency cap, under the open-file limit
// (known reports whether it could be read): each request in flight holds
// one connection, that is one descriptor, two when the server runs in
// the same process (perRequest), and fileReserve are left for the rest.
// It returns 0, no cap, when the limit is unknown or unlimited.
func fileCap(limit uint64, known bool, perRequest int) int {
	const unlimited = 1 << 40
	if !known || limit >= unlimited {
		return 0
	}
	return max(int(limit/uint64(perRequest))-fileReserve, 1)
}

// uncappedClients reports whether a client of cfg may run without a
// concurrency cap: the global one is 0, or a provider's override is.
func uncappedClients(cfg config.Config) bool {
	if cfg.Concurrency == 0 {
		return true
	}
	for _, p := range cfg.Providers {
		if cfg.ProviderConcurrency(p) == 0 {
			return true
		}
	}
	return false
}

// checkFileLimit returns the cap on requests in flight that the open-file
// limit sets for the clients without a concurrency cap of their own, and
// logs, once at start, what it decided: the implicit cap when a client of
// cfg has no cap (a warning when the limit is low), or a warning when a
// configured cap exceeds what the limit allows. perRequest is 2 when the
// server runs in this process (the embedded simulator), else 1.
func checkFileLimit(cfg config.Config, limit uint64, known bool, perRequest int, logger *slog.Logger) int {
	limitCap := fileCap(limit, known, perRequest)
	if limitCap == 0 {
		return 0
	}
	if uncappedClients(cfg) {
		level := slog.LevelInfo
		if limit < lowFileLimit {
			level = slog.LevelWarn
		}
		logger.Log(context.Background(), level, "dspex: no concurrency cap: requests in flight without a cap share one derived from the open-file limit, and queue past it; raise the limit (ulimit -n) to allow more",
			slog.Uint64("open_file_limit", limit), slog.Int("max_in_flight", limitCap))
	}
	for _, c := range append([]int{cfg.Concurrency}, providerCaps(cfg)...) {
		if c > limitCap {
			logger.Warn("dspex: the concurrency cap exceeds what the open-file limit allows; raise the limit (ulimit -n) or lower concurrency",
				slog.Int("concurrency", c), slog.Uint64("open_file_limit", limit))
			break
		}
	}
	return limitCap
}

// providerCaps lists the providers' concurrency overrides.
func providerCaps(cfg config.Config) []int {
	var caps []int
	for _, p := range cfg.Providers {
		if p.Concurrency != nil {
			caps = append(caps, *p.Concurrency)
		}
	}
	return caps
}
