package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"

	"go.starlark.net/starlark"
)

// maxDepth bounds the nesting of converted values (and breaks cycles: a
// Starlark list may contain itself).
const maxDepth = 64

var errTooDeep = fmt.Errorf("the value nests more than %d levels", maxDepth)

// toGo converts a Starlark value to Go: None to nil, bool, int to int64,
// float to float64, str and bytes to string, list, tuple and set to []any,
// dict with string keys to map[string]any. Other values (functions,
// ranges...) and integers outside int64 are errors.
func toGo(v starlark.Value) (any, error) { return toGoDepth(v, 0) }

func toGoDepth(v starlark.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(v), nil
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return i, nil
		}
		return nil, fmt.Errorf("the integer %s does not fit in 64 bits", v)
	case starlark.Float:
		return float64(v), nil
	case starlark.String:
		return string(v), nil
	case starlark.Bytes:
		return string(v), nil
	case *starlark.List:
		return seqToGo(v, depth)
	case starlark.Tuple:
		return seqToGo(v, depth)
	case *starlark.Set:
		return seqToGo(v, depth)
	case *starlark.Dict:
		m := make(map[string]any, v.Len())
		for _, kv := range v.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("a dict key must be a string to leave the sandbox, not %s", kv[0].Type())
			}
			x, err := toGoDepth(kv[1], depth+1)
			if err != nil {
				return nil, err
			}
			m[string(k)] = x
		}
		return m, nil
	}
	return nil, fmt.Errorf("a %s value cannot leave the sandbox", v.Type())
}

func seqToGo(v starlark.Iterable, depth int) ([]any, error) {
	out := []any{}
	it := v.Iterate()
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		g, err := toGoDepth(x, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// fromGo converts a Go value to Starlark: nil, bools, integers, floats,
// strings, []any and map[string]any directly (map keys sorted); other
// slices, arrays and string-keyed maps element by element; anything else
// through its JSON encoding.
func fromGo(x any) (starlark.Value, error) { return fromGoDepth(x, 0) }

func fromGoDepth(x any, depth int) (starlark.Value, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch x := x.(type) {
	case nil:
		return starlark.None, nil
	case starlark.Value:
		return nil, errors.New("a Starlark value cannot be passed in")
	case bool:
		return starlark.Bool(x), nil
	case int:
		return starlark.MakeInt(x), nil
	case int8:
		return starlark.MakeInt64(int64(x)), nil
	case int16:
		return starlark.MakeInt64(int64(x)), nil
	case int32:
		return starlark.MakeInt64(int64(x)), nil
	case int64:
		return starlark.MakeInt64(x), nil
	case uint:
		return starlark.MakeUint64(uint64(x)), nil
	case uint8:
		return starlark.MakeInt64(int64(x)), nil
	case uint16:
		return starlark.MakeInt64(int64(x)), nil
	case uint32:
		return starlark.MakeInt64(int64(x)), nil
	case uint64:
		return starlark.MakeUint64(x), nil
	case float32:
		return starlark.Float(x), nil
	case float64:
		return starlark.Float(x), nil
	case string:
		return starlark.String(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return starlark.MakeInt64(i), nil
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("the number %s is out of range", x)
		}
		return starlark.Float(f), nil
	case json.RawMessage:
		return fromJSON(x, depth)
	case []any:
		elems := make([]starlark.Value, len(x))
		for i, e := range x {
			v, err := fromGoDepth(e, depth+1)
			if err != nil {
				return nil, err
			}
			elems[i] = v
		}
		return starlark.NewList(elems), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		d := starlark.NewDict(len(x))
		for _, k := range keys {
			v, err := fromGoDepth(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(starlark.String(k), v); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return starlark.NewList(nil), nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return starlark.Bytes(rv.Bytes()), nil
		}
		elems := make([]any, rv.Len())
		for i := range elems {
			elems[i] = rv.Index(i).Interface()
		}
		return fromGoDepth(elems, depth)
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String && rv.Type().Key() == reflect.TypeFor[string]() {
			m := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			return fromGoDepth(m, depth)
		}
	case reflect.Pointer:
		if rv.IsNil() {
			return starlark.None, nil
		}
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return nil, fmt.Errorf("a %T value cannot enter the sandbox: %w", x, err)
	}
	return fromJSON(raw, depth)
}

func fromJSON(raw []byte, depth int) (starlark.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return fromGoDepth(v, depth)
}
