package adapter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors that callers branch on. They are matched with errors.Is,
// usually through the *ParseError that wraps them.
var (
	// ErrMissingField means the completion lacks one of the signature's
	// output fields.
	ErrMissingField = errors.New("adapter: missing output field")
	// ErrEmptyCompletion means the completion is empty or only whitespace.
	ErrEmptyCompletion = errors.New("adapter: empty completion")
	// ErrNoJSONObject means the JSON adapter found no JSON object in the
	// completion.
	ErrNoJSONObject = errors.New("adapter: no JSON object in completion")
	// ErrInvalidValue means an output field's value cannot be coerced to the
	// field's declared type (an int field holding "forty two").
	ErrInvalidValue = errors.New("adapter: invalid value")
)

// ParseError reports a completion that does not yield the signature's
// outputs: an empty reply, a missing output field or a value that cannot be
// coerced to its field's type. Err is ErrEmptyCompletion, ErrNoJSONObject,
// ErrMissingField, or an error matching ErrInvalidValue that says why the
// value was rejected.
type ParseError struct {
	// Adapter names the adapter that parsed: "chat" or "json".
	Adapter string
	// Field names the output field at fault; empty when the problem is the
	// completion as a whole.
	Field string
	// Raw is the whole completion.
	Raw string
	// Value is the field's raw text (for the JSON adapter, the field's value
	// as JSON); empty when Field is empty or the field is missing.
	Value string
	// Path locates the offending value inside the field, starting with the
	// field's name: "answer.items[2].name". It is Field for a value that is
	// wrong as a whole, and empty when Field is.
	Path string
	// Err is the reason.
	Err error
}

// maxQuoted bounds the text of completions and values quoted in error
// messages.
const maxQuoted = 80

// Error implements error. The completion is quoted, truncated to a few
// dozen characters.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("adapter: ")
	if e.Adapter != "" {
		b.WriteString(e.Adapter)
		b.WriteByte(' ')
	}
	b.WriteString("reply")
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	if e.Path != "" && e.Path != e.Field {
		fmt.Fprintf(&b, ": at %s", e.Path)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "adapter: "))
	}
	if strings.TrimSpace(e.Raw) != "" {
		fmt.Fprintf(&b, " (completion %q)", truncate(e.Raw, maxQuoted))
	}
	return b.String()
}

// Unwrap returns the reason.
func (e *ParseError) Unwrap() error { return e.Err }

// MissingInputError reports that the inputs of a call lack one of the
// signature's input fields (or hold nil for it). Call returns it before
// sending anything to the LM.
type MissingInputError struct {
	// Field names the missing input field.
	Field string
}

// Error implements error.
func (e *MissingInputError) Error() string {
	return fmt.Sprintf("adapter: missing input field %q", e.Field)
}

// valueError is why a value could not be coerced. It matches
// ErrInvalidValue. path locates the value inside the field (".items[2]
// .name"), empty for the field's value itself.
type valueError struct {
	path   string
	reason string
}

func (e *valueError) Error() string        { return e.reason }
func (e *valueError) Is(target error) bool { return target == ErrInvalidValue }

// invalid returns a valueError with a formatted reason.
func invalid(format string, args ...any) error {
	return &valueError{reason: fmt.Sprintf(format, args...)}
}

// within prefixes the path of a nested value's error with where the value
// sits: an index ("[2]") or a key (".name", or `["a b"]` for keys that are
// not identifiers).
func within(where string, err error) error {
	var ve *valueError
	if errors.As(err, &ve) {
		return &valueError{path: where + ve.path, reason: ve.reason}
	}
	return fmt.Errorf("%s: %w", where, err)
}

// index is the path segment of a list element.
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// key is the path segment of a property or dict key.
func key(k string) string {
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return "[" + strconv.Quote(k) + "]"
		}
	}
	if k == "" {
		return `[""]`
	}
	return "." + k
}

// pathOf returns where err says the bad value sits, below the field.
func pathOf(err error) string {
	var ve *valueError
	if errors.As(err, &ve) {
		return ve.path
	}
	return ""
}

// fieldError wraps a coercion error of an output field in a *ParseError
// whose Path names the bad value.
func fieldError(adapter string, f string, raw, value string, err error) *ParseError {
	return &ParseError{Adapter: adapter, Field: f, Raw: raw, Value: value, Path: f + pathOf(err), Err: err}
}

// truncate returns s cut to at most n runes, with an ellipsis when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i] + "…"
}
