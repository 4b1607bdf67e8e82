package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"
)

// The source checksums an admin pasted, remembered between console runs
// by the SHA-256 of the archive they were compared with: the same bytes
// under another name match, and a copy made again (other bytes) does not.
// One small JSON file under Options.StateDir; the console's only file.

const sourceSumsFile = "source-checksums.json"

// rememberedSum is a source checksum pasted for an archive.
type rememberedSum struct {
	Source  string    `json:"source"`  // as pasted, normalised: MD5 or SHA-256, lower case
	Archive string    `json:"archive"` // the archive's name then, for whoever reads the file
	Pasted  time.Time `json:"pasted"`
}

type (
	rememberedMsg struct {
		path, sha string
		sum       rememberedSum
		found     bool
	}
	rememberFailedMsg struct{ err error }
)

func readSourceSums(dir string) (map[string]rememberedSum, error) {
	data, err := os.ReadFile(filepath.Join(dir, sourceSumsFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]rememberedSum{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the remembered checksums: %w", err)
	}
	sums := map[string]rememberedSum{}
	if err := json.Unmarshal(data, &sums); err != nil {
		return nil, fmt.Errorf("read the remembered checksums in %s: %w", filepath.Join(dir, sourceSumsFile), err)
	}
	return sums, nil
}

// recallSource looks up what was pasted for the archive whose SHA-256 is
// sha. A file that cannot be read remembers nothing: the admin pastes again.
func (m *Model) recallSource(path, sha string) tea.Cmd {
	dir := m.opts.StateDir
	if dir == "" {
		return nil
	}
	return func() tea.Msg {
		sums, err := readSourceSums(dir)
		if err != nil {
			return rememberFailedMsg{err}
		}
		s, ok := sums[sha]
		return rememberedMsg{path, sha, s, ok}
	}
}

// rememberSource records source as what the source says of the archive
// whose SHA-256 is sha. The file is replaced whole, never left half
// written.
func (m *Model) rememberSource(sha, source, name string) tea.Cmd {
	dir, now := m.opts.StateDir, m.opts.Now()
	if dir == "" || sha == "" {
		return nil
	}
	return func() tea.Msg {
		if err := writeSourceSum(dir, sha, rememberedSum{source, name, now}); err != nil {
			return rememberFailedMsg{err}
		}
		return nil
	}
}

func writeSourceSum(dir, sha string, s rememberedSum) error {
	sums, err := readSourceSums(dir)
	if err != nil {
		sums = map[string]rememberedSum{} // a damaged file is replaced
	}
	if s.Source == "" {
		delete(sums, sha)
	} else {
		sums[sha] = s
	}
	data, err := json.MarshalIndent(sums, "", "  ")
	if err != nil {
		return fmt.Errorf("remember the source checksum: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("remember the source checksum: %w", err)
	}
	tmp, err := os.CreateTemp(dir, sourceSumsFile+".*")
	if err != nil {
		return fmt.Errorf("remember the source checksum: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("remember the source checksum in %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("remember the source checksum in %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, sourceSumsFile)); err != nil {
		return fmt.Errorf("remember the source checksum: %w", err)
	}
	return nil
}
