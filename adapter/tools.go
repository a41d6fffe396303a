package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// This file renders Tool inputs and ToolCalls outputs as DSPy 3.3 does
// (stanfordnlp/dspy 4ed377ee9110e912d4f5e1be43b317b87455053c,
// dspy/adapters/types/tool.py and dspy/adapters/utils.py):
//
//   - a Tool is written as its __str__: "name, whose description is
//     <desc>...</desc>. It takes arguments {...}." (". It takes ..." without
//     a description, line breaks of the description as two spaces), the
//     arguments as Python prints the dict of their schemas; a list[Tool]
//     is the JSON list of those strings;
//   - a ToolCalls output is described by ToolCalls.description(), noted
//     with the JSON schema of the ToolCalls model (without the call ids),
//     asked for as "a JSON object like {...}", written in demos as
//     {"tool_calls": [{"name": ..., "args": {...}}]} and parsed from a list
//     of calls, one call, or an object holding "tool_calls", as
//     ToolCalls.validate_input accepts them.

// toolCallsDescription is DSPy's ToolCalls.description().
const toolCallsDescription = "Tool calls must be a JSON object with `tool_calls`, a list of calls. " +
	"Each call must include `name` and `args`. " +
	`Example: {"tool_calls": [{"name": "search", "args": {"query": "cats"}}]}`

// toolCallsRequirement is the type note of a ToolCalls field in the final
// user message (chat_adapter.py user_message_output_requirements).
const toolCallsRequirement = ` (must be a JSON object like {"tool_calls": [{"name": "...", "args": {...}}]})`

// toolCallsModel is the pydantic model DSPy describes a ToolCalls field
// with: ToolCall without its id, ToolCalls without tool_call_results.
var toolCallsModel = signature.StructOf("ToolCalls", signature.Prop{
	Name: "tool_calls", Required: true,
	Type: signature.ListOf(signature.StructOf("ToolCall",
		signature.Prop{Name: "name", Type: signature.TypeString, Required: true},
		signature.Prop{Name: "args", Type: signature.MapOf(signature.TypeObject), Required: true},
	)),
})

// typeDescription is the "Type description of T: ..." line DSPy's
// get_field_description_string adds under a field whose type describes
// itself, or "".
func typeDescription(t signature.Type) string {
	if t.NonOptional().Kind == signature.ToolCallsKind {
		return "\n    Type description of ToolCalls: " + toolCallsDescription
	}
	return ""
}

// isToolField reports whether f holds a Tool or a list of Tools.
func isToolField(f signature.Field) bool {
	t := f.Type.NonOptional()
	return t.Kind == signature.ToolKind || t.Kind == signature.List && t.ElemType().NonOptional().Kind == signature.ToolKind
}

// renderTools renders the value of a Tool field as DSPy's str(tool), and
// that of a list[Tool] field as the JSON list of those strings.
func renderTools(f signature.Field, v any) (string, error) {
	if v == nil {
		return "None", nil
	}
	if f.Type.NonOptional().Kind == signature.ToolKind {
		t, err := signature.AsTool(v)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidValue, err)
		}
		return toolText(t)
	}
	items, ok := sliceItems(v)
	if !ok {
		return "", fmt.Errorf("%w: a list[Tool] field needs a list, not a %T", ErrInvalidValue, v)
	}
	texts := make([]any, len(items))
	for i, it := range items {
		t, err := signature.AsTool(it)
		if err != nil {
			return "", fmt.Errorf("%w: element %d: %w", ErrInvalidValue, i, err)
		}
		if texts[i], err = toolText(t); err != nil {
			return "", fmt.Errorf("element %d: %w", i, err)
		}
	}
	b, err := appendJSON(nil, texts, 0)
	if err != nil {
		return "", err
	}
	return string(pythonSpacing(b)), nil
}

