package model

import "testing"

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 projects"}, {1, "1 project"}, {2, "2 projects"}} {
		if got := Plural(c.n, "project", "projects"); got != c.want {
			t.Errorf("Plural(%d) = %q; want %q", c.n, got, c.want)
		}
	}
}

func TestArticle(t *testing.T) {
	for phrase, want := range map[string]string{
		"18 MiB": "an", "8.0 GiB": "an", "80 KiB": "an", "11 MiB": "an", "11,000 files": "an",
		"1.5 GiB": "a", "110 MiB": "a", "180 MiB": "a", "1 KiB": "a", "118 MiB": "a", "18,000 bytes": "an",
		"archive": "an", "project": "a", "": "a",
	} {
		if got := Article(phrase); got != want {
			t.Errorf("Article(%q) = %q; want %q", phrase, got, want)
		}
	}
}
