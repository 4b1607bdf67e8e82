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

// decodeJSON decodes one JSON document into v after checking its depth.
// An unknown field is not an error: it comes back as a note, and v is
// decoded again without the strict check. The note names the first
// unknown field only, which is enough to tell a log reader that the
// archive is newer than this reader.
func decodeJSON(data []byte, maxDepth int, v any) (note string, err error) {
	if d := jsonDepth(data, maxDepth); d > maxDepth {
		return "", &Error{Err: ErrLimit, Rule: fmt.Sprintf("the JSON document nests deeper than %d levels (MaxJSONDepth)", maxDepth)}
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

// jsonDepth returns the nesting depth of data, stopping early once it
// passes max. It is a byte scan, cheaper than a token scan, and sound for
// the check because brackets inside strings are skipped.
func jsonDepth(data []byte, max int) int {
	depth, deepest := 0, 0
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
			if depth > deepest {
				deepest = depth
				if deepest > max {
					return deepest
				}
			}
		case ']', '}':
			depth--
		}
	}
	return deepest
}
