//go:build !unix

package dspex

import (
	"log/slog"

	"github.com/dspex-go/dspex/config"
)

// warnFileLimit does nothing where the open-file limit cannot be read.
func warnFileLimit(config.Config, *slog.Logger) {}
