package dspex

import (
	"net/http"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// newAnthropic builds the client of a KindAnthropic provider. Its key is
// the provider's (APIKey or APIKeyEnv), else ANTHROPIC_API_KEY read through
// getenv.
func newAnthropic(p config.Provider, model string, headers map[string]string, client *http.Client, getenv func(string) string) (lm.LM, error) {
	key := p.Key(getenv).Reveal()
	if key == "" {
		key = getenv(config.DefaultAnthropicAPIKeyEnv)
	}
	return lm.NewAnthropic(lm.AnthropicConfig{
		Provider:      p.Name,
		BaseURL:       p.BaseURL,
		APIKey:        key,
		Model:         model,
		NoPromptCache: !p.PromptCacheEnabled(),
		Headers:       headers,
		HTTPClient:    client,
	})
}
