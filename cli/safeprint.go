package cli

import (
	"fmt"
	"io"
	"reflect"

	"bbimport/termsafe"
)

// safef formats as fmt.Sprintf does, with every argument of a string kind
// (a name, a state, a severity: text from an archive or a server) made one
// inert line by termsafe.String first, so that a control or a newline in a
// field can neither drive the terminal nor forge a line of its own. The
// text printers format through it, and write through termsafe.Writer,
// which covers what reaches them otherwise: a field added tomorrow needs no
// call of its own.
func safef(format string, a ...any) string {
	safe := make([]any, len(a))
	for i, v := range a {
		safe[i] = v
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
			safe[i] = termsafe.String(rv.String())
		}
	}
	return fmt.Sprintf(format, safe...)
}

// fprintSafe writes safef's text to w.
func fprintSafe(w io.Writer, format string, a ...any) {
	_, _ = io.WriteString(w, safef(format, a...))
}
