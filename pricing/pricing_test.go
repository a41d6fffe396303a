package pricing

import (
	"errors"
	"math"
	"testing"

	"github.com/dspex-go/dspex/lm"
)

func TestTableCost(t *testing.T) {
	table, err := Default().With(map[string]Price{
		"sim/sim-1":  {Input: 1, Output: 2},
		"sim/gpt-4o": {Input: 10, Output: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		provider, model string
		usage           lm.Usage
		cached          bool
		want            float64 // hand-computed, USD
		unknown         bool
		str             string
	}{
		{name: "gpt-4o-mini plain", provider: "openai", model: "gpt-4o-mini",
			usage: lm.Usage{PromptTokens: 1000, CompletionTokens: 500},
			want:  0.00045, str: "$0.000450"}, // 1000*0.15 + 500*0.60 = 450 µ$
		{name: "gpt-4o cached prompt", provider: "openai", model: "gpt-4o-2024-08-06",
			usage: lm.Usage{PromptTokens: 2000, CacheReadTokens: 1024, CompletionTokens: 100},
			want:  0.00472}, // 976*2.50 + 1024*1.25 + 100*10 = 2440 + 1280 + 1000
		{name: "claude snapshot", provider: "anthropic", model: "claude-sonnet-4-20250514",
			usage: lm.Usage{PromptTokens: 10000, CompletionTokens: 2000},
			want:  0.06, str: "$0.0600"}, // 10000*3 + 2000*15 = 60000 µ$
		{name: "no cached discount", provider: "openai", model: "gpt-3.5-turbo",
			usage: lm.Usage{PromptTokens: 1000, CacheReadTokens: 500, CompletionTokens: 100},
			want:  0.00065}, // 1000*0.50 + 100*1.50
		{name: "gemini snapshot, a million each", provider: "gemini", model: "gemini-2.5-flash-lite-001",
			usage: lm.Usage{PromptTokens: 1_000_000, CompletionTokens: 1_000_000},
			want:  0.5, str: "$0.5000"},
		{name: "provider override wins", provider: "sim", model: "gpt-4o",
			usage: lm.Usage{PromptTokens: 100_000, CompletionTokens: 100_000},
			want:  3, str: "$3.00"}, // 0.1M*10 + 0.1M*20
		{name: "config-added model", provider: "sim", model: "sim-1",
			usage: lm.Usage{PromptTokens: 500_000, CompletionTokens: 250_000},
			want:  1}, // 0.5*1 + 0.25*2
		{name: "unknown model", provider: "local", model: "llama-3-70b",
			usage: lm.Usage{PromptTokens: 1000, CompletionTokens: 1000}, unknown: true, str: "unknown"},
		{name: "variant is not a snapshot", provider: "openai", model: "gpt-4o-mini-audio-preview",
			usage: lm.Usage{PromptTokens: 1000}, unknown: true},
		{name: "override is per provider", provider: "other", model: "sim-1",
			usage: lm.Usage{PromptTokens: 1000}, unknown: true},
		{name: "claude cache read and write", provider: "anthropic", model: "claude-sonnet-4-20250514",
			usage: lm.Usage{PromptTokens: 10000, CacheReadTokens: 6000, CacheWriteTokens: 3000, CompletionTokens: 200},
			want:  0.01905}, // 1000*3 + 6000*0.30 + 3000*3.75 + 200*15 = 3000 + 1800 + 11250 + 3000 µ$
		{name: "claude haiku cache write only", provider: "anthropic", model: "claude-3-5-haiku-20241022",
			usage: lm.Usage{PromptTokens: 4000, CacheWriteTokens: 4000, CompletionTokens: 1000},
			want:  0.008}, // 4000*1.00 + 1000*4 = 8000 µ$
		{name: "write price missing: written at input", provider: "sim", model: "sim-1",
			usage: lm.Usage{PromptTokens: 1_000_000, CacheWriteTokens: 400_000},
			want:  1}, // 0.6M*1 + 0.4M*1
		{name: "cache counts beyond the prompt are capped", provider: "anthropic", model: "claude-sonnet-4",
			usage: lm.Usage{PromptTokens: 1000, CacheReadTokens: 800, CacheWriteTokens: 800},
			want:  0.00099}, // 800*0.30 + 200*3.75 = 240 + 750 µ$
		{name: "cache hit costs nothing", provider: "openai", model: "gpt-4o",
			usage: lm.Usage{PromptTokens: 1000, CompletionTokens: 1000}, cached: true,
			want: 0, str: "$0 (cache hit)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := table.Cost(tt.provider, tt.model, tt.usage, tt.cached)
			if c.Known() == tt.unknown {
				t.Fatalf("Known() = %v, want %v (%+v)", c.Known(), !tt.unknown, c)
			}
			if math.Abs(c.Amount-tt.want) > 1e-12 {
				t.Errorf("Amount = %.9f, want %.9f", c.Amount, tt.want)
			}
			if !tt.unknown && c.Currency != "USD" {
				t.Errorf("Currency = %q", c.Currency)
			}
			if tt.str != "" && c.String() != tt.str {
				t.Errorf("String() = %q, want %q", c.String(), tt.str)
			}
			if tt.cached != (c.CacheHits == 1) {
				t.Errorf("CacheHits = %d", c.CacheHits)
			}
		})
	}
}

func TestCostAdd(t *testing.T) {
	a := Cost{Amount: 0.5, Currency: "USD", Calls: 1}
	sum := (Cost{}).Add(a).Add(Unknown()).Add(CacheHit("USD"))
	if sum.Amount != 0.5 || sum.Calls != 3 || sum.Unpriced != 1 || sum.CacheHits != 1 || sum.Known() {
		t.Fatalf("sum = %+v", sum)
	}
	if got, want := sum.String(), "≥ $0.5000 (1 of 3 calls unpriced)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Cost{}).Add(Unknown()).Add(Unknown()).String(); got != "unknown" {
		t.Errorf("all unpriced: %q", got)
	}
	eur := Cost{Amount: 1, Currency: "EUR", Calls: 1}
	if mixed := a.Add(eur); mixed.Amount != 0.5 || mixed.Unpriced != 1 {
		t.Errorf("mixed currencies: %+v", mixed)
	}
}

