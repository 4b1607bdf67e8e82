package importer

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"bbimport/archive"
	"bbimport/importer/gitcmd"
)

// freshConfig is the only git config an imported repository gets: the
// archive's own config is never used (it may include files, set hooks,
// filters or an fsmonitor command).
const freshConfig = `[core]
	repositoryformatversion = 0
	filemode = true
	bare = true
[receive]
	fsckObjects = true
`

// A repositoryBuild is one bare repository being built aside, in the home's
// tmp directory, from the git members of the archive. Nothing in it is ever
// run; git runs on it only once its config is ours.
type repositoryBuild struct {
	dir   string // build directory under shared/data/tmp
	final string // shared/data/repositories/<id>

	head  string            // HEAD's target, e.g. refs/heads/main
	refs  map[string]string // ref name -> object name
	stash map[string]string // stash-refs path -> object name
	hooks int               // hook files kept inert

	// alternates, for a fork, is its origin's objects directory relative
	// to this repository's objects directory.
	alternates string

	// lost are refs the archive held that could not be kept (ERROR), up
	// to maxLost of them, and lostMore counts the rest; notes are what was
	// changed or left out (WARN).
	lost     []string
	lostMore int
	notes    []string

	// damage is the first object found not to match its name (errDamaged):
	// the repository is lost, and the rest of its objects are not written.
	damage error
	loose  looseHasher

	dirs map[string]bool // directories made so far: 256 fan-out dirs, many files each
}

// newRepositoryBuild lays out an empty bare repository in dir, by hand
// rather than with git init, so that no template and no git process is
// involved: it is the layout git init --bare writes, minus samples.
func newRepositoryBuild(dir, final string) (*repositoryBuild, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("clear build directory %s: %w", dir, err)
	}
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("lay out repository: %w", err)
		}
	}
	b := &repositoryBuild{dir: dir, final: final, head: "refs/heads/master",
		refs: map[string]string{}, stash: map[string]string{}, dirs: map[string]bool{}}
	if err := b.writeFile("config", []byte(freshConfig)); err != nil {
		return nil, err
	}
	return b, nil
}

// mkdirFor makes the parent directory of p once per build.
func (b *repositoryBuild) mkdirFor(p string) error {
	dir := filepath.Dir(p)
	if b.dirs[dir] {
		return nil
	}
	// One mkdir where the parent is there (an object's fan-out directory,
	// thousands per import); MkdirAll costs three system calls.
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	b.dirs[dir] = true
	return nil
}

func (b *repositoryBuild) writeFile(name string, data []byte) error {
	p := filepath.Join(b.dir, filepath.FromSlash(name))
	if err := b.mkdirFor(p); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// readMetadata takes HEAD, refs (loose and packed) and stash-refs from the
// skeleton of the source repository. Its config, reflogs and app-info are
// left out: only names and object names are carried over, each checked.
func (b *repositoryBuild) readMetadata(f archive.File) error {
	switch {
	case f.Name == "HEAD":
		data, err := readSmall(f)
		if err != nil {
			return err
		}
		target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "ref: ")
		if !ok || !strings.HasPrefix(target, "refs/heads/") || checkRefName(target) != nil {
			b.notes = append(b.notes, fmt.Sprintf("HEAD %q is not a valid branch name; HEAD points at refs/heads/master instead", strings.TrimSpace(string(data))))
			return nil
		}
		b.head = target
	case f.Name == "packed-refs":
		// Line by line: the file can be as big as the reader's cap.
		sc := bufio.NewScanner(f.Body)
		sc.Buffer(nil, maxRefLine)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || line[0] == '#' || line[0] == '^' {
				continue // header and peeled lines: git peels again when it needs to
			}
			obj, name, _ := strings.Cut(line, " ")
			if _, loose := b.refs[name]; !loose { // a loose ref wins, as in git
				b.addRef(name, obj)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read %s: %w (lines over %d bytes are refused)", f.Name, err, maxRefLine)
		}
	case strings.HasPrefix(f.Name, "refs/"):
		data, err := readSmall(f)
		if err != nil {
			return err
		}
		b.addRef(f.Name, strings.TrimSpace(string(data)))
	case strings.HasPrefix(f.Name, "stash-refs/"):
		data, err := readSmall(f)
		if err != nil {
			return err
		}
		obj := strings.TrimSpace(string(data))
		if err := checkRefPath(f.Name); err != nil || !isObjectName(obj) {
			b.notes = append(b.notes, fmt.Sprintf("stash ref %q was skipped: not a valid name or object name", f.Name))
			return nil
		}
		b.stash[f.Name] = obj
	}
	return nil
}

