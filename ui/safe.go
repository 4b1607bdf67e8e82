package ui

import (
	"bbimport/model"
	"bbimport/termsafe"
)

// Text from an archive or a backend is made terminal-safe once, where it
// enters the console (a poll's answer, an inspection), so that no frame
// and no plain line can carry a name's escape sequence to the terminal.

// safeMessages returns msgs with their subjects and texts made safe.
func safeMessages(msgs []model.Message) []model.Message {
	out := make([]model.Message, len(msgs))
	for i, m := range msgs {
		m.ID, m.Subject, m.Text = termsafe.String(m.ID), termsafe.String(m.Subject), termsafe.String(m.Text)
		out[i] = m
	}
	return out
}

// safeJob returns j with the texts the console shows made safe.
func safeJob(j model.Job) model.Job {
	j.State = model.State(termsafe.String(string(j.State)))
	j.Progress.Message = termsafe.String(j.Progress.Message)
	j.Archive = termsafe.String(j.Archive)
	j.NodeID = termsafe.String(j.NodeID)
	return j
}

// safeSummary returns s with every text of the archive made safe.
func safeSummary(s model.ArchiveSummary) model.ArchiveSummary {
	safe := termsafe.String
	in := &s.Instance
	in.BuildVersion, in.InstanceName, in.NodeID = safe(in.BuildVersion), safe(in.InstanceName), safe(in.NodeID)
	in.Product, in.Version = safe(in.Product), safe(in.Version)
	projects := make([]model.ProjectSummary, len(s.Projects))
	for i, p := range s.Projects {
		p.Key, p.Name = safe(p.Key), safe(p.Name)
		projects[i] = p
	}
	s.Projects = projects
	hierarchies := make([]model.HierarchySummary, len(s.Hierarchies))
	for i, h := range s.Hierarchies {
		h.ID, h.Origin = safe(h.ID), safe(h.Origin)
		h.Forks = safeStrings(h.Forks)
		hierarchies[i] = h
	}
	s.Hierarchies = hierarchies
	s.Warnings = safeStrings(s.Warnings)
	return s
}

func safeStrings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = termsafe.String(s)
	}
	return out
}

// safeError is an error whose text is shown made safe; errors.Is and As
// still see the error it wraps.
type safeError struct{ err error }

func (e safeError) Error() string { return termsafe.String(e.err.Error()) }
func (e safeError) Unwrap() error { return e.err }

// safeErr returns err with its text made safe: a backend's or an archive's
// error quotes what it was sent.
func safeErr(err error) error {
	if err == nil {
		return nil
	}
	return safeError{err}
}

// shownName is an archive's file name as the console shows it; the name
// itself stays as it is, for Start and Inspect.
func shownName(f model.ArchiveFile) string { return termsafe.String(f.Name) }
