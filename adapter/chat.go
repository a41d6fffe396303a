package adapter

import (
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// Chat is DSPy's default adapter. Its prompt lists the signature's fields,
// shows the reply structure with "[[ ## field ## ]]" markers, gives each demo
// as a user/assistant exchange, and asks for the outputs under their markers
// followed by "[[ ## completed ## ]]". See the package documentation for the
// exact wire format.
//
// The zero value is ready to use, with DSPy's ChatAdapter defaults (no
// native function calling, JSON fallback on); Chat is safe for concurrent
// use. Call falls back once to the JSON adapter when a Chat reply does not
// parse, unless WithoutJSONFallback is given.
type Chat struct {
	opts options
}

// NewChat returns a Chat adapter with the given options
// (WithNativeFunctionCalling, WithoutJSONFallback).
func NewChat(opts ...Option) Chat { return Chat{opts: newOptions(opts)} }

// jsonFallback is the JSON adapter Call retries with, which keeps c's
// native function calling setting as DSPy's _make_json_adapter_fallback
// does, or false when c has no fallback.
func (c Chat) jsonFallback() (JSON, bool) {
	if c.opts.noJSONFallback {
		return JSON{}, false
	}
	return NewJSON(WithNativeFunctionCalling(c.opts.nativeOn(false))), true
}

// completedMarker ends every assistant reply in the Chat format.
const completedMarker = "[[ ## completed ## ]]"

// Format builds the messages of one call: the system message, a user and an
// assistant message per demo, and the final user message holding inputs.
//
// Demos are rendered as DSPy renders them: a demo lacking some field comes
// first, its user message opening with DSPy's note that some fields are not
// supplied and its reply saying "Not supplied for this particular example."
// for each missing output; a demo with no input key or no output key is
// left out. Every input field of sig must have a non-nil value in inputs,
// else Format returns a *MissingInputError. With native function calling
// (WithNativeFunctionCalling) a ToolCalls output and the Tool input are
// left out of the messages and the tools set as the request's Tools.
func (c Chat) Format(sig signature.Signature, demos []Values, inputs Values) (lm.Request, error) {
	if sig.IsZero() {
		return lm.Request{}, errZeroSignature
	}
	if err := checkInputs(sig, inputs); err != nil {
		return lm.Request{}, err
	}
	return formatNative(c.opts.nativeOn(false), sig, inputs, func(sig signature.Signature) (lm.Request, error) {
		msgs, err := messages(sig, demos, inputs, c.systemMessage(sig), c.reply, chatRequirements(sig), c.opts.nativeOn(false))
		if err != nil {
			return lm.Request{}, err
		}
		return lm.Request{Messages: msgs}, nil
	})
}

func (Chat) systemMessage(sig signature.Signature) string {
	parts := []string{
		structureIntro,
		fieldBlocks(sig.Inputs(), func(f signature.Field) string { return placeholder(f, false) }),
		fieldBlocks(sig.Outputs(), func(f signature.Field) string { return placeholder(f, true) }),
		completedMarker + "\n",
	}
	return systemMessage(sig, strings.TrimSpace(strings.Join(parts, "\n\n")))
}

// chatRequirements is the last paragraph of the final user message.
func chatRequirements(sig signature.Signature) string {
	outs := sig.Outputs()
	names := make([]string, len(outs))
	for i, f := range outs {
		names[i] = "`" + header(f.Name) + "`" + typeInfo(f)
	}
	return "Respond with the corresponding output fields, starting with the field " +
		strings.Join(names, ", then ") +
		", and then ending with the marker for `" + completedMarker + "`."
}

// FormatOutputs renders output values as an assistant reply in the Chat
// format: each output field present in outputs (in signature order) under
// its marker, then the completed marker. Fields absent from outputs, or nil,
// are left out.
func (c Chat) FormatOutputs(sig signature.Signature, outputs Values) (string, error) {
	kept := make(Values, len(outputs))
	for _, f := range sig.Outputs() {
		if v, ok := present(outputs, f.Name); ok {
			kept[f.Name] = v
		}
	}
	return c.reply(sig, kept, nil)
}

// reply renders a demo's outputs as DSPy's format_assistant_message_content
// does: every output field under its marker, a field absent from outputs as
// *missing (left out when missing is nil), a nil value as None.
func (Chat) reply(sig signature.Signature, outputs Values, missing *string) (string, error) {
	var blocks []string
	for _, f := range sig.Outputs() {
		v, ok := outputs[f.Name]
		if !ok {
			if missing != nil {
				blocks = append(blocks, header(f.Name)+"\n"+*missing)
			}
			continue
		}
		text, err := renderText(f, v)
		if err != nil {
			return "", fmt.Errorf("adapter: output field %q: %w", f.Name, err)
		}
		blocks = append(blocks, header(f.Name)+"\n"+text)
	}
	return strings.TrimSpace(strings.Join(blocks, "\n\n")) + "\n\n" + completedMarker + "\n", nil
}

// matchHeader matches a field marker at the start of a trimmed line, as
// the regular expression ^\[\[\s*##\s*(\w+)\s*##\s*\]\] does (\s and \w
// in RE2's ASCII sense), without the regexp machinery: every reply line
// that starts with "[[" goes through it. It returns the marker's name and
// the index just past the marker.
func matchHeader(line string) (name string, end int, ok bool) {
	i := 0
	expect := func(lit string) bool {
		if !strings.HasPrefix(line[i:], lit) {
			return false
		}
		i += len(lit)
		return true
	}
	spaces := func() {
		for i < len(line) && isRE2Space(line[i]) {
			i++
		}
	}
	if !expect("[[") {
		return "", 0, false
	}
	spaces()
	if !expect("##") {
		return "", 0, false
	}
	spaces()
	start := i
	for i < len(line) && isRE2Word(line[i]) {
		i++
	}
	if i == start {
		return "", 0, false
	}
	name = line[start:i]
	spaces()
	if !expect("##") {
		return "", 0, false
	}
	spaces()
	if !expect("]]") {
		return "", 0, false
	}
	return name, i, true
}

// isRE2Space is RE2's \s: [\t\n\f\r ].
func isRE2Space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// isRE2Word is RE2's \w: [0-9A-Za-z_].
func isRE2Word(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// section is the text that follows one marker in a reply.
type section struct {
	name string
	text string
}

// sections splits a reply at its marker lines. Text after a marker on the
// same line belongs to its section; text before the first marker is
// dropped. A section's text is the reply's own text between its marker
// line and the next one (lines are found in place, not split and joined
// again), trimmed.
func sections(completion string) []section {
	var (
		out       []section
		name      string
		rest      string // the text after the open section's marker, on its line
		bodyStart int    // where the lines after that marker start
		open      bool
	)
	// flush closes the open section, whose lines end at bodyEnd.
	flush := func(bodyEnd int) {
		if !open {
			return
		}
		body := ""
		if bodyStart < bodyEnd {
			body = completion[bodyStart:bodyEnd]
		}
		if rest != "" {
			body = rest + "\n" + body
		}
		out = append(out, section{name: name, text: strings.TrimSpace(body)})
	}
	for pos := 0; pos <= len(completion); {
		end := strings.IndexByte(completion[pos:], '\n')
		if end < 0 {
			end = len(completion)
		} else {
			end += pos
		}
		trimmed := strings.TrimSpace(completion[pos:end])
		if strings.HasPrefix(trimmed, "[[") {
			if n, e, ok := matchHeader(trimmed); ok {
				flush(pos - 1) // the open section ends before this line's newline
				name, rest, bodyStart, open = n, strings.TrimSpace(trimmed[e:]), end+1, true
			}
		}
		pos = end + 1
	}
	flush(len(completion))
	return out
}

// Parse extracts the output fields of sig from a reply in the Chat format
// and coerces them to their types (see the package documentation for the
// Go types). The value of a field is the text between its marker and the
// next marker (or the end), trimmed; when a field appears twice the first
// occurrence wins, and markers of unknown fields are ignored. Marker names
// match the declared names exactly, or up to case when that is unambiguous.
//
// Errors are *ParseError: ErrEmptyCompletion, ErrMissingField, or a value
// that cannot be coerced (errors.Is(err, ErrInvalidValue)).
func (Chat) Parse(sig signature.Signature, completion string) (Values, error) {
	if sig.IsZero() {
		return nil, errZeroSignature
	}
	if strings.TrimSpace(completion) == "" {
		return nil, &ParseError{Adapter: "chat", Raw: completion, Err: ErrEmptyCompletion}
	}
	secs := sections(completion)
	out := make(Values, sig.NumOutputs())
	for i := range sig.NumOutputs() {
		f := sig.Output(i)
		text, ok := lookup(sig, f.Name, func(match nameMatch) (string, bool) {
			for _, s := range secs {
				if match.ok(s.name) {
					return s.text, true
				}
			}
			return "", false
		})
		if !ok {
			if f.Type.Optional {
				out[f.Name] = nil
				continue
			}
			return nil, &ParseError{Adapter: "chat", Field: f.Name, Raw: completion, Err: ErrMissingField}
		}
		v, err := coerceText(f.Type, text)
		if err != nil {
			return nil, fieldError("chat", f.Name, completion, text, err)
		}
		out[f.Name] = v
	}
	return out, nil
}

// messages builds the chat of one call: the system message, the demos as
// DSPy orders them (incomplete ones first, see splitDemos), each as a user
// message with its inputs and an assistant message written by reply, the
// turns of a History input (see conversation), then the inputs with the
// adapter's closing requirements.
func messages(sig signature.Signature, demos []Values, inputs Values, system string,
	reply func(signature.Signature, Values, *string) (string, error), requirements string, native bool) ([]lm.Message, error) {
	msgs := []lm.Message{{Role: lm.RoleSystem, Content: system}}
	incomplete, complete := splitDemos(sig, demos)
	add := func(i int, prefix string, missing *string) error {
		user, err := userMessage(sig, demos[i], prefix, "")
		if err != nil {
			return fmt.Errorf("demo %d: %w", i, err)
		}
		out, err := reply(sig, demos[i], missing)
		if err != nil {
			return fmt.Errorf("demo %d: %w", i, err)
		}
		msgs = append(msgs, user, lm.Message{Role: lm.RoleAssistant, Content: out})
		return nil
	}
	missing := notSupplied
	for _, i := range incomplete {
		if err := add(i, incompleteDemoPrefix, &missing); err != nil {
			return nil, err
		}
	}
	for _, i := range complete {
		if err := add(i, "", nil); err != nil {
			return nil, err
		}
	}
	current := sig
	if name, ok := historyField(sig); ok {
		var err error
		if current, err = sig.Delete(name); err != nil {
			return nil, err
		}
		turns, err := conversation(current, inputs[name], reply, native)
		if err != nil {
			return nil, fmt.Errorf("adapter: input field %q: %w", name, err)
		}
		msgs = append(msgs, turns...)
	}
	final, err := userMessage(current, inputs, "", requirements)
	if err != nil {
		return nil, err
	}
	return append(msgs, final), nil
}
