// Package schema builds the JSON schemas of dspex's types: the schema an
// output field's type note shows the LM, the strict schema of a structured
// outputs request, and validation of values against either.
//
// # Rendering
//
// For returns the schema pydantic 2 generates for the Python annotation
// DSPy would hold (TypeAdapter(T).json_schema()): titles on properties,
// "required" in declaration order, nested models and enumerations under
// "$defs" and referenced with "$ref", optional values as anyOf with null.
// Text prints it as DSPy puts it in a prompt: keys sorted with "type" first
// (DSPy's move_type_to_front), Python's json.dumps separators. Strict builds
// the schema of a signature's outputs the way DSPy's JSONAdapter does for
// response_format json_schema with strict true.
//
// This rendering is dspex's own code, not a schema generator library's:
// the prompt text must be byte-identical to DSPy's, which means reproducing
// pydantic's choices (which keys, titles derived with Python's str.title,
// $defs for every nested model, const for single literals) and Python's
// printing. A general generator such as github.com/invopop/jsonschema
// derives schemas from Go reflection with its own conventions ($schema and
// $id keys, fully qualified definition names, additionalProperties false,
// Go field order) that would all have to be undone; the types here are
// signature.Type values, which already carry what pydantic would know.
//
// # Validation
//
// Compile and Validator.Validate check values against a schema with
// github.com/santhosh-tekuri/jsonschema/v6, a complete, well-kept
// implementation of JSON Schema draft 2020-12; the embedded model server
// (simlm) uses it to check that what it returns honours the schema it was
// given, and the tests use it to check that every schema For and Strict
// build is a valid JSON schema. Errors name the offending value's path
// ("items[2].name").
//
// Known limits: two different models with the same name share one $defs
// entry (pydantic would qualify the names); recursive types are rejected
// earlier, by package signature.
package schema
