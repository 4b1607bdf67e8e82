package logview

import "bbimport/model"

// severity is model.Severity in one byte.
type severity uint8

const (
	sevInfo severity = iota
	sevWarn
	sevError
	sevCount
)

var severityNames = [sevCount]model.Severity{model.SeverityInfo, model.SeverityWarn, model.SeverityError}

// severityOf maps a severity from the backend. A severity this build does not
// know (a newer server) is kept as WARN: shown, counted and reached by n/N
// rather than hidden among INFO.
func severityOf(s model.Severity) severity {
	switch s {
	case model.SeverityInfo:
		return sevInfo
	case model.SeverityError:
		return sevError
	}
	return sevWarn
}

func (s severity) String() string { return string(severityNames[s]) }

// entry is one message as the pane keeps it: 40 bytes plus the text and id
// bytes, and its meta, where a model.Message takes 72 plus its own copy of
// the subject. Entries and metas are never changed once appended, so a
// filter running in another goroutine may read the ones it was given while
// Update appends more.
type entry struct {
	text    string
	id      string
	created model.Millis
}

// meta is the part of a message a filter reads first, kept apart from the
// entries: 16 bytes a message, so that a scan of a million messages reads
// 16 MB front to back and touches a text only when its signature says the
// text may match.
type meta struct {
	sig     uint64 // signature of the text
	subject uint32 // index into subjectTable.names
	sev     severity
}

// sigBits maps a byte to its bit in a text's signature: one bit of its own
// for each ASCII letter (either case), digit, the space and the commonest
// signs, and sharedBit for every other byte (non-ASCII included). A text
// can contain a needle only if its signature has every bit of the needle's
// bytes, and a one-byte needle with a bit of its own matches exactly the
// texts whose signature has that bit.
var sigBits = func() (bits [256]uint64) {
	for b := range bits {
		bits[b] = sharedBit
	}
	own := "abcdefghijklmnopqrstuvwxyz0123456789 /#.:-_,;()%'\"=[]<>@!?*+&|"
	for slot, b := range []byte(own) {
		bits[b] = 1 << slot
		if 'a' <= b && b <= 'z' {
			bits[b-'a'+'A'] = 1 << slot
		}
	}
	return bits
}()

const sharedBit = 1 << 63

// signature is the set of sigBits of the bytes of s.
func signature(s string) uint64 {
	var sig uint64
	for i := 0; i < len(s); i++ {
		sig |= sigBits[s[i]]
	}
	return sig
}

// subjectTable interns subjects: a job has far fewer subjects than messages
// ("PRJ/repo" repeats for every message about that repository).
type subjectTable struct {
	names []string // names[0] is "", the job itself
	index map[string]uint32
}

func newSubjectTable() *subjectTable {
	return &subjectTable{names: []string{""}, index: map[string]uint32{"": 0}}
}

func (t *subjectTable) intern(name string) uint32 {
	if i, ok := t.index[name]; ok {
		return i
	}
	i := uint32(len(t.names))
	t.names = append(t.names, name)
	t.index[name] = i
	return i
}

// logSnapshot is the log as it was at one moment, for a command to read
// while Update appends more.
type logSnapshot struct {
	entries []entry
	metas   []meta
	names   []string // subjectTable.names
}

// message rebuilds the REST shape of message i.
func (s logSnapshot) message(i int32) model.Message {
	e, mt := &s.entries[i], &s.metas[i]
	return model.Message{
		ID:          e.id,
		Severity:    severityNames[mt.sev],
		Subject:     s.names[mt.subject],
		Text:        e.text,
		CreatedDate: e.created,
	}
}

// Counts is the number of messages per severity, over the whole log
// whatever the filters.
type Counts struct {
	Info, Warn, Error int
}

// Total is the number of messages in the log.
func (c Counts) Total() int { return c.Info + c.Warn + c.Error }

func (c *Counts) add(s severity) {
	switch s {
	case sevInfo:
		c.Info++
	case sevWarn:
		c.Warn++
	default:
		c.Error++
	}
}
