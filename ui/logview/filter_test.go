package logview

import (
	"strings"
	"testing"
)

func TestLiteralIndex(t *testing.T) {
	tests := []struct {
		s, needle string
		want      int
	}{
		{"Project renamed to PRJ3A", "renamed to prj3", 8},
		{"RENAMED", "renamed", 0},
		{"rename", "renamed", -1},
		{"", "x", -1},
		{"abc", "", 0},
		{"xxRrRenamed", "renamed", 4},
		{"Größe ÄNDERN", "ändern", 8},
		{"déjà VU", "vu", 7},
		{"ÉCOLE école", "école", 0},
		{"aaa", "aab", -1},
		{"ends with x", "x", 10},
		{"PRJ3A PRJ3 prj3a", "prj3a", 0},
		{"project PRJ 3a, PRJ3A", "prj3a", 16},
		{"Ünïcödé only", "ünïcödé", 0},
		{"a 3 at the start of the window", "a 3", 0},
		{"x3", "3x", -1},
	}
	for _, tt := range tests {
		l := newLiteral(tt.needle)
		if got := l.index(tt.s); got != tt.want {
			t.Errorf("index of %q in %q = %d, want %d", tt.needle, tt.s, got, tt.want)
		}
		if contains := strings.Contains(strings.ToLower(tt.s), tt.needle); contains != (tt.want >= 0) {
			t.Errorf("%q in %q: strings.Contains on a lowered copy says %v", tt.needle, tt.s, contains)
		}
	}
}