func TestInvalidPrice(t *testing.T) {
	for _, p := range []Price{{Input: -1}, {Output: math.NaN()}, {CachedInput: math.Inf(1)}} {
		if _, err := Default().With(map[string]Price{"m": p}); !errors.Is(err, ErrInvalidPrice) {
			t.Errorf("%+v: err = %v", p, err)
		}
	}
}

func TestDefaultTable(t *testing.T) {
	d := Default()
	if d.Currency() != "USD" || d.Read() == "" {
		t.Fatalf("currency %q read %q", d.Currency(), d.Read())
	}
	for _, m := range []string{"gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", "claude-3-5-haiku", "gemini-2.5-pro", "gemini-2.5-flash"} {
		p, ok := d.Lookup("", m)
		if !ok || p.Input <= 0 || p.Output <= 0 || p.Read == "" {
			t.Errorf("%s: %+v %v", m, p, ok)
		}
	}
	// The verified Anthropic prices carry the date they were checked and
	// a cache-write price of 1.25 times input (the 5-minute cache; the page
	// lists Claude Haiku 3 at $0.30, a rounded figure, so it is left out).
	for _, m := range []string{"claude-opus-4-1", "claude-sonnet-4", "claude-3-5-haiku"} {
		p, _ := d.Lookup("anthropic", m)
		if p.Read == d.Read() || math.Abs(p.CacheWrite-1.25*p.Input) > 1e-9 {
			t.Errorf("%s: %+v", m, p)
		}
	}
}

// TestLookupRemembers: a Table answers a repeated Lookup as it answered
// the first, matched or not, and a table derived With other prices does
// not answer with its parent's memory.
func TestLookupRemembers(t *testing.T) {
	base, err := NewTable("USD", "2025-01-01", map[string]Price{"gpt-x": {Input: 1, Output: 2}, "acme/gpt-x": {Input: 3, Output: 4},
		"m": {Input: 7, Output: 7}, "m-001": {Input: 8, Output: 8}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		provider, model string
		want            float64
		ok              bool
	}{
		{"", "gpt-x", 1, true},
		{"other", "gpt-x-2024-07-18", 1, true},
		{"acme", "gpt-x", 3, true},
		{"acme", "gpt-y", 0, false},
		{"", "", 0, false},
		{"", "m-001-002", 8, true}, // the longest key the name is a snapshot of
		{"", "m-latest", 7, true},
		{"", "m-01", 0, false},       // "-01" is not a snapshot suffix
		{"", "gpt-x-mini", 0, false}, // nor "-mini"
	}
	for _, tt := range tests {
		for i := range 3 {
			p, ok := base.Lookup(tt.provider, tt.model)
			if ok != tt.ok || p.Input != tt.want {
				t.Errorf("lookup %d of %s/%s = %v, %v; want input %v, %v", i, tt.provider, tt.model, p.Input, ok, tt.want, tt.ok)
			}
		}
	}
	derived, err := base.With(map[string]Price{"gpt-y": {Input: 5, Output: 6}})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := derived.Lookup("acme", "gpt-y"); !ok || p.Input != 5 {
		t.Errorf("derived table: %v, %v; want its own price", p.Input, ok)
	}
	if _, ok := base.Lookup("acme", "gpt-y"); ok {
		t.Error("the base table learned the derived table's price")
	}
}
