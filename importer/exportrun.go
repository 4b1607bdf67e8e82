package importer

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/sys/unix"

	"bbimport/archive"
	"bbimport/model"
)

// exportRun is the state of one export while it writes its archive.
type exportRun struct {
	in      *Instance
	run     *jobRun
	w       *archive.Writer
	started time.Time
	mtime   time.Time // of every entry, as Bitbucket dates them: the export's
	final   string    // the archive's path once whole
	counts  model.ImportCounts
	errors  int
}

// runExport writes the archive of req, records the job's end, and only
// then lets go of the export slot.
func (in *Instance) runExport(run *jobRun, req model.ExportRequest) {
	stopWatch := make(chan struct{})
	go in.watch(run, stopWatch)
	ex := &exportRun{in: in, run: run, started: time.Now()}
	final := ex.conclude(ex.execute(req))
	close(stopWatch)
	in.mu.Lock()
	delete(in.exports, run.id)
	in.mu.Unlock()
	run.lock.Close()
	run.finished = final
	close(run.done)
}

// stopped reports whether the export was asked to stop: a cancel stops an
// export at once, as Bitbucket's does.
func (ex *exportRun) stopped() error {
	if hook := ex.in.beforeCheckpoint; hook != nil {
		hook(pointExportMember)
	}
	if ex.run.ctx.Err() != nil || ex.run.canceling() {
		return errExportStopped
	}
	return nil
}

func (ex *exportRun) execute(req model.ExportRequest) (err error) {
	ctx := ex.run.ctx
	plan, err := ex.in.planExport(ctx, req.RepositoriesRequest.Includes)
	if err != nil {
		return err
	}
	dir, err := ex.in.exportLocation(req.ExportLocation)
	if err != nil {
		return err
	}
	ex.final = filepath.Join(dir, filepath.Base(exportName("", ex.run.id)))
	partial := partialPath(ex.final)
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", partial, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(partial)
		}
	}()
	ex.run.mu.Lock()
	ex.run.size = int64(plan.repos + plan.prs)
	ex.run.mu.Unlock()
	ex.run.setState(model.StateRunning)
	ex.message(model.SeverityInfo, "", fmt.Sprintf("Exporting %s (%s) to %s",
		model.Plural(len(plan.hierarchies), "fork hierarchy", "fork hierarchies"),
		countsPhrase(model.ImportCounts{Projects: len(plan.projectKeys), Repositories: plan.repos, PullRequests: plan.prs}), ex.final))
	bw := bufio.NewWriterSize(f, 1<<20)
	ex.w = archive.NewWriter(bw)
	ex.mtime = time.Now().Truncate(time.Second)
	ex.w.SetTime(ex.mtime)
	details, err := archive.CompressMember(archive.MemberName(archive.KindInstanceDetails, archive.IDs{}), archive.InstanceDetailsJSON(ex.instanceDetails()))
	if err != nil {
		return err
	}
	if err := ex.w.AddRaw(archive.MemberName(archive.KindInstanceDetails, archive.IDs{}), details); err != nil {
		return err
	}
	next, stopPreparing := ex.prepareAhead(ctx, plan)
	defer stopPreparing()
	for _, h := range plan.hierarchies {
		if err := ex.hierarchy(ctx, h, next); err != nil {
			return err
		}
	}
	if err := ex.w.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", partial, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", partial, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", partial, err)
	}
	if err := ex.stopped(); err != nil {
		return err
	}
	// A link, unlike a rename, never replaces an archive that is there.
	if err := os.Link(partial, ex.final); err != nil {
		return fmt.Errorf("move the archive into place as %s: %w", ex.final, err)
	}
	return os.Remove(partial)
}

// pointExportMember is where tests cancel an export: before a member.
const pointExportMember = "before an export member"

// exportedVersion is the Bitbucket Data Center release whose archive
// format an export writes.
const (
	exportedVersion      = "9.4.18"
	exportedBuildVersion = "9004018"
)