func (b *repositoryBuild) addRef(name, obj string) {
	if err := checkRefName(name); err != nil {
		b.lose(fmt.Sprintf("%v, as git refuses on push", err))
		return
	}
	if !isObjectName(obj) {
		b.lose(fmt.Sprintf("ref %q holds %q, not an object name", name, obj))
		return
	}
	b.refs[name] = obj
}

// maxLost bounds the lost refs kept for messages: a packed-refs of
// millions of bad lines must neither fill memory nor the log.
const maxLost = 1000

func (b *repositoryBuild) lose(why string) {
	if len(b.lost) < maxLost {
		b.lost = append(b.lost, why)
	} else {
		b.lostMore++
	}
}

// maxRefLine bounds one ref file or packed-refs line: a ref name is a path
// of the file system, far shorter than this.
const maxRefLine = 64 << 10

// readSmall reads a ref file (HEAD, a loose ref, a stash ref): one line.
// Only its first maxRefLine bytes are read, since the reader lets an inner
// file be far bigger; a longer file is not a ref and fails the checks.
func readSmall(f archive.File) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f.Body, maxRefLine))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	return data, nil
}

// hooksDir is where a repository keeps the archive's hooks, inside its
// directory: a name git never looks at.
const hooksDir = "imported-hooks"

// writeHook keeps a hook as an inert file (mode 0644) under hooksDir,
// where git never looks.
func (b *repositoryBuild) writeHook(f archive.File) error {
	if err := b.copyFile(path.Join(hooksDir, f.Name), f.Body, 0o644); err != nil {
		return err
	}
	b.hooks++
	return nil
}

var (
	looseObjectName = regexp.MustCompile(`^[0-9a-f]{2}/[0-9a-f]{38}$`)
	packFileName    = regexp.MustCompile(`^pack/pack-[0-9a-f]{40}\.pack$`)
)

// writeObject stores one file of the object store: loose objects, each
// checked against its name, and packs, which finish indexes. Anything else
// (info/alternates above all, which could point git at another
// repository's objects) is left out.
func (b *repositoryBuild) writeObject(f archive.File) error {
	switch {
	case b.damage != nil:
		return nil // the repository is lost: its other objects need no disk
	case looseObjectName.MatchString(f.Name):
		return b.writeLooseObject(f)
	case packFileName.MatchString(f.Name):
		return b.copyFile(path.Join("objects", f.Name), f.Body, 0o444)
	case f.Name == "info/packs" || strings.HasPrefix(f.Name, "pack/"):
		// Derived files. A pack's .idx above all is never trusted: git
		// finds objects through it without checking that the pack holds
		// them, so finish writes its own. Git rebuilds or does without
		// the others (.rev, .bitmap, info/packs).
		return nil
	}
	b.notes = append(b.notes, fmt.Sprintf("object store file %q was left out", f.Name))
	return nil
}

// writeLooseObject stores a loose object and checks, as it streams to
// disk, that it inflates to a git object whose SHA-1 is its name: git reads
// an object's content only when something asks for it, so a wrong one
// would go unnoticed until a clone fails. A mismatch is b.damage, not an
// error: the archive is still readable and the import goes on.
func (b *repositoryBuild) writeLooseObject(f archive.File) error {
	return b.createFile(path.Join("objects", f.Name), 0o444, func(out io.Writer) error {
		src, dst := &stickyReader{r: f.Body}, &stickyWriter{w: out}
		sum, err := b.loose.sum(io.TeeReader(src, dst))
		name := strings.ReplaceAll(f.Name, "/", "")
		switch {
		case src.err != nil: // the archive's fault, or the disk's: not the object's
			return src.err
		case dst.err != nil:
			return dst.err
		case err != nil:
			b.damage = fmt.Errorf("%w: object %s is not a valid loose object (%w)", errDamaged, name, err)
		case sum != name:
			b.damage = fmt.Errorf("%w: object %s holds content whose SHA-1 is %s", errDamaged, name, sum)
		}
		return nil
	})
}

