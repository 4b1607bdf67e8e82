// Package carry moves an export archive from one machine to another (or
// to another directory of the same machine) so that the target's importer
// can trust it: over SFTP for a server, host keys checked against
// known_hosts; written under a temporary name and renamed only when whole
// and checked; resumable at the byte where a transfer broke; MD5 and
// SHA-256 computed while it streams, then each end's MD5 computed on that
// machine and compared.
//
// Carry takes any two Sides, so the one call serves an upload (Local to a
// Remote), a download (a Remote to Local), a copy on this machine, and a
// server to another through this machine, which never stores the file.
package carry

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"time"

	"github.com/dustin/go-humanize"

	"bbimport/model"
)

// Step is what a Progress report is about.
type Step string

const (
	// StepPrefix: hashing the part a broken transfer had carried already.
	StepPrefix Step = "prefix"
	// StepCarry: sending bytes.
	StepCarry Step = "carry"
	// StepSourceMD5 and StepTargetMD5: an end's MD5, computed on that
	// machine (a remote md5sum reports no bytes, only its start and end).
	StepSourceMD5 Step = "source-md5"
	StepTargetMD5 Step = "target-md5"
)

// Progress is one report of a Step: Done of Total bytes, at Rate bytes a
// second since the step started.
type Progress struct {
	Step  Step    `json:"step"`
	Done  int64   `json:"done"`
	Total int64   `json:"total"`
	Rate  float64 `json:"rate"`
}

// DefaultMode is the carried file's mode: readable by Bitbucket's own user,
// whoever logged in to write it.
const DefaultMode fs.FileMode = 0o644

// Options say how to carry.
type Options struct {
	// Resume continues a broken transfer from the length of its temporary
	// file; without it a temporary file left over is written anew.
	Resume bool
	// Mode of the carried file; 0 means DefaultMode.
	Mode fs.FileMode
	// Progress, if not nil, is called at most ten times a second per step
	// and at each step's end, on the calling goroutine or another.
	Progress func(Progress)

	// Checked runs once both ends' MD5s matched, before the file is given
	// its name: a caller that records it knows the file as its own should
	// it stop before it records the Result (see Finished).
	Checked func(Result)
	// Finished is what Checked gave an earlier attempt of this carry: a
	// file of that name at the target with that size and (computed there
	// again) that MD5 is taken as carried, not refused as ErrExists.
	Finished *model.Checksums

	// AfterCarry runs once the bytes are all written, before the checks
	// (tests change a byte there).
	AfterCarry func(tmp string)
	// Carried runs while the bytes flow (tests break the connection there).
	Carried func(done int64)
}

// EndMD5 is the MD5 of one end's file and how it was computed.
type EndMD5 struct {
	MD5 string `json:"md5"`
	// How: "md5sum" (a command on the server), "read" (read on this
	// machine), "read-back" (read back over SFTP: a second read across the
	// network, where the account runs no commands), "carried" (this
	// machine read the source whole while carrying it), "recorded" (an
	// earlier attempt checked it: see Options.Finished).
	How string `json:"how"`
}

// Result is a finished, checked carry.
type Result struct {
	Path  string `json:"path"`  // the file's final path at the target
	Bytes int64  `json:"bytes"` // its size
	// Sent is what crossed this time; Resumed is where it started.
	Sent    int64 `json:"sent"`
	Resumed int64 `json:"resumed"`
	// Seconds the bytes took to cross, without the checks.
	Seconds float64 `json:"seconds"`
	// Method is "sftp", "copy" or "link" (a hard link: same file system).
	Method string `json:"method"`
	// Sums were computed while the file streamed (on resume: the part
	// sent before, then the rest).
	Sums   model.Checksums `json:"sums"`
	Source EndMD5          `json:"source"`
	Target EndMD5          `json:"target"`
	// Notes are for the person watching: what was skipped or cost more.
	Notes []string `json:"notes,omitempty"`
}

// MismatchError is an end whose MD5 differs from the bytes carried: the
// file was not given its name, and its temporary file was removed.
type MismatchError struct {
	Name      string
	Carried   string // MD5 of the bytes that streamed
	End       string // "source" or "target"
	Where     string // the end's machine
	EndMD5    EndMD5
	Temporary string // the copy at the target
	RemoveErr error  // why the copy could not be removed, if so
}

