package table

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		rows [][]string
		want string
	}{
		{"none", nil, ""},
		{"one cell", [][]string{{"a"}}, "a\n"},
		{"columns", [][]string{{"#", "kind", "score"}, {"10", "full", "1.00"}},
			"#   kind  score\n10  full  1.00\n"},
		{"empty trailing cells leave no spaces", [][]string{{"a", "bb", "c"}, {"aaa", "", ""}},
			"a    bb  c\naaa\n"},
		{"empty middle cell", [][]string{{"a", "", "c"}, {"b", "xx", "d"}},
			"a      c\nb  xx  d\n"},
		{"runes, not bytes", [][]string{{"héllo…", "x"}, {"a", "y"}},
			"héllo…  x\na       y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Write(&b, tt.rows); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
			if s := String(tt.rows); s != tt.want {
				t.Errorf("String: got %q", s)
			}
		})
	}
}

func TestWriteRejectsBadCells(t *testing.T) {
	for _, c := range []string{"a\tb", "a\nb", "a\xffb"} {
		if err := Write(&strings.Builder{}, [][]string{{"x", c}}); err == nil {
			t.Errorf("%q accepted", c)
		}
	}
	if got := String([][]string{{"a\tb", "c"}}); got != "a b  c\n" {
		t.Errorf("String cleans to %q", got)
	}
}

// FuzzWrite checks that every line has the same column starts and no
// trailing space.
func FuzzWrite(f *testing.F) {
	f.Add("a", "bb", "ccc", "")
	f.Add("héllo", "", "x y", "…")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		rows := [][]string{{a, b}, {c, d}}
		out := String(rows)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines in %q", len(lines), out)
		}
		for _, l := range lines {
			if strings.HasSuffix(l, " ") {
				t.Errorf("trailing space in %q", l)
			}
		}
		// The second column starts at the same rune offset on both lines
		// when both have a second cell that does not start with a space.
		w := max(utf8.RuneCountInString(cleanCell(a)), utf8.RuneCountInString(cleanCell(c))) + 2
		for i, l := range lines {
			second := cleanCell(rows[i][1])
			if strings.TrimRight(second, " ") == "" || !utf8.ValidString(l) {
				continue
			}
			if r := []rune(l); len(r) < w || string(r[w:]) != strings.TrimRight(second, " ") {
				t.Errorf("line %q: second column %q not at rune %d", l, second, w)
			}
		}
	})
}

// cleanCell is a cell as String writes it.
func cleanCell(c string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("\t\n\r\v\f", r) {
			return ' '
		}
		return r
	}, strings.ReplaceAll(c, "\xff", " "))
}
