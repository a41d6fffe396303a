package programs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/dspex-go/dspex/signature"
)

// ErrLegacyDSPyState is returned by LoadDSPy for state saved by DSPy 2.5 or
// earlier, which DSPy 2.6+ cannot load either: DSPy 2.5's ChainOfThought
// predictors hold an "extended_signature" (DSPy refuses it: "Loading
// extended_signature is no longer supported in DSPy 2.6+"), and DSPy 2.5.5
// and earlier saved "signature_instructions" and "signature_prefix" in
// place of a "signature" object (DSPy 3.x fails on the missing "signature"
// key).
var ErrLegacyDSPyState = errors.New("programs: loading extended_signature is no longer supported in DSPy 2.6+ (state saved by DSPy 2.5 or earlier)")

// dspyLegacyKeys mark a predictor entry saved by DSPy 2.5.5 or earlier,
// whose Predict.dump_state wrote the signature as flat keys (2.5.6 wrote a
// "signature" object).
var dspyLegacyKeys = []string{"signature_instructions", "signature_prefix", "extended_signature_instructions", "extended_signature_prefix"}

// dspyMetadataKey is the top-level key DSPy's save writes besides the
// predictors.
const dspyMetadataKey = "metadata"

// dspyAugmentedKey marks a demo that an optimizer bootstrapped from a trace
// of the program's own run (dspy/teleprompt/bootstrap.py at
// stanfordnlp/dspy 4ed377ee: dspy.Example(augmented=True, **inputs,
// **outputs)); labelled demos taken from the training set do not have it.
// MIPROv2's proposer (dspy/propose/grounded_proposer.py) picks demos by it.
const dspyAugmentedKey = "augmented"

// The keys of a predictor's entry that DSPy's Predict.dump_state writes
// (dspy/predict/predict.py at stanfordnlp/dspy 4ed377ee), in its order.
const (
	dspyTracesKey    = "traces"
	dspyTrainKey     = "train"
	dspyDemosKey     = "demos"
	dspySignatureKey = "signature"
	dspyLMKey        = "lm"
)

type dspySignature struct {
	Instructions string      `json:"instructions"`
	Fields       []dspyField `json:"fields"`
}

type dspyField struct {
	Prefix      string `json:"prefix"`
	Description string `json:"description"`
}

// dspySavedSignature is a saved signature as read: the members DSPy's
// Signature.load_state indexes ("instructions", "fields", each field's
// "prefix" and "description") are pointers, to tell a missing one, which
// DSPy fails on, from an empty one.
type dspySavedSignature struct {
	Instructions *string `json:"instructions"`
	Fields       *[]struct {
		Prefix      *string `json:"prefix"`
		Description *string `json:"description"`
	} `json:"fields"`
}

// rawMember is one member of a JSON object, in file order.
type rawMember struct {
	Key   string
	Value json.RawMessage
}

// dspyKept is what LoadDSPy read that dspex does not use, carried by each
// predictor it restored so that SaveDSPy writes it back: the predictor
// entry's other members ("traces", "train", "lm" and keys dspex does not
// know) and the file's top-level members that are not the program's
// predictors ("metadata" with its "dependency_versions", and entries of
// predictors the program no longer has). It is never modified after
// LoadDSPy builds it, so predictors share it.
type dspyKept struct {
	entry []rawMember
	file  []rawMember
	// demos are the predictor's demos as read, in file order; byValue
	// maps a demo key and the encoding of a value dspex holds for it
	// (dspyValue) to the text the file had for that value, the first one
	// read.
	demos   []dspyDemo
	byValue map[string]json.RawMessage
	// byDemo maps the fingerprint of a demo as dspex holds it
	// (dspyFingerprint) to its index in demos, the first one read.
	byDemo map[string]int
}

// dspyFingerprint identifies a demo by its keys and values as dspex holds
// them (encs: each value encoded by dspyValue), whatever their order.
func dspyFingerprint(encs map[string]json.RawMessage) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(encs)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.Write(encs[k])
		b.WriteByte(0)
	}
	return b.String()
}

