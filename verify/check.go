package verify

import (
	"context"
	"errors"
	"fmt"

	"bbimport/archive"
	"bbimport/model"
)

// ErrOtherArchive is the error of an archive that is not the one the job
// imported: its size or its SHA-256 differs from what the job recorded.
var ErrOtherArchive = errors.New("not the archive the job imported")

// otherArchive says, in one sentence, that the archive given is not the
// one the job imported, naming both.
type otherArchive struct {
	given   string
	rec     *model.ImportedArchive
	differs string // "it has 10 bytes, that one had 12"
}

func (e *otherArchive) Error() string {
	return fmt.Sprintf("%s is not the archive job %d imported (%s): %s; verify that archive instead (--archive FILE)",
		e.given, e.rec.Job, e.rec.Archive, e.differs)
}

func (e *otherArchive) Is(target error) bool { return target == ErrOtherArchive }

// recorded is what the job recorded of the archive it read; nil when the
// target records nothing (a real Bitbucket) or the job has no record.
func (v *Verifier) recorded(ctx context.Context, job int64) (*model.ImportedArchive, error) {
	r, ok := v.cfg.Backend.(model.ArchiveRecorder)
	if !ok {
		return nil, nil
	}
	list, err := r.ImportedArchives(ctx)
	if errors.Is(err, model.ErrNotSupported) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read what job %d recorded of its archive: %w", job, err)
	}
	for i := range list {
		if list[i].Job == job && list[i].Size > 0 {
			return &list[i], nil
		}
	}
	return nil, nil
}

// checkedRead is how verify reads f: refused at once when its size is not
// the recorded one; else read through a Digest when a SHA-256 was
// recorded, which check compares once the read is done. With no record,
// the archive is read as inspect reads it, and check has nothing to do.
func (v *Verifier) checkedRead(f File, rec *model.ImportedArchive) (read func(archive.Handler) error, check func(context.Context) error, err error) {
	plain := func(h archive.Handler) error { return archive.ReadOpened(f, archive.DefaultLimits(), h) }
	none := func(context.Context) error { return nil }
	if rec == nil {
		return plain, none, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if fi.Size() != rec.Size {
		return nil, nil, &otherArchive{given: f.Name(), rec: rec,
			differs: fmt.Sprintf("it has %d bytes, that one had %d", fi.Size(), rec.Size)}
	}
	if rec.SHA256 == "" {
		return plain, none, nil
	}
	d, err := archive.NewDigest(f)
	if err != nil {
		return nil, nil, err
	}
	read = func(h archive.Handler) error { return archive.ReadDigest(d, archive.DefaultLimits(), h) }
	check = func(ctx context.Context) error {
		sha, _, err := d.Finish(ctx)
		if err != nil {
			return err
		}
		if sha != rec.SHA256 {
			return &otherArchive{given: f.Name(), rec: rec,
				differs: fmt.Sprintf("its SHA-256 is %s, that one's was %s", sha, rec.SHA256)}
		}
		return nil
	}
	return read, check, nil
}
