package logview

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// savedMsg reports how saving the log went.
type savedMsg struct {
	pane  int64
	path  string
	count int
	err   error
}

func (s savedMsg) report() (notice string, problem bool) {
	if s.err != nil {
		// The reason first and short: the line is as wide as the pane.
		reason := s.err
		var pathErr *fs.PathError
		if errors.As(s.err, &pathErr) {
			reason = pathErr.Err
		}
		return fmt.Sprintf("Save failed: %v: %s. Press S to try another path.", reason, s.path), true
	}
	return fmt.Sprintf("Saved %s messages to %s.", count(s.count), s.path), false
}

// save writes the rows shown, in a command: a million rows take a while.
func (m Model) save(path string) tea.Cmd {
	log, view, pane := m.snapshot(), m.view, m.pane
	return func() tea.Msg {
		abs, err := filepath.Abs(expandHome(path))
		if err == nil {
			err = writeMessages(abs, log, view)
		}
		return savedMsg{pane: pane, path: abs, count: len(view), err: err}
	}
}

// writeMessages writes to a temporary file beside path and renames it into
// place, so no reader ever sees half a log and a failed save leaves an
// earlier file intact. A path ending in .csv gets CSV, anything else JSON:
// an array of message values as the REST API gives them.
func writeMessages(path string, log logSnapshot, view []int32) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create a file in %s: %w", filepath.Dir(path), err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	w := bufio.NewWriterSize(tmp, 1<<16)
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		err = writeCSV(w, log, view)
	} else {
		err = writeJSON(w, log, view)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename into %s: %w", path, err)
	}
	return nil
}

// A bufio.Writer keeps its first error and returns it from every later
// write, so the last write's error (and the caller's Flush) report it.
//
//nolint:errcheck // see above
func writeJSON(w *bufio.Writer, log logSnapshot, view []int32) error {
	w.WriteString("[")
	for n, i := range view {
		b, err := json.Marshal(log.message(i))
		if err != nil {
			return err
		}
		if n > 0 {
			w.WriteString(",")
		}
		// One message per line, for grep.
		w.WriteString("\n")
		w.Write(b)
	}
	_, err := w.WriteString("\n]\n")
	return err
}

// writeCSV writes one row per message; the time is RFC 3339 in UTC, which
// spreadsheets read, rather than epoch milliseconds.
//
// A csv.Writer keeps its first error too: c.Error reports it.
//
//nolint:errcheck // see above
func writeCSV(w *bufio.Writer, log logSnapshot, view []int32) error {
	c := csv.NewWriter(w)
	c.Write([]string{"id", "createdDate", "severity", "subject", "text"})
	for _, i := range view {
		msg := log.message(i)
		c.Write([]string{msg.ID, msg.CreatedDate.Time().Format("2006-01-02T15:04:05.000Z07:00"),
			string(msg.Severity), msg.Subject, msg.Text})
	}
	c.Flush()
	return c.Error()
}
