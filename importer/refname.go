package importer

import (
	"fmt"
	"strings"
)

// checkRefName applies the rules of git check-ref-format, plus what a push
// demands (a full name under refs/), in Go: one git process per ref would
// be far too slow for repositories with thousands of pull request refs.
// It returns nil or the rule the name breaks.
func checkRefName(name string) error {
	if !strings.HasPrefix(name, "refs/") {
		return fmt.Errorf("ref %q is not under refs/", name)
	}
	return checkRefPath(name)
}

// checkRefPath applies check-ref-format's rules to a slash-separated name
// (also used for Bitbucket's stash-refs, which live outside refs/).
func checkRefPath(name string) error {
	bad := func(rule string) error { return fmt.Errorf("ref %q %s", name, rule) }
	switch {
	case name == "@":
		return bad("is the single character @")
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return bad("begins or ends with a slash")
	case strings.HasSuffix(name, "."):
		return bad("ends with a dot")
	case strings.Contains(name, ".."):
		return bad("contains ..")
	case strings.Contains(name, "@{"):
		return bad("contains @{")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f {
			return bad("contains a control character")
		}
		switch c {
		case ' ', '~', '^', ':', '?', '*', '[', '\\':
			return bad(fmt.Sprintf("contains %q", c))
		}
	}
	for _, comp := range strings.Split(name, "/") {
		switch {
		case comp == "":
			return bad("contains //")
		case strings.HasPrefix(comp, "."):
			return bad("has a component that begins with a dot")
		case strings.HasSuffix(comp, ".lock"):
			return bad("has a component that ends with .lock")
		}
	}
	return nil
}

// isObjectName reports whether s is a full SHA-1 object name in lower case.
func isObjectName(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
