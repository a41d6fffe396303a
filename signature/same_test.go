package signature

import "testing"

func TestSame(t *testing.T) {
	s := MustParse("question -> answer")
	copied := s
	rebuilt, err := New(s.Name(), s.Instructions(), s.Inputs(), s.Outputs())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		t    Signature
		want bool
	}{
		{"itself", s, true},
		{"a copy", copied, true},
		{"built again from its parts", rebuilt, false},
		{"other instructions", s.WithInstructions("Answer briefly."), false},
		{"same instructions, copied fields", s.WithInstructions(s.Instructions()), false},
		{"other name", s.WithName("QA"), false},
		{"zero", Signature{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Same(tt.t); got != tt.want {
				t.Errorf("Same = %v, want %v", got, tt.want)
			}
		})
	}
	if !(Signature{}).Same(Signature{}) {
		t.Error("the zero signature is not the same as itself")
	}
}
