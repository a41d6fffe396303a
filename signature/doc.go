// Package signature declares what a language-model step does: its named,
// typed input and output fields and the instructions that state the task.
// It is the Go counterpart of DSPy's signatures.
//
// # Signatures
//
// A Signature is an immutable value, safe for concurrent use. Programs read
// it to build prompts (through an adapter) and optimizers derive new ones
// from it: WithInstructions, Prepend, Append, Insert, Delete and WithField
// return a new Signature and never modify the receiver. Chain of thought,
// for instance, prepends a reasoning output:
//
//	cot, err := sig.Prepend(signature.Output, signature.Field{Name: "reasoning"})
//
// # String signatures
//
// Parse reads DSPy's string syntax, with optional types:
//
//	sig, err := signature.Parse("question, context: list[str] -> answer, confidence: float")
//
// Inputs and outputs are comma-separated lists separated by "->"; a field
// without a type is a str. Types are spelled the DSPy way (str, int, float,
// bool, list[T], dict[str, T], json) or the Go way (string, int64, float64,
// []T, map[string]T, any). Parse caches its results and reports malformed
// text with a *ParseError that gives the byte position, what was expected
// there and what was found. MustParse panics instead, for package-level
// variables. Signature.String writes the syntax back, with every type
// spelled out, and Parse reads it again into the same fields.
//
// DSPy's special types are spelled as in DSPy: dspy.Image (Image), an
// input, also inside lists, dicts and models; dspy.History (History), a
// top-level input; dspy.Tool (Tool), an input, alone or as list[Tool];
// dspy.ToolCalls (ToolCalls), a top-level output. Their Go values are
// Image, History, Tool and ToolCalls.
//
// # Struct signatures
//
// Typed programs declare their fields as Go structs, one for the inputs and
// one for the outputs, and Of reads the signature from their tags:
//
//	type QA struct {
//		Question string   `desc:"a trivia question"`
//		Context  []string `dspy:"context"`
//	}
//
//	type Answer struct {
//		Answer     string  `desc:"a few words"`
//		Confidence float64 `prefix:"Confidence (0-1):"`
//	}
//
//	func (Answer) Instructions() string { return "Answer the question from the context." }
//
//	sig, err := signature.Of[QA, Answer]()
//
// Field names default to the snake_case of the Go names; the dspy tag
// renames a field or, with "-", leaves it out. Go types map to signature
// types as Of documents; an unsupported type or a bad tag is a *FieldError
// that names the struct and its field. The reflection is done once per pair
// of types and cached.
//
// # Values
//
// At run time field values travel as map[string]any keyed by field name.
// Encode turns an input struct into such a map, and Decode fills an output
// struct from the values an adapter parsed, converting numbers with range
// checks and nested JSON through encoding/json. A value that does not fit is
// a *FieldError naming the Go field.
//
// # Errors
//
// Parse returns *ParseError; a field declared twice in signature text is a
// *ParseError that wraps a *FieldError. New, Of, Encode, Decode and the
// derivation methods return *FieldError. Both are matched with errors.As.
package signature