func (e *MismatchError) Error() string {
	if e.End == "source" {
		return fmt.Sprintf("the MD5 of %s on %s (%s) differs from the MD5 of the bytes carried (%s): did the file change during the carry? "+
			"Run again when the source file is final", e.Name, e.Where, e.EndMD5.MD5, e.Carried)
	}
	removed := "was removed"
	if e.RemoveErr != nil {
		removed = fmt.Sprintf("could not be removed (%v): remove it", e.RemoveErr)
	}
	return fmt.Sprintf("the MD5 of %s on %s (%s, by %s) differs from the source's (%s): the copy (%s) is damaged and %s; run again to carry it anew",
		e.Name, e.Where, e.EndMD5.MD5, e.EndMD5.How, e.Carried, e.Temporary, removed)
}

// BrokenError is a transfer that stopped part way: its temporary file
// holds what arrived, and Resume continues from there.
type BrokenError struct {
	Done, Total int64
	Temporary   string
	Err         error
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("the transfer stopped after %s of %s (%s): %v; run again with --resume to continue from there",
		humanize.IBytes(uint64(e.Done)), humanize.IBytes(uint64(e.Total)), e.Temporary, e.Err)
}

func (e *BrokenError) Unwrap() error { return e.Err }

// ErrExists: the target already holds a file by that name.
var ErrExists = errors.New("exists already")

// TemporaryName is the name a file is written under until it is whole and
// checked: hidden, and not ending in .tar, so no import lists it.
func TemporaryName(name string) string { return "." + name + ".part" }

// Carry carries the file at srcPath on from into the directory dstDir on
// to, and checks it: see the package comment. On a BrokenError the
// temporary file stays for Resume; on a MismatchError it is removed.
func Carry(ctx context.Context, from Side, srcPath string, to Side, dstDir string, opts Options) (Result, error) {
	if opts.Mode == 0 {
		opts.Mode = DefaultMode
	}
	name := path.Base(filepath.ToSlash(srcPath))
	fi, err := from.stat(srcPath)
	if err != nil {
		return Result{}, fmt.Errorf("the file to carry, %s on %s: %w", srcPath, from, err)
	}
	if !fi.Mode().IsRegular() {
		return Result{}, fmt.Errorf("%s on %s is not a regular file", srcPath, from)
	}
	total := fi.Size()
	if err := checkDir(to, dstDir); err != nil {
		return Result{}, err
	}
	final, tmp := to.join(dstDir, name), to.join(dstDir, TemporaryName(name))
	res := Result{Path: final, Bytes: total, Method: "copy"}
	if _, ok := to.(*Remote); ok {
		res.Method = "sftp"
	} else if _, ok := from.(*Remote); ok {
		res.Method = "sftp"
	}
	if ffi, err := to.stat(final); err == nil {
		return finished(ctx, res, to, ffi, opts)
	}

	offset := resumeOffset(to, tmp, total, opts.Resume, &res)
	if isLocal(from) && isLocal(to) && offset == 0 {
		if tryLink(srcPath, tmp) {
			return finishLink(ctx, res, srcPath, tmp, opts)
		}
	}
	m, s := md5.New(), sha256.New()
	if err := send(ctx, trip{from: from, src: srcPath, to: to, dir: dstDir, tmp: tmp}, &res, offset, m, s, opts); err != nil {
		return res, err
	}
	res.Sums = model.Checksums{MD5: hex.EncodeToString(m.Sum(nil)), SHA256: hex.EncodeToString(s.Sum(nil)), Bytes: total}
	if opts.AfterCarry != nil {
		opts.AfterCarry(tmp)
	}
	if err := checkEnds(ctx, &res, from, srcPath, to, tmp, name, opts.Progress); err != nil {
		return res, err
	}
	if opts.Checked != nil {
		opts.Checked(res)
	}
	if err := to.chmod(tmp, opts.Mode); err != nil {
		return res, fmt.Errorf("chmod %s on %s: %w", tmp, to, err)
	}
	if err := to.rename(tmp, final); err != nil {
		return res, fmt.Errorf("rename %s to %s on %s: %w", tmp, final, to, err)
	}
	return res, nil
}

