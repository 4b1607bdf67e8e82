package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/dustin/go-humanize"
	"golang.org/x/sys/unix"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"bbimport/importer/gitcmd"
)

// diskFull reports whether err comes of a full file system: a write of
// ours, SQLite's, or git's.
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	var gerr *gitcmd.Error
	return errors.As(err, &gerr) && strings.Contains(gerr.Stderr, "No space left on device")
}

// freeSpace is what the file system of the home's data holds free.
func (in *Instance) freeSpace() (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(in.dataDir(), &st); err != nil {
		return 0, fmt.Errorf("check free disk space of %s: %w", in.dataDir(), err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// diskFullMessage says that the import stopped on a full disk, how much it
// needs and how much is free now that the repository it was building is
// gone: what the admin acts on.
func (in *Instance) diskFullMessage(err error, archiveSize int64, done string) string {
	free := "an unknown amount"
	if n, ferr := in.freeSpace(); ferr == nil {
		free = humanize.IBytes(uint64(n))
	}
	return fmt.Sprintf("Import aborted: the disk holding %s is full (%v). The import needs about %s (%d x the archive's %s) and %s is free now that the repository being built was removed. %s before this point; nothing after it was imported. Free some space or use another --home, then import again.",
		in.dataDir(), err, humanize.IBytes(uint64(archiveSize*diskFactor)), diskFactor, humanize.IBytes(uint64(archiveSize)), free, done)
}

// An end note is where a run writes the message of its end when the
// database cannot take it (the disk is full even after the run removed what
// it was building). It is reserved when the run begins, so that writing it
// needs no new block; whoever recovers the home next records its message
// rather than guessing that the runner was killed.
const endNoteSize = 8 << 10

func (in *Instance) endNotePath(id int64) string {
	return filepath.Join(in.home, "log", "job-"+strconv.FormatInt(id, 10)+".end")
}

// endNote is the reserved note of one run; a nil *endNote writes nothing.
type endNote struct {
	f *os.File
}

// reserveEndNote makes the run's end note, blank. A home where even that
// does not fit gets no note: the run's end is then recovered as a crash.
func (in *Instance) reserveEndNote(id int64) *endNote {
	p := in.endNotePath(id)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil
	}
	if _, err := f.Write([]byte(strings.Repeat(" ", endNoteSize))); err != nil || f.Sync() != nil {
		f.Close()
		os.Remove(p)
		return nil
	}
	return &endNote{f: f}
}

// endNoteRecord is what a note holds: JSON, then blanks to its size.
type endNoteRecord struct {
	Message string `json:"message"`
}

// write records why the run ended, in place. A message too long for the
// note is cut.
func (n *endNote) write(message string) error {
	if n == nil {
		return errors.New("no end note was reserved")
	}
	for {
		data, err := json.Marshal(endNoteRecord{Message: message})
		if err != nil {
			return err
		}
		if len(data) <= endNoteSize {
			defer n.f.Close()
			if _, err := n.f.WriteAt(data, 0); err != nil {
				return fmt.Errorf("write %s: %w", n.f.Name(), err)
			}
			return n.f.Sync()
		}
		message = message[:len(message)*3/4] + "…"
	}
}

// remove drops the note once the run's end is in the database.
func (n *endNote) remove() {
	if n == nil {
		return
	}
	n.f.Close()
	os.Remove(n.f.Name())
}

// readEndNote returns the message a run of job id left in its end note, if
// it wrote one.
func (in *Instance) readEndNote(id int64) string {
	data, err := os.ReadFile(in.endNotePath(id))
	if err != nil {
		return ""
	}
	var r endNoteRecord
	if json.NewDecoder(strings.NewReader(string(data))).Decode(&r) != nil {
		return ""
	}
	return r.Message
}

func (in *Instance) removeEndNote(id int64) { os.Remove(in.endNotePath(id)) }
