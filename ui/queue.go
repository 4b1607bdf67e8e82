package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/dustin/go-humanize"

	"bbimport/model"
)

// The queue: archives marked in the picker (space) are imported one after
// another, each its own job, one import at a time. With the in-process
// importer the marks go to the home's queue once confirmed, and the
// importer starts each next archive (queue_home.go). With a remote backend
// the marks are the queue; it runs once started, and the console starts
// the next archive when the job it watches ends. It lives in this console
// then: quitting leaves the running import going and starts no more.

// queuePos is the archive's place in the queue, from 1; 0 when not in it.
func (p *picker) queuePos(path string) int {
	for i, q := range p.queued {
		if q == path {
			return i + 1
		}
	}
	return 0
}

// toggleQueue puts the highlighted archive at the end of the queue, or
// takes it out.
func (m *Model) toggleQueue(f model.ArchiveFile, in *archiveInfo) {
	p := &m.picker
	if n := m.home.place(f.Name); m.opts.Queuer != nil && n > 0 && p.queuePos(f.Path) == 0 {
		m.setNotice(fmt.Sprintf("%s is number %d in the home's queue already; u shows the queue.", shownName(f), n), false)
		return
	}
	if p.queuePos(f.Path) > 0 {
		p.dequeue(f.Path)
		m.setNotice(fmt.Sprintf("%s is out of the queue (%s).", shownName(f), model.Plural(len(p.queued), "archive", "archives")), false)
		return
	}
	switch _, mismatch := in.mismatch(); {
	case f.Growing:
		m.setNotice(shownName(f)+" is still being copied; queue it once the copy is done.", true)
		return
	case f.Unusable != "" || in.summaryErr != nil:
		m.setNotice(shownName(f)+" cannot be imported: enter says why.", true)
		return
	case mismatch:
		m.setNotice(shownName(f)+"'s checksum differs from the source's: it is not queued; start it alone (enter, then O) if you must.", true)
		return
	}
	p.queued = append(p.queued, f.Path)
	m.setNotice(fmt.Sprintf("%s is number %d in the queue; enter starts the queue, space takes it out.", shownName(f), len(p.queued)), false)
}

// queuedFiles is the queue's archives as the import directory lists them;
// one that has left the directory is dropped from the queue.
func (m *Model) queuedFiles() []model.ArchiveFile {
	p := &m.picker
	var files []model.ArchiveFile
	kept := p.queued[:0]
	for _, path := range p.queued {
		for _, f := range p.files {
			if f.Path == path {
				files = append(files, f)
				kept = append(kept, path)
				break
			}
		}
	}
	p.queued = kept
	return files
}

// confirmQueue says what the queue will do and asks.
func (m *Model) confirmQueue() tea.Cmd {
	files := m.queuedFiles()
	if len(files) == 0 {
		return nil
	}
	lines := []string{"They are imported one after another, each its own job, in this order:"}
	for i, f := range files {
		lines = append(lines, fmt.Sprintf("  %d. %s · %s", i+1, shownName(f), humanize.IBytes(uint64(f.Size))))
	}
	lines = append(lines, "", "Into "+m.targetName()+".")
	if m.jobRunning() {
		lines = append(lines, fmt.Sprintf("The first starts when job %d ends.", m.job.id))
	}
	if m.opts.Queuer != nil {
		lines = append(lines, "", "The queue is kept in the instance home: when an import ends, the importer starts the next, "+
			"with or without this console. Each archive is checked again when its turn comes.")
	} else {
		lines = append(lines, "", "The queue lives while this console runs: the console starts the next import when one ends. "+
			"Quitting leaves the running import going and starts no more.")
	}
	m.push(&dialog{
		title: fmt.Sprintf("Import %s one after another?", model.Plural(len(files), "archive", "archives")),
		lines: lines,
		choices: []choice{
			{key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "start the queue")), queueChosen{}},
			{key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "back to the archives")), nil},
		},
	})
	return nil
}

// queueChosen is the queue confirmed.
type queueChosen struct{}

// startQueue runs the queue: its first archive now, unless a watched job
// still runs, whose end starts it.
func (m *Model) startQueue() tea.Cmd {
	if m.opts.Queuer != nil {
		return m.enqueue(m.queuedFiles())
	}
	m.queueRunning = true
	if m.jobRunning() {
		m.setNotice(fmt.Sprintf("The queue starts when job %d ends.", m.job.id), false)
		return nil
	}
	return m.startNext()
}

// startNext starts the queue's next archive. A refusal (the archive cannot
// be read, another import runs) stops the queue, with the reason; enter
// in the picker starts the rest again.
func (m *Model) startNext() tea.Cmd {
	if m.opts.Queuer != nil && m.job != nil {
		return m.followQueue(m.job.job)
	}
	if !m.queueRunning {
		return nil
	}
	files := m.queuedFiles()
	if len(files) == 0 {
		m.queueRunning = false
		return nil
	}
	f := files[0]
	in := m.picker.infoFor(f)
	if _, mismatch := in.mismatch(); mismatch || f.Growing {
		m.queueRunning = false
		m.picker.queued = m.picker.queued[1:] // it cannot be imported as it is
		if mismatch || f.Growing {
			m.setNotice(fmt.Sprintf("The queue stopped: %s changed since it was queued; enter starts the rest.", shownName(f)), true)
		}
		return nil
	}
	return m.start(f, nil)
}

// dequeue takes an archive that started out of the queue: a start refused
// leaves it first in line.
func (p *picker) dequeue(path string) {
	if i := p.queuePos(path); i > 0 {
		p.queued = append(p.queued[:i-1:i-1], p.queued[i:]...)
	}
}

// queueNote is what the job view says of the queue, or nothing.
func (m *Model) queueNote() string {
	if m.opts.Queuer != nil {
		return m.homeQueueNote()
	}
	if !m.queueRunning || len(m.picker.queued) == 0 {
		return ""
	}
	var names []string
	for _, path := range m.picker.queued {
		for _, f := range m.picker.files {
			if f.Path == path {
				names = append(names, shownName(f))
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("queue: next %s — started when this job ends, while this console runs", strings.Join(names, ", then "))
}
