package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/pricing"
)

func TestLoadPricesAndHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dspex.yaml")
	data := []byte(`
providers:
  - name: local
    base_url: http://127.0.0.1:8000/v1
    default_model: llama3
history:
  size: 10
  omit_messages: true
prices:
  local/llama3: {input: 0.2, output: 0.4}
  gpt-4o-mini: {input: 0.1, cached_input: 0.05, output: 0.5, read: "2026-12-01"}
`)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.History != (config.History{Size: 10, OmitMessages: true}) {
		t.Errorf("history = %+v", cfg.History)
	}
	if got := cfg.Prices["gpt-4o-mini"]; got != (pricing.Price{Input: 0.1, CachedInput: 0.05, Output: 0.5, Read: "2026-12-01"}) {
		t.Errorf("price = %+v", got)
	}
	if config.Default().History.Size != config.DefaultHistorySize {
		t.Error("no default history size")
	}
}

func TestValidateHistoryAndPrices(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Config)
		key  string
	}{
		{"negative size", func(c *config.Config) { c.History.Size = -1 }, "history.size"},
		{"negative price", func(c *config.Config) { c.Prices = map[string]pricing.Price{"m": {Input: -1}} }, "prices.m"},
		{"empty model", func(c *config.Config) { c.Prices = map[string]pricing.Price{"": {Input: 1}} }, "prices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.edit(&cfg)
			var ve *config.ValidationError
			if err := cfg.Validate(); !errors.As(err, &ve) || ve.Key != tt.key {
				t.Fatalf("err = %v, want key %s", err, tt.key)
			}
		})
	}
}
