package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// decodeJSON decodes one JSON document into v after checking its depth
// and its count of objects and arrays; see decodeValue.
func decodeJSON(data []byte, lim Limits, v any) (unknown []string, err error) {
	b := jsonBudget{lim: lim}
	if err := b.take(data); err != nil {
		return nil, err
	}
	return decodeValue(data, v)
}

// jsonBudget applies MaxJSONDepth and MaxJSONObjects to one JSON document
// that is checked in parts: the records of an array, one after the other.
type jsonBudget struct {
	lim     Limits
	depth   int // levels that enclose the part
	objects int // objects and arrays counted so far
}

// take counts data, one part of the document, against the limits.
func (b *jsonBudget) take(data []byte) error {
	deepest, objects := jsonShape(data, b.lim.MaxJSONDepth-b.depth, b.lim.MaxJSONObjects-b.objects)
	if b.depth+deepest > b.lim.MaxJSONDepth {
		return &Error{Err: ErrLimit, Rule: fmt.Sprintf("the JSON document nests deeper than %d levels (MaxJSONDepth)", b.lim.MaxJSONDepth)}
	}
	if b.objects += objects; b.objects > b.lim.MaxJSONObjects {
		return &Error{Err: ErrLimit, Rule: fmt.Sprintf("the JSON document holds more than %d objects and arrays (MaxJSONObjects)", b.lim.MaxJSONObjects)}
	}
	return nil
}

// decodeValue decodes one JSON value, already checked, into v.
// An unknown field is not an error: v is decoded again without the strict
// check, and unknown lists the paths of all the value's fields that v
// has no place for (see unknownFields), sorted, each once. The strict
// decode comes first because it is the cheap path of a value that
// holds no unknown field.
func decodeValue(data []byte, v any) (unknown []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return nil, &Error{Err: ErrMalformed, Rule: "it holds data after its JSON document"}
		}
		return nil, nil
	}
	if !isUnknownField(err) {
		return nil, malformedJSON(err)
	}
	reflect.ValueOf(v).Elem().SetZero()
	if err := json.Unmarshal(data, v); err != nil {
		return nil, malformedJSON(err)
	}
	set := map[string]bool{}
	w := fieldWalk{dec: json.NewDecoder(bytes.NewReader(data)), set: set, fields: map[reflect.Type]map[string]reflect.Type{}}
	if err := w.value(reflect.TypeOf(v).Elem(), ""); err != nil {
		return nil, malformedJSON(err)
	}
	for f := range set {
		unknown = append(unknown, f)
	}
	slices.Sort(unknown)
	return unknown, nil
}

func malformedJSON(err error) error {
	return &Error{Err: ErrMalformed, Rule: "it is not the JSON expected here: " + strings.TrimPrefix(err.Error(), "json: ")}
}

// isUnknownField tells encoding/json's "json: unknown field \"x\"" error,
// which has no type of its own, from the others.
func isUnknownField(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		return false
	}
	return strings.Contains(err.Error(), "unknown field ")
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// fieldWalk lists the paths of the fields of a JSON document that a Go
// type has no place for. It reads the document token by token, so that
// its memory does not grow with the document. A path is the JSON names
// from the top, joined by "."; arrays add nothing, and a name repeated at
// once is written once, so that the field of a reply nested at any depth
// ("comment.comments.comments.x") has one path ("comment.comments.x") and
// the set stays as small as the types. Fields are matched as
// encoding/json matches them: by exact name, else without regard to case.
// The value of an unknown field is not looked into.
type fieldWalk struct {
	dec    *json.Decoder
	set    map[string]bool
	fields map[reflect.Type]map[string]reflect.Type // JSON names of each struct type
}

// value walks the next value of the document, which decodes into t; a nil
// t means a value that is not looked into.
func (w *fieldWalk) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(unmarshaler) {
		t = nil
	}
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for w.dec.More() {
			if err := w.value(elem, path); err != nil {
				return err
			}
		}
	case json.Delim('{'):
		for w.dec.More() {
			key, err := w.dec.Token()
			if err != nil {
				return err
			}
			name, _ := key.(string)
			ft, p := w.field(t, path, name)
			if err := w.value(ft, p); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, err = w.dec.Token() // the closing ] or }
	return err
}

// field returns the type that the value of field name of an object of
// type t decodes into, and its path, noting the path if t has no such field.
func (w *fieldWalk) field(t reflect.Type, path, name string) (reflect.Type, string) {
	if t == nil {
		return nil, path
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem(), path
	case reflect.Struct:
		p := joinPath(path, name)
		known := structFields(t, w.fields)
		ft, ok := known[name]
		if !ok {
			ft, ok = foldedField(known, name)
		}
		if !ok {
			w.set[p] = true
		}
		return ft, p
	}
	return nil, path
}

// joinPath appends name to path unless path ends with it already.
func joinPath(path, name string) string {
	switch {
	case path == "":
		return name
	case path == name || strings.HasSuffix(path, "."+name):
		return path
	}
	return path + "." + name
}

// structFields returns the JSON names of struct type t's fields.
func structFields(t reflect.Type, cache map[reflect.Type]map[string]reflect.Type) map[string]reflect.Type {
	if f, ok := cache[t]; ok {
		return f
	}
	f := map[string]reflect.Type{}
	for sf := range t.Fields() {
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = sf.Name
		}
		f[name] = sf.Type
	}
	cache[t] = f
	return f
}

func foldedField(known map[string]reflect.Type, name string) (reflect.Type, bool) {
	for k, t := range known {
		if strings.EqualFold(k, name) {
			return t, true
		}
	}
	return nil, false
}

// jsonShape returns the nesting depth of data and its count of objects and
// arrays, stopping early once either passes its max. It is a byte scan,
// cheaper than a token scan, and sound for the check because brackets
// inside strings are skipped.
func jsonShape(data []byte, maxDepth, maxObjects int) (deepest, objects int) {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if objects++; objects > maxObjects {
				return deepest, objects
			}
			if depth > deepest {
				deepest = depth
				if deepest > maxDepth {
					return deepest, objects
				}
			}
		case ']', '}':
			depth--
		}
	}
	return deepest, objects
}
