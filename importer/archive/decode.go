package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeJSON decodes one JSON document into v after checking its depth
// and its count of objects and arrays.
// An unknown field is not an error: it comes back as a note, and v is
// decoded again without the strict check. The note names the first
// unknown field only, which is enough to tell a log reader that the
// archive is newer than this reader.
func decodeJSON(data []byte, lim Limits, v any) (note string, err error) {
	depth, objects := jsonShape(data, lim.MaxJSONDepth, lim.MaxJSONObjects)
	if depth > lim.MaxJSONDepth {
		return "", &Error{Err: ErrLimit, Rule: fmt.Sprintf("the JSON document nests deeper than %d levels (MaxJSONDepth)", lim.MaxJSONDepth)}
	}
	if objects > lim.MaxJSONObjects {
		return "", &Error{Err: ErrLimit, Rule: fmt.Sprintf("the JSON document holds more than %d objects and arrays (MaxJSONObjects)", lim.MaxJSONObjects)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return "", &Error{Err: ErrMalformed, Rule: "it holds data after its JSON document"}
		}
		return "", nil
	}
	if field, ok := unknownField(err); ok {
		reflect.ValueOf(v).Elem().SetZero()
		if err := json.Unmarshal(data, v); err != nil {
			return "", malformedJSON(err)
		}
		return "unknown field " + field, nil
	}
	return "", malformedJSON(err)
}

func malformedJSON(err error) error {
	return &Error{Err: ErrMalformed, Rule: "it is not the JSON expected here: " + strings.TrimPrefix(err.Error(), "json: ")}
}

// unknownField extracts the quoted field name from encoding/json's
// "json: unknown field \"x\"" error, which has no type of its own.
func unknownField(err error) (string, bool) {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		return "", false
	}
	_, field, ok := strings.Cut(err.Error(), "unknown field ")
	return field, ok
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
