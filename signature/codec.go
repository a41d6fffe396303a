package signature

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Encode turns a struct into signature values: a map from each field's
// signature name (as Of reads it from the tags) to its value. T must be a
// struct type.
//
// Scalars become the predeclared Go type of their kind: a field of type
// `type Label string` gives a string, an int32 field an int32, a []byte
// field a string. Lists, maps and objects are the field's value itself
// (slices stay slices, structs stay structs), which the adapters format as
// JSON. A pointer field gives the value it points to; nil pointers and nil
// interfaces are left out of the map, so Decode leaves them nil.
//
// The map is new on every call and belongs to the caller.
func Encode[T any](v T) (map[string]any, error) {
	p, err := planOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	rv := reflect.ValueOf(&v).Elem()
	out := make(map[string]any, len(p.fields))
	for _, f := range p.fields {
		if x, ok := encodeValue(rv.FieldByIndex(f.index)); ok {
			out[f.field.Name] = x
		}
	}
	return out, nil
}

// encodeValue returns the signature value of v, or false for nil pointers
// and interfaces.
func encodeValue(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		if v.Kind() == reflect.Interface {
			return v.Elem().Interface(), true
		}
		return encodeValue(v.Elem())
	case reflect.String:
		return v.String(), true
	case reflect.Int:
		return int(v.Int()), true
	case reflect.Int8:
		return int8(v.Int()), true
	case reflect.Int16:
		return int16(v.Int()), true
	case reflect.Int32:
		return int32(v.Int()), true
	case reflect.Int64:
		return v.Int(), true
	case reflect.Uint:
		return uint(v.Uint()), true
	case reflect.Uint8:
		return uint8(v.Uint()), true
	case reflect.Uint16:
		return uint16(v.Uint()), true
	case reflect.Uint32:
		return uint32(v.Uint()), true
	case reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32:
		return float32(v.Float()), true
	case reflect.Float64:
		return v.Float(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Slice:
		if v.Type() != rawMessageType && v.Type().Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes()), true
		}
	}
	return v.Interface(), true
}

// Decode fills a struct of type T from signature values, such as the output
// values an adapter parsed from a completion. Keys are signature field names
// as Of reads them from the tags; keys with no matching field are ignored, and
// fields without a key, or whose value is nil (including a typed nil such as
// a nil slice), keep their zero value.
//
// Values are converted to the field types:
//   - integer fields accept any Go integer or float type, json.Number and
//     decimal strings, provided the value is a whole number that fits;
//   - float fields accept numbers, json.Number and numeric strings;
//   - bool fields accept bools and the strings strconv.ParseBool accepts;
//   - string fields accept strings and json.Number;
//   - slice fields accept any slice or array ([]any from JSON), element by
//     element; map fields accept maps with string keys, entry by entry;
//   - struct fields accept a value of the same type, or any JSON-encodable
//     value (map[string]any from JSON, or a string holding JSON), converted
//     through encoding/json; json.RawMessage fields accept any JSON-encodable
//     value; any fields accept everything.
//
// A value that cannot be converted is a *FieldError naming the Go field;
// for a number that does not fit it wraps strconv.ErrRange. T must be a
// struct type.
func Decode[T any](values map[string]any) (T, error) {
	var out T
	p, err := planOf(reflect.TypeFor[T]())
	if err != nil {
		return out, err
	}
	rv := reflect.ValueOf(&out).Elem()
	for _, f := range p.fields {
		x, ok := values[f.field.Name]
		if !ok || x == nil {
			continue
		}
		if err := assign(rv.FieldByIndex(f.index), x); err != nil {
			var zero T
			return zero, &FieldError{Struct: p.typ.String(), Field: f.goName,
				Reason: fmt.Sprintf("decoding %q: %v", f.field.Name, err), Err: err}
		}
	}
	return out, nil
}