// toolText is DSPy's Tool.__str__.
func toolText(t signature.Tool) (string, error) {
	desc := "."
	if t.Desc != "" {
		desc = strings.ReplaceAll(", whose description is <desc>"+t.Desc+"</desc>.", "\n", "  ")
	}
	var args []byte
	args = append(args, '{')
	for i, a := range t.Args {
		if i > 0 {
			args = append(args, ", "...)
		}
		args = appendPyRepr(args, a.Name)
		args = append(args, ": "...)
		var err error
		if args, err = appendPyJSON(args, a.Schema); err != nil {
			return "", fmt.Errorf("%w: tool %s: argument %q: %w", ErrInvalidValue, t.Name, a.Name, err)
		}
	}
	args = append(args, '}')
	return t.Name + desc + " It takes arguments " + string(args) + ".", nil
}

// appendPyJSON appends the JSON text raw as Python's repr prints the value
// json.loads makes of it: dicts in the order of the text, strings quoted
// as repr quotes them, True, False, None, floats as repr prints them.
func appendPyJSON(b []byte, raw json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	b, err := appendPyValue(b, dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("text after the JSON value")
	}
	return b, nil
}

func appendPyValue(b []byte, dec *json.Decoder, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errors.New("value nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		closing, open := byte('}'), byte('{')
		if x == '[' {
			closing, open = ']', '['
		} else if x != '{' {
			return nil, fmt.Errorf("unexpected %v", x)
		}
		b = append(b, open)
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b = append(b, ", "...)
			}
			if open == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				b = appendPyRepr(b, k.(string))
				b = append(b, ": "...)
			}
			if b, err = appendPyValue(b, dec, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return append(b, closing), nil
	case string:
		return appendPyRepr(b, x), nil
	case bool:
		return append(b, pyBool(x)...), nil
	case nil:
		return append(b, "None"...), nil
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return append(b, x...), nil
		}
		if !strings.ContainsAny(string(x), ".eE") {
			return append(b, x...), nil // a Python int of any size
		}
		f, err := x.Float64()
		if err != nil {
			return nil, err
		}
		return append(b, pyFloat(f, 64)...), nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// appendPyRepr appends s as Python's repr quotes a str: single quotes
// unless s holds a single quote and no double quote; backslashes, the
// quote, line breaks, tabs and other non-printable characters escaped.
func appendPyRepr(b []byte, s string) []byte {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	b = append(b, quote)
	for _, r := range s {
		switch {
		case r == '\\':
			b = append(b, `\\`...)
		case r == rune(quote):
			b = append(b, '\\', quote)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == utf8.RuneError:
			b = append(b, `\ufffd`...)
		case r < 0x20 || r == 0x7f:
			b = append(b, fmt.Sprintf(`\x%02x`, r)...)
		case r < 0x80 || unicode.IsPrint(r):
			b = utf8.AppendRune(b, r)
		case r <= 0xff:
			b = append(b, fmt.Sprintf(`\x%02x`, r)...)
		case r <= 0xffff:
			b = append(b, fmt.Sprintf(`\u%04x`, r)...)
		default:
			b = append(b, fmt.Sprintf(`\U%08x`, r)...)
		}
	}
	return append(b, quote)
}

// coerceToolCalls converts a decoded reply value to ToolCalls as DSPy's
// ToolCalls.validate_input accepts it: a list of calls, an object holding
// "tool_calls", or a single call. A call is {"name", "args"} (or
// "arguments"), or a provider's {"function": {"name", "arguments"}}, with
// an optional "id" or "call_id"; arguments given as JSON text are decoded
// (trailing commas forgiven), anything but an object becomes no arguments.
func coerceToolCalls(v any) (signature.ToolCalls, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		if calls, ok := x["tool_calls"]; ok {
			list, ok := calls.([]any)
			if !ok {
				return signature.ToolCalls{}, invalid("tool_calls is %s, not a list", describeJSON(calls))
			}
			items = list
		} else if isToolCall(x) {
			items = []any{x}
		} else {
			return signature.ToolCalls{}, invalid("%s is neither a tool call nor an object holding tool_calls", describeJSON(v))
		}
	default:
		return signature.ToolCalls{}, invalid("expected ToolCalls, got %s", describeJSON(v))
	}
	out := signature.ToolCalls{Calls: make([]signature.ToolCall, len(items))}
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return signature.ToolCalls{}, within(index(i), invalid("a tool call must be an object, not %s", describeJSON(it)))
		}
		call, err := toolCallOf(m)
		if err != nil {
			return signature.ToolCalls{}, within(index(i), err)
		}
		out.Calls[i] = call
	}
	return out, nil
}