// readAs returns the demo LoadDSPy read that holds what d holds (encs:
// d's values encoded by dspyValue): the one at d's own index i if it does,
// else the first such one.
func (k *dspyKept) readAs(i int, d Values, encs map[string]json.RawMessage) (*dspyDemo, bool) {
	if k == nil {
		return nil, false
	}
	if i < len(k.demos) && k.demos[i].unchanged(d, encs) {
		return &k.demos[i], true
	}
	if j, ok := k.byDemo[dspyFingerprint(encs)]; ok {
		return &k.demos[j], true
	}
	return nil, false
}

// dspyDemo is one demo as LoadDSPy read it.
type dspyDemo struct {
	keys []string                   // in file order
	raw  map[string]json.RawMessage // each value's text in the file, compact
	enc  map[string]json.RawMessage // each value as dspex holds it, encoded by dspyValue
}

// dspyValueKey is the byValue key of value encoding enc under demo key k.
func dspyValueKey(k string, enc json.RawMessage) string { return k + "\x00" + string(enc) }

// unchanged reports whether demo d holds what kd was read as: the same keys
// with the same values (encs holds d's values encoded by dspyValue).
func (kd *dspyDemo) unchanged(d Values, encs map[string]json.RawMessage) bool {
	if len(d) != len(kd.keys) {
		return false
	}
	for _, k := range kd.keys {
		if e, ok := encs[k]; !ok || !bytes.Equal(e, kd.enc[k]) {
			return false
		}
	}
	return true
}

// rawValue returns the text the file had for a value of demo key k that
// dspex holds encoded as enc, if LoadDSPy read one.
func (k *dspyKept) rawValue(key string, enc json.RawMessage) (json.RawMessage, bool) {
	if k == nil {
		return nil, false
	}
	raw, ok := k.byValue[dspyValueKey(key, enc)]
	return raw, ok
}