// assign stores src into the settable dst, converting as Decode documents.
func assign(dst reflect.Value, src any) error {
	if src == nil {
		dst.SetZero()
		return nil
	}
	sv := reflect.ValueOf(src)
	switch sv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer:
		if sv.IsNil() { // a typed nil, such as a nil slice from Encode
			dst.SetZero()
			return nil
		}
	}
	dt := dst.Type()
	if dt == rawMessageType {
		if raw, ok := src.(json.RawMessage); ok {
			if !json.Valid(raw) {
				return fmt.Errorf("value is not valid JSON")
			}
			dst.SetBytes(append(json.RawMessage(nil), raw...))
			return nil
		}
		b, err := json.Marshal(src)
		if err != nil {
			return err
		}
		dst.SetBytes(b)
		return nil
	}
	switch dt.Kind() {
	case reflect.Pointer:
		n := reflect.New(dt.Elem())
		if err := assign(n.Elem(), src); err != nil {
			return err
		}
		dst.Set(n)
	case reflect.Interface:
		if !sv.Type().AssignableTo(dt) {
			return mismatch(src, dt)
		}
		dst.Set(sv)
	case reflect.String:
		if sv.Kind() != reflect.String {
			return mismatch(src, dt)
		}
		dst.SetString(sv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := intFrom(sv, dt)
		if err == nil && dst.OverflowInt(i) {
			err = overflow(src, dt)
		}
		if err != nil {
			return err
		}
		dst.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := uintFrom(sv, dt)
		if err == nil && dst.OverflowUint(u) {
			err = overflow(src, dt)
		}
		if err != nil {
			return err
		}
		dst.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := floatFrom(sv, dt)
		if err == nil && dst.OverflowFloat(f) {
			err = overflow(src, dt)
		}
		if err != nil {
			return err
		}
		dst.SetFloat(f)
	case reflect.Bool:
		switch sv.Kind() {
		case reflect.Bool:
			dst.SetBool(sv.Bool())
		case reflect.String:
			b, err := strconv.ParseBool(strings.TrimSpace(sv.String()))
			if err != nil {
				return fmt.Errorf("cannot use %q as %s", sv.String(), dt)
			}
			dst.SetBool(b)
		default:
			return mismatch(src, dt)
		}
	case reflect.Slice:
		if dt.Elem().Kind() == reflect.Uint8 {
			if sv.Kind() == reflect.String {
				if sv.Len() == 0 {
					dst.SetZero() // Encode turns nil and empty bytes into ""
				} else {
					dst.SetBytes([]byte(sv.String()))
				}
				return nil
			}
			if sv.Kind() == reflect.Slice && sv.Type().Elem().Kind() == reflect.Uint8 {
				dst.SetBytes(append([]byte(nil), sv.Bytes()...))
				return nil
			}
			return mismatch(src, dt)
		}
		if sv.Kind() != reflect.Slice && sv.Kind() != reflect.Array {
			return mismatch(src, dt)
		}
		n := sv.Len()
		s := reflect.MakeSlice(dt, n, n)
		for i := range n {
			if err := assign(s.Index(i), sv.Index(i).Interface()); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		dst.Set(s)
	case reflect.Map:
		if sv.Kind() != reflect.Map || sv.Type().Key().Kind() != reflect.String {
			return mismatch(src, dt)
		}
		m := reflect.MakeMapWithSize(dt, sv.Len())
		it := sv.MapRange()
		for it.Next() {
			k := it.Key().String()
			e := reflect.New(dt.Elem()).Elem()
			if err := assign(e, it.Value().Interface()); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(dt.Key()), e)
		}
		dst.Set(m)
	case reflect.Struct:
		if sv.Type() == dt {
			dst.Set(sv)
			return nil
		}
		if dt == timeType && sv.Kind() == reflect.String {
			tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(sv.String()))
			if err != nil {
				return fmt.Errorf("cannot use %q as a time (RFC 3339): %w", sv.String(), err)
			}
			dst.Set(reflect.ValueOf(tm))
			return nil
		}
		var b []byte
		if sv.Kind() == reflect.String {
			b = []byte(sv.String())
		} else {
			var err error
			if b, err = json.Marshal(src); err != nil {
				return err
			}
		}
		n := reflect.New(dt)
		if err := json.Unmarshal(b, n.Interface()); err != nil {
			return fmt.Errorf("cannot use %T as %s: %w", src, dt, err)
		}
		dst.Set(n.Elem())
	default:
		return fmt.Errorf("unsupported field type %s", dt)
	}
	return nil
}

