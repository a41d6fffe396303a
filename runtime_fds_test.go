package dspex

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/dspex-go/dspex/config"
)

func TestCheckFileLimit(t *testing.T) {
	capped := func(n int) config.Config {
		cfg := config.Default()
		cfg.Concurrency = n
		return cfg
	}
	zero := 0
	override := capped(64)
	override.Providers = []config.Provider{{Name: "p", Concurrency: &zero}}
	for _, tc := range []struct {
		name       string
		cfg        config.Config
		limit      uint64
		known      bool
		perRequest int
		want       int
		wantLog    string // level of the one record logged; "" for none
	}{
		{"no cap, low limit", capped(0), 1024, true, 1, 1024 - fileReserve, "WARN"},
		{"no cap, high limit", capped(0), 65536, true, 1, 65536 - fileReserve, "INFO"},
		{"no cap, server in process", capped(0), 1024, true, 2, 512 - fileReserve, "WARN"},
		{"a provider without a cap", override, 65536, true, 1, 65536 - fileReserve, "INFO"},
		{"cap above the limit", capped(2048), 1024, true, 1, 1024 - fileReserve, "WARN"},
		{"cap within the limit", capped(64), 1024, true, 1, 1024 - fileReserve, ""},
		{"tiny limit", capped(0), 10, true, 1, 1, "WARN"},
		{"unknown limit", capped(0), 0, false, 1, 0, ""},
		{"unlimited", capped(0), 1 << 63, true, 1, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, nil))
			if got := checkFileLimit(tc.cfg, tc.limit, tc.known, tc.perRequest, logger); got != tc.want {
				t.Errorf("cap = %d, want %d", got, tc.want)
			}
			var levels []string
			for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				var rec struct{ Level string }
				if err := json.Unmarshal(line, &rec); err != nil {
					t.Fatal(err)
				}
				levels = append(levels, rec.Level)
			}
			switch {
			case tc.wantLog == "" && len(levels) != 0:
				t.Errorf("logged %v, want nothing", levels)
			case tc.wantLog != "" && (len(levels) != 1 || levels[0] != tc.wantLog):
				t.Errorf("logged %v, want one %s", levels, tc.wantLog)
			}
		})
	}
}
