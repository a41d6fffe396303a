package adapter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// This file holds the parts of the prompt that the Chat and JSON adapters
// share: the field list and objective of the system message, and the user
// messages that carry input values.

// structureIntro opens the structure section of the system message.
const structureIntro = "All interactions will be structured in the following way, with the appropriate values filled in."

// errZeroSignature is returned when an adapter is given the zero Signature.
var errZeroSignature = errors.New("adapter: zero signature (build it with signature.New, Parse or Of)")

// systemMessage joins the three parts of DSPy's system message.
func systemMessage(sig signature.Signature, structure string) string {
	return "Your input fields are:\n" + describeFields(sig.Inputs()) + "\n" +
		"Your output fields are:\n" + describeFields(sig.Outputs()) + "\n" +
		structure + "\n" +
		objective(sig.Instructions())
}

// describeFields lists fields as "1. `name` (type): description", as DSPy's
// get_field_description_string does: the colon and its space are there
// even without a description, and only the end of the whole list is
// trimmed, so every line but the last of undescribed fields ends in ": ".
func describeFields(fs []signature.Field) string {
	lines := make([]string, len(fs))
	for i, f := range fs {
		lines[i] = strconv.Itoa(i+1) + ". `" + f.Name + "` (" + f.Type.String() + "): " + f.Desc + typeDescription(f.Type)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// objective states the task: the instructions, dedented, each line
// indented by eight spaces.
func objective(instructions string) string {
	var b strings.Builder
	b.WriteString("In adhering to this structure, your objective is: ")
	for _, line := range splitLines(dedent(instructions)) {
		b.WriteString("\n        ")
		b.WriteString(line)
	}
	return b.String()
}

// splitLines splits s at line breaks like Python's str.splitlines: a final
// line break does not start an empty line.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// dedent removes the leading whitespace common to all non-blank lines, like
// Python's textwrap.dedent; whitespace-only lines become empty.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	prefix, first := "", true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		switch {
		case first:
			prefix, first = indent, false
		case strings.HasPrefix(indent, prefix):
		case strings.HasPrefix(prefix, indent):
			prefix = indent
		default:
			n := 0
			for n < len(prefix) && n < len(indent) && prefix[n] == indent[n] {
				n++
			}
			prefix = prefix[:n]
		}
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			lines[i] = ""
		} else {
			lines[i] = strings.TrimPrefix(l, prefix)
		}
	}
	return strings.Join(lines, "\n")
}

// fieldBlocks renders "[[ ## name ## ]]\n<value>" blocks separated by blank
// lines.
func fieldBlocks(fs []signature.Field, value func(signature.Field) string) string {
	blocks := make([]string, len(fs))
	for i, f := range fs {
		blocks[i] = header(f.Name) + "\n" + value(f)
	}
	return strings.TrimSpace(strings.Join(blocks, "\n\n"))
}

// header returns the marker line of a field.
func header(name string) string { return "[[ ## " + name + " ## ]]" }

// userMessage renders prefix, the input fields values holds (a key set to
// nil is rendered as None, as DSPy renders a key holding None), then
// requirements (if any), as DSPy's format_user_message_content. Image
// fields make it a message with content parts (see media.go).
func userMessage(sig signature.Signature, values Values, prefix, requirements string) (lm.Message, error) {
	// The text since the last image grows in text; msg holds the parts
	// before it, and stays nil for a message without images (most are).
	var (
		text strings.Builder
		msg  pieces
	)
	text.Grow(len(prefix) + len(requirements) + 256)
	text.WriteString(prefix)
	for i := range sig.NumInputs() {
		f := sig.Input(i)
		v, ok := values[f.Name]
		if !ok {
			continue
		}
		text.WriteString("\n\n[[ ## ")
		text.WriteString(f.Name)
		text.WriteString(" ## ]]\n")
		if isImageField(f) || signature.NestsImage(f.Type) {
			render := renderImages
			if !isImageField(f) {
				render = renderNestedImages
			}
			images, err := render(f, v)
			if err != nil {
				return lm.Message{}, fmt.Errorf("adapter: input field %q: %w", f.Name, err)
			}
			msg.addText(text.String())
			text.Reset()
			msg.add(images)
			continue
		}
		s, err := renderText(f, v)
		if err != nil {
			return lm.Message{}, fmt.Errorf("adapter: input field %q: %w", f.Name, err)
		}
		text.WriteString(s)
	}
	if requirements != "" {
		text.WriteString("\n\n")
		text.WriteString(requirements)
	}
	if msg == nil {
		// What pieces.message gives for one text piece.
		return lm.Message{Role: lm.RoleUser, Content: strings.TrimFunc(text.String(), unicode.IsSpace)}, nil
	}
	if text.Len() > 0 {
		msg.addText(text.String())
	}
	return msg.message(), nil
}