func mismatch(src any, dt reflect.Type) error {
	return fmt.Errorf("cannot use %T as %s", src, dt)
}

func overflow(src any, dt reflect.Type) error {
	return fmt.Errorf("value %v overflows %s: %w", src, dt, strconv.ErrRange)
}

// Bounds of the float64 values that convert to int64 and uint64 exactly.
const (
	minInt64Float  = -(1 << 63)
	maxInt64Float  = 1 << 63 // exclusive
	maxUint64Float = 1 << 64 // exclusive
)

// numberText returns the trimmed text of a string value (including
// json.Number), for parsing.
func numberText(sv reflect.Value) string { return strings.TrimSpace(sv.String()) }

// wholeFloat returns f if it is a whole number, or an error.
func wholeFloat(sv reflect.Value, f float64) (float64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, fmt.Errorf("value %v is not a whole number", sv.Interface())
	}
	return f, nil
}

func intFrom(sv reflect.Value, dt reflect.Type) (int64, error) {
	switch sv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return sv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := sv.Uint(); u <= math.MaxInt64 {
			return int64(u), nil
		}
		return 0, overflow(sv.Interface(), dt)
	case reflect.Float32, reflect.Float64:
		return floatToInt(sv, dt, sv.Float())
	case reflect.String:
		s := numberText(sv)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !isRange(err) {
			return 0, fmt.Errorf("cannot use %q as an integer", sv.String())
		}
		return floatToInt(sv, dt, f)
	}
	return 0, fmt.Errorf("cannot use %T as an integer", sv.Interface())
}

func floatToInt(sv reflect.Value, dt reflect.Type, f float64) (int64, error) {
	if math.IsInf(f, 0) {
		return 0, overflow(sv.Interface(), dt)
	}
	f, err := wholeFloat(sv, f)
	if err != nil {
		return 0, err
	}
	if f < minInt64Float || f >= maxInt64Float {
		return 0, overflow(sv.Interface(), dt)
	}
	return int64(f), nil
}

func uintFrom(sv reflect.Value, dt reflect.Type) (uint64, error) {
	negative := func() error {
		return fmt.Errorf("value %v is negative: %w", sv.Interface(), strconv.ErrRange)
	}
	var f float64
	switch sv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i := sv.Int(); i >= 0 {
			return uint64(i), nil
		}
		return 0, negative()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return sv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		f = sv.Float()
	case reflect.String:
		s := numberText(sv)
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, nil
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil && !isRange(err) {
			return 0, fmt.Errorf("cannot use %q as an integer", sv.String())
		}
	default:
		return 0, fmt.Errorf("cannot use %T as an integer", sv.Interface())
	}
	if math.IsInf(f, 1) {
		return 0, overflow(sv.Interface(), dt)
	}
	if f < 0 {
		return 0, negative()
	}
	f, err := wholeFloat(sv, f)
	if err != nil {
		return 0, err
	}
	if f >= maxUint64Float {
		return 0, overflow(sv.Interface(), dt)
	}
	return uint64(f), nil
}

func floatFrom(sv reflect.Value, dt reflect.Type) (float64, error) {
	switch sv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(sv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(sv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return sv.Float(), nil
	case reflect.String:
		f, err := strconv.ParseFloat(numberText(sv), 64)
		if err != nil {
			if isRange(err) {
				return 0, overflow(sv.Interface(), dt)
			}
			return 0, fmt.Errorf("cannot use %q as a number", sv.String())
		}
		return f, nil
	}
	return 0, fmt.Errorf("cannot use %T as a number", sv.Interface())
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
