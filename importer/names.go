package importer

import (
	"strconv"
	"strings"
)

// Bitbucket's rules for project keys: ASCII letters, digits and
// underscores, starting with a letter, at most 128 characters; stored in
// upper case. Repository slugs: lower-case letters, digits, '-', '_' and
// '.', at most 128 characters.
const maxKeyLen, maxSlugLen = 128, 128

// projectKey makes a key valid under Bitbucket's rules, changing as little
// as it can.
func projectKey(key string) string {
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
	return truncate(k, maxKeyLen)
}

// repositorySlug makes a slug valid under Bitbucket's rules.
func repositorySlug(slug string) string {
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
	return truncate(s, maxSlugLen)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// The renaming scheme for collisions: the first n = 1, 2, … that is free.
// Keys get n appended (PRJ -> PRJ1, cut to stay within 128 characters),
// slugs get -n (golden -> golden-1), names get " (n)" (Name -> "Name (1)").
func numberedKey(key string, n int) string {
	suffix := strconv.Itoa(n)
	return truncate(key, maxKeyLen-len(suffix)) + suffix
}

func numberedSlug(slug string, n int) string {
	suffix := "-" + strconv.Itoa(n)
	return truncate(slug, maxSlugLen-len(suffix)) + suffix
}

func numberedName(name string, n int) string { return name + " (" + strconv.Itoa(n) + ")" }

// firstFree returns candidate(0) if it is free, else candidate(n) for the
// first n >= 1 for which taken says no.
func firstFree(candidate func(n int) string, taken func(string) (bool, error)) (string, error) {
	for n := 0; ; n++ {
		c := candidate(n)
		t, err := taken(c)
		if err != nil {
			return "", err
		}
		if !t {
			return c, nil
		}
	}
}
