// Package adapter turns a signature, demos and inputs into chat messages for
// a language model, and the model's reply back into typed output values. It
// implements DSPy's two adapters, Chat (the default) and JSON, and Call, the
// one LM step that programs run: format, call, parse, with DSPy's fallback
// from Chat to JSON.
//
// Both adapters are stateless values: the zero Chat and the zero JSON are
// ready to use and safe for concurrent use. Values travel as Values,
// map[string]any keyed by field name.
//
// # Chat format
//
// The Chat adapter reproduces DSPy's ChatAdapter prompts. The system message
// lists the fields with their types and descriptions, shows the structure of
// an exchange, and states the objective (the signature's instructions,
// dedented, each line indented by eight spaces):
//
//	Your input fields are:
//	1. `question` (str): The question to answer
//	Your output fields are:
//	1. `answer` (str):
//	2. `confidence` (float):
//	All interactions will be structured in the following way, with the appropriate values filled in.
//
//	[[ ## question ## ]]
//	{question}
//
//	[[ ## answer ## ]]
//	{answer}
//
//	[[ ## confidence ## ]]
//	{confidence}        # note: the value you produce must be a single float value
//
//	[[ ## completed ## ]]
//	In adhering to this structure, your objective is:
//	        Given the fields `question`, produce the fields `answer`, `confidence`.
//
// (The objective line ends with a space, as in DSPy; so does every line of
// the field lists but the last when the field has no description, since
// DSPy writes "1. `name` (type): " and trims only the end.) Output fields
// that are not str carry a type note: "must be a single int value", "must
// be a single float value", "must be True or False", "must exactly match
// (no extra characters) one of: a; b" for a Literal, "must be one of: a; b"
// for a named enumeration, and for everything else (lists, dicts, models,
// optional values, datetime, Any) "must adhere to the JSON schema: ..."
// with the schema JSONSchema returns (package schema builds it).
//
// Demos are rendered as DSPy's format_demos renders them. A demo that holds
// a non-nil value for every field is complete. A demo that lacks some field
// but has at least one input key and one output key is incomplete: it comes
// before the complete ones, its user message opens with "This is an example
// of the task, though some input or output fields are not supplied.", and
// its reply says "Not supplied for this particular example." for each
// missing output (a key holding nil is rendered as None). Other demos are
// left out. The final user message holds the inputs and asks for the
// outputs:
//
//	[[ ## question ## ]]
//	What is the capital of France?
//
//	Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, then `[[ ## confidence ## ]]` (must be formatted as a valid Python float), and then ending with the marker for `[[ ## completed ## ]]`.
//
// Values are rendered as DSPy's format_field_value renders them: strings
// verbatim, ints as decimal text, floats as Python prints them (3.0,
// 1e-05), bools as True or False, lists, maps and structs as JSON with
// Python's separators (["a", "b"]), times as RFC 3339 text. A list given to
// a field declared str is rendered as DSPy's numbered list ("[1] «first»"
// lines; a single element is «first», an empty list N/A); a field declared
// list[str] gets JSON.
//
// Chat.Parse splits a reply at its marker lines ("[[ ## name ## ]]", with any
// spacing inside the brackets); the text up to the next marker or the end,
// trimmed, is the field's value. The first occurrence of a field wins,
// unknown markers (including completed) end the previous field and are
// otherwise ignored, and text before the first marker is dropped.
//
// # JSON format
//
// The JSON adapter sends the same system message with a different structure
// section: the inputs as marker blocks, then "Outputs will be a JSON object
// with the following fields." and an indented object whose values are the
// placeholders. Demo replies are indented JSON objects, the final user
// message ends with "Respond with a JSON object in the following order of
// fields: `answer`, then `confidence` (must be formatted as a valid Python
// float).", and the request sets ResponseFormat to lm.FormatJSON.
//
// JSON.Parse decodes the first JSON object in the reply, skipping any text
// or Markdown fences around it and forgiving trailing commas. A reply that is
// a bare value is rejected even when the signature has one output, as in
// DSPy.
//
// # Typed values
//
// Both parsers coerce each output to its declared type, and produce these Go
// types:
//
//	str       string
//	int       int64    "42", " -3 ", "1,234", "42.0" and "1e3" are accepted; "4.5" and words are not
//	float     float64  "3.14", "1e3", "2,500.5", nan and inf; "5%" and words are not
//	bool      bool     true, false, yes, no, in any case
//	list      []any    elements coerced to the element type (list[int] gives int64 elements)
//	dict      map[string]any, values coerced to the value type
//	Literal   the matching value (string, int64, float64 or bool); "Literal['a']", quotes and spaces around are forgiven, as in DSPy
//	model     map[string]any holding the model's properties, each coerced; unknown keys are dropped
//	datetime  time.Time    RFC 3339, also without a zone or as a bare date
//	Optional  nil for None, null or an empty value; a missing optional output is nil too
//	Any       nil, bool, string, int64, float64, []any or map[string]any
//
// A value that cannot be coerced is a *ParseError whose Path names it inside
// the field: "answer.items[2].name". Lists, dicts and models are read as
// JSON, or as a Python literal ({'a': True, 'n': 1_000}) as DSPy's
// json_repair and ast.literal_eval read them.
//
// Lists and dicts are read as JSON, also inside ```json fences; a list of
// scalars may also be a numbered or bulleted list ("1. a", "- a",
// "[1] «a»"). A json field holds what encoding/json decodes, except that a
// number written without fraction or exponent that fits an int64 is an
// int64 (as Python's json.loads gives an int), so identifiers keep their
// precision; every other number is a float64. In Chat replies a json field
// whose text is not JSON is kept as a string. With the JSON adapter, values
// may be strings holding the text of a number, bool, list or dict, and a
// str field given a number or a structure gets its JSON text.
// signature.Decode converts these types to the fields of an output struct.
//
// # Images and conversation history
//
// An Image input field (signature.Image; list[Image] too) makes its user
// message a message with content parts (lm.Message.Parts): the text
// before the image, the image, the text after, as DSPy splits a message
// around a dspy.Image; Content then holds the text with a short
// placeholder per image. A History input (signature.History) is not
// rendered as a value: its turns become user/assistant message pairs
// after the demos and before the final user message, which leaves the
// History field out, as DSPy's format_conversation_history does; an absent
// History means no turns. See media.go for the DSPy sources followed.
//
// An input whose type holds Images below its top (a model with an Image
// property, list[Model], dict[str, Image]) is written as its JSON with each
// Image replaced by a quote, the image part and a quote, as DSPy's marker
// strings split that JSON; where the Images are is read from the field's
// type, never from the text of the value.
//
// # Tools and tool calls
//
// A Tool input (signature.Tool; list[Tool] too, DSPy's dspy.Tool) is
// written as DSPy's str(tool): "search, whose description is <desc>Search
// for documents.</desc>. It takes arguments {'query': {'type': 'string'}}."
// (a list as the JSON list of those strings). A ToolCalls output
// (signature.ToolCalls, dspy.ToolCalls) gets DSPy's type description and
// JSON schema in the system message, is asked for as "a JSON object like
// {"tool_calls": [...]}", and parses from a list of calls, one call, or an
// object holding "tool_calls" (calls as {"name", "args"}, "arguments", or a
// provider's {"function": {...}}); see tools.go.
//
// With native function calling (WithNativeFunctionCalling; on by default
// for JSON, off for Chat, as DSPy's JSONAdapter and ChatAdapter) and a
// ToolCalls output, Format leaves the Tool input and the ToolCalls output
// out of the messages and sets the tools as the request's Tools (OpenAI
// function tools, Anthropic custom tools), and Call fills the ToolCalls
// output from the reply's tool calls, keeping the provider's call ids and
// forgiving trailing commas in their arguments; outputs the reply does not
// hold are nil, as in DSPy's _call_postprocess. DSPy decides this in
// Adapter.__call__ and its adapter.format() alone always writes the tools
// as text; dspex's Format is what __call__ sends. DSPy's
// parallel_tool_calls setting has no counterpart (lm.Request has none).
//
// A History turn whose ToolCalls value holds Results (DSPy's
// tool_call_results) is replayed as DSPy replays it: with native function
// calling, an assistant message with the calls (lm.Message.ToolCalls) and
// the turn's other outputs, then a tool message per result (lm.RoleTool;
// DSPy's tool message also names the tool, which lm.Message cannot), the
// calls kept only when the results answer exactly them, all with ids;
// without, the assistant's text reply and then a user message
// "[[ ## tool_call_results ## ]]" with the results as JSON.
//
// INDEX.md in testdata/dspy lists every DSPy adapter test and which of
// them dspex transcribes.
//
// # Fidelity to DSPy
//
// The golden tests (testdata/dspy, transcribed from DSPy 3.3.1's own adapter
// tests) check that both adapters produce DSPy's messages byte for byte.
// Where dspex deliberately differs:
//
//   - Map values (Go maps, map[string]any) are written with sorted keys;
//     Python dicts keep insertion order, which Go maps do not have. Struct
//     values keep their declaration order, as pydantic models do.
//   - A float field's whole-number value is written as Python writes a
//     float, 1.0: values are typed in Go, so a demo loaded from a DSPy
//     file where the value was the int 1 renders as 1.0 where DSPy, which
//     keeps the int, writes 1 (programs.SaveDSPy still writes back 1).
//   - A field declared Any (json) is always written as JSON, a string
//     value quoted, so that a demo's output parses back to what it was;
//     DSPy writes a string verbatim.
//   - An input missing from the call is a *MissingInputError; DSPy sends
//     the prompt without it.
//   - An optional type is spelled Union[T, NoneType], as DSPy prints
//     Optional[T] on Python 3.10 to 3.13 (DSPy prints T | None as
//     UnionType[T, NoneType] there, which dspex does not reproduce).
//   - Output fields have no defaults: a missing optional output is nil, a
//     missing required one an error, as in DSPy without defaults.
//   - Images become content parts directly, not through DSPy's in-band
//     <<CUSTOM-TYPE-START-IDENTIFIER>> markers, so text given by a user
//     cannot turn itself into an image part; the parts are the same.
//     An Image, History, Tool or ToolCalls output other than a top-level
//     ToolCalls is refused by the signature, and History, Tool and
//     ToolCalls nested in another type too.
//   - ToolCalls arguments are written with sorted keys (they are a Go
//     map), and a call's id is never written into the prompt, as in DSPy.
//   - The parsers are more lenient than DSPy's where it is safe: markers
//     with any spacing and names equal up to case, fenced JSON, numbered
//     lists for list fields. They are not a full json_repair: JSON with
//     unquoted keys or missing brackets is rejected.
//
// # Calling an LM
//
// Call checks the inputs, formats the prompt, copies the sampling fields of
// a base request, calls the LM and parses every choice. When the Chat
// adapter's reply does not parse, Call asks once more with the JSON adapter
// (keeping the Chat adapter's native function calling setting), as DSPy
// does, and sums the usage of both calls; WithoutJSONFallback turns that
// off. CallInto is Call filling a caller's *Result, for callers that keep
// the stack of their goroutine small while the provider answers.
//
// # Errors
//
// A reply that does not parse is a *ParseError naming the adapter, the field
// and the reason, with the whole completion in Raw and the field's text in
// Value; its Err is ErrEmptyCompletion, ErrNoJSONObject, ErrMissingField, or
// an error that matches ErrInvalidValue. Missing inputs are a
// *MissingInputError. Errors from the LM are wrapped with %w, so errors.As
// finds a *lm.ProviderError.
package adapter
