package logview

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// filter is what the admin asked to see. The zero filter shows everything.
type filter struct {
	hidden  [sevCount]bool
	subject string // a prefix: "PRJ" shows PRJ, PRJ/repo and PRJ/repo#12
	text    string // as typed; matched against the text and the subject
	regex   bool
}

// narrows reports whether every message that next shows is also shown by f,
// so that next can be applied to f's result instead of the whole log.
func (f filter) narrows(next filter) bool {
	for s := range sevCount {
		if f.hidden[s] && !next.hidden[s] {
			return false
		}
	}
	if !strings.HasPrefix(next.subject, f.subject) {
		return false
	}
	if f.text == "" {
		return true
	}
	return !f.regex && !next.regex &&
		strings.Contains(strings.ToLower(next.text), strings.ToLower(f.text))
}

// Bits of matcher.subjects.
const (
	subjectShown   = 1 << iota // passes the subject filter
	subjectMatches             // matches the free text itself
)

// matcher is a filter made ready to run. It may be used by several
// goroutines at once, but extended only by the one that owns it.
type matcher struct {
	filter
	needle   string         // the lowered text, for literal matching
	re       *regexp.Regexp // for regex matching
	subjects []uint8        // per interned subject, subjectShown|subjectMatches
}

func newMatcher(f filter, names []string) (*matcher, error) {
	m := &matcher{filter: f, needle: strings.ToLower(f.text)}
	if f.regex && f.text != "" {
		re, err := regexp.Compile("(?i)" + f.text)
		var syntaxErr *syntax.Error
		if errors.As(err, &syntaxErr) {
			return nil, errors.New(string(syntaxErr.Code)) // the admin sees the regex already
		}
		if err != nil {
			return nil, err
		}
		m.re = re
	}
	m.extend(names)
	return m, nil
}

// extend decides the subjects interned since the matcher was made.
func (m *matcher) extend(names []string) {
	for _, name := range names[len(m.subjects):] {
		var bits uint8
		if strings.HasPrefix(name, m.subject) {
			bits |= subjectShown
		}
		if m.text != "" && name != "" && m.matchText(name) {
			bits |= subjectMatches
		}
		m.subjects = append(m.subjects, bits)
	}
}

func (m *matcher) matchText(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	return containsFold(s, m.needle)
}

func (m *matcher) match(e *entry) bool {
	if m.hidden[e.sev] {
		return false
	}
	bits := m.subjects[e.subject]
	if bits&subjectShown == 0 {
		return false
	}
	return m.text == "" || bits&subjectMatches != 0 || m.matchText(e.text)
}

// parallelFrom is the size below which a scan does not split across cores.
const parallelFrom = 1 << 15

// scan returns, in order, the indexes of the entries that match: of all
// entries from first on when candidates is nil, else of the candidates.
// Large scans are split across the cores.
func (m *matcher) scan(entries []entry, first int, candidates []int32) []int32 {
	n := len(entries) - first
	if candidates != nil {
		n = len(candidates)
	}
	parts := min(runtime.GOMAXPROCS(0), max(1, n/parallelFrom))
	results := make([][]int32, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*n/parts, (p+1)*n/parts
		wg.Go(func() {
			var out []int32
			if candidates == nil {
				for i := first + lo; i < first+hi; i++ {
					if m.match(&entries[i]) {
						out = append(out, int32(i))
					}
				}
			} else {
				for _, i := range candidates[lo:hi] {
					if m.match(&entries[i]) {
						out = append(out, i)
					}
				}
			}
			results[p] = out
		})
	}
	wg.Wait()
	if parts == 1 {
		return results[0]
	}
	total := 0
	for _, r := range results {
		total += len(r)
	}
	out := make([]int32, 0, total)
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// containsFold reports whether s contains needle, ignoring case, without
// allocating. needle must be lower case. It compares runs of the same byte
// length, so the few letters whose cases differ in UTF-8 length (the Kelvin
// sign, long s) only match in the same form.
func containsFold(s, needle string) bool {
	return indexFold(s, needle) >= 0
}

// indexFold is the byte offset of the first case-insensitive match of the
// lower-case needle in s, or -1.
func indexFold(s, needle string) int {
	n := len(needle)
	if n == 0 {
		return 0
	}
	lower := needle[0]
	if lower >= utf8.RuneSelf {
		for i := 0; i+n <= len(s); i++ {
			if utf8.RuneStart(s[i]) && strings.EqualFold(s[i:i+n], needle) {
				return i
			}
		}
		return -1
	}
	// Each case of the first byte is found with IndexByte, which uses SIMD,
	// so most of the text is skipped without comparing anything. A position
	// found is kept until the scan passes it: each byte is searched once.
	last := len(s) - n
	nextLower, nextUpper := -2, -1 // -2: not searched yet, -1: none left
	upper := lower
	if 'a' <= lower && lower <= 'z' {
		upper = lower - 'a' + 'A'
		nextUpper = -2
	}
	for i := 0; i <= last; {
		if nextLower != -1 && nextLower < i {
			nextLower = indexByteFrom(s[:last+1], i, lower)
		}
		if nextUpper != -1 && nextUpper < i {
			nextUpper = indexByteFrom(s[:last+1], i, upper)
		}
		j := nextLower
		if j < 0 || (nextUpper >= 0 && nextUpper < j) {
			j = nextUpper
		}
		if j < 0 {
			return -1
		}
		if strings.EqualFold(s[j:j+n], needle) {
			return j
		}
		i = j + 1
	}
	return -1
}

func indexByteFrom(s string, from int, b byte) int {
	if j := strings.IndexByte(s[from:], b); j >= 0 {
		return from + j
	}
	return -1
}
