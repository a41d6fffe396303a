package adapter

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dspex-go/dspex/signature"
)

// Delta is a piece of an output field's text, as a streamed reply arrives.
type Delta struct {
	// Field is the output field the text belongs to.
	Field string `json:"field"`
	// Text continues the field's text.
	Text string `json:"text"`
}

// FieldStream parses a reply incrementally as its text arrives, and says
// which output field each new piece of text belongs to. Implementations
// are not safe for concurrent use; make one per reply.
type FieldStream interface {
	// Write takes the next piece of the reply and returns the deltas it
	// completes, in order.
	Write(text string) []Delta
	// Close says the reply is complete and returns the last deltas.
	Close() []Delta
}

// NewFieldStream returns the incremental parser of adapter a for sig: a
// ChatStream for Chat, a JSONStream for JSON, and nil for other adapters,
// whose replies are parsed only once complete. A Prepared gets the parser
// of the adapter it wraps.
func NewFieldStream(a Adapter, sig signature.Signature) FieldStream {
	switch unwrap(a).(type) {
	case Chat, *Chat:
		return NewChatStream(sig)
	case JSON, *JSON:
		return NewJSONStream(sig)
	}
	return nil
}

// ChatStream parses a reply in the Chat format incrementally. Each output
// field's deltas concatenate to exactly the text Chat.Parse takes for that
// field (before coercion): the text after its marker up to the next marker,
// trimmed of surrounding space, from the first section of that name.
// Markers are never part of a delta; text before the first marker and in
// sections of unknown names is dropped.
//
// A section whose name matches a field only up to case is held back until
// the reply is complete, because Chat.Parse prefers a later section of the
// exact name.
type ChatStream struct {
	sig   signature.Signature
	carry string // an incomplete UTF-8 sequence at the end of the input
	line  string // the unterminated line, while it may still be a marker
	// inLine reports that part of the current line was already taken as
	// text (so it is not a marker line).
	inLine bool
	// markerLine reports that the current line began with a marker: its
	// trailing space is trimmed.
	markerLine bool

	cur     *chatSection // nil: before the first marker or in an ignored section
	seen    map[string]bool
	pending map[string]*chatSection // sections matched up to case, by field
	order   []string                // fields of pending, in arrival order
}

// chatSection is the streaming state of one field's section.
type chatSection struct {
	field   string
	started bool            // non-space text was taken
	space   strings.Builder // space held back until more text follows
	lineWS  int             // bytes of space held back from the marker line
	held    *strings.Builder
}

// NewChatStream returns an incremental parser of Chat replies for sig.
func NewChatStream(sig signature.Signature) *ChatStream {
	return &ChatStream{sig: sig, seen: map[string]bool{}, pending: map[string]*chatSection{}}
}

// Write implements FieldStream.
func (s *ChatStream) Write(text string) []Delta {
	text = s.carry + text
	s.carry = ""
	if n := incompleteSuffix(text); n > 0 {
		text, s.carry = text[:len(text)-n], text[len(text)-n:]
	}
	var out []Delta
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			out = s.partial(text, out)
			break
		}
		out = s.partial(text[:i], out)
		out = s.endLine(out)
		text = text[i+1:]
	}
	return out
}

// Close implements FieldStream.
func (s *ChatStream) Close() []Delta {
	var out []Delta
	if s.carry != "" {
		out = s.partial(s.carry, out)
		s.carry = ""
	}
	out = s.endLine(out)
	for _, f := range s.order {
		if s.seen[f] {
			continue // an exact section came later and won
		}
		if t := s.pending[f].held.String(); t != "" {
			out = append(out, Delta{Field: f, Text: t})
		}
	}
	s.order = nil
	return out
}