// isToolCall reports whether m looks like one call (DSPy's
// _is_tool_call_dict).
func isToolCall(m map[string]any) bool {
	_, name := m["name"]
	_, args := m["args"]
	_, arguments := m["arguments"]
	_, function := m["function"]
	return name && (args || arguments) || function
}

// toolCallOf normalizes one call as DSPy's _normalize_tool_call_dict does.
func toolCallOf(m map[string]any) (signature.ToolCall, error) {
	var (
		name any
		args any
	)
	if fn, ok := m["function"]; ok {
		f, ok := fn.(map[string]any)
		if !ok && fn != nil {
			return signature.ToolCall{}, invalid("function is %s, not an object", describeJSON(fn))
		}
		name, args = f["name"], f["arguments"]
		if s, _ := name.(string); s == "" {
			name = m["name"]
		}
	} else {
		name = m["name"]
		if a, ok := m["args"]; ok {
			args = a
		} else {
			args = m["arguments"]
		}
	}
	n, ok := name.(string)
	if !ok || n == "" {
		return signature.ToolCall{}, invalid("a tool call needs a name")
	}
	call := signature.ToolCall{Name: n, Args: map[string]any{}}
	if s, ok := args.(string); ok {
		if v, err := decodeLenient(dropTrailingCommas(s)); err == nil {
			args = v
		}
	}
	if a, ok := normalizeJSON(args).(map[string]any); ok {
		call.Args = a
	}
	for _, k := range []string{"id", "call_id"} {
		if id, ok := m[k].(string); ok && id != "" {
			call.ID = id
			break
		}
	}
	return call, nil
}

// turnToolCalls finds the ToolCalls value of a History turn, as DSPy's
// _tool_calls_from_message does: a ToolCalls, or an object holding
// "tool_calls" (a ToolCalls saved as JSON, its "tool_call_results" too).
// Keys are tried in sorted order.
func turnToolCalls(turn map[string]any) (string, signature.ToolCalls, bool) {
	keys := make([]string, 0, len(turn))
	for k := range turn {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch x := turn[k].(type) {
		case signature.ToolCalls:
			return k, x, true
		case *signature.ToolCalls:
			if x != nil {
				return k, *x, true
			}
		case map[string]any:
			if _, ok := x["tool_calls"]; !ok {
				continue
			}
			calls, err := coerceToolCalls(normalizeJSON(x))
			if err != nil {
				continue
			}
			if rs, ok := x["tool_call_results"]; ok && rs != nil {
				calls.Results = toolCallResults(rs)
			}
			return k, calls, true
		}
	}
	return "", signature.ToolCalls{}, false
}

// toolCallResults reads saved results: a list of results or an object
// holding "tool_call_results", as DSPy's ToolCallResults.validate_input.
func toolCallResults(v any) []signature.ToolCallResult {
	if m, ok := v.(map[string]any); ok {
		v = m["tool_call_results"]
	}
	items, _ := v.([]any)
	out := make([]signature.ToolCallResult, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		r := signature.ToolCallResult{Value: m["value"]}
		r.CallID, _ = m["call_id"].(string)
		r.Name, _ = m["name"].(string)
		r.IsError, _ = m["is_error"].(bool)
		out = append(out, r)
	}
	return out
}