// finished answers for a file already at the target under its final
// name: this carry's own when an earlier attempt checked it (opts.Finished)
// and it still has that size and, computed there now, that MD5; else
// ErrExists, since the importer may be reading it.
func finished(ctx context.Context, res Result, to Side, fi fs.FileInfo, opts Options) (Result, error) {
	exists := func(why string) error {
		return fmt.Errorf("%s on %s: %w%s: the importer may be reading it, so carry does not replace it; remove it first if it is a stale copy",
			res.Path, to, ErrExists, why)
	}
	f := opts.Finished
	if f == nil || f.MD5 == "" {
		return Result{}, exists("")
	}
	if fi.Size() != f.Bytes {
		return Result{}, exists(fmt.Sprintf(" with %d bytes, not the %d this carry checked before", fi.Size(), f.Bytes))
	}
	sum, err := to.md5(ctx, res.Path, fi.Size(), StepTargetMD5, opts.Progress)
	if err != nil {
		return Result{}, fmt.Errorf("MD5 of %s on %s: %w", res.Path, to, err)
	}
	if sum.MD5 != f.MD5 {
		return Result{}, exists(fmt.Sprintf(" with MD5 %s, not the %s this carry checked before", sum.MD5, f.MD5))
	}
	res.Resumed, res.Sums = f.Bytes, *f
	res.Source, res.Target = EndMD5{MD5: f.MD5, How: "recorded"}, sum
	res.Notes = append(res.Notes, "an earlier attempt had carried, checked and named the file; its MD5 at the target was computed again and matches")
	return res, nil
}

// trip is what a carry goes between: the source file on from, and the
// temporary file in dir on to.
type trip struct {
	from     Side
	src      string
	to       Side
	dir, tmp string
}

// send writes the source from offset into the temporary file, feeding the
// bytes to m and s (after those sent before, on resume), and checks that
// the temporary file then holds the whole file.
func send(ctx context.Context, t trip, res *Result, offset int64, m, s hash.Hash, opts Options) error {
	from, srcPath, to, tmp, total := t.from, t.src, t.to, t.tmp, res.Bytes
	w, err := to.openWrite(tmp, offset)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%s may not write to %s on %s: give that user write permission there (the import directory must also stay readable by Bitbucket's user)",
				to.user(), t.dir, to)
		}
		return fmt.Errorf("open %s on %s: %w", tmp, to, err)
	}
	closed := false
	defer func() {
		if !closed {
			w.Close()
		}
	}()
	if err := checkRoom(to, t.dir, total-offset, res); err != nil {
		return err
	}
	if offset > 0 {
		// Hash what was sent before where reading it costs least: a local end.
		prefixSide, prefixPath := from, srcPath
		if !isLocal(from) && isLocal(to) {
			prefixSide, prefixPath = to, tmp
		}
		if err := hashPrefix(ctx, prefixSide, prefixPath, offset, m, s, opts.Progress); err != nil {
			return err
		}
		res.Resumed = offset
	}
	r, err := from.open(srcPath)
	if err != nil {
		return fmt.Errorf("open %s on %s: %w", srcPath, from, err)
	}
	defer r.Close()
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s on %s: %w", srcPath, from, err)
	}
	rep := newReporter(StepCarry, total, offset, opts.Progress)
	start := time.Now()
	sent, err := pump(ctx, io.LimitReader(r, total-offset), w, m, s, func(n int64) {
		rep.report(offset + n)
		if opts.Carried != nil {
			opts.Carried(offset + n)
		}
	})
	res.Sent = sent
	switch {
	case err == nil && sent < total-offset:
		// A server's file read over a connection that closed may just end.
		err = fmt.Errorf("read %s on %s: %w", srcPath, from, io.ErrUnexpectedEOF)
	case err == nil:
		rep.done(offset + sent)
		closed = true
		err = w.Close()
		res.Seconds = time.Since(start).Seconds()
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("write to %s: %w", to, err)
		}
		return &BrokenError{Done: offset + sent, Total: total, Temporary: tmp, Err: err}
	}
	if tfi, err := to.stat(tmp); err != nil {
		return fmt.Errorf("stat %s on %s: %w", tmp, to, err)
	} else if tfi.Size() != total {
		return fmt.Errorf("%s on %s holds %d bytes after the carry, not %d: the source changed, or another process writes there",
			tmp, to, tfi.Size(), total)
	}
	return nil
}

// resumeOffset says where the carry starts in the temporary file a broken
// transfer left: its end when resuming and it fits, else 0 with a note.
func resumeOffset(to Side, tmp string, total int64, resume bool, res *Result) int64 {
	tfi, err := to.stat(tmp)
	if err != nil {
		return 0
	}
	switch {
	case !resume:
		res.Notes = append(res.Notes, fmt.Sprintf("a broken transfer had left %s of %s; started over (resume continues one)",
			humanize.IBytes(uint64(tfi.Size())), tmp))
	case tfi.Size() > total:
		res.Notes = append(res.Notes, fmt.Sprintf("%s is longer than the file to carry; started over", tmp))
	default:
		return tfi.Size()
	}
	return 0
}

// checkDir makes sure dir is a directory on side.
func checkDir(side Side, dir string) error {
	fi, err := side.stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s has no directory %s: check the path (a target's import directory is <shared home>/data/migration/import, which Bitbucket makes when it starts)",
			side, dir)
	}
	if err != nil {
		return fmt.Errorf("the directory %s on %s: %w", dir, side, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s on %s is not a directory", dir, side)
	}
	return nil
}

