package archive

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/dustin/go-humanize"

	"bbimport/model"
)

// growthMoment is how far apart the two looks at an archive's size are: a
// copy in progress writes many times a second, and a start waits this long
// at most once.
const growthMoment = 300 * time.Millisecond

// copyAgain is what to do about an archive cut short or damaged on its
// way here: the start check and inspect say it alike.
const copyAgain = "copy it again from the source (the whole .tar, and compare checksums)"

// StartCheck configures OpenToImport.
type StartCheck struct {
	Limits Limits // zero value: DefaultLimits()
	// BetweenLooks, when set (tests only), runs after the structure was
	// read and before the second look at the size, in place of the wait
	// for the rest of the moment: a test grows the file there.
	BetweenLooks func()
}

// OpenToImport opens the archive p names for an import and applies every
// rule a start applies before a job is recorded, in this order: inside the
// import directory dir (relative to it or absolute inside it) and a
// regular file, readable by this user, not still being written (its size
// or time changes between two looks a moment apart; a file copied a
// second ago is fine), a tar whose outer structure reads whole to its last
// member (git data is skipped by seeking, as InspectFile does), and a known
// archiveVersion. Every refusal wraps model.ErrBadArchivePath and is one
// sentence saying what to do: the importer's Start, and through it serve
// and the import command, refuse with it, and the console asks it before
// it offers a start. The file is returned at its start.
func OpenToImport(dir, p string, c StartCheck) (*os.File, error) {
	real, err := Resolve(dir, p)
	if err != nil {
		return nil, err
	}
	f, err := Open(real, RealDir(dir))
	if errors.Is(err, fs.ErrPermission) {
		return nil, model.RefuseArchive("%s: %s", p, deniedOnTheWay(real, false))
	}
	if err != nil {
		return nil, model.RefuseArchive("%w", err)
	}
	if err := checkToImport(f, p, c); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkToImport applies OpenToImport's rules to the opened file f.
func checkToImport(f *os.File, p string, c StartCheck) error {
	first, err := f.Stat()
	if err != nil {
		return model.RefuseArchive("%s: %w", p, err)
	}
	looked := time.Now()
	structure := runOpened(f, c.Limits, structurePass, func(*Member) error { return nil })
	if c.BetweenLooks != nil {
		c.BetweenLooks()
	} else if rest := growthMoment - time.Since(looked); rest > 0 {
		time.Sleep(rest)
	}
	second, err := f.Stat()
	if err != nil {
		return model.RefuseArchive("%s: %w", p, err)
	}
	if second.Size() != first.Size() || !second.ModTime().Equal(first.ModTime()) {
		return model.RefuseArchive("%s is still being written (%s, then %s a moment later); start it once the copy is done",
			p, humanize.IBytes(uint64(first.Size())), humanize.IBytes(uint64(second.Size())))
	}
	if _, err := f.Seek(0, 0); err != nil {
		return model.RefuseArchive("%s: %w", p, err)
	}
	switch {
	case structure == nil:
		return nil
	case errors.Is(structure, ErrUnsupportedVersion):
		return model.RefuseArchive("%s cannot be imported: %w; export it again from a Bitbucket that writes one of them", p, structure)
	default:
		return model.RefuseArchive("%s cannot be imported: %w; %s, then start it again", p, structure, copyAgain)
	}
}

// structurePass sets up the reader for the start check: it decodes the
// instance details (for the archiveVersion) and the hierarchy markers (a
// hierarchy left open is a cut archive), and seeks over every other
// member, reading only each one's last byte, as archive/tar does to find
// a cut.
func structurePass(rd *reader) {
	rd.skip = map[Kind]bool{}
	for k := KindUnknown; k <= KindHierarchyEnd; k++ {
		if k != KindInstanceDetails && k != KindHierarchyBegin && k != KindHierarchyEnd {
			rd.skip[k] = true
		}
	}
}
