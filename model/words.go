package model

import (
	"strconv"
	"strings"
)

// Plural is "1 project" or "3 projects": the count and the word that
// agrees with it, for the console, the commands and the importer's
// messages alike.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Article is "a" or "an" for a phrase that starts with a number or a
// word: "an 18 MiB archive", "a 1.5 GiB archive", "an 8 KiB archive".
// Numbers are read as English says them (eighteen, eleven, eight…).
func Article(phrase string) string {
	phrase = strings.TrimSpace(phrase)
	if phrase == "" {
		return "a"
	}
	digits := phrase
	if i := strings.IndexFunc(phrase, func(r rune) bool { return (r < '0' || r > '9') && r != ',' }); i >= 0 {
		digits = phrase[:i]
	}
	digits = strings.ReplaceAll(digits, ",", "")
	if digits == "" {
		if strings.ContainsRune("aeiouAEIOU", rune(phrase[0])) {
			return "an"
		}
		return "a"
	}
	// Eight, eighty, eight hundred…; eleven and eighteen as the lead group
	// of thousands (11, 18, 11,000, 18,000,000), not 110 or 180.
	if digits[0] == '8' {
		return "an"
	}
	if len(digits)%3 == 2 && (strings.HasPrefix(digits, "11") || strings.HasPrefix(digits, "18")) {
		return "an"
	}
	return "a"
}

// Sentence ends s with a full stop unless it ends with one already (or
// with ! or ?): the importer's messages are sentences, whatever a format
// or an error text ended with.
func Sentence(s string) string {
	s = strings.TrimRight(s, " \t\n")
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}
