package client

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// keptJobs bounds how many jobs per server the state file remembers.
const keptJobs = 50

// jobRecord is a job this client started. Bitbucket has no call that lists
// import jobs, so this is how `bbimport jobs` finds them again after an SSH
// session dropped.
type jobRecord struct {
	ID      int64  `json:"id"`
	Archive string `json:"archive,omitempty"`
	// Type is the job's type: an export's calls live at other paths.
	// Records written before bbimport exported have none.
	Type    string    `json:"type,omitempty"`
	Started time.Time `json:"started,omitzero"`
	// Discovered marks a job someone else started, found past the
	// newest known id: kept so that the next search starts above it.
	Discovered bool `json:"discovered,omitempty"`
}

// stateFile is jobs.json: per server base URL, its jobs, oldest first.
type stateFile struct {
	Servers map[string][]jobRecord `json:"servers"`
}

// jobStore reads and writes one server's part of the state file. Several
// processes (two consoles, a console and `bbimport import`) may add jobs
// at once: each change holds an exclusive lock on a file beside it while
// it reads, changes and renames the file into place, so no record is
// lost; a reader needs no lock, since the rename is atomic.
type jobStore struct {
	path   string
	server string
	mu     sync.Mutex // the file lock is per open file, not per goroutine
}

func defaultStateDir() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "bbimport"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the state directory: %w; set XDG_STATE_HOME", err)
	}
	return filepath.Join(home, ".local", "state", "bbimport"), nil
}

func (s *jobStore) read() (stateFile, error) {
	st := stateFile{Servers: map[string][]jobRecord{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read the list of started jobs: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("read the list of started jobs %s: %w; delete the file to start a new list", s.path, err)
	}
	if st.Servers == nil {
		st.Servers = map[string][]jobRecord{}
	}
	return st, nil
}

// list returns this server's jobs, newest first.
func (s *jobStore) list() ([]jobRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.read()
	if err != nil {
		return nil, err
	}
	jobs := slices.Clone(st.Servers[s.server])
	slices.Reverse(jobs)
	return jobs, nil
}

// find is the record of job id, if this client started or found it.
func (s *jobStore) find(id int64) (jobRecord, bool) {
	jobs, err := s.list()
	if err != nil {
		return jobRecord{}, false
	}
	i := slices.IndexFunc(jobs, func(r jobRecord) bool { return r.ID == id })
	if i < 0 {
		return jobRecord{}, false
	}
	return jobs[i], true
}

// add records jobs; a record for an id already known replaces it, unless
// it is only a discovery of a job this client started.
func (s *jobStore) add(records ...jobRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(s.path), err)
	}
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return fmt.Errorf("lock the list of started jobs: %w", err)
	}
	defer unlock()
	st, err := s.read()
	if err != nil {
		return err
	}
	jobs := st.Servers[s.server]
	for _, rec := range records {
		i := slices.IndexFunc(jobs, func(r jobRecord) bool { return r.ID == rec.ID })
		switch {
		case i >= 0 && rec.Discovered:
			continue
		case i >= 0:
			jobs = slices.Delete(jobs, i, i+1)
		}
		jobs = append(jobs, rec)
	}
	slices.SortStableFunc(jobs, func(a, b jobRecord) int { return cmp.Compare(a.ID, b.ID) })
	if len(jobs) > keptJobs {
		jobs = jobs[len(jobs)-keptJobs:]
	}
	st.Servers[s.server] = jobs
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path, b)
}

func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".jobs-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
