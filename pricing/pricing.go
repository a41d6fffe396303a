package pricing

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/dspex-go/dspex/lm"
)

// Price is what a model charges, per million tokens.
type Price struct {
	// Input is the price of a million prompt tokens.
	Input float64 `json:"input" yaml:"input"`
	// CachedInput is the price of a million prompt tokens served from the
	// provider's prompt cache. Zero means the provider gives no discount:
	// cached tokens cost Input.
	CachedInput float64 `json:"cached_input,omitempty" yaml:"cached_input,omitempty"`
	// CacheWrite is the price of a million prompt tokens written to the
	// provider's prompt cache (Anthropic: 1.25 times Input for the
	// five-minute cache). Zero means writing costs Input.
	CacheWrite float64 `json:"cache_write,omitempty" yaml:"cache_write,omitempty"`
	// Output is the price of a million completion tokens.
	Output float64 `json:"output" yaml:"output"`
	// Currency is the ISO 4217 code of the prices; empty means the table's.
	Currency string `json:"currency,omitempty" yaml:"currency,omitempty"`
	// Read is the date (YYYY-MM-DD) the prices were read from their source.
	Read string `json:"read,omitempty" yaml:"read,omitempty"`
}

// ErrInvalidPrice means a price is negative or not a number.
var ErrInvalidPrice = errors.New("pricing: invalid price")

// Validate reports a negative or non-finite price.
func (p Price) Validate() error {
	for _, v := range []float64{p.Input, p.CachedInput, p.CacheWrite, p.Output} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %v", ErrInvalidPrice, v)
		}
	}
	return nil
}

// Cost returns what usage costs at p. Of the prompt tokens, those read
// from the provider's cache are billed at CachedInput and those written to
// it at CacheWrite (each at Input when its price is zero), the rest at
// Input.
func (p Price) Cost(u lm.Usage) Cost {
	prompt := max(u.PromptTokens, 0)
	cached := min(max(u.CacheReadTokens, 0), prompt)
	written := min(max(u.CacheWriteTokens, 0), prompt-cached)
	fresh := prompt - cached - written
	amount := (float64(fresh)*p.Input + float64(cached)*or(p.CachedInput, p.Input) +
		float64(written)*or(p.CacheWrite, p.Input) + float64(max(u.CompletionTokens, 0))*p.Output) / 1e6
	return Cost{Amount: amount, Currency: p.Currency, Calls: 1}
}

// or returns price, or fallback when price is zero.
func or(price, fallback float64) float64 {
	if price == 0 {
		return fallback
	}
	return price
}

// Cost is what one or more LM calls cost. The zero Cost is no calls.
//
// Amount sums the calls whose price is known; Unpriced counts the others,
// so a Cost with Unpriced > 0 is a lower bound, and one whose calls are all
// unpriced is unknown (never zero).
type Cost struct {
	// Amount is the cost of the priced calls, in Currency.
	Amount float64 `json:"amount"`
	// Currency is the ISO 4217 code of Amount (e.g. "USD").
	Currency string `json:"currency,omitempty"`
	// Calls counts the calls summed.
	Calls int `json:"calls"`
	// Unpriced counts the calls whose model has no known price.
	Unpriced int `json:"unpriced,omitempty"`
	// CacheHits counts the calls served from a cache, which cost nothing.
	CacheHits int `json:"cache_hits,omitempty"`
}

// Unknown returns the Cost of one call whose price is unknown.
func Unknown() Cost { return Cost{Calls: 1, Unpriced: 1} }

// CacheHit returns the Cost of one call served from a cache: nothing.
func CacheHit(currency string) Cost { return Cost{Currency: currency, Calls: 1, CacheHits: 1} }

// Known reports whether every call summed has a known price.
func (c Cost) Known() bool { return c.Unpriced == 0 }

// Add returns the sum of c and d. Amounts in different currencies cannot be
// summed: d's amount then counts as unpriced.
func (c Cost) Add(d Cost) Cost {
	out := Cost{
		Amount: c.Amount, Currency: c.Currency,
		Calls: c.Calls + d.Calls, Unpriced: c.Unpriced + d.Unpriced, CacheHits: c.CacheHits + d.CacheHits,
	}
	switch {
	case d.Currency == "" || d.Currency == c.Currency:
		out.Amount += d.Amount
	case c.Currency == "" && c.Amount == 0:
		out.Currency, out.Amount = d.Currency, d.Amount
	default:
		out.Unpriced += d.Calls - d.Unpriced
	}
	return out
}

// String formats the cost for people: "$0.001234", "unknown",
// "≥ $0.0012 (2 of 5 calls unpriced)", "$0 (cache hit)".
func (c Cost) String() string {
	if c.Calls > 0 && c.Unpriced == c.Calls {
		return "unknown"
	}
	s := FormatAmount(c.Amount, c.Currency)
	switch {
	case c.Unpriced > 0:
		return fmt.Sprintf("≥ %s (%d of %d calls unpriced)", s, c.Unpriced, c.Calls)
	case c.Calls == 1 && c.CacheHits == 1:
		return s + " (cache hit)"
	}
	return s
}

