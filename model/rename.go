package model

import (
	"strconv"
	"strings"
)

// Bitbucket's rules for project keys: ASCII letters, digits and
// underscores, starting with a letter, at most 128 characters; stored in
// upper case. Repository slugs: lower-case letters, digits, '-', '_' and
// '.', at most 128 characters.
const (
	MaxProjectKeyLen     = 128
	MaxRepositorySlugLen = 128
)

// A RenameRule is how one kind of name is made valid and, when the valid
// name is taken, numbered: the importer renames with it, and the console's
// pre-flight foresees the importer's renames with it.
type RenameRule struct {
	normalise func(string) string
	number    func(string, int) string
}

// The three rename rules. Keys get n appended (PRJ -> PRJ1, cut to stay
// within 128 characters), slugs get -n (golden -> golden-1), names get
// " (n)" (Name -> "Name (1)").
var (
	ProjectKeys     = RenameRule{normalise: ProjectKey, number: numberedKey}
	RepositorySlugs = RenameRule{normalise: RepositorySlug, number: numberedSlug}
	Names           = RenameRule{normalise: func(s string) string { return s }, number: numberedName}
)

// Valid returns v made valid under the rule, changing as little as it can.
func (r RenameRule) Valid(v string) string { return r.normalise(v) }

// Free returns the name v is imported under: v made valid if it is free,
// else numbered with the first n = 1, 2, … that taken says is free.
func (r RenameRule) Free(v string, taken func(string) (bool, error)) (string, error) {
	base := r.normalise(v)
	for n := 0; ; n++ {
		c := base
		if n > 0 {
			c = r.number(base, n)
		}
		t, err := taken(c)
		if err != nil {
			return "", err
		}
		if !t {
			return c, nil
		}
	}
}

// ProjectKey makes a key valid under Bitbucket's rules.
func ProjectKey(key string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(key) {
		switch {
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	k := b.String()
	if k == "" || k[0] < 'A' || k[0] > 'Z' {
		k = "P" + k
	}
	return truncate(k, MaxProjectKeyLen)
}

// RepositorySlug makes a slug valid under Bitbucket's rules.
func RepositorySlug(slug string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(slug) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if s == "" || strings.Trim(s, ".") == "" {
		s = "repository"
	}
	return truncate(s, MaxRepositorySlugLen)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func numberedKey(key string, n int) string {
	suffix := strconv.Itoa(n)
	return truncate(key, MaxProjectKeyLen-len(suffix)) + suffix
}

func numberedSlug(slug string, n int) string {
	suffix := "-" + strconv.Itoa(n)
	return truncate(slug, MaxRepositorySlugLen-len(suffix)) + suffix
}

func numberedName(name string, n int) string { return name + " (" + strconv.Itoa(n) + ")" }