func (b *repositoryBuild) copyFile(name string, body io.Reader, mode os.FileMode) error {
	return b.createFile(name, mode, func(out io.Writer) error {
		_, err := io.Copy(out, body)
		return err
	})
}

// createFile makes the new file name and fills it with fill.
func (b *repositoryBuild) createFile(name string, mode os.FileMode, fill func(io.Writer) error) error {
	p := filepath.Join(b.dir, filepath.FromSlash(name))
	if err := b.mkdirFor(p); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	// O_EXCL: a name twice in one tar must not overwrite what was checked.
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := fill(out); err != nil {
		out.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// errVerify marks a repository whose git data is incomplete, errDamaged one
// with an object or pack whose bytes do not match its name: item errors,
// not fatal ones.
var (
	errVerify  = errors.New("git data is incomplete")
	errDamaged = errors.New("git data is damaged")
)

// finish indexes every pack, writes refs, HEAD, stash-refs and alternates,
// verifies connectivity, and moves the repository into place. On any error
// the build directory is removed.
func (b *repositoryBuild) finish(ctx context.Context) error {
	err := b.damage
	if err == nil {
		err = b.complete(ctx)
	}
	if err == nil {
		err = b.verify(ctx)
	}
	if err == nil {
		if rerr := os.Rename(b.dir, b.final); rerr != nil {
			err = fmt.Errorf("move repository into place: %w", rerr)
		}
	}
	if err != nil {
		b.discard()
	}
	return err
}

func (b *repositoryBuild) discard() { _ = os.RemoveAll(b.dir) }

func (b *repositoryBuild) complete(ctx context.Context) error {
	packs, err := filepath.Glob(filepath.Join(b.dir, "objects", "pack", "pack-*.pack"))
	if err != nil {
		return err
	}
	for _, p := range packs {
		// index-pack inflates every object, hashes it (resolving deltas)
		// and checks the pack's trailing checksum: what fsck --full does
		// for a pack, as the index is written. Not --strict, which would
		// also refuse objects git only warns about (zero-padded tree
		// modes, odd time zones) that old repositories hold.
		if out, err := gitcmd.Run(ctx, b.dir, "index-pack", p); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: pack %s does not match its content: %s", errDamaged, filepath.Base(p), firstLines(said(out, err), 2))
		}
	}

	names := make([]string, 0, len(b.refs))
	for name := range b.refs {
		names = append(names, name)
	}
	sort.Strings(names)
	clashes := nested(b.refs)
	var packed bytes.Buffer
	packed.WriteString("# pack-refs with: sorted \n")
	for _, name := range names {
		if other, ok := clashes[name]; ok {
			b.lose(fmt.Sprintf("ref %q clashes with %q, as git refuses", name, other))
			delete(b.refs, name)
			continue
		}
		fmt.Fprintf(&packed, "%s %s\n", b.refs[name], name)
	}
	for name, other := range nested(b.stash) {
		b.notes = append(b.notes, fmt.Sprintf("stash ref %q clashes with %q and was skipped", name, other))
		delete(b.stash, name)
	}
	if err := b.writeFile("packed-refs", packed.Bytes()); err != nil {
		return err
	}
	if err := b.writeFile("HEAD", []byte("ref: "+b.head+"\n")); err != nil {
		return err
	}
	for name, obj := range b.stash {
		if err := b.writeFile(name, []byte(obj+"\n")); err != nil {
			return err
		}
	}
	if b.alternates != "" {
		if err := b.writeFile("objects/info/alternates", []byte(b.alternates+"\n")); err != nil {
			return err
		}
	}
	return nil
}

// nested returns, for each name of refs under which other names lie
// (refs/heads/a, with refs/heads/a/b), the first of those: git cannot hold
// both, and names such as refs/heads/a-b sort between the two.
func nested(refs map[string]string) map[string]string {
	under := map[string]string{}
	for name := range refs {
		for i := 0; i < len(name); i++ {
			if name[i] != '/' {
				continue
			}
			if _, ok := refs[name[:i]]; ok {
				if prev, seen := under[name[:i]]; !seen || name < prev {
					under[name[:i]] = name
				}
			}
		}
	}
	return under
}

// verify checks that every ref resolves and that everything reachable from
// the refs is present (with the origin's objects, for a fork): git's own
// connectivity check (what a fetch runs), rev-list walking every object
// the refs reach and failing on the first one missing or of the wrong
// type. It checks what fsck --connectivity-only does here (no reflogs, no
// index, every object's bytes already hashed) at a quarter of its CPU:
// fsck first lists every object of the repository and its alternates. No
// replace refs: an archive's refs/replace must not stand in for a missing
// object.
func (b *repositoryBuild) verify(ctx context.Context) error {
	out, err := gitcmd.Run(ctx, b.dir, "--no-replace-objects", "rev-list", "--objects", "--all", "--quiet")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: git rev-list: %s", errVerify, firstLines(said(out, err), 3))
	}
	return nil
}

