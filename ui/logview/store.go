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

// entry is one message as the pane keeps it: 48 bytes plus the text and id
// bytes, where a model.Message takes 72 plus its own copy of the subject.
// Entries are never changed once appended, so a filter running in another
// goroutine may read the ones it was given while Update appends more.
type entry struct {
	text    string
	id      string
	created model.Millis
	subject uint32 // index into subjectTable.names
	sev     severity
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

// message rebuilds the REST shape of an entry.
func (e *entry) message(subjects []string) model.Message {
	return model.Message{
		ID:          e.id,
		Severity:    severityNames[e.sev],
		Subject:     subjects[e.subject],
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
