package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// hugeReplyServer answers every chat completion with a body of size bytes
// (a JSON completion whose content is padding), streamed without holding
// it in memory; announce sets Content-Length.
func hugeReplyServer(t *testing.T, size int64, announce bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		head := `{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"`
		tail := `"}}]}`
		w.Header().Set("Content-Type", "application/json")
		if announce {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		_, _ = io.WriteString(w, head)
		pad := bytes.Repeat([]byte("a"), 64<<10)
		for left := size - int64(len(head)+len(tail)); left > 0; left -= int64(len(pad)) {
			if _, err := w.Write(pad[:min(int64(len(pad)), left)]); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, tail)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// TestHostileInputsRefused: each oversized or hostile input fails with its
// clear, typed error, and the memory allocated to refuse it is bounded
// (runtime.MemStats.TotalAlloc around the call), far below what the input
// would cost if it were processed.
func TestHostileInputsRefused(t *testing.T) {
	ctx := context.Background()
	sig := signature.MustParse("question -> answer")
	typed := func(t *testing.T) *programs.Predictor {
		p, err := programs.NewPredictFrom(signature.MustParse("question, n: int -> answer"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	savedDemo := func(n, answer string) string {
		return `{"dspex": 1, "predictors": [{"name": "self", "signature": {"instructions": "x", "fields": [
			{"name": "question", "role": "input", "type": "str"}, {"name": "n", "role": "input", "type": "int"},
			{"name": "answer", "role": "output", "type": "str"}]},
			"demos": [{"question": "q", "n": ` + n + `, "answer": ` + answer + `}]}]}`
	}
	const mib = 1 << 20
	hugeSig := "a ->-> " + strings.Repeat("b", mib)
	tests := []struct {
		name     string
		run      func(t *testing.T) error
		check    func(error) bool
		text     string // the message names the problem
		maxAlloc uint64
	}{
		{
			name: "50 MB LM reply",
			run: func(t *testing.T) error {
				m, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: hugeReplyServer(t, 50*mib, false), APIKey: "sk-x", Model: "m"})
				if err != nil {
					t.Fatal(err)
				}
				_, err = m.Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
				return err
			},
			check:    func(err error) bool { return errors.Is(err, lm.ErrResponseTooLarge) && !lm.IsRetryable(err) },
			text:     "larger than 8388608 bytes",
			maxAlloc: 64 * mib,
		},
		{
			name: "LM reply announced too large",
			run: func(t *testing.T) error {
				m, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: hugeReplyServer(t, 2*mib, true), APIKey: "sk-x", Model: "m",
					MaxResponseBytes: mib})
				if err != nil {
					t.Fatal(err)
				}
				_, err = m.Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}})
				return err
			},
			check:    func(err error) bool { return errors.Is(err, lm.ErrResponseTooLarge) },
			text:     "larger than 1048576 bytes",
			maxAlloc: 4 * mib,
		},
		{
			name: "10 MB nested-bracket reply",
			run: func(t *testing.T) error {
				_, err := adapter.JSON{}.Parse(sig, strings.Repeat("{", 5*mib)+strings.Repeat("}", 5*mib))
				return err
			},
			check:    func(err error) bool { return errors.Is(err, adapter.ErrNoJSONObject) },
			text:     "",
			maxAlloc: 80 * mib,
		},
		{
			name: "57 MB saved program",
			run: func(t *testing.T) error {
				r := io.MultiReader(strings.NewReader(`{"dspex": 1, "predictors": [{"name": "", "demos": [{"question": "`),
					io.LimitReader(repeatReader('a'), 57*mib))
				_, err := programs.Load(r, typed(t))
				return err
			},
			check:    func(err error) bool { return errors.Is(err, programs.ErrStateTooLarge) },
			text:     "more than 16777216 bytes",
			maxAlloc: 80 * mib,
		},
		{
			name: "string for an int demo value",
			run: func(t *testing.T) error {
				_, err := programs.Load(strings.NewReader(savedDemo(`"7"`, `"a"`)), typed(t))
				return err
			},
			check:    func(err error) bool { return errors.Is(err, programs.ErrDemoType) },
			text:     `demo 0, field "n": want int, found a string`,
			maxAlloc: mib,
		},
		{
			name: "object for a str demo value",
			run: func(t *testing.T) error {
				_, err := programs.Load(strings.NewReader(savedDemo(`7`, `{"a": 1}`)), typed(t))
				return err
			},
			check:    func(err error) bool { return errors.Is(err, programs.ErrDemoType) },
			text:     `demo 0, field "answer": want str, found an object`,
			maxAlloc: mib,
		},
		{
			name: "1e300 for an int demo value",
			run: func(t *testing.T) error {
				_, err := programs.Load(strings.NewReader(savedDemo(`1e300`, `"a"`)), typed(t))
				return err
			},
			check:    func(err error) bool { return errors.Is(err, programs.ErrDemoType) },
			text:     `field "n": want int, found 1e300, not an integer within int64`,
			maxAlloc: mib,
		},
		{
			name: "1 MB signature string failing at position 2",
			run: func(t *testing.T) error {
				_, err := signature.Parse(hugeSig)
				return err
			},
			check: func(err error) bool {
				var pe *signature.ParseError
				return errors.As(err, &pe) && pe.Pos == signature.MaxLength
			},
			text:     fmt.Sprintf("at position %d: expected a signature of at most %d bytes", signature.MaxLength, signature.MaxLength),
			maxAlloc: 64 << 10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := tt.run(t)
			runtime.ReadMemStats(&after)
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want the typed error saying %q", err, tt.text)
			}
			got := after.TotalAlloc - before.TotalAlloc
			if got > tt.maxAlloc {
				t.Fatalf("allocated %d bytes to refuse it, want at most %d", got, tt.maxAlloc)
			}
			t.Logf("%v (allocated %.1f MiB)", err, float64(got)/mib)
		})
	}
}

// repeatReader is an endless stream of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