func (ex *exportRun) instanceDetails() model.InstanceDetails {
	return model.InstanceDetails{Product: "Bitbucket Data Center", Version: exportedVersion, BuildVersion: exportedBuildVersion,
		ArchiveVersion: model.NewestArchiveVersion, DataCenter: true, InstanceName: "bbimport", NodeID: ex.in.nodeID}
}

func (ex *exportRun) hierarchy(ctx context.Context, h *planHierarchy, next func() (preparedRepo, bool)) error {
	for _, pid := range h.projects {
		if err := ex.project(ctx, pid); err != nil {
			return err
		}
	}
	marker := archive.IDs{Hierarchy: h.id}
	if err := ex.w.AddRaw(archive.MemberName(archive.KindHierarchyBegin, marker), nil); err != nil {
		return err
	}
	for range h.repos {
		p, ok := next()
		if !ok {
			// The preparing stops only when the export is stopped.
			return errExportStopped
		}
		if p.err != nil {
			return p.err
		}
		if err := ex.repository(ctx, p); err != nil {
			return err
		}
	}
	return ex.w.AddRaw(archive.MemberName(archive.KindHierarchyEnd, marker), nil)
}

// documents reads the kept documents of one owner by kind, as kept
// (gzipped: see keptBody).
func (ex *exportRun) documents(ctx context.Context, owner documentOwner, id int64) (map[string][]byte, error) {
	rows, err := ex.in.db.QueryContext(ctx, `SELECT kind, body FROM archive_documents WHERE `+string(owner)+` = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("read documents: %w", err)
	}
	defer rows.Close()
	docs := map[string][]byte{}
	for rows.Next() {
		var kind string
		var body []byte
		if err := rows.Scan(&kind, &body); err != nil {
			return nil, fmt.Errorf("read documents: %w", err)
		}
		docs[kind] = body
	}
	return docs, rows.Err()
}

// addJSON writes a compact document (keys sorted) as a member.
func (ex *exportRun) addJSON(kind archive.Kind, ids archive.IDs, v any) error {
	if err := ex.stopped(); err != nil {
		return err
	}
	data, err := archive.JSONMember(archive.MemberName(kind, ids), v, false)
	if err != nil {
		return err
	}
	return ex.w.AddRaw(archive.MemberName(kind, ids), data)
}

// addKept writes a kept member back as it was kept, if there is one:
// nothing is made up for what the archive did not carry.
func (ex *exportRun) addKept(kind archive.Kind, ids archive.IDs, docs map[string][]byte) error {
	gz, ok := docs[kind.String()]
	if !ok {
		return nil
	}
	if err := ex.stopped(); err != nil {
		return err
	}
	return ex.w.AddRaw(archive.MemberName(kind, ids), gz)
}

// decodeKept decodes a kept document keeping its numbers as written.
func decodeKept(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// keptObject is a kept document as an object, or an empty one.
func keptObject(docs map[string][]byte, kind archive.Kind) (map[string]any, error) {
	obj := map[string]any{}
	gz, ok := docs[kind.String()]
	if !ok {
		return obj, nil
	}
	raw, err := gunzipDocument(gz)
	if err != nil {
		return nil, fmt.Errorf("read the kept %s: %w", kind, err)
	}
	v, err := decodeKept(raw)
	if err != nil {
		return nil, fmt.Errorf("read the kept %s: %w", kind, err)
	}
	if m, ok := v.(map[string]any); ok {
		obj = m
	}
	return obj, nil
}

// project writes a project's metadata and permissions: the kept document
// with this instance's id, key, name, description, visibility and type.
func (ex *exportRun) project(ctx context.Context, pid int64) error {
	var key, name, description, typ string
	var public bool
	if err := ex.in.db.QueryRowContext(ctx, `SELECT key, name, description, public, type FROM projects WHERE id = ?`, pid).
		Scan(&key, &name, &description, &public, &typ); err != nil {
		return fmt.Errorf("read project %d: %w", pid, err)
	}
	docs, err := ex.documents(ctx, ownedByProject, pid)
	if err != nil {
		return err
	}
	p, err := keptObject(docs, archive.KindProject)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(pid, 10)
	p["id"], p["key"], p["name"], p["public"] = id, key, name, public
	p["type"] = model.ProjectTypeNormal
	if typ == "PERSONAL" {
		p["type"] = model.ProjectTypePersonal
	}
	// Archives of version 1 leave an empty description out.
	if _, had := p["description"]; had || description != "" {
		p["description"] = description
	}
	ids := archive.IDs{Project: id}
	ex.run.setProgress("Exporting project "+key, ex.done())
	if err := ex.addJSON(archive.KindProject, ids, p); err != nil {
		return err
	}
	if err := ex.addKept(archive.KindProjectAllPermissions, ids, docs); err != nil {
		return err
	}
	if err := ex.addKept(archive.KindProjectPermissions, ids, docs); err != nil {
		return err
	}
	ex.counts.Projects++
	return nil
}

// preparedRepo is what an export writes of a repository but its pull
// requests, made ahead of the writing (see prepareAhead).
type preparedRepo struct {
	ids     archive.IDs
	subject string
	// before the objects: metadata, permissions, git metadata, hooks;
	// after them: the git-lfs settings; each member's name and bytes.
	before, after []preparedMember
	objects       *archive.StartedTar
	prs           <-chan prBatch // its pull requests' members, batch by batch
	noMetadata    bool
	err           error
}

type preparedMember struct {
	name string
	data []byte
}

// preparingAhead is how many repositories' members are made ready while
// one is written: reading their rows and rebuilding their metadata tars
// overlap the writing, with memory bounded.
const preparingAhead = 2

// listers is how many goroutines list repositories' objects and start
// reading them ahead, taking the repositories in turn: listing is the
// longest part of the preparing (a directory read and a stat per loose
// object), and each lister holds one started repository at most.
const listers = 2

// prepareAhead prepares the repositories of plan in archive order ahead
// of the writer: one goroutine makes the members before and after the
// objects, one the pull requests' members, and the listers list the
// objects and start reading them (see archive.StartTar). next hands over
// the next repository; it says false only when ctx has ended. stop ends
// the preparing, waits for it and stops what was started and not handed
// over.
func (ex *exportRun) prepareAhead(ctx context.Context, plan *exportPlan) (next func() (preparedRepo, bool), stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	type listing struct {
		tar *archive.StartedTar
		err error
	}
	members := make(chan preparedRepo, preparingAhead)
	prs := make(chan prBatch, preparingAhead)
	lists := make([]chan listing, listers)
	var wg sync.WaitGroup
	each := func(do func(i int, h *planHierarchy, r *planRepo) bool) {
		wg.Go(func() {
			i := 0
			for _, h := range plan.hierarchies {
				for _, r := range h.repos {
					if !do(i, h, r) {
						return
					}
					i++
				}
			}
		})
	}
	each(func(_ int, h *planHierarchy, r *planRepo) bool {
		p := ex.prepareRepository(ctx, h, r)
		select {
		case members <- p:
			return p.err == nil
		case <-ctx.Done():
			return false
		}
	})
	each(func(_ int, _ *planHierarchy, r *planRepo) bool {
		return ex.preparePullRequests(ctx, r, func(b prBatch) bool {
			select {
			case prs <- b:
				return b.err == nil
			case <-ctx.Done():
				return false
			}
		})
	})
	for k := range lists {
		lists[k] = make(chan listing)
		each(func(i int, _ *planHierarchy, r *planRepo) bool {
			if i%listers != k {
				return true
			}
			var l listing
			files, err := ex.objectFiles(r.id)
			if err == nil {
				l.tar, err = archive.StartTar(files, ex.mtime)
			}
			if err != nil {
				l.err = fmt.Errorf("list the objects of %s/%s: %w", r.projectKey, r.slug, err)
			}
			select {
			case lists[k] <- l:
				return l.err == nil
			case <-ctx.Done():
				if l.tar != nil {
					l.tar.Stop()
				}
				return false
			}
		})
	}
	handed := 0
	next = func() (preparedRepo, bool) {
		var p preparedRepo
		select {
		case p = <-members:
		case <-ctx.Done():
			return p, false
		}
		if p.err != nil {
			return p, true
		}
		p.prs = prs
		select {
		case l := <-lists[handed%listers]:
			handed++
			p.objects, p.err = l.tar, l.err
			return p, true
		case <-ctx.Done():
			return p, false
		}
	}
	return next, func() {
		cancel()
		wg.Wait()
	}
}

// prepareRepository makes a repository's members but its objects and pull
// requests.
func (ex *exportRun) prepareRepository(ctx context.Context, h *planHierarchy, r *planRepo) (p preparedRepo) {
	p.subject = r.projectKey + "/" + r.slug
	var scm string
	var forkable, public bool
	if err := ex.in.db.QueryRowContext(ctx, `SELECT scm_id, forkable, public FROM repositories WHERE id = ?`, r.id).
		Scan(&scm, &forkable, &public); err != nil {
		p.err = fmt.Errorf("read repository %s: %w", p.subject, err)
		return p
	}
	docs, err := ex.documents(ctx, ownedByRepository, r.id)
	if err != nil {
		p.err = err
		return p
	}
	meta, err := keptObject(docs, archive.KindRepository)
	if err != nil {
		p.err = err
		return p
	}
	id := strconv.FormatInt(r.id, 10)
	pid := strconv.FormatInt(r.projectID, 10)
	meta["forkable"], meta["hierarchyId"], meta["id"], meta["name"] = forkable, h.id, id, r.name
	meta["projectId"], meta["public"], meta["scmId"], meta["slug"] = pid, public, scm, r.slug
	delete(meta, "originId")
	if r.originID != 0 {
		meta["originId"] = strconv.FormatInt(r.originID, 10)
	}
	p.ids = archive.IDs{Project: pid, Repository: id}
	name := archive.MemberName(archive.KindRepository, p.ids)
	data, err := archive.JSONMember(name, meta, false)
	if err != nil {
		p.err = err
		return p
	}
	p.before = append(p.before, preparedMember{name, data})
	p.before = appendKept(p.before, archive.KindRepositoryPermissions, p.ids, docs)
	for _, kind := range []archive.Kind{archive.KindGitMetadata, archive.KindGitHooks} {
		if p.before, err = ex.appendInnerTar(p.before, kind, p.ids, docs); err != nil {
			p.err = err
			return p
		}
	}
	p.noMetadata = docs[archive.KindGitMetadata.String()] == nil
	p.after = appendKept(p.after, archive.KindLFSSettings, p.ids, docs)
	return p
}

// appendKept appends a kept member as it was kept, if there is one:
// nothing is made up for what the archive did not carry.
func appendKept(members []preparedMember, kind archive.Kind, ids archive.IDs, docs map[string][]byte) []preparedMember {
	if gz, ok := docs[kind.String()]; ok {
		members = append(members, preparedMember{archive.MemberName(kind, ids), gz})
	}
	return members
}

// repository writes one prepared repository: metadata, permissions, git
// data, LFS settings and its pull requests in ascending id.
func (ex *exportRun) repository(ctx context.Context, p preparedRepo) error {
	defer p.objects.Stop()
	ex.run.setProgress("Exporting "+p.subject, ex.done())
	for _, m := range p.before {
		if err := ex.stopped(); err != nil {
			return err
		}
		if err := ex.w.AddRaw(m.name, m.data); err != nil {
			return err
		}
	}
	if p.noMetadata {
		ex.message(model.SeverityWarn, p.subject, fmt.Sprintf("Repository %s was imported by a bbimport that did not keep its git metadata: its archive has no metadata member, and an import of it fails", p.subject))
	}
	if err := ex.stopped(); err != nil {
		return err
	}
	if err := ex.w.AddStartedTar(archive.KindGitObjects, p.ids, p.objects); err != nil {
		return err
	}
	for _, m := range p.after {
		if err := ex.stopped(); err != nil {
			return err
		}
		if err := ex.w.AddRaw(m.name, m.data); err != nil {
			return err
		}
	}
	if err := ex.pullRequests(ctx, p.prs, p.subject); err != nil {
		return err
	}
	ex.counts.Repositories++
	ex.publishCounts()
	return nil
}

// appendInnerTar appends a kept inner tar, its files as they were read,
// dated as the export, if there is one.
func (ex *exportRun) appendInnerTar(members []preparedMember, kind archive.Kind, ids archive.IDs, docs map[string][]byte) ([]preparedMember, error) {
	gz, ok := docs[kind.String()]
	if !ok {
		return members, nil
	}
	raw, err := gunzipDocument(gz)
	if err != nil {
		return nil, fmt.Errorf("read the kept %s: %w", kind, err)
	}
	files := []archive.TarFile{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the kept %s: %w", kind, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read the kept %s: %w", kind, err)
		}
		files = append(files, archive.TarFile{Name: hdr.Name, Mode: hdr.Mode, Data: data})
	}
	name := archive.MemberName(kind, ids)
	data, err := archive.TarMember(name, files, ex.mtime)
	if err != nil {
		return nil, err
	}
	return append(members, preparedMember{name, data}), nil
}

var looseObjectDir = regexp.MustCompile(`^[0-9a-f]{2}$`)

// objectFiles lists a repository's own object store as the archive's
// objects tar holds it: loose objects and packs with their indexes (a
// fork's objects are what its origin lacks, as imported), each with its
// size, in name order.
func (ex *exportRun) objectFiles(id int64) ([]archive.TarFile, error) {
	root := filepath.Join(ex.in.repositoryDir(id), "objects")
	rootfd, err := openDir(unix.AT_FDCWD, root, root)
	if err != nil {
		return nil, err
	}
	defer unix.Close(rootfd)
	entries, err := listDirFD(rootfd, root, false)
	if err != nil {
		return nil, err
	}
	files := []archive.TarFile{}
	add := func(dir string, regular func(name string) bool) error {
		path := filepath.Join(root, dir)
		fd, err := openDir(rootfd, dir, path)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		list, err := listDirFD(fd, path, true)
		if err != nil {
			return err
		}
		for _, e := range list {
			if e.typ == dirTypeFile && regular(e.name) {
				// Read-only, as Bitbucket writes them.
				files = append(files, archive.TarFile{Name: dir + "/" + e.name, Mode: 0o400, Path: filepath.Join(path, e.name), Size: e.size})
			}
		}
		return nil
	}
	for _, e := range entries {
		var err error
		switch {
		case e.typ == dirTypeDir && looseObjectDir.MatchString(e.name):
			err = add(e.name, func(string) bool { return true })
		case e.typ == dirTypeDir && e.name == "pack":
			err = add(e.name, func(name string) bool { ext := filepath.Ext(name); return ext == ".pack" || ext == ".idx" })
		}
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// dirEntry is one name in a directory, its type as a dirent's
// (dirTypeFile, dirTypeDir, or another) and, for a regular file listed
// with sizes, its size.
type dirEntry struct {
	name string
	typ  uint8
	size int64
}

// direntBuffers hold what getdents returns.
const (
	dirTypeFile = unix.DT_REG
	dirTypeDir  = unix.DT_DIR
)

var direntBuffers = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// listDir lists dir in name order, without following links, with the
// sizes of its regular files when sizes is set.
func listDir(dir string, sizes bool) ([]dirEntry, error) {
	fd, err := openDir(unix.AT_FDCWD, dir, dir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return listDirFD(fd, dir, sizes)
}

// openDir opens the directory name relative to the directory at; path
// names it in errors.
func openDir(at int, name, path string) (int, error) {
	fd, err := archive.RetryOpen(func() (int, error) {
		return unix.Openat(at, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// listDirFD lists the open directory fd (at path) as listDir does. It
// uses the system calls directly, its files stat'ed relative to it: a
// home of many repositories holds hundreds of thousands of loose objects,
// and os.ReadDir with a stat for each costs several more calls per file.
func listDirFD(fd int, dir string, sizes bool) ([]dirEntry, error) {
	buf := direntBuffers.Get().(*[]byte)
	defer direntBuffers.Put(buf)
	var list []dirEntry
	for {
		n, err := unix.Getdents(fd, *buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			break
		}
		list = appendDirents(list, (*buf)[:n])
	}
	slices.SortFunc(list, func(a, b dirEntry) int { return strings.Compare(a.name, b.name) })
	for i := range list {
		e := &list[i]
		if e.typ != unix.DT_UNKNOWN && (!sizes || e.typ != dirTypeFile) {
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(fd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return nil, &os.PathError{Op: "stat", Path: filepath.Join(dir, e.name), Err: err}
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			e.typ, e.size = dirTypeFile, st.Size
		case unix.S_IFDIR:
			e.typ = dirTypeDir
		}
	}
	return list, nil
}

// appendDirents appends the entries of a getdents buffer (linux_dirent64
// records: inode, offset, record length, type, NUL-ended name) but "."
// and "..".
func appendDirents(list []dirEntry, buf []byte) []dirEntry {
	const nameOffset = 19 // 8 inode + 8 offset + 2 length + 1 type
	for len(buf) >= nameOffset {
		reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
		if reclen < nameOffset || reclen > len(buf) {
			break
		}
		name := buf[nameOffset:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if s := string(name); s != "." && s != ".." {
			list = append(list, dirEntry{name: s, typ: buf[18]})
		}
		buf = buf[reclen:]
	}
	return list
}

// prBatch is a run of one repository's pull requests made ready ahead of
// the writing: their members in order and how many pull requests they
// are; the repository's last batch says so and how many pull requests
// could not be exported.
type prBatch struct {
	members []preparedMember
	prs     int
	last    bool
	missing int
	err     error
}

// prBatchSize is how many pull requests a batch holds at most, so that a
// repository of very many waits in bounded memory.
const prBatchSize = 256

// preparePullRequests makes the members of a repository's pull requests
// from their kept documents, in ascending id, with the ancestor cache the
// import kept, and hands them over in batches. It says false when send
// does (the export ended) or after an error it sent.
func (ex *exportRun) preparePullRequests(ctx context.Context, r *planRepo, send func(prBatch) bool) bool {
	subject := r.projectKey + "/" + r.slug
	fail := func(err error) bool {
		send(prBatch{err: fmt.Errorf("read the pull requests of %s: %w", subject, err)})
		return false
	}
	rows, err := ex.in.db.QueryContext(ctx, `SELECT p.scoped_id, p.ancestor_from, p.ancestor_to, p.merge_base, d.kind, d.body
		FROM pull_requests p LEFT JOIN archive_documents d ON d.pull_request_id = p.id
		WHERE p.repository_id = ? ORDER BY p.scoped_id`, r.id)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	repo := archive.IDs{Project: strconv.FormatInt(r.projectID, 10), Repository: strconv.FormatInt(r.id, 10)}
	type pending struct {
		scoped int64
		cache  *model.AncestorCache
		docs   map[string][]byte
	}
	var cur *pending
	var batch prBatch
	add := func() error {
		if cur == nil {
			return nil
		}
		p := cur
		cur = nil
		ids := repo
		ids.PullRequest = p.scoped
		if p.docs[archive.KindPullRequestMetadata.String()] == nil {
			batch.missing++
			return nil
		}
		for _, kind := range []archive.Kind{archive.KindPullRequestMetadata, archive.KindPullRequestActivities} {
			batch.members = appendKept(batch.members, kind, ids, p.docs)
		}
		if p.cache != nil {
			name := archive.MemberName(archive.KindPullRequestCaches, ids)
			data, err := archive.TarMember(name, []archive.TarFile{{Name: "cached-ancestor.txt", Mode: 0o644, Data: []byte(p.cache.String())}}, ex.mtime)
			if err != nil {
				return err
			}
			batch.members = append(batch.members, preparedMember{name, data})
		}
		batch.prs++
		return nil
	}
	for rows.Next() {
		var scoped int64
		var from, to, base, kind sql.NullString
		var body []byte
		if err := rows.Scan(&scoped, &from, &to, &base, &kind, &body); err != nil {
			return fail(err)
		}
		if cur == nil || cur.scoped != scoped {
			if err := add(); err != nil {
				return fail(err)
			}
			if batch.prs == prBatchSize {
				if !send(batch) {
					return false
				}
				batch = prBatch{missing: batch.missing}
			}
			cur = &pending{scoped: scoped, docs: map[string][]byte{}}
			if from.Valid {
				cur.cache = &model.AncestorCache{FromTip: from.String, ToTip: to.String, MergeBase: base.String}
			}
		}
		if kind.Valid {
			cur.docs[kind.String] = body
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if err := add(); err != nil {
		return fail(err)
	}
	batch.last = true
	return send(batch)
}

// pullRequests writes a repository's pull requests as they were prepared.
func (ex *exportRun) pullRequests(ctx context.Context, batches <-chan prBatch, subject string) error {
	for {
		var b prBatch
		select {
		case b = <-batches:
		case <-ctx.Done():
			return errExportStopped
		}
		if b.err != nil {
			return b.err
		}
		for _, m := range b.members {
			if err := ex.stopped(); err != nil {
				return err
			}
			if err := ex.w.AddRaw(m.name, m.data); err != nil {
				return err
			}
		}
		ex.counts.PullRequests += b.prs
		ex.run.setProgress("", ex.done())
		if !b.last {
			continue
		}
		if b.missing > 0 {
			ex.message(model.SeverityWarn, subject, fmt.Sprintf("%d pull request(s) of %s were imported by a bbimport that did not keep their documents and were not exported", b.missing, subject))
		}
		return nil
	}
}

// done is how far the export is, in the units of its run's size:
// repositories and pull requests written.
func (ex *exportRun) done() int64 {
	return int64(ex.counts.Repositories + ex.counts.PullRequests)
}

func (ex *exportRun) publishCounts() {
	c := ex.counts
	ex.run.mu.Lock()
	ex.run.job.Counts = &c
	ex.run.mu.Unlock()
}

// message logs into the job at once: an export holds no transaction. It
// writes without a context: a cancelled export's messages say why.
func (ex *exportRun) message(sev model.Severity, subject, text string) {
	if sev == model.SeverityError {
		ex.errors++
	}
	_, _ = ex.in.db.ExecContext(context.Background(), insertMessageSQL, ex.run.id, ex.run.id, string(sev), subject, text, nowMillis())
}

// conclude records the export's end: COMPLETED with the archive whole,
// CANCELED or ABORTED with no archive left behind.
func (ex *exportRun) conclude(err error) model.Job {
	summary := countsPhrase(ex.counts)
	var state model.State
	switch {
	case errors.Is(err, errExportStopped) || ex.run.ctx.Err() != nil:
		state = model.StateCanceled
		ex.message(model.SeverityWarn, "", "Export canceled: it stopped at once and left no archive")
	case err != nil:
		state = model.StateAborted
		ex.message(model.SeverityError, "", fmt.Sprintf("Export aborted: %v. No archive was written", err))
	default:
		state = model.StateCompleted
		if ex.errors > 0 {
			state = model.StateFailed
		}
		size := ""
		if fi, serr := os.Stat(ex.final); serr == nil {
			size = " (" + humanize.IBytes(uint64(fi.Size())) + ")"
		}
		ex.message(model.SeverityInfo, "", fmt.Sprintf("Export finished in %s: %s written to %s%s",
			time.Since(ex.started).Round(time.Millisecond), summary, ex.final, size))
	}
	ex.publishCounts()
	j := ex.run.end(state, "Export")
	// No context: a cancelled export's end is recorded all the same.
	_, derr := ex.in.db.ExecContext(context.Background(), `UPDATE jobs SET state = ?, progress_message = ?, percentage = ?, updated_date = ?, end_date = ?,
		imported_projects = ?, imported_repositories = ?, imported_pull_requests = ? WHERE id = ?`,
		j.State, j.Progress.Message, j.Progress.Percentage, j.UpdatedDate, j.EndDate,
		ex.counts.Projects, ex.counts.Repositories, ex.counts.PullRequests, j.ID)
	if derr != nil {
		fmt.Fprintf(os.Stderr, "bbimport: record the end of export %d: %v\n", j.ID, derr)
	}
	return j
}

// RunExport runs export job id in this process to its end: the body of
// the runner command when started with --export. It needs the export
// slot lock StartExport hands its runner. ctx ending stops the export.
func RunExport(ctx context.Context, opts Options, id int64) error {
	unix.CloseOnExec(runnerArchiveFD)
	lock := os.NewFile(runnerArchiveFD, "export.lock")
	opts.Runner = nil
	stopProfile, err := startCPUProfile(os.Getenv(cpuProfileEnv))
	if err != nil {
		return fmt.Errorf("export %d: %w", id, err)
	}
	defer stopProfile()
	in, err := Open(opts)
	if err != nil {
		return err
	}
	defer in.Close()
	var slot int
	var reqJSON string
	if err := in.db.QueryRowContext(ctx, `SELECT COALESCE(export_slot, 0), COALESCE(export_request, '') FROM jobs WHERE id = ? AND type = ?`,
		id, model.JobTypeExport).Scan(&slot, &reqJSON); err != nil {
		return fmt.Errorf("export %d: %w", id, err)
	}
	if err := in.checkSlot(lock, slot); err != nil {
		return fmt.Errorf("export %d: %w; the runner runs only as started by bbimport export, serve or the console", id, err)
	}
	var req model.ExportRequest
	if err := json.Unmarshal([]byte(reqJSON), &req); err != nil {
		return fmt.Errorf("export %d: read its request: %w", id, err)
	}
	res, err := in.db.ExecContext(ctx, `UPDATE jobs SET runner_pid = ?, heartbeat = ? WHERE id = ? AND runner_pid IS NULL AND end_date IS NULL`,
		os.Getpid(), nowMillis(), id)
	if err != nil {
		return fmt.Errorf("export %d: record the runner: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("export %d is not waiting for a runner", id)
	}
	rows, err := in.queryJobs(ctx, ` WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("export %d: read it back: %w", id, err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("export %d: read it back: it is gone", id)
	}
	run := newRun(rows[0].Job, nil, 0, lock)
	in.mu.Lock()
	if in.exports == nil {
		in.exports = map[int64]*jobRun{}
	}
	in.exports[id] = run
	in.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			run.stopNow()
		case <-run.done:
		}
	}()
	in.runExport(run, req)
	logUsage("export", id)
	return nil
}

// checkSlot makes sure the runner holds the job's export slot lock.
func (in *Instance) checkSlot(lock *os.File, slot int) error {
	fi, err := lock.Stat()
	if err != nil {
		return fmt.Errorf("no export lock inherited: %w", err)
	}
	want, err := os.Stat(in.exportSlotPath(slot))
	if err != nil || !os.SameFile(fi, want) {
		return fmt.Errorf("the inherited descriptor %d is not %s", runnerArchiveFD, in.exportSlotPath(slot))
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("the export lock is not ours: %w", err)
	}
	return nil
}
