package termsafe

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Quartz 1", "Quartz 1"},
		{"Ünïcødé 名前 🚀", "Ünïcødé 名前 🚀"},
		{"a\tb\nc", "a b⏎c"},
		{"\x1b]0;owned\x07", `\x1b]0;owned\x07`},
		{"\x1b[2J", `\x1b[2J`},
		{"ok\r\x1b[K", `ok\x0d\x1b[K`},
		{"a\bb\x7f", `a\x08b\x7f`},
		{"\u009b2J", `\u009b2J`},
		{"abc\u202etxt.exe", `abc\u202etxt.exe`},
		{"bad \xff byte", `bad \xff byte`},
		{`back\slash`, `back\slash`},
	}
	for _, c := range cases {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJSONKeepsTheValueAndDropsTheControls(t *testing.T) {
	in := "say \x1b]0;t\x07\u009b2J\x7f\u202e!"
	b, err := json.MarshalIndent(map[string]string{"name": in}, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	safe := JSON(b)
	if i := strings.IndexFunc(string(safe), func(r rune) bool { return r != '\n' && r != '\t' && unsafeRune(r, 1) }); i >= 0 {
		t.Errorf("JSON left a control at %d: %q", i, safe)
	}
	var got map[string]string
	if err := json.Unmarshal(safe, &got); err != nil || got["name"] != in {
		t.Errorf("decodes to %q, %v; want %q", got["name"], err, in)
	}
}

// Whatever the input, no byte a terminal acts on comes out.
func FuzzString(f *testing.F) {
	f.Add("\x1b]0;t\x07\r\x1b[K\u009b\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for _, r := range out {
			if r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x202e || r == '\uFFFD' && !strings.ContainsRune(s, '\uFFFD') {
				t.Fatalf("String(%q) = %q holds %U", s, out, r)
			}
		}
	})
}

func TestWriterKeepsTheLayoutAndEscapesTheRest(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	fmt.Fprintf(w, "Name\t%s\n", "PRJ\x1b]0;x\x07\r\x1b[K\u202eé")
	want := "Name\tPRJ\\x1b]0;x\\x07\\x0d\\x1b[K\\u202eé\n"
	if b.String() != want {
		t.Errorf("written %q; want %q", b.String(), want)
	}
}
