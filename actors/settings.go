package actors

import (
	"github.com/dspex-go/dspex/config"
)

// SettingsFrom returns the client settings that cfg gives a client of the
// provider p. A provider that is not in cfg (a custom LM registered with
// the runtime) takes the global values: pass a zero Provider.
func SettingsFrom(cfg config.Config, p config.Provider) ClientSettings {
	return ClientSettings{
		Cache:          cfg.Cache,
		Breaker:        cfg.Breaker,
		RateLimit:      cfg.ProviderRateLimit(p),
		Retry:          cfg.Retry,
		MaxInFlight:    cfg.ProviderConcurrency(p),
		RequestTimeout: cfg.RequestTimeout.Duration(),
	}
}
