package logview

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
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
	literal  literal        // for literal matching; with re, what every match begins with
	re       *regexp.Regexp // for regex matching
	subjects []uint8        // per interned subject, subjectShown|subjectMatches
}

func newMatcher(f filter, names []string) (*matcher, error) {
	m := &matcher{filter: f, literal: newLiteral(f.text)}
	// A "regex" without metacharacters is searched as a literal: many times
	// faster than a case-insensitive regexp, with the same result.
	if f.regex && regexp.QuoteMeta(f.text) != f.text {
		re, err := regexp.Compile("(?i)" + f.text)
		var syntaxErr *syntax.Error
		if errors.As(err, &syntaxErr) {
			return nil, errors.New(string(syntaxErr.Code)) // the admin sees the regex already
		}
		if err != nil {
			return nil, err
		}
		m.re = re
		m.literal = newLiteral(foldablePrefix(f.text))
	}
	m.extend(names)
	return m, nil
}

// extend decides the subjects interned since the matcher was made.
func (m *matcher) extend(names []string) {
	// A job's subjects can number tens of thousands (one per pull
	// request), and the keystroke extends a new matcher over all of them.
	m.subjects = slices.Grow(m.subjects, len(names)-len(m.subjects))
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
		// The regexp runs only on texts holding the literal its every
		// match begins with: tens of times faster than running it on all.
		return m.literal.contains(s) && m.re.MatchString(s)
	}
	return m.literal.contains(s)
}

// foldablePrefix is the literal that every match of the regular expression
// expr begins with, cut so that a case-insensitive literal search finds
// every case-insensitive match: ASCII only, and cut before k and s, whose
// other cases include a letter outside ASCII (the Kelvin sign, long s).
func foldablePrefix(expr string) string {
	re, err := regexp.Compile(expr)
	if err != nil {
		return ""
	}
	prefix, _ := re.LiteralPrefix()
	if i := strings.IndexFunc(prefix, func(r rune) bool {
		return r >= utf8.RuneSelf || strings.ContainsRune("kKsS", r)
	}); i >= 0 {
		prefix = prefix[:i]
	}
	return prefix
}

func (m *matcher) match(entries []entry, metas []meta, i int32) bool {
	mt := &metas[i]
	if m.hidden[mt.sev] {
		return false
	}
	bits := m.subjects[mt.subject]
	if bits&subjectShown == 0 {
		return false
	}
	if m.text == "" || bits&subjectMatches != 0 {
		return true
	}
	if mt.sig&m.literal.sig != m.literal.sig {
		return false // the text lacks one of the needle's (or the prefix's) bytes
	}
	if m.re == nil && m.literal.exact {
		return true
	}
	return m.matchText(entries[i].text)
}

// matchesNone reports that no message can match: no subject matches the
// text and no message text holds every byte of the literal (sigs is the
// union of every text's signature). A letter that no message holds, a
// typo most often, then costs no scan.
func (m *matcher) matchesNone(sigs uint64) bool {
	if m.text == "" || sigs&m.literal.sig == m.literal.sig {
		return false
	}
	return !slices.ContainsFunc(m.subjects, func(bits uint8) bool { return bits&subjectMatches != 0 })
}

// parallelFrom is the size below which a scan does not split across cores.
const parallelFrom = 1 << 15

// abandonCheck is how many entries a scan goes through between two checks
// of whether its result is still wanted.
const abandonCheck = 1 << 12

