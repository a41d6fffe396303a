package adapter

import (
	"regexp"
	"testing"
)

// headerRE is the marker grammar matchHeader implements by hand.
var headerRE = regexp.MustCompile(`^\[\[\s*##\s*(\w+)\s*##\s*\]\]`)

// isHeader reports whether line starts with a field marker.
func isHeader(line string) bool {
	_, _, ok := matchHeader(line)
	return ok
}

// checkHeader fails t when matchHeader and headerRE disagree on line.
func checkHeader(t *testing.T, line string) {
	t.Helper()
	name, end, ok := matchHeader(line)
	m := headerRE.FindStringSubmatchIndex(line)
	if ok != (m != nil) {
		t.Fatalf("matchHeader(%q) ok = %v, the regexp says %v", line, ok, m != nil)
	}
	if ok && (name != line[m[2]:m[3]] || end != m[1]) {
		t.Fatalf("matchHeader(%q) = %q, %d; the regexp gives %q, %d", line, name, end, line[m[2]:m[3]], m[1])
	}
}

func TestMatchHeader(t *testing.T) {
	for _, line := range []string{
		"[[ ## answer ## ]]",
		"[[ ## answer ## ]] rest of the line",
		"[[##answer##]]",
		"[[ \t## reasoning_2 ##\f]]",
		"[[ ## completed ## ]]",
		"[[ ## two words ## ]]",
		"[[ ## ## ]]",
		"[[ # answer ## ]]",
		"[[ ## answer ## ]",
		"[ ## answer ## ]]",
		"[[ ## ánswer ## ]]",
		"[[ ## answer ##]]x",
		"[[",
		"",
		"[[ ## a\u00a0## ]]",
	} {
		t.Run(line, func(t *testing.T) { checkHeader(t, line) })
	}
}

// FuzzMatchHeader checks the hand-written matcher against the regular
// expression it replaces.
func FuzzMatchHeader(f *testing.F) {
	for _, s := range []string{"[[ ## answer ## ]]", "[[##a_1##]] tail", "[[ ## ## ]]", "[[ ## a b ## ]]", "[[\r##x##\n]]"} {
		f.Add(s)
	}
	f.Fuzz(checkHeader)
}