// typeInfo is the note after each field name in the final request, empty
// for str fields.
func typeInfo(f signature.Field) string {
	if f.Type.Kind == signature.String && !f.Type.Optional {
		return ""
	}
	if f.Type.Kind == signature.ToolCallsKind && !f.Type.Optional {
		return toolCallsRequirement
	}
	return " (must be formatted as a valid Python " + f.Type.String() + ")"
}

// present returns values[name] when it is set and not nil.
func present(values Values, name string) (any, bool) {
	v, ok := values[name]
	return v, ok && v != nil
}

// checkInputs returns a *MissingInputError for the first input field of sig
// that inputs lack.
func checkInputs(sig signature.Signature, inputs Values) error {
	for i := range sig.NumInputs() {
		f := sig.Input(i)
		if f.Type.Kind == signature.HistoryKind {
			continue // no History means no earlier turns
		}
		if _, ok := present(inputs, f.Name); !ok {
			return &MissingInputError{Field: f.Name}
		}
	}
	return nil
}

// Messages DSPy writes in place of the outputs a demo lacks.
const (
	incompleteDemoPrefix = "This is an example of the task, though some input or output fields are not supplied."
	notSupplied          = "Not supplied for this particular example. "
)

// splitDemos sorts demos as DSPy's format_demos does: a demo that holds a
// non-nil value for every field is complete; one that has at least one
// input key and one output key (nil values count) is incomplete; others are
// left out. Incomplete demos come first.
func splitDemos(sig signature.Signature, demos []Values) (incomplete, complete []int) {
	has := func(d Values, fs []signature.Field) bool {
		for _, f := range fs {
			if _, ok := d[f.Name]; ok {
				return true
			}
		}
		return false
	}
	for i, d := range demos {
		all := true
		for _, fs := range [][]signature.Field{sig.Inputs(), sig.Outputs()} {
			for _, f := range fs {
				if _, ok := present(d, f.Name); !ok {
					all = false
				}
			}
		}
		switch {
		case all:
			complete = append(complete, i)
		case has(d, sig.Inputs()) && has(d, sig.Outputs()):
			incomplete = append(incomplete, i)
		}
	}
	return incomplete, complete
}

// lookup finds the value recorded for an output field: under its exact name,
// else under a name equal to it up to case, provided no other output field
// also matches that name. find looks for a key that match accepts.
func lookup[V any](sig signature.Signature, name string, find func(match nameMatch) (V, bool)) (V, bool) {
	if v, ok := find(nameMatch{name: name}); ok {
		return v, true
	}
	for _, f := range sig.Outputs() {
		if f.Name != name && strings.EqualFold(f.Name, name) {
			var zero V
			return zero, false
		}
	}
	return find(nameMatch{name: name, fold: true})
}

// nameMatch accepts the keys equal to name, or equal up to case with fold
// (a value, not a closure: lookup calls find once or twice per field).
type nameMatch struct {
	name string
	fold bool
}

// ok reports whether key is accepted.
func (m nameMatch) ok(key string) bool {
	if m.fold {
		return strings.EqualFold(key, m.name)
	}
	return key == m.name
}