// scan returns, in order, the indexes of the entries that match: of all
// entries from first on when candidates is nil, else of the candidates.
// Large scans are split across the cores. A scan gives up, returning
// false, as soon as stale (which may be nil) reports that its result is
// no longer wanted: the admin typing on would otherwise pile up scans
// of the whole log.
func (m *matcher) scan(entries []entry, metas []meta, first int, candidates []int32, stale func() bool) ([]int32, bool) {
	n := len(metas) - first
	if candidates != nil {
		n = len(candidates)
	}
	parts := min(runtime.GOMAXPROCS(0), max(1, n/parallelFrom))
	// Each part writes its matches at the start of its own stretch of out,
	// and the stretches are then moved together: no slice grows while the
	// scan runs (growing them took nearly half of a scan's time). A part
	// writes nothing until a message fails to match: a filter that keeps
	// every candidate returns them as they are. Writing a million indexes
	// into fresh memory costs ~20 ms of page faults on a virtual machine.
	out := make([]int32, n)
	found := make([]int, parts)
	kept := make([]bool, parts) // every message of the part matched
	indexes := func(lo, hi int) {
		if candidates != nil {
			copy(out[lo:hi], candidates[lo:hi])
			return
		}
		for k := lo; k < hi; k++ {
			out[k] = int32(first + k)
		}
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*n/parts, (p+1)*n/parts
		wg.Go(func() {
			w, all := lo, true
			for k := lo; k < hi; k++ {
				i := int32(first + k)
				if candidates != nil {
					i = candidates[k]
				}
				switch {
				case !m.match(entries, metas, i):
					if all {
						indexes(lo, k)
						all = false
					}
				case all:
					w++
				default:
					out[w] = i
					w++
				}
				if stale != nil && k%abandonCheck == 0 && stale() {
					return
				}
			}
			found[p], kept[p] = w-lo, all
		})
	}
	wg.Wait()
	if stale != nil && stale() {
		return nil, false
	}
	if candidates != nil && !slices.Contains(kept, false) {
		return slices.Clip(candidates), true // appending must not write into the candidates' spare room
	}
	for p := range parts {
		if kept[p] {
			indexes(p*n/parts, (p+1)*n/parts)
		}
	}
	total := found[0]
	for p := 1; p < parts; p++ {
		lo := p * n / parts
		total += copy(out[total:], out[lo:lo+found[p]])
	}
	if total < n/2 {
		return slices.Clone(out[:total]), true // do not hold on to the unused part
	}
	return out[:total], true
}

// frameBudget is how long a keystroke may spend finding the rows its frame
// shows: a frame is 16 ms, and drawing it takes well under one.
const frameBudget = 4 * time.Millisecond

// budgetCheck is how many candidates the search for a frame's rows goes
// through between two looks at the clock. A screenful of dense matches is
// found before the first look, whatever the load.
const budgetCheck = 1 << 10

// candidates are the entries a filter goes through, in order: base, the
// earlier result that a narrower filter picks from (entries below from),
// then every entry from from to n.
type candidates struct {
	base    []int32
	from, n int
}

func (c candidates) len() int { return len(c.base) + c.n - c.from }

func (c candidates) at(k int) int32 {
	if k < len(c.base) {
		return c.base[k]
	}
	return int32(c.from + k - len(c.base))
}

// around returns, ascending, the matches a frame at anchor shows: up to
// before of them among the candidates below entry anchor and up to after
// from it on, searched outwards from it. It stops at deadline; complete
// reports that it went through every candidate, so that rows are all the
// matches, and cut that it stopped at the deadline.
func (m *matcher) around(entries []entry, metas []meta, c candidates, anchor int32, before, after int, deadline time.Time) (rows []int32, complete, cut bool) {
	n := c.len()
	at := sort.Search(n, func(k int) bool { return c.at(k) >= anchor })
	examined := 0
	late := func() bool {
		examined++
		return examined%budgetCheck == 0 && time.Now().After(deadline)
	}
	var back []int32
	lo := at
	for ; lo > 0 && len(back) < before; lo-- {
		if late() {
			cut = true
			break
		}
		if i := c.at(lo - 1); m.match(entries, metas, i) {
			back = append(back, i)
		}
	}
	hi := at
	for ; !cut && hi < n && len(rows) < after; hi++ {
		if late() {
			cut = true
			break
		}
		if i := c.at(hi); m.match(entries, metas, i) {
			rows = append(rows, i)
		}
	}
	slices.Reverse(back)
	return append(back, rows...), lo == 0 && hi == n, cut
}

