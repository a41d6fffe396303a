// Package pricing prices LM calls: a table of per-model prices (input,
// cached input, cache write and output, per million tokens) and the Cost
// of a call.
//
// # Defaults
//
// Default returns the table shipped with dspex (prices.yaml in this
// package): the common OpenAI, Anthropic and Gemini models as their public
// pricing pages showed them on each price's Read date. The file says, per
// provider, which figures were checked against the provider's page and
// which were not. Prices change; a
// configuration overrides or extends them per provider and model (see
// Table.With and config.Config.Prices).
//
// # Unknown is not zero
//
// A model without a price has an unknown cost: its Cost counts the call as
// unpriced and prints "unknown", never "$0". A response served from a
// cache costs nothing and its Cost says so.
package pricing