// partial takes more text of the current line.
func (s *ChatStream) partial(text string, out []Delta) []Delta {
	if s.inLine {
		return s.take(text, out)
	}
	s.line += text
	trimmed := strings.TrimLeftFunc(s.line, unicode.IsSpace)
	switch {
	case trimmed == "" || trimmed == "[":
		return out // may still become a marker
	case strings.HasPrefix(trimmed, "[["):
		if !strings.Contains(trimmed, "]]") {
			return out // undecided until the marker would close
		}
		if name, end, ok := matchHeader(trimmed); ok {
			s.line, s.inLine, s.markerLine = "", true, true
			s.open(name)
			return s.take(trimmed[end:], out)
		}
	}
	line := s.line
	s.line, s.inLine = "", true
	return s.take(line, out)
}

// endLine ends the current line.
func (s *ChatStream) endLine(out []Delta) []Delta {
	if !s.inLine && s.line != "" {
		// A line that ends while it could still have been a marker
		// and is not one: whitespace, "[", or "[[..." without "]]".
		line := s.line
		s.line = ""
		if _, _, ok := matchHeader(strings.TrimSpace(line)); !ok {
			out = s.take(line, out)
		}
	}
	if s.markerLine && s.cur != nil {
		// Chat.Parse trims the rest of a marker line on both sides.
		sp := s.cur.space.String()
		s.cur.space.Reset()
		s.cur.space.WriteString(sp[:len(sp)-s.cur.lineWS])
	}
	if s.cur != nil {
		s.cur.lineWS = 0
	}
	s.line, s.inLine, s.markerLine = "", false, false
	return s.take("\n", out)
}

// open starts the section of a marker named name.
func (s *ChatStream) open(name string) {
	s.cur = nil
	field, exact, ok := s.fieldFor(name)
	if !ok {
		return
	}
	sec := &chatSection{field: field}
	switch {
	case exact:
		if s.seen[field] {
			return // the first section of a name wins
		}
		s.seen[field] = true
	default:
		if s.seen[field] || s.pending[field] != nil {
			return
		}
		sec.held = &strings.Builder{}
		s.pending[field] = sec
		s.order = append(s.order, field)
	}
	s.cur = sec
}

// fieldFor maps a marker name to the output field it stands for, as
// Chat.Parse's lookup does.
func (s *ChatStream) fieldFor(name string) (field string, exact, ok bool) {
	for _, f := range s.sig.Outputs() {
		if f.Name == name {
			return f.Name, true, true
		}
	}
	match := ""
	for _, f := range s.sig.Outputs() {
		if strings.EqualFold(f.Name, name) {
			if match != "" {
				return "", false, false // ambiguous
			}
			match = f.Name
		}
	}
	return match, false, match != ""
}

// take adds text to the current section, holding back space that may turn
// out to be trailing.
func (s *ChatStream) take(text string, out []Delta) []Delta {
	sec := s.cur
	if sec == nil || text == "" {
		return out
	}
	if !sec.started {
		text = strings.TrimLeftFunc(text, unicode.IsSpace)
		if text == "" {
			return out
		}
		sec.started = true
	}
	body := strings.TrimRightFunc(text, unicode.IsSpace)
	if body == "" {
		sec.space.WriteString(text)
		if s.markerLine {
			sec.lineWS += len(text)
		}
		return out
	}
	emit := sec.space.String() + body
	sec.space.Reset()
	sec.space.WriteString(text[len(body):])
	sec.lineWS = 0
	if s.markerLine {
		sec.lineWS = len(text) - len(body)
	}
	if sec.held != nil {
		sec.held.WriteString(emit)
		return out
	}
	return append(out, Delta{Field: sec.field, Text: emit})
}

// incompleteSuffix returns the length of an incomplete UTF-8 sequence at
// the end of s (0 when s ends with a whole rune or invalid bytes).
func incompleteSuffix(s string) int {
	for n := 1; n <= 3 && n <= len(s); n++ {
		b := s[len(s)-n]
		if b < 0x80 {
			return 0 // ASCII: nothing pending
		}
		if utf8.RuneStart(b) {
			if utf8.FullRuneInString(s[len(s)-n:]) {
				return 0
			}
			return n
		}
	}
	return 0
}