// replayToolCalls renders the reply of a History turn holding tool calls
// and their results, as DSPy's format_conversation_history does
// (dspy/adapters/base.py at 4ed377ee). With native function calling: an
// assistant message with the turn's other outputs (those it holds) as
// content and the calls as lm.Message.ToolCalls, then one tool message per
// result; the calls are replayed only when the results answer exactly
// them, in order, all with ids, else the message carries only its content.
// Without: the assistant message written by reply, then a user message
// "[[ ## tool_call_results ## ]]" holding the results as JSON.
func replayToolCalls(sig signature.Signature, turn Values, field string, calls signature.ToolCalls,
	reply func(signature.Signature, Values, *string) (string, error), native bool) ([]lm.Message, error) {
	var msgs []lm.Message
	if native {
		var drop []string
		for _, f := range sig.Outputs() {
			if f.Type.NonOptional().Kind == signature.ToolCallsKind || f.Name == field {
				drop = append(drop, f.Name)
			} else if v, ok := turn[f.Name]; !ok || v == nil {
				drop = append(drop, f.Name)
			}
		}
		content := ""
		if cs := sig.WithoutFields(drop...); len(cs.Outputs()) > 0 {
			var err error
			if content, err = reply(cs, turn, nil); err != nil {
				return nil, err
			}
		}
		matched := calls.Results != nil && len(calls.Results) == len(calls.Calls)
		for i := 0; matched && i < len(calls.Calls); i++ {
			matched = calls.Calls[i].ID != "" && calls.Calls[i].ID == calls.Results[i].CallID
		}
		if content == "" && !matched {
			return nil, nil
		}
		msg := lm.Message{Role: lm.RoleAssistant, Content: content}
		if matched {
			for _, c := range calls.Calls {
				args, err := compactPython(c.Args)
				if err != nil {
					return nil, fmt.Errorf("tool call %s: %w", c.Name, err)
				}
				msg.ToolCalls = append(msg.ToolCalls, lm.ToolCall{ID: c.ID, Name: c.Name, Arguments: args})
			}
		}
		msgs = append(msgs, msg)
		if matched {
			for _, r := range calls.Results {
				content, err := toolResultContent(r.Value)
				if err != nil {
					return nil, fmt.Errorf("tool result %s: %w", r.Name, err)
				}
				msgs = append(msgs, lm.Message{Role: lm.RoleTool, ToolCallID: r.CallID, Content: content})
			}
		}
		return msgs, nil
	}
	outs := make(Values, len(sig.Outputs()))
	for _, f := range sig.Outputs() {
		outs[f.Name] = turn[f.Name]
	}
	text, err := reply(sig, outs, nil)
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, lm.Message{Role: lm.RoleAssistant, Content: text})
	if calls.Results != nil {
		type result struct {
			CallID  *string `json:"call_id"`
			Name    string  `json:"name"`
			Value   any     `json:"value"`
			IsError bool    `json:"is_error"`
		}
		rs := make([]result, len(calls.Results))
		for i, r := range calls.Results {
			rs[i] = result{Name: r.Name, Value: r.Value, IsError: r.IsError}
			if r.CallID != "" {
				rs[i].CallID = &r.CallID
			}
		}
		text, err := compactPython(struct {
			Results []result `json:"tool_call_results"`
		}{rs})
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, lm.Message{Role: lm.RoleUser, Content: header("tool_call_results") + "\n" + text})
	}
	return msgs, nil
}

// toolResultContent is a tool message's content, as DSPy's
// _tool_result_content: a string as it is, anything else as JSON.
func toolResultContent(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return compactPython(v)
}

// compactPython is v as Python's json.dumps writes it.
func compactPython(v any) (string, error) {
	b, err := appendJSON(nil, v, 0)
	if err != nil {
		return "", err
	}
	return string(pythonSpacing(b)), nil
}
