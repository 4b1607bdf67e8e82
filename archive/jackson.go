package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"bbimport/model"
)

// recordFirst are the keys an activity record starts with, in this order;
// its other keys follow alphabetically.
var recordFirst = []string{"kind", "action", "createdTimestamp", "userId"}

// Jackson rewrites a JSON document as Bitbucket writes pull request
// metadata and activities: Jackson's default pretty printer (two-space
// indent, `"key" : value`, arrays inline as `[ {` ... `}, {` ... `} ]`,
// empty ones `[ ]` and `{ }`), every character outside ASCII escaped as
// \uXXXX (an emoji as its two surrogates), object keys in alphabetical
// order except the records of a top-level array that carry a "kind"
// (activities), which start with kind, action, createdTimestamp and
// userId. Numbers are written as they were read.
func Jackson(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	root, err := readNode(dec)
	if err != nil {
		return nil, fmt.Errorf("read JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("read JSON: data after the document")
	}
	var buf bytes.Buffer
	buf.Grow(len(doc) * 3 / 2)
	root.write(&buf, 0, true)
	return buf.Bytes(), nil
}

// Compact rewrites a JSON document as Bitbucket writes archive metadata:
// compact, object keys in alphabetical order, numbers as they were read,
// HTML characters and non-ASCII text as they are.
func Compact(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("read JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("read JSON: data after the document")
	}
	return encodeJSON(v, false)
}

// jnode is one JSON value: an object (keys and vals), an array (vals) or
// a scalar written as is (scalar) or a string (str).
type jnode struct {
	kind   byte // '{', '[', '"', or 0 for a number, true, false, null
	scalar string
	keys   []string
	vals   []*jnode
	record bool // an activity record: see recordFirst
}

func readNode(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &jnode{kind: byte(t)}
		for dec.More() {
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &jnode{kind: '"', scalar: t}, nil
	case json.Number:
		return &jnode{scalar: t.String()}, nil
	case bool:
		if t {
			return &jnode{scalar: "true"}, nil
		}
		return &jnode{scalar: "false"}, nil
	case nil:
		return &jnode{scalar: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// write writes n at nesting level (objects only count, as Jackson's
// inline array indenter does not); top says n is the document.
func (n *jnode) write(b *bytes.Buffer, level int, top bool) {
	switch n.kind {
	case '"':
		writeJacksonString(b, n.scalar)
	case '[':
		if len(n.vals) == 0 {
			b.WriteString("[ ]")
			return
		}
		b.WriteString("[ ")
		for i, v := range n.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			v.record = top && v.kind == '{' && v.has("kind")
			v.write(b, level, false)
		}
		b.WriteString(" ]")
	case '{':
		if len(n.vals) == 0 {
			b.WriteString("{ }")
			return
		}
		order := n.order()
		b.WriteByte('{')
		for i, j := range order {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(b, level+1)
			writeJacksonString(b, n.keys[j])
			b.WriteString(" : ")
			n.vals[j].write(b, level+1, false)
		}
		newline(b, level)
		b.WriteByte('}')
	default:
		b.WriteString(n.scalar)
	}
}

func newline(b *bytes.Buffer, level int) {
	b.WriteByte('\n')
	for range level {
		b.WriteString("  ")
	}
}

func (n *jnode) has(key string) bool {
	for _, k := range n.keys {
		if k == key {
			return true
		}
	}
	return false
}

// order is the order n's keys are written in: alphabetical, after
// recordFirst for an activity record.
func (n *jnode) order() []int {
	idx := make([]int, len(n.keys))
	for i := range idx {
		idx[i] = i
	}
	rank := func(k string) int {
		if !n.record {
			return len(recordFirst)
		}
		for r, f := range recordFirst {
			if f == k {
				return r
			}
		}
		return len(recordFirst)
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := n.keys[idx[a]], n.keys[idx[b]]
		if ra, rb := rank(ka), rank(kb); ra != rb {
			return ra < rb
		}
		return ka < kb
	})
	return idx
}

// writeJacksonString writes s quoted as Jackson does with non-ASCII
// escaping: the short escapes for ", \, \b, \t, \n, \f and \r, \u00XX for
// other control characters, and \uXXXX (upper-case hex) for everything
// past ASCII, by UTF-16 unit.
func writeJacksonString(b *bytes.Buffer, s string) {
	const hex = "0123456789ABCDEF"
	unit := func(u uint16) {
		b.WriteString(`\u`)
		b.WriteByte(hex[u>>12&0xF])
		b.WriteByte(hex[u>>8&0xF])
		b.WriteByte(hex[u>>4&0xF])
		b.WriteByte(hex[u&0xF])
	}
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\b':
				b.WriteString(`\b`)
			case '\t':
				b.WriteString(`\t`)
			case '\n':
				b.WriteString(`\n`)
			case '\f':
				b.WriteString(`\f`)
			case '\r':
				b.WriteString(`\r`)
			default:
				if c < 0x20 {
					unit(uint16(c))
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			unit(uint16(r1))
			unit(uint16(r2))
		} else {
			unit(uint16(r))
		}
		i += size
	}
	b.WriteByte('"')
}

// InstanceDetailsJSON is instance-details.json as Bitbucket writes it:
// Jackson's pretty printing, its keys in Bitbucket's order rather than
// alphabetical.
func InstanceDetailsJSON(d model.InstanceDetails) []byte {
	var b bytes.Buffer
	field := func(key string, last bool, value func()) {
		newline(&b, 1)
		writeJacksonString(&b, key)
		b.WriteString(" : ")
		value()
		if !last {
			b.WriteByte(',')
		}
	}
	str := func(s string) func() { return func() { writeJacksonString(&b, s) } }
	b.WriteByte('{')
	field("product", false, str(d.Product))
	field("version", false, str(d.Version))
	field("buildVersion", false, str(d.BuildVersion))
	field("archiveVersion", false, func() { b.WriteString(strconv.Itoa(d.ArchiveVersion)) })
	field("dataCenter", false, func() { b.WriteString(strconv.FormatBool(d.DataCenter)) })
	field("instanceName", false, str(d.InstanceName))
	field("nodeId", true, str(d.NodeID))
	newline(&b, 0)
	b.WriteByte('}')
	return b.Bytes()
}