// FormatAmount formats an amount of money with enough digits for the
// fractions of a cent that LM calls cost.
func FormatAmount(amount float64, currency string) string {
	var num string
	switch a := math.Abs(amount); {
	case a == 0:
		num = "0"
	case a >= 1:
		num = fmt.Sprintf("%.2f", amount)
	case a >= 0.01:
		num = fmt.Sprintf("%.4f", amount)
	default:
		num = fmt.Sprintf("%.6f", amount)
	}
	switch currency {
	case "USD", "":
		return "$" + num
	case "EUR":
		return "€" + num
	}
	return num + " " + currency
}

// Table maps models to prices. Keys are a model name ("gpt-4o-mini"),
// which prices that model at every provider, or "provider/model", which
// prices it at that provider only and wins over the model name alone.
//
// A Table is immutable and safe for concurrent use.
type Table struct {
	currency string
	read     string
	prices   map[string]Price
}

// NewTable returns a table of prices in currency, read on the given date.
// Each price's empty Currency and Read are filled from the table's.
func NewTable(currency, read string, prices map[string]Price) (*Table, error) {
	t := &Table{currency: currency, read: read, prices: make(map[string]Price, len(prices))}
	for k, p := range prices {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("pricing: %s: %w", k, err)
		}
		t.prices[k] = t.fill(p)
	}
	return t, nil
}

func (t *Table) fill(p Price) Price {
	if p.Currency == "" {
		p.Currency = t.currency
	}
	if p.Read == "" {
		p.Read = t.read
	}
	return p
}

// Currency returns the table's default currency.
func (t *Table) Currency() string { return t.currency }

// Read returns the date the table's default prices were read.
func (t *Table) Read() string { return t.read }

// With returns a copy of t with prices added or overriding its own (keys
// as in Table). A nil t starts empty.
func (t *Table) With(prices map[string]Price) (*Table, error) {
	base := &Table{}
	if t != nil {
		base = t
	}
	out := &Table{currency: base.currency, read: base.read, prices: maps.Clone(base.prices)}
	if out.prices == nil {
		out.prices = map[string]Price{}
	}
	if out.currency == "" {
		out.currency = "USD"
	}
	for k, p := range prices {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("pricing: %s: %w", k, err)
		}
		out.prices[k] = out.fill(p)
	}
	return out, nil
}

// Lookup returns the price of model at provider: "provider/model" first,
// then the model name; each matches the model itself or a dated snapshot
// of it (the name followed by "-" and at least three digits, or by
// "-latest"), the longest name winning.
func (t *Table) Lookup(provider, model string) (Price, bool) {
	if t == nil || model == "" {
		return Price{}, false
	}
	if provider != "" {
		if p, ok := t.match(provider + "/" + model); ok {
			return p, true
		}
	}
	return t.match(model)
}

// match returns the price of name, or of the longest key that name is a
// snapshot of (the key, then a snapshotSuffix). Such a key ends where a
// '-' of name starts the suffix, so the dashes of name, right to left, are
// the candidates: a few map lookups, whatever the table's size.
func (t *Table) match(name string) (Price, bool) {
	if p, ok := t.prices[name]; ok {
		return p, true
	}
	for i := strings.LastIndexByte(name, '-'); i > 0; i = strings.LastIndexByte(name[:i], '-') {
		if !snapshotSuffix(name[i:]) {
			continue
		}
		if p, ok := t.prices[name[:i]]; ok {
			return p, true
		}
	}
	return Price{}, false
}

// snapshotSuffix reports whether s names a snapshot of a model: "-latest",
// or "-" followed by at least three digits ("-2024-07-18", "-20250514",
// "-001").
func snapshotSuffix(s string) bool {
	if s == "-latest" {
		return true
	}
	if len(s) < 4 || s[0] != '-' {
		return false
	}
	for _, c := range s[1:4] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Cost returns the cost of a response from model at provider: nothing for
// a cache hit, Unknown when the model has no price.
func (t *Table) Cost(provider, model string, u lm.Usage, cached bool) Cost {
	if cached {
		cur := "USD"
		if t != nil && t.currency != "" {
			cur = t.currency
		}
		if p, ok := t.Lookup(provider, model); ok {
			cur = p.Currency
		}
		return CacheHit(cur)
	}
	p, ok := t.Lookup(provider, model)
	if !ok {
		return Unknown()
	}
	return p.Cost(u)
}

// Priced is implemented by language models that know their own price,
// such as the runtime's (dspex.Runtime.LM): the model they call and its
// price, and false when the price is unknown.
type Priced interface {
	Price() (model string, p Price, ok bool)
}

//go:embed prices.yaml
var defaultYAML []byte

var defaultTable = sync.OnceValues(func() (*Table, error) {
	var f struct {
		Currency string           `yaml:"currency"`
		Read     string           `yaml:"read"`
		Models   map[string]Price `yaml:"models"`
	}
	if err := yaml.Unmarshal(defaultYAML, &f); err != nil {
		return nil, err
	}
	return NewTable(f.Currency, f.Read, f.Models)
})

// Default returns the prices shipped with dspex (see the package doc).
func Default() *Table {
	t, err := defaultTable()
	if err != nil {
		panic("pricing: embedded prices.yaml: " + err.Error()) // a build defect, caught by the tests
	}
	return t
}
