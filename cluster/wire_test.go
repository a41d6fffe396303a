package cluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"

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

func FuzzDecodeValues(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1.5,"x"],"c":{"d":null}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
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
