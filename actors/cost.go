package actors

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/telemetry"
)

// costAttrs returns the cost attributes of a successful call's span: the
// amount and currency when the model has a price (0 for a cache hit),
// nothing when it has none (unknown is not zero).
func (c *lmCall) costAttrs(resp lm.Response) []attribute.KeyValue {
	if c.prices == nil {
		return nil
	}
	model := resp.Model
	if model == "" {
		model = c.req.Model
	}
	cost := c.prices.Cost(c.provider, model, resp.Usage, resp.Cached)
	if !cost.Known() {
		return nil
	}
	return []attribute.KeyValue{telemetry.AttrCost.Float64(cost.Amount), telemetry.AttrCurrency.String(cost.Currency)}
}
