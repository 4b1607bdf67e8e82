// Package termsafe makes text from an archive or a server safe to print on
// a terminal. Such text is untrusted: a project named "ESC ] 0 ; x BEL"
// retitles the terminal, "ESC [ 2 J" clears it, and "\r ESC [ K" erases
// the line so far and lets the name forge output.
package termsafe

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// String returns s with everything a terminal could act on made visible
// and inert, for one line of output:
//
//   - a tab becomes a space, a newline "⏎" (the text stays on its line);
//   - other C0 controls (ESC, BEL, CR, backspace, ...), DEL and bytes that
//     are not UTF-8 become \xNN;
//   - C1 controls (U+0080 to U+009F, among them the one-byte CSI) and the
//     bidirectional formatting characters, which reorder what follows
//     ("Trojan Source"), become \uNNNN.
//
// Escaping rather than deleting shows a reader that the text holds
// something odd, and an ANSI sequence loses its ESC, so it prints as
// plain characters. Printable Unicode is kept as it is; so is a backslash,
// so the result is for reading, not for decoding back.
func String(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	return string(appendSafe([]byte(s[:i]), s[i:], false))
}

// appendSafe appends s to dst escaped as String says; with layout, tabs
// and newlines are kept as they are.
func appendSafe(dst []byte, s string, layout bool) []byte {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case layout && (r == '\t' || r == '\n'):
			dst = append(dst, s[i])
		case r == '\t':
			dst = append(dst, ' ')
		case r == '\n':
			dst = append(dst, "⏎"...)
		case r == utf8.RuneError && n == 1, r < 0x20, r == 0x7f:
			dst = fmt.Appendf(dst, `\x%02x`, s[i])
		case unsafeRune(r, n):
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// Writer passes what a printer writes on to a terminal made safe as String
// makes it, keeping the tabs and newlines that lay the output out. A
// printer that writes through it cannot forget a field: every string it
// formats is covered, a field added tomorrow too. (A field's own newline
// still breaks its line: free text goes through String as well.) Each
// Write is escaped on its own, so a character cut between two writes shows
// as escaped bytes; fmt and text/tabwriter write whole texts and cells.
type Writer struct{ w io.Writer }

// NewWriter returns a Writer onto w.
func NewWriter(w io.Writer) Writer { return Writer{w: w} }

// Write escapes p and writes it on; it reports len(p) written, or the
// error of the writer underneath.
func (sw Writer) Write(p []byte) (int, error) {
	if _, err := sw.w.Write(appendSafe(nil, string(p), true)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// JSON returns the JSON text b with the characters String escapes, and
// which encoding/json leaves as they are (DEL, C1 controls, bidirectional
// formatting), written as \uNNNN escapes: the same JSON value, safe to
// print. encoding/json already escapes the C0 controls in strings; the
// newlines and tabs of its indentation are kept.
func JSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if unsafeRune(r, n) && r != '\n' && r != '\t' {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// unsafeRune reports whether r, n bytes long in its string, must not reach
// a terminal as it is.
func unsafeRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return true
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
