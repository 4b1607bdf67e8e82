package model

import (
	"errors"
	"strings"
	"testing"
)

// takenIn is a taken check over a set of names.
func takenIn(names ...string) func(string) (bool, error) {
	return func(v string) (bool, error) {
		for _, n := range names {
			if n == v {
				return true, nil
			}
		}
		return false, nil
	}
}

func TestProjectKeyRules(t *testing.T) {
	for key, want := range map[string]string{"PRJ": "PRJ", "prj": "PRJ", "1AB": "P1AB", "A-B": "A_B", "": "P",
		strings.Repeat("K", 130): strings.Repeat("K", 128)} {
		if got := ProjectKeys.Valid(key); got != want {
			t.Errorf("ProjectKeys.Valid(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestRepositorySlugRules(t *testing.T) {
	for slug, want := range map[string]string{"golden": "golden", "Golden Repo": "golden-repo", "a.b_c-d": "a.b_c-d",
		"": "repository", "..": "repository", strings.Repeat("s", 130): strings.Repeat("s", 128)} {
		if got := RepositorySlugs.Valid(slug); got != want {
			t.Errorf("RepositorySlugs.Valid(%q) = %q, want %q", slug, got, want)
		}
	}
}

func TestFreeNumbersTheFirstFreeName(t *testing.T) {
	long := strings.Repeat("K", 128)
	for _, c := range []struct {
		rule  RenameRule
		v     string
		taken []string
		want  string
	}{
		{ProjectKeys, "PRJ", nil, "PRJ"},
		{ProjectKeys, "PRJ", []string{"PRJ"}, "PRJ1"},
		{ProjectKeys, "PRJ", []string{"PRJ", "PRJ1", "PRJ2"}, "PRJ3"},
		// The valid key is what collides, not the archive's.
		{ProjectKeys, "my-prj", []string{"MY_PRJ"}, "MY_PRJ1"},
		{ProjectKeys, long, []string{long}, long[:127] + "1"},
		{ProjectKeys, long, append([]string{long}, numbered(long, 9)...), long[:126] + "10"},
		{RepositorySlugs, "golden", []string{"golden"}, "golden-1"},
		{RepositorySlugs, "Golden", []string{"golden", "golden-1"}, "golden-2"},
		{Names, "Name", []string{"Name"}, "Name (1)"},
		{Names, "name with spaces", nil, "name with spaces"},
	} {
		got, err := c.rule.Free(c.v, takenIn(c.taken...))
		if err != nil || got != c.want {
			t.Errorf("Free(%q) with %q taken = %q, %v; want %q", c.v, c.taken, got, err, c.want)
		}
	}
}

func numbered(key string, upTo int) []string {
	var out []string
	for n := 1; n <= upTo; n++ {
		out = append(out, numberedKey(key, n))
	}
	return out
}

func TestFreeReportsTheCheckFailing(t *testing.T) {
	boom := errors.New("boom")
	if got, err := ProjectKeys.Free("PRJ", func(string) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("Free = %q, %v; want the check's error", got, err)
	}
}