// value returns the kept member named key.
func (k *dspyKept) value(key string) (json.RawMessage, bool) {
	if k == nil {
		return nil, false
	}
	for _, m := range k.entry {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// dspyDefaultDesc is the description DSPy gives a field declared without
// one: "${name}".
func dspyDefaultDesc(name string) string { return "${" + name + "}" }

// SaveDSPy writes the learned state of prog in the JSON format of DSPy 3.x's
// program.save("x.json"), so that a DSPy program of the same shape (the
// same predictor names, as DSPy's named_predictors gives them, with the same
// fields) can load it with program.load. The object has one key per
// predictor, in NamedPredictors order:
//
//	{"traces": [], "train": [], "demos": [...],
//	 "signature": {"instructions": "...", "fields": [{"prefix": "Question:", "description": "${question}"}, ...]},
//	 "lm": null}
//
// with the fields listed inputs first, then outputs, each with its prefix
// (DefaultPrefix when unset) and description (DSPy's "${name}" when unset);
// and a "metadata" key holding the "dependency_versions" object DSPy
// compares with its own versions (empty when the program was not loaded
// from DSPy's file).
//
// A demo that holds what a demo LoadDSPy read held (wherever it now is
// among the predictor's demos) is written back as the file had it: its keys in their order, each value's text
// unchanged (a whole number in a float field stays 1 and a float 1.0, an
// object's keys keep their order, strings their escapes), as DSPy, which
// keeps whatever json.load produced, writes it back. A value equal to one
// read under the same key elsewhere in the predictor's demos is written as
// that one was. Other demos are written with "augmented" first when they
// have it (as DSPy's optimizers build bootstrapped demos), then their
// signature's fields in order, then their other keys sorted, and their
// values as their fields' types call for: floats as Python writes them
// (1.0, 1e+16), so that a float stays a float for DSPy and for LoadDSPy,
// and ints as ints.
//
// What LoadDSPy read and dspex does not use is written back unchanged:
// each predictor's "traces", "train", "lm" (without an "api_key", which
// DSPy never saves either) and unknown keys, and the file's "metadata" and
// other top-level keys. A predictor that was not loaded from DSPy's file is
// written with empty traces and train and a null LM: no model settings or
// keys of dspex's own are saved.
func SaveDSPy(w io.Writer, prog any) error {
	nps, err := NamedPredictors(prog)
	if err != nil {
		return err
	}
	var file []rawMember
	for _, np := range nps {
		if np.Name == dspyMetadataKey {
			return fmt.Errorf("programs: SaveDSPy: a predictor named %q clashes with DSPy's metadata key", np.Name)
		}
		if k := np.Predictor.dspy; k != nil && file == nil {
			file = k.file
		}
	}
	var buf bytes.Buffer
	buf.WriteString("{\n")
	for _, np := range nps {
		entry, err := dspyEntry(np.Predictor)
		if err != nil {
			return fmt.Errorf("programs: SaveDSPy: predictor %q: %w", np.Name, err)
		}
		writeMember(&buf, np.Name, entry)
		buf.WriteString(",\n")
	}
	hasMeta := false
	for _, m := range file {
		if slices.ContainsFunc(nps, func(np NamedPredictor) bool { return np.Name == m.Key }) {
			continue
		}
		hasMeta = hasMeta || m.Key == dspyMetadataKey
		writeMember(&buf, m.Key, m.Value)
		buf.WriteString(",\n")
	}
	if !hasMeta {
		writeMember(&buf, dspyMetadataKey, json.RawMessage(`{"dependency_versions": {}}`))
		buf.WriteString(",\n")
	}
	buf.Truncate(buf.Len() - 2)
	buf.WriteString("\n}\n")
	_, err = w.Write(buf.Bytes())
	return err
}

// dspyEntry returns p's entry in DSPy's format, compact.
func dspyEntry(p *Predictor) (json.RawMessage, error) {
	sig := p.Signature()
	ds := dspySignature{Instructions: sig.Instructions(), Fields: []dspyField{}}
	for _, f := range allFields(sig) {
		desc := f.Desc
		if desc == "" {
			desc = dspyDefaultDesc(f.Name)
		}
		ds.Fields = append(ds.Fields, dspyField{Prefix: f.Label(), Description: desc})
	}
	var members []rawMember
	add := func(key string, v any) error {
		b, err := marshalNoEscape(v)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		members = append(members, rawMember{key, b})
		return nil
	}
	kept := func(key, otherwise string) {
		v, ok := p.dspy.value(key)
		if !ok {
			v = json.RawMessage(otherwise)
		}
		members = append(members, rawMember{key, v})
	}
	kept(dspyTracesKey, "[]")
	kept(dspyTrainKey, "[]")
	demos, err := dspyDemos(sig, p.demos, p.dspy)
	if err != nil {
		return nil, err
	}
	members = append(members, rawMember{dspyDemosKey, demos})
	if err := add(dspySignatureKey, ds); err != nil {
		return nil, err
	}
	kept(dspyLMKey, "null")
	if p.dspy != nil {
		for _, m := range p.dspy.entry {
			switch m.Key {
			case dspyTracesKey, dspyTrainKey, dspyDemosKey, dspySignatureKey, dspyLMKey:
			default:
				members = append(members, m)
			}
		}
	}
	return objectOf(members), nil
}

// dspyDemos returns demos as a JSON array: a demo that holds what one
// LoadDSPy read held is written as that one was read; in the others each key is in DSPy's order
// ("augmented", then the signature's fields, then the others sorted) and
// each value as it was read when kept has it under that key, else as
// dspyValue encodes it.
func dspyDemos(sig signature.Signature, demos []Values, kept *dspyKept) (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	fields := allFields(sig)
	for i, d := range demos {
		if i > 0 {
			buf.WriteByte(',')
		}
		encs := make(map[string]json.RawMessage, len(d))
		for k, v := range d {
			b, err := dspyValue(v)
			if err != nil {
				return nil, fmt.Errorf("demo %d: %s: %w", i, k, err)
			}
			encs[k] = b
		}
		var members []rawMember
		if kd, ok := kept.readAs(i, d, encs); ok {
			for _, k := range kd.keys {
				members = append(members, rawMember{k, kd.raw[k]})
			}
			buf.Write(objectOf(members))
			continue
		}
		var keys []string
		if _, ok := d[dspyAugmentedKey]; ok {
			keys = append(keys, dspyAugmentedKey)
		}
		for _, f := range fields {
			if _, ok := d[f.Name]; ok && f.Name != dspyAugmentedKey {
				keys = append(keys, f.Name)
			}
		}
		var rest []string
		for k := range d {
			if !slices.Contains(keys, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range append(keys, rest...) {
			v := encs[k]
			if raw, ok := kept.rawValue(k, v); ok {
				v = raw
			}
			members = append(members, rawMember{k, v})
		}
		buf.Write(objectOf(members))
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// dspyValue encodes a demo value as SaveDSPy writes a value dspex produced:
// compact JSON with floats as Python writes them (pythonNumbers).
func dspyValue(v any) (json.RawMessage, error) {
	return marshalNoEscape(pythonNumbers(v))
}

// objectOf returns members as a compact JSON object, in order.
func objectOf(members []rawMember) json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := marshalNoEscape(m.Key)
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(m.Value)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// marshalNoEscape is json.Marshal without HTML escaping, compact.
func marshalNoEscape(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// writeMember writes `  "key": value` with value indented as a member of
// the top-level object.
func writeMember(buf *bytes.Buffer, key string, v json.RawMessage) {
	k, _ := marshalNoEscape(key)
	buf.WriteString("  ")
	buf.Write(k)
	buf.WriteString(": ")
	var ind bytes.Buffer
	if err := json.Indent(&ind, v, "  ", "  "); err != nil {
		buf.Write(v) // kept values were valid JSON when read; never reached
		return
	}
	buf.Write(ind.Bytes())
}

// pythonNumbers returns v with its floats (also inside slices, arrays and
// maps) replaced by json.Number in Python's repr form, which DSPy's save
// writes: a whole float keeps its ".0" (1.0, not 1) and large or small
// ones use an exponent past the same bounds (1e+16, 1e-05). Other values
// are returned as they are.
func pythonNumbers(v any) any {
	switch x := v.(type) {
	case nil, string, bool, json.Number, int, int64:
		return v
	case float64:
		return pythonFloat(x)
	case float32:
		return pythonFloat(float64(x))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return pythonFloat(rv.Float())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return v
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return v // []byte is written as base64, as encoding/json does
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = pythonNumbers(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.IsNil() || rv.Type().Key().Kind() != reflect.String {
			return v
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[it.Key().String()] = pythonNumbers(it.Value().Interface())
		}
		return out
	}
	return v
}

// pythonFloat formats f as Python's repr does; NaN and infinities, which
// JSON cannot hold, are left as floats for the encoder to refuse.
func pythonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	// Python's repr switches to an exponent when the decimal point would
	// fall more than 4 places before the first digit or 16 after it.
	if decpt := exp + 1; decpt <= -4 || decpt > 16 {
		return json.Number(e)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return json.Number(s)
}

// LoadDSPy reads the JSON DSPy's program.save("x.json") writes (DSPy 2.6
// and 3.x) and returns a copy of prog with it, as Load does for Save's
// format: each predictor gets the saved instructions, field prefixes and
// descriptions ("${name}" meaning no description) and demos (their extra
// keys, such as "augmented", are kept, numbers in them as json.Number). The
// LM stays the one prog's predictors have; what dspex does not use
// ("traces", "train", "lm", unknown keys, "metadata") is kept for SaveDSPy
// to write back, and so is the text of each demo as read.
//
// As in DSPy's load_state (dspy/primitives/base_module.py,
// dspy/predict/predict.py and dspy/signatures/signature.py at
// stanfordnlp/dspy 4ed377ee):
//   - every predictor of prog must have a key in the file, else the error is
//     a *ShapeError naming the missing ones; keys prog does not have are
//     ignored;
//   - DSPy does not save field names, so fields are matched by position
//     (inputs, then outputs) as far as both lists go, the rest keeping what
//     they had;
//   - a predictor's entry must have a "signature" with "instructions" and
//     "fields", each field a "prefix" and a "description"; an entry without
//     "demos" keeps the demos the predictor had;
//   - state saved by DSPy 2.5 or earlier is refused with ErrLegacyDSPyState:
//     a predictor with an "extended_signature" key (2.5.6 to 2.5.x), or any
//     entry with the flat "signature_instructions" keys of 2.5.5 and
//     earlier and no "signature".
//
// Deliberate differences: a missing "lm" reads as null (DSPy fails on it;
// dspex never loads an LM from the file), and a file without "metadata"
// (saved before DSPy 2.6, or by hand) loads (DSPy's load reads
// metadata.dependency_versions only to warn about version differences;
// load_state does not need it). Demo values are checked against their
// fields' types, and the input's size and demo counts are capped, as Load
// does.
func LoadDSPy[P any](r io.Reader, prog P, opts ...LoadOption) (P, error) {
	cfg := newLoadConfig(opts)
	var raw json.RawMessage
	if err := decodeState("LoadDSPy", r, cfg, &raw); err != nil {
		return prog, err
	}
	top, err := objectMembers(raw)
	if err != nil {
		return prog, fmt.Errorf("programs: LoadDSPy: %w", err)
	}
	byKey := make(map[string]json.RawMessage, len(top))
	for _, m := range top {
		byKey[m.Key] = m.Value
	}
	if _, ok := byKey["dspex"]; ok {
		return prog, fmt.Errorf("programs: LoadDSPy: this is a dspex state file; use Load")
	}
	for _, m := range top {
		if legacy := dspyLegacyEntry(m.Value); legacy != "" {
			return prog, fmt.Errorf("programs: LoadDSPy: entry %q has the %q of DSPy 2.5.5 and earlier and no \"signature\": %w",
				m.Key, legacy, ErrLegacyDSPyState)
		}
	}
	nps, err := NamedPredictors(prog)
	if err != nil {
		return prog, err
	}
	// As DSPy's BaseModule.load_state: every predictor of the program must
	// have saved state; keys the program does not have are ignored.
	var missing, have []string
	for _, np := range nps {
		have = append(have, np.Name)
		if _, ok := byKey[np.Name]; !ok {
			missing = append(missing, np.Name)
		}
	}
	if len(missing) > 0 {
		return prog, &ShapeError{Reason: "no saved state for " + quoteList(missing) + " (the program has " + quoteList(have) + ")"}
	}
	var file []rawMember
	for _, m := range top {
		if !slices.Contains(have, m.Key) {
			file = append(file, m)
		}
	}
	replace := make(map[string]*Predictor, len(nps))
	for _, np := range nps {
		q, err := loadDSPyPredictor(np, byKey[np.Name], file, cfg)
		if err != nil {
			return prog, err
		}
		replace[np.Name] = q
	}
	return WithPredictors(prog, replace)
}

// loadDSPyPredictor restores np from its entry in DSPy's file.
func loadDSPyPredictor(np NamedPredictor, raw json.RawMessage, file []rawMember, cfg loadConfig) (*Predictor, error) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("programs: LoadDSPy: predictor %q: %w", np.Name, err)
	}
	kept := &dspyKept{file: file}
	var sigRaw, demosRaw json.RawMessage
	hasDemos := false
	for _, m := range members {
		switch m.Key {
		case "extended_signature":
			return nil, fmt.Errorf("programs: LoadDSPy: predictor %q: %w", np.Name, ErrLegacyDSPyState)
		case dspySignatureKey:
			sigRaw = m.Value
		case dspyDemosKey:
			demosRaw, hasDemos = m.Value, true
		case dspyLMKey:
			kept.entry = append(kept.entry, rawMember{m.Key, withoutAPIKey(m.Value)})
		default:
			kept.entry = append(kept.entry, m)
		}
	}
	if sigRaw == nil {
		// DSPy's Predict.load_state indexes state["signature"].
		return nil, fmt.Errorf("programs: LoadDSPy: predictor %q: no %q key", np.Name, dspySignatureKey)
	}
	ds, err := dspySignatureOf(sigRaw)
	if err != nil {
		return nil, fmt.Errorf("programs: LoadDSPy: predictor %q: signature: %w", np.Name, err)
	}
	var demos []Values
	if hasDemos {
		if demos, kept.demos, err = readDSPyDemos(demosRaw, np.Name, cfg); err != nil {
			if errors.Is(err, ErrStateTooLarge) {
				return nil, err
			}
			return nil, fmt.Errorf("programs: LoadDSPy: predictor %q: demos: %w", np.Name, err)
		}
	}
	sig := np.Predictor.Signature()
	fields := allFields(sig)
	// Fields are matched by position and, as DSPy's zip does, only as far
	// as both lists go: the others keep what they had.
	updates := make([]fieldUpdate, len(fields))
	for i, f := range fields {
		if i < len(ds.Fields) {
			updates[i] = fromDSPyField(f, ds.Fields[i])
		} else {
			updates[i] = fieldUpdate{prefix: f.Prefix, desc: f.Desc}
		}
	}
	q, err := restore(np, ds.Instructions, updates, demos, true)
	if err != nil {
		return nil, err
	}
	if !hasDemos {
		// As DSPy's load_state, which sets only the keys the state has.
		q = q.WithDemos(np.Predictor.demos)
	}
	// restore converted the demo values to their fields' types; index
	// them, as SaveDSPy will encode them, by the text the file had.
	kept.byValue = make(map[string]json.RawMessage)
	kept.byDemo = make(map[string]int, len(demos))
	for i, d := range demos {
		kd := &kept.demos[i]
		kd.enc = make(map[string]json.RawMessage, len(d))
		for k, v := range d {
			enc, err := dspyValue(v)
			if err != nil {
				return nil, fmt.Errorf("programs: LoadDSPy: predictor %q: demo %d: %s: %w", np.Name, i, k, err)
			}
			kd.enc[k] = enc
			if key := dspyValueKey(k, enc); kept.byValue[key] == nil {
				kept.byValue[key] = kd.raw[k]
			}
		}
		if fp := dspyFingerprint(kd.enc); !hasDemo(kept.byDemo, fp) {
			kept.byDemo[fp] = i
		}
	}
	c := *q
	c.dspy = kept
	return &c, nil
}

// dspyLegacyEntry returns the legacy key a top-level entry of a saved file
// has, when it is a predictor saved by DSPy 2.5.5 or earlier (flat
// signature keys and no "signature" object), or "".
func dspyLegacyEntry(raw json.RawMessage) string {
	members, err := objectMembers(raw)
	if err != nil {
		return ""
	}
	legacy := ""
	for _, m := range members {
		if m.Key == dspySignatureKey {
			return ""
		}
		if legacy == "" && slices.Contains(dspyLegacyKeys, m.Key) {
			legacy = m.Key
		}
	}
	return legacy
}

// dspySignatureOf decodes a saved signature, refusing what DSPy's
// Signature.load_state cannot read: a missing "instructions" or "fields",
// or a field without "prefix" or "description".
func dspySignatureOf(raw json.RawMessage) (dspySignature, error) {
	var saved dspySavedSignature
	if err := json.Unmarshal(raw, &saved); err != nil {
		return dspySignature{}, err
	}
	if saved.Instructions == nil {
		return dspySignature{}, errors.New(`no "instructions" key`)
	}
	if saved.Fields == nil {
		return dspySignature{}, errors.New(`no "fields" key`)
	}
	ds := dspySignature{Instructions: *saved.Instructions}
	for i, f := range *saved.Fields {
		switch {
		case f.Prefix == nil:
			return dspySignature{}, fmt.Errorf(`field %d: no "prefix" key`, i)
		case f.Description == nil:
			return dspySignature{}, fmt.Errorf(`field %d: no "description" key`, i)
		}
		ds.Fields = append(ds.Fields, dspyField{Prefix: *f.Prefix, Description: *f.Description})
	}
	return ds, nil
}

// readDSPyDemos decodes a saved "demos" array: each demo as Values with
// numbers as json.Number, and as it was read (its keys in order and each
// value's text). A demo that is not an object is an error, and so are more
// demos than cfg allows, found before they are decoded.
func readDSPyDemos(raw json.RawMessage, predictor string, cfg loadConfig) ([]Values, []dspyDemo, error) {
	var items []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if tok == nil {
		return nil, nil, nil // null, as an empty list
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, nil, fmt.Errorf("want a JSON array, found %s", jsonTokenKind(tok))
	}
	for dec.More() {
		if err := checkDemoCount("LoadDSPy", predictor, len(items)+1, cfg); err != nil {
			return nil, nil, err
		}
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return nil, nil, err
		}
		items = append(items, item)
	}
	demos := make([]Values, 0, len(items))
	kept := make([]dspyDemo, 0, len(items))
	for i, item := range items {
		members, err := objectMembers(item)
		if err != nil {
			return nil, nil, fmt.Errorf("demo %d: %w", i, err)
		}
		d := make(Values, len(members))
		kd := dspyDemo{raw: make(map[string]json.RawMessage, len(members))}
		for _, m := range members {
			var v any
			dec := json.NewDecoder(bytes.NewReader(m.Value))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				return nil, nil, fmt.Errorf("demo %d: %s: %w", i, m.Key, err)
			}
			if _, dup := kd.raw[m.Key]; !dup {
				kd.keys = append(kd.keys, m.Key)
			}
			var c bytes.Buffer
			if err := json.Compact(&c, m.Value); err != nil {
				return nil, nil, fmt.Errorf("demo %d: %s: %w", i, m.Key, err)
			}
			d[m.Key], kd.raw[m.Key] = v, c.Bytes()
		}
		demos = append(demos, d)
		kept = append(kept, kd)
	}
	return demos, kept, nil
}

// objectMembers returns the members of the JSON object raw, in order.
func objectMembers(raw json.RawMessage) ([]rawMember, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want a JSON object, found %s", jsonTokenKind(tok))
	}
	var out []rawMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, rawMember{key, v})
	}
	return out, nil
}

func jsonTokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// withoutAPIKey returns a saved LM state without its "api_key" member:
// DSPy's BaseLM.dump_state leaves it out, and a key must never be written
// back to a saved program even if a file was edited to hold one.
func withoutAPIKey(raw json.RawMessage) json.RawMessage {
	members, err := objectMembers(raw)
	if err != nil {
		return raw // null, or not an object: nothing to remove
	}
	kept := slices.DeleteFunc(members, func(m rawMember) bool { return m.Key == "api_key" })
	return objectOf(kept)
}

// fromDSPyField maps a saved DSPy field onto f: a prefix equal to the one f
// shows keeps f's own (so an unset prefix stays unset), and "${name}" means
// no description.
func fromDSPyField(f signature.Field, d dspyField) fieldUpdate {
	u := fieldUpdate{prefix: d.Prefix, desc: d.Description}
	if d.Prefix == f.Label() {
		u.prefix = f.Prefix
	}
	if d.Description == dspyDefaultDesc(f.Name) {
		u.desc = ""
	}
	return u
}

// hasDemo reports whether byDemo holds fingerprint fp.
func hasDemo(byDemo map[string]int, fp string) bool {
	_, ok := byDemo[fp]
	return ok
}
