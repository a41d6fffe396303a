package actors

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/telemetry"
)

// appendCostAttrs appends the cost attributes of a successful call's span
// to kvs: the amount and currency when the model has a price (0 for a
// cache hit), nothing when it has none (unknown is not zero).
func (c *lmCall) appendCostAttrs(kvs []attribute.KeyValue, resp lm.Response) []attribute.KeyValue {
	if c.prices == nil {
		return kvs
	}
	model := resp.Model
	if model == "" {
		model = c.req.Model
	}
	cost := c.prices.Cost(c.provider, model, resp.Usage, resp.Cached)
	if !cost.Known() {
		return kvs
	}
	return append(kvs, telemetry.AttrCost.Float64(cost.Amount), telemetry.AttrCurrency.String(cost.Currency))
}
