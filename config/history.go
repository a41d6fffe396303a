package config

import "strconv"

// DefaultHistorySize is the number of LM calls the runtime's history keeps
// by default.
const DefaultHistorySize = 256

// History configures the runtime's record of recent LM calls (see
// dspex.Runtime.History).
type History struct {
	// Size is the number of most recent calls kept; 0 turns the history
	// off. Default DefaultHistorySize.
	Size int `json:"size" yaml:"size"`
	// OmitMessages keeps the messages sent and the replies out of the
	// history, for privacy; usage, cost and timings are still recorded.
	OmitMessages bool `json:"omit_messages,omitempty" yaml:"omit_messages,omitempty"`
}

// validateHistoryPrices reports invalid history and price settings through add.
func (c Config) validateHistoryPrices(add func(key string, value any, reason string)) {
	if c.History.Size < 0 {
		add("history.size", strconv.Itoa(c.History.Size), "must not be negative")
	}
	for k, p := range c.Prices {
		if k == "" {
			add("prices", "", "model key must not be empty")
		}
		if err := p.Validate(); err != nil {
			add("prices."+k, p, err.Error())
		}
	}
}
