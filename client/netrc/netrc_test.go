package netrc

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sample = `# curl -n reads this
machine other.example.com login bob password bobpw
machine bb.example.com
  login admin
  password "s3cret with space"
machine quoted.example.com login "a \"b\" c" password x#notacomment account acct
macdef init
machine bb.example.com login evil password nope

default login anon password anonpw
`

func TestParse(t *testing.T) {
	want := []Entry{
		{Machine: "other.example.com", Login: "bob", Password: "bobpw"},
		{Machine: "bb.example.com", Login: "admin", Password: "s3cret with space"},
		{Machine: "quoted.example.com", Login: `a "b" c`, Password: "x#notacomment"},
		{Login: "anon", Password: "anonpw"},
	}
	if got := Parse(sample); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestLookup(t *testing.T) {
	entries := Parse(sample)
	for _, c := range []struct {
		host, user      string
		login, password string
		ok              bool
	}{
		{"bb.example.com", "", "admin", "s3cret with space", true},
		{"BB.example.com", "", "admin", "s3cret with space", true},
		{"other.example.com", "bob", "bob", "bobpw", true},
		{"unknown.example.com", "", "anon", "anonpw", true},
		// the macdef body is no entry, and no default has evil's login
		{"bb.example.com", "evil", "", "", false},
	} {
		login, pw, ok := Lookup(entries, c.host, c.user)
		if login != c.login || pw != c.password || ok != c.ok {
			t.Errorf("Lookup(%q, %q) = %q, %q, %v; want %q, %q, %v", c.host, c.user, login, pw, ok, c.login, c.password, c.ok)
		}
	}
	if login, pw, ok := Lookup(Parse("machine h password p"), "h", "carol"); login != "" || pw != "" || ok {
		t.Errorf("an entry without a login matched user carol: %q %q %v", login, pw, ok)
	}
	if login, pw, _ := Lookup(Parse("default password p"), "h", ""); login != "" || pw != "p" {
		t.Errorf("default without login: %q %q", login, pw)
	}
}

func TestLookupFile(t *testing.T) {
	dir := t.TempDir()
	if login, pw, err := LookupFile(filepath.Join(dir, "none"), "h", ""); login != "" || pw != "" || err != nil {
		t.Errorf("missing file: %q %q %v", login, pw, err)
	}
	path := filepath.Join(dir, "netrc")
	if err := os.WriteFile(path, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	if login, pw, err := LookupFile(path, "bb.example.com", ""); login != "admin" || pw != "s3cret with space" || err != nil {
		t.Errorf("got %q %q %v", login, pw, err)
	}
	if _, _, err := LookupFile(dir, "h", ""); err == nil || !strings.Contains(err.Error(), "read "+dir) {
		t.Errorf("a directory: %v", err)
	}
}

// format writes entries back as a netrc file, every word quoted.
func format(entries []Entry) string {
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	var b strings.Builder
	for _, e := range entries {
		if e.Machine == "" {
			b.WriteString("default")
		} else {
			b.WriteString("machine " + q(e.Machine))
		}
		b.WriteString(" login " + q(e.Login) + " password " + q(e.Password) + "\n")
	}
	return b.String()
}

// FuzzParse checks that any input parses without a panic, and that what
// it parses to survives being written back and parsed again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		sample,
		"",
		"machine",
		"login x password y",
		`machine "unterminated`,
		"machine h login \"a\\",
		"macdef",
		"machine h macdef m\nbody\n\nmachine h2 login l password p",
		"default\r\nlogin l\r\npassword p\r\n",
		"#c\nmachine h#x login # password ##",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries := Parse(s)
		for _, e := range entries {
			Lookup(entries, e.Machine, e.Login)
		}
		if again := Parse(format(entries)); !reflect.DeepEqual(again, entries) && !(len(again) == 0 && len(entries) == 0) {
			t.Errorf("Parse(%q) = %+v; written back and parsed: %+v", s, entries, again)
		}
	})
}