// said is what a failed git run printed, stderr first: index-pack and
// rev-list say why on stderr.
func said(out string, err error) string {
	var gerr *gitcmd.Error
	if errors.As(err, &gerr) && gerr.Stderr != "" {
		return strings.TrimSpace(gerr.Stderr + "\n" + out)
	}
	if out == "" {
		return err.Error()
	}
	return out
}

// looseHasher inflates loose objects and hashes them as git names them,
// reusing its buffers from one object to the next: a repository can hold
// many thousands.
type looseHasher struct {
	br   *bufio.Reader
	zr   io.ReadCloser
	sha  hash.Hash
	head [64]byte
}

// maxObjectHeader is the longest "<type> <size>\0": "commit", a space, a
// 64-bit size and the NUL.
const maxObjectHeader = 6 + 1 + 20 + 1

// sum reads a whole loose object from r, a zlib stream of
// "<type> <size>\0<content>" and nothing after it, and returns the SHA-1 of
// what it inflates to, in hex.
func (l *looseHasher) sum(r io.Reader) (string, error) {
	if l.br == nil {
		l.br, l.sha = bufio.NewReaderSize(r, 32<<10), sha1.New()
	} else {
		l.br.Reset(r)
	}
	var err error
	if l.zr == nil {
		l.zr, err = zlib.NewReader(l.br)
	} else {
		err = l.zr.(zlib.Resetter).Reset(l.br, nil)
	}
	if err != nil {
		return "", err
	}
	l.sha.Reset()
	n, err := io.ReadFull(l.zr, l.head[:maxObjectHeader])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", err
	}
	end := bytes.IndexByte(l.head[:n], 0)
	if end < 0 {
		return "", errors.New("no object header")
	}
	typ, size, _ := strings.Cut(string(l.head[:end]), " ")
	want, perr := strconv.ParseInt(size, 10, 64)
	switch {
	case typ != "blob" && typ != "tree" && typ != "commit" && typ != "tag":
		return "", fmt.Errorf("object type %q", typ)
	case perr != nil || want < 0 || strconv.FormatInt(want, 10) != size:
		return "", fmt.Errorf("object size %q", size)
	}
	l.sha.Write(l.head[:n])
	rest, err := io.Copy(l.sha, l.zr)
	if err != nil {
		return "", err
	}
	if got := int64(n-end-1) + rest; got != want {
		return "", fmt.Errorf("%d bytes of content where the header says %d", got, want)
	}
	// The zlib reader stops at its checksum; git refuses anything after it.
	if extra, err := io.Copy(io.Discard, l.br); err != nil || extra > 0 {
		return "", fmt.Errorf("%d bytes after the compressed object", extra)
	}
	return hex.EncodeToString(l.sha.Sum(nil)), nil
}

// stickyReader and stickyWriter keep their first error, so that a caller
// reading through both can tell whose fault a failure was.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

func firstLines(s string, n int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() && len(lines) < n {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines, "; ")
}
