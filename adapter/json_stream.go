package adapter

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/dspex-go/dspex/signature"
)

// JSONStream parses a reply in the JSON format incrementally: it follows
// the first JSON object of the reply and streams the string values of its
// top-level keys that name output fields exactly, decoded, as they
// arrive. Other values (numbers, arrays, objects) are not streamed: they
// arrive with the prediction. For a well-formed reply (the first '{'
// starts the object, no key repeated) each streamed field's deltas
// concatenate to the string JSON.Parse decodes for it.
type JSONStream struct {
	sig   signature.Signature
	state jsonState
	depth int    // nesting depth inside the top-level object
	key   []byte // the raw key being read
	field string // the output field whose string value is being read
	raw   []byte // undecoded bytes of the current string value
	esc   bool   // the previous byte was a backslash inside a string
	inStr bool   // inside a string of a nested value
	done  map[string]bool
}

type jsonState int

const (
	jsBefore   jsonState = iota // before the object
	jsKey                       // expecting a key or '}'
	jsInKey                     // inside a key string
	jsColon                     // expecting ':'
	jsValue                     // expecting a value
	jsInString                  // inside a top-level string value
	jsNested                    // inside a nested value or a non-string scalar
	jsAfter                     // after the object: the rest is ignored
)

// NewJSONStream returns an incremental parser of JSON replies for sig.
func NewJSONStream(sig signature.Signature) *JSONStream {
	return &JSONStream{sig: sig, done: map[string]bool{}}
}

// Write implements FieldStream.
func (s *JSONStream) Write(text string) []Delta {
	var out []Delta
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch s.state {
		case jsBefore:
			if c == '{' {
				s.state = jsKey
			}
		case jsKey:
			switch c {
			case '"':
				s.state, s.key = jsInKey, s.key[:0]
			case '}':
				s.state = jsAfter
			}
		case jsInKey:
			switch {
			case s.esc:
				s.esc = false
				s.key = append(s.key, c)
			case c == '\\':
				s.esc = true
				s.key = append(s.key, c)
			case c == '"':
				s.state = jsColon
			default:
				s.key = append(s.key, c)
			}
		case jsColon:
			if c == ':' {
				s.state = jsValue
			}
		case jsValue:
			switch {
			case c == '"':
				s.state, s.raw, s.field = jsInString, s.raw[:0], s.streamed()
			case c == '{' || c == '[':
				s.state, s.depth = jsNested, 1
			case c == '}':
				s.state = jsAfter
			case c == ',':
				s.state = jsKey
			case c > ' ':
				s.state, s.depth = jsNested, 0
			}
		case jsInString:
			switch {
			case s.esc:
				s.esc = false
				s.raw = append(s.raw, c)
			case c == '\\':
				s.esc = true
				s.raw = append(s.raw, c)
			case c == '"':
				out = s.flush(out, true)
				s.state, s.field = jsKey, ""
			default:
				s.raw = append(s.raw, c)
			}
		case jsNested:
			out = s.nested(c, out)
		}
	}
	return s.flush(out, false)
}

// nested skips a nested value or a scalar; depth 0 is a scalar, which
// ends at ',' or '}'.
func (s *JSONStream) nested(c byte, out []Delta) []Delta {
	if s.inStr {
		switch {
		case s.esc:
			s.esc = false
		case c == '\\':
			s.esc = true
		case c == '"':
			s.inStr = false
		}
		return out
	}
	switch c {
	case '"':
		s.inStr = true
	case '{', '[':
		s.depth++
	case '}', ']':
		if s.depth == 0 {
			s.state = jsAfter // the scalar ended the object
			return out
		}
		s.depth--
		if s.depth == 0 {
			s.state = jsKey
		}
	case ',':
		if s.depth == 0 {
			s.state = jsKey
		}
	}
	return out
}

// Close implements FieldStream.
func (s *JSONStream) Close() []Delta { return nil }

// streamed returns the output field the current key names exactly, or ""
// when its value is not to be streamed.
func (s *JSONStream) streamed() string {
	var name string
	if err := json.Unmarshal(append(append([]byte{'"'}, s.key...), '"'), &name); err != nil {
		return ""
	}
	for _, f := range s.sig.Outputs() {
		if f.Name == name && !s.done[name] {
			s.done[name] = true
			return name
		}
	}
	return ""
}

// flush decodes the complete part of the current string value and emits
// it. At the end of the string (final) everything left is decoded.
func (s *JSONStream) flush(out []Delta, final bool) []Delta {
	if s.state != jsInString && !final || s.field == "" || len(s.raw) == 0 {
		if final {
			s.raw = s.raw[:0]
		}
		return out
	}
	n := len(s.raw)
	if !final {
		n = safeCut(s.raw)
	}
	if n == 0 {
		return out
	}
	var text string
	if err := json.Unmarshal(append(append([]byte{'"'}, s.raw[:n]...), '"'), &text); err != nil {
		s.field = "" // not a valid JSON string: stop streaming it
		return out
	}
	s.raw = append(s.raw[:0], s.raw[n:]...)
	if text == "" {
		return out
	}
	return append(out, Delta{Field: s.field, Text: text})
}

// safeCut returns the length of the prefix of raw (the inside of a JSON
// string) that decodes on its own: it stops before an unfinished escape,
// a \u escape of a high surrogate whose pair has not arrived, or an
// incomplete UTF-8 sequence.
func safeCut(raw []byte) int {
	n := len(raw)
	for i := 0; i < n; {
		switch {
		case raw[i] != '\\':
			i++
		case i+1 >= n:
			return i
		case raw[i+1] != 'u':
			i += 2
		case i+6 > n:
			return i
		case highSurrogate(raw[i+2:i+6]) && i+12 > n:
			return i
		default:
			i += 6
		}
	}
	for k := 1; k <= 3 && k <= n; k++ {
		b := raw[n-k]
		if b < utf8.RuneSelf {
			break
		}
		if utf8.RuneStart(b) {
			if !utf8.FullRune(raw[n-k : n]) {
				return n - k
			}
			break
		}
	}
	return n
}

// highSurrogate reports whether the four hex digits h are in D800-DBFF.
func highSurrogate(h []byte) bool {
	l := strings.ToLower(string(h))
	return l[0] == 'd' && l[1] >= '8' && l[1] <= 'b'
}
