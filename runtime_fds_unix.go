//go:build unix

package dspex

import (
	"log/slog"
	"syscall"

	"github.com/dspex-go/dspex/config"
)

// fileLimit returns the process's soft limit on open files, or false when
// it cannot be read.
func fileLimit() (uint64, bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, false
	}
	return uint64(l.Cur), true
}

// warnFileLimit logs a warning when cfg lets more requests be in flight
// than the open-file limit leaves connections for: each request in flight
// holds one connection, that is one file descriptor (two when the server
// runs in the same process). A request past the limit fails with "too many
// open files"; a concurrency cap queues it instead.
func warnFileLimit(cfg config.Config, logger *slog.Logger) {
	limit, ok := fileLimit()
	if !ok {
		return
	}
	const (
		reserve      = 64   // files, sockets and pipes besides the connections
		lowFileLimit = 4096 // without a cap, a limit below this is near
	)
	switch {
	case cfg.Concurrency == 0 && limit < lowFileLimit:
		logger.Warn("dspex: no concurrency cap: requests in flight beyond the open-file limit fail with \"too many open files\"; set concurrency to queue them",
			slog.Uint64("open_file_limit", limit), slog.Uint64("max_in_flight_advised", max(limit, reserve)-reserve))
	case uint64(cfg.Concurrency)+reserve > limit:
		logger.Warn("dspex: the concurrency cap exceeds what the open-file limit allows; raise the limit (ulimit -n) or lower concurrency",
			slog.Int("concurrency", cfg.Concurrency), slog.Uint64("open_file_limit", limit))
	}
}
