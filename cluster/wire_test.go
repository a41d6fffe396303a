package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

func TestValuesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   programs.Values
		want programs.Values
	}{
		{"empty", nil, programs.Values{}},
		{"strings", programs.Values{"question": "2+2?", "answer": "4"}, programs.Values{"question": "2+2?", "answer": "4"}},
		{"numbers", programs.Values{"n": 3, "x": 0.5, "big": int64(1) << 60}, programs.Values{"n": int64(3), "x": 0.5, "big": int64(1) << 60}},
		{"nested", programs.Values{"l": []any{1, "a", map[string]any{"k": 2.5}}}, programs.Values{"l": []any{int64(1), "a", map[string]any{"k": 2.5}}}},
		{"whole floats stay floats", programs.Values{"f": 2.0, "z": 0.0, "l": []any{3.0, int64(3)}, "fs": []float64{1, 1.5}},
			programs.Values{"f": 2.0, "z": 0.0, "l": []any{3.0, int64(3)}, "fs": []any{1.0, 1.5}}},
		{"large and small", programs.Values{"big": 1e300, "tiny": 5e-324}, programs.Values{"big": 1e300, "tiny": 5e-324}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeValues(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeValues(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
}

func TestDecodeValuesRejects(t *testing.T) {
	for name, in := range map[string]string{
		"out of range":  `{"x":1e400}`,
		"nested inf":    `{"l":[1,{"k":-1e999}]}`,
		"trailing data": `{"a":1} {"b":2}`,
		"not an object": `[1,2]`,
		"truncated":     `{"a":`,
	} {
		if v, err := decodeValues([]byte(in)); err == nil {
			t.Errorf("%s: decoded %v", name, v)
		}
	}
}

func FuzzDecodeValues(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1.5,"x"],"c":{"d":null}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte(`{"x":1e400}`))
	f.Add([]byte(`{"a":1} trailing`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeValues(b)
		if err != nil {
			return
		}
		again, err := encodeValues(v)
		if err != nil {
			t.Fatalf("decoded %v does not encode: %v", v, err)
		}
		w, err := decodeValues(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if d := cmp.Diff(v, w); d != "" {
			t.Errorf("not stable (-first +second):\n%s", d)
		}
	})
}

func TestRegistry(t *testing.T) {
	var r Registry
	ctor := func() (programs.Program, error) { return nil, nil }
	if err := r.Register("b", ctor); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("a", ctor); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		kind string
		ctor Constructor
	}{{"", ctor}, {"c", nil}, {"a", ctor}} {
		if err := r.Register(bad.kind, bad.ctor); err == nil {
			t.Errorf("Register(%q) succeeded", bad.kind)
		}
	}
	if d := cmp.Diff([]string{"a", "b"}, r.Kinds()); d != "" {
		t.Error(d)
	}
	if _, ok := r.Lookup("z"); ok {
		t.Error("Lookup of an unknown kind succeeded")
	}
}

func TestRemoteErrorKeepsTypes(t *testing.T) {
	pe := &lm.ProviderError{Provider: "openai", Model: "m", Status: 429, Retryable: true, RetryAfter: 2 * time.Second,
		Err: lm.ErrRateLimited}
	for _, tc := range []struct {
		name   string
		err    error
		is     []error
		status int // of the *lm.ProviderError found, 0 for none
	}{
		{"provider", fmt.Errorf("predict: %w", pe), []error{lm.ErrRateLimited, ErrRemote}, 429},
		{"deadline", fmt.Errorf("predict: %w", context.DeadlineExceeded), []error{context.DeadlineExceeded, ErrRemote}, 0},
		{"plain", errors.New("boom"), []error{ErrRemote}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := error(remoteError(&pb.Result{Node: "n", ErrorKind: KindProgram, Error: tc.err.Error(),
				Cause: chatErrorToWire(tc.err)}))
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("%v does not match %v", err, target)
				}
			}
			var got *lm.ProviderError
			switch found := errors.As(err, &got); {
			case tc.status == 0 && found:
				t.Errorf("found a provider error %v", got)
			case tc.status != 0 && (!found || got.Status != tc.status || !got.Retryable || got.RetryAfter != 2*time.Second):
				t.Errorf("provider error %+v", got)
			}
			if tc.status != 0 && !lm.IsRetryable(err) {
				t.Errorf("%v is not retryable", err)
			}
		})
	}
}
