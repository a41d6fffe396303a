package adapter

import "testing"

func TestTrailingCommas(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1}`, `{"a": 1}`},
		{`{"a": 1,}`, `{"a": 1}`},
		{`[1, 2 ,  ]`, `[1, 2   ]`},
		{"{\"a\": [1,\n\t],\r\n}", "{\"a\": [1\n\t]\r\n}"},
		{`{"a": "x,}"}`, `{"a": "x,}"}`},
		{`{"a": "q\",]",}`, `{"a": "q\",]"}`},
		{`,`, `,`},
		{``, ``},
	}
	for _, tt := range tests {
		got := dropTrailingCommas(tt.in)
		if got != tt.want {
			t.Errorf("dropTrailingCommas(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if has := hasTrailingComma(tt.in); has != (tt.want != tt.in) {
			t.Errorf("hasTrailingComma(%q) = %v", tt.in, has)
		}
	}
}