// checkRoom refuses to start when dir lacks need bytes; a server that does
// not say how much room it has is noted and trusted.
func checkRoom(side Side, dir string, need int64, res *Result) error {
	free, err := side.free(dir)
	if errors.Is(err, errNoStatvfs) {
		res.Notes = append(res.Notes, fmt.Sprintf("%s does not report free space (no SFTP statvfs extension): carried without checking room", side))
		return nil
	}
	if err != nil {
		return fmt.Errorf("free space in %s on %s: %w", dir, side, err)
	}
	if free < need {
		return fmt.Errorf("%s has %s free in %s, and the file needs %s more: make room and run again",
			side, humanize.IBytes(uint64(free)), dir, humanize.IBytes(uint64(need)))
	}
	return nil
}

// hashPrefix feeds the first n bytes of path on side to both hashes.
func hashPrefix(ctx context.Context, side Side, p string, n int64, m, s io.Writer, progress func(Progress)) error {
	r, err := side.open(p)
	if err != nil {
		return fmt.Errorf("open %s on %s to hash what was sent before: %w", p, side, err)
	}
	defer r.Close()
	rep := newReporter(StepPrefix, n, 0, progress)
	got, err := hashStream(ctx, io.LimitReader(r, n), io.MultiWriter(m, s), rep.report)
	if err == nil && got != n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("hash the %d bytes sent before (%s on %s): %w", n, p, side, err)
	}
	rep.done(n)
	return nil
}

// checkEnds computes each end's MD5 on its machine, both at once, and
// compares them with the bytes carried. On a mismatch the temporary file
// is removed: resuming onto damaged bytes would only fail again.
func checkEnds(ctx context.Context, res *Result, from Side, src string, to Side, tmp, name string, progress func(Progress)) error {
	type end struct {
		sum EndMD5
		err error
	}
	srcDone := make(chan end, 1)
	if isLocal(from) {
		// This machine read the source whole to carry it (and its prefix
		// on resume): the streamed MD5 is the source's, read there.
		srcDone <- end{sum: EndMD5{MD5: res.Sums.MD5, How: "carried"}}
	} else {
		go func() {
			sum, err := from.md5(ctx, src, res.Bytes, StepSourceMD5, progress)
			srcDone <- end{sum, err}
		}()
	}
	dst, derr := to.md5(ctx, tmp, res.Bytes, StepTargetMD5, progress)
	srcEnd := <-srcDone
	if srcEnd.err != nil {
		return fmt.Errorf("MD5 of %s on %s: %w", src, from, srcEnd.err)
	}
	if derr != nil {
		return fmt.Errorf("MD5 of %s on %s: %w", tmp, to, derr)
	}
	res.Source, res.Target = srcEnd.sum, dst
	for _, n := range []EndMD5{res.Source, res.Target} {
		if n.How == "read-back" {
			res.Notes = append(res.Notes, "an account there runs no commands (SFTP only): its MD5 was computed by reading the file back over SFTP, a second read across the network")
		}
	}
	mismatch := func(which string, side Side, e EndMD5) error {
		return &MismatchError{Name: name, Carried: res.Sums.MD5, End: which, Where: side.String(), EndMD5: e,
			Temporary: tmp, RemoveErr: to.remove(tmp)}
	}
	if res.Source.MD5 != res.Sums.MD5 {
		return mismatch("source", from, res.Source)
	}
	if res.Target.MD5 != res.Sums.MD5 {
		return mismatch("target", to, res.Target)
	}
	return nil
}

// reporter turns byte counts into Progress reports, ten a second at most.
type reporter struct {
	step        Step
	total, base int64
	start, last time.Time
	progress    func(Progress)
}

const reportEvery = 100 * time.Millisecond

func newReporter(step Step, total, base int64, progress func(Progress)) *reporter {
	r := &reporter{step: step, total: total, base: base, start: time.Now(), progress: progress}
	r.send(base)
	return r
}

func (r *reporter) report(done int64) {
	if r.progress == nil {
		return
	}
	if now := time.Now(); now.Sub(r.last) >= reportEvery {
		r.last = now
		r.send(done)
	}
}

func (r *reporter) done(done int64) { r.send(done) }

func (r *reporter) send(done int64) {
	if r.progress == nil {
		return
	}
	rate := float64(done-r.base) / max(time.Since(r.start).Seconds(), 0.001)
	r.progress(Progress{Step: r.step, Done: done, Total: r.total, Rate: rate})
}