// literal is a lower-case needle ready for case-insensitive search. The
// search looks for one byte of it first, with IndexByte (SIMD), and checks
// the rest only where that byte occurs; it picks the needle's rarest byte
// in log text, so few places need checking ("prj3a" is found by its "3").
type literal struct {
	text               string // lower case
	anchor             int    // index in text of the byte searched first; -1: no ASCII byte
	anchorLo, anchorUp byte   // the anchor in lower and upper case
	sig                uint64 // bits a text's signature must have to contain text
	exact              bool   // a text contains text exactly when its signature has sig
}

func newLiteral(text string) literal {
	l := literal{text: strings.ToLower(text), anchor: -1}
	best := 0
	for i := 0; i < len(l.text); i++ {
		if r := rarity(l.text[i]); r > best {
			l.anchor, best = i, r
		}
	}
	if l.anchor >= 0 {
		l.anchorLo, l.anchorUp = l.text[l.anchor], l.text[l.anchor]
		if 'a' <= l.anchorLo && l.anchorLo <= 'z' {
			l.anchorUp = l.anchorLo - 'a' + 'A'
		}
	}
	// A needle in ASCII matches only the same bytes up to ASCII case. Past
	// ASCII, contains compares runs that fold to each other and may differ
	// in their bytes: only the anchor is sure to be in the text as it is.
	if strings.ContainsFunc(l.text, func(r rune) bool { return r >= utf8.RuneSelf }) {
		if l.anchor >= 0 {
			l.sig = sigBits[l.anchorLo]
		}
	} else {
		l.sig = signature(l.text)
		l.exact = len(l.text) == 1 && l.sig != sharedBit
	}
	return l
}

// rarity ranks an ASCII byte by how rare it is in log text, higher rarer;
// 0 for a byte that cannot anchor (not ASCII). A letter ranks lower than a
// digit or a sign also because its two cases take two searches.
func rarity(b byte) int {
	const byFrequency = "etaoinsrhldcumfpgwybvkxjqz" // English letters, commonest first
	switch {
	case b >= utf8.RuneSelf:
		return 0
	case b == ' ':
		return 1
	case 'a' <= b && b <= 'z':
		return 2 + strings.IndexByte(byFrequency, b)
	case '0' <= b && b <= '9':
		return 30
	}
	return 40
}

// contains reports whether s contains the literal, ignoring case, without
// allocating. It compares runs of the same byte length, so the few letters
// whose cases differ in UTF-8 length (the Kelvin sign, long s) only match
// in the same form.
func (l *literal) contains(s string) bool { return l.index(s) >= 0 }

// index is the byte offset of the first case-insensitive match in s, or -1.
func (l *literal) index(s string) int {
	n := len(l.text)
	switch {
	case n == 0:
		return 0
	case n > len(s):
		return -1
	case l.anchor < 0: // no ASCII byte to anchor on: try every rune start
		for i := 0; i+n <= len(s); i++ {
			if utf8.RuneStart(s[i]) && strings.EqualFold(s[i:i+n], l.text) {
				return i
			}
		}
		return -1
	}
	// The anchor can only sit where a whole match still fits around it.
	// A position found is kept until the scan passes it: each case of the
	// anchor is searched through s once.
	window := s[l.anchor : len(s)-n+l.anchor+1]
	nextLo, nextUp := -2, -1 // -2: not searched yet, -1: none left
	if l.anchorUp != l.anchorLo {
		nextUp = -2
	}
	for i := 0; i < len(window); {
		if nextLo != -1 && nextLo < i {
			nextLo = indexByteFrom(window, i, l.anchorLo)
		}
		if nextUp != -1 && nextUp < i {
			nextUp = indexByteFrom(window, i, l.anchorUp)
		}
		j := nextLo
		if j < 0 || (nextUp >= 0 && nextUp < j) {
			j = nextUp
		}
		if j < 0 {
			return -1
		}
		if equalFold(s[j:j+n], l.text) {
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

// equalFold is strings.EqualFold for a lower-case needle, comparing ASCII
// bytes directly: it runs for every place the anchor occurs.
func equalFold(s, needle string) bool {
	for k := 0; k < len(needle); k++ {
		c, want := s[k], needle[k]
		if c >= utf8.RuneSelf || want >= utf8.RuneSelf {
			return strings.EqualFold(s[k:], needle[k:])
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want {
			return false
		}
	}
	return true
}
