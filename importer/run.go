package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dustin/go-humanize"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"bbimport/importer/archive"
	"bbimport/model"
)

// The checkpoints at which a cancel takes effect, named as messages name them.
const (
	checkpointHierarchy   = "after the current fork hierarchy was imported and verified"
	checkpointRepository  = "before the next repository"
	checkpointPullRequest = "before the next pull request"
	// pointGitData is no checkpoint: a cancel arriving here waits for the
	// end of the fork hierarchy. Tests use it to cancel inside git data.
	pointGitData = "in git data"
)

// canceledAt stops the reader at a checkpoint.
type canceledAt struct {
	checkpoint string
	notDone    string // the first thing not imported
}

func (c *canceledAt) Error() string { return "canceled " + c.checkpoint }

// errStoppedNow stops the reader when the job is stopped at once.
var errStoppedNow = errors.New("stopped at once")

// importRun is the state of one import while it reads the archive.
type importRun struct {
	in      *Instance
	run     *jobRun
	w       *writer
	started time.Time
	dbErr   error // first failed write of a message; fatal

	projects map[string]*importedProject // by archive id
	repos    map[string]*importedRepo    // by archive id
	users    map[string]sql.NullInt64    // by user id string

	hierarchy *hierarchyProgress
	build     *repositoryBuild
	buildRepo *importedRepo
	pr        *importedPullRequest
	lastRepo  *importedRepo // whose pull requests are being read

	// finishHierarchy is set when a cancel came in during git data: the
	// rest of the hierarchy's git data is imported and verified, its pull
	// requests are not, and the import stops at the hierarchy's end.
	finishHierarchy bool

	projectsDone, reposDone, prsDone int
	errorCount                       int
}

type importedProject struct {
	id  int64
	key string
}

type importedRepo struct {
	id         int64
	archiveID  string
	subject    string // PRJ/slug, with the names it got here
	failed     bool   // not imported: its pull requests and forks are not either
	skippedPRs int
	skipReason string
}

type importedPullRequest struct {
	id      int64
	scoped  int64
	subject string
}

type hierarchyProgress struct {
	id      string
	origin  string
	repos   int
	prs     int
	started time.Time
}

// runJob runs a job to its end and leaves the instance idle.
func (in *Instance) runJob(run *jobRun) {
	im := &importRun{in: in, run: run, started: time.Now(),
		projects: map[string]*importedProject{}, repos: map[string]*importedRepo{}, users: map[string]sql.NullInt64{}}
	final := im.conclude(im.execute())
	in.mu.Lock()
	in.running = nil
	in.mu.Unlock()
	run.finished = final
	close(run.done)
}

func (im *importRun) execute() error {
	w, err := newWriter(im.in.db)
	if err != nil {
		return err
	}
	im.w = w
	im.info("", "Importing %s (%s)", filepath.Base(im.run.archive), humanize.IBytes(uint64(im.run.size)))
	return archive.ReadFile(im.run.archive, im.in.limits, im.handle)
}

// handle receives each member of the archive in order.
func (im *importRun) handle(m *archive.Member) error {
	if im.run.ctx.Err() != nil {
		return errStoppedNow
	}
	im.run.setProgress("", m.Offset)
	if err := im.member(m); err != nil {
		return err
	}
	for _, note := range m.Notes {
		im.warn(im.subjectOf(m), "%s", note)
	}
	if im.dbErr != nil {
		return im.dbErr
	}
	if im.w.due() {
		return im.commit()
	}
	return nil
}

func (im *importRun) member(m *archive.Member) error {
	// A member that is not git data of the repository being built ends it.
	if im.build != nil && !im.isGitMember(m) {
		if err := im.finishRepository(); err != nil {
			return err
		}
	}
	if m.Malformed != nil && m.Kind != archive.KindPullRequestMetadata {
		im.malformed(m)
		return nil
	}
	switch m.Kind {
	case archive.KindInstanceDetails:
		return im.instanceDetails(m.Instance)
	case archive.KindProject:
		// A fork in a personal project brings that project in mid-hierarchy.
		if !im.finishHierarchy {
			if err := im.checkpoint(checkpointRepository, "project "+m.Project.Key); err != nil {
				return err
			}
		}
		return im.project(m.Project)
	case archive.KindProjectPermissions:
		if p := im.projects[m.IDs.Project]; p != nil {
			return im.permissions(m.Permissions, "project_id", p.id, p.key)
		}
	case archive.KindHierarchyBegin:
		if im.finishHierarchy {
			return &canceledAt{checkpoint: checkpointHierarchy, notDone: "fork hierarchy " + m.IDs.Hierarchy}
		}
		if err := im.checkpoint(checkpointRepository, "fork hierarchy "+m.IDs.Hierarchy); err != nil {
			return err
		}
		im.hierarchy = &hierarchyProgress{id: m.IDs.Hierarchy, started: time.Now()}
	case archive.KindRepository:
		im.closePullRequests()
		if !im.finishHierarchy {
			if err := im.checkpoint(checkpointRepository, "repository "+m.Repository.Slug); err != nil {
				return err
			}
		}
		return im.repository(m.Repository)
	case archive.KindRepositoryPermissions:
		if r := im.repos[m.IDs.Repository]; r != nil && !r.failed {
			return im.permissions(m.Permissions, "repository_id", r.id, r.subject)
		}
	case archive.KindGitMetadata, archive.KindGitHooks, archive.KindGitObjects:
		return im.gitData(m)
	case archive.KindLFSSettings:
		if r := im.repos[m.IDs.Repository]; r != nil && !r.failed && m.LFS != nil {
			_, err := im.w.exec(`UPDATE repositories SET lfs_enabled = ? WHERE id = ?`, m.LFS.Enabled, r.id)
			return err
		}
	case archive.KindPullRequestMetadata:
		return im.pullRequest(m)
	case archive.KindPullRequestActivities:
		if im.pr != nil && im.pr.scoped == m.IDs.PullRequest {
			return im.activities(m.Activities)
		}
	case archive.KindPullRequestCaches:
		if im.pr != nil && im.pr.scoped == m.IDs.PullRequest && m.Ancestor != nil {
			_, err := im.w.exec(`UPDATE pull_requests SET ancestor_from = ?, ancestor_to = ?, merge_base = ? WHERE id = ?`,
				m.Ancestor.FromTip, m.Ancestor.ToTip, m.Ancestor.MergeBase, im.pr.id)
			return err
		}
	case archive.KindHierarchyEnd:
		return im.hierarchyEnd()
	}
	return nil
}

func (im *importRun) isGitMember(m *archive.Member) bool {
	switch m.Kind {
	case archive.KindRepositoryPermissions, archive.KindGitMetadata, archive.KindGitHooks, archive.KindGitObjects:
		return m.IDs.Repository == im.buildRepo.archiveID
	}
	return false
}

// checkpoint stops the import here if a cancel was requested.
func (im *importRun) checkpoint(name, next string) error {
	if hook := im.in.beforeCheckpoint; hook != nil {
		hook(name)
	}
	if im.run.canceling() {
		return &canceledAt{checkpoint: name, notDone: next}
	}
	return nil
}

// malformed reports a member the reader could not decode: what it held is
// lost (ERROR), except for data that is only a cache or not used.
func (im *importRun) malformed(m *archive.Member) {
	switch m.Kind {
	case archive.KindPullRequestCaches, archive.KindProjectAllPermissions, archive.KindUnknown:
		im.warn(im.subjectOf(m), "The %s member cannot be read and was ignored: %v", m.Kind, m.Malformed)
	default:
		im.error(im.subjectOf(m), "The %s member cannot be read, so what it holds was not imported: %v", m.Kind, m.Malformed)
	}
}

func (im *importRun) instanceDetails(d *model.InstanceDetails) error {
	if d == nil {
		return errors.New("the archive's instance details cannot be read")
	}
	if d.ArchiveVersion != model.SupportedArchiveVersion {
		return fmt.Errorf("%w: the archive has archiveVersion %d and bbimport reads only %d; export it again from a Bitbucket that writes version %d",
			archive.ErrUnsupportedVersion, d.ArchiveVersion, model.SupportedArchiveVersion, model.SupportedArchiveVersion)
	}
	im.run.setState(model.StateRunning)
	im.info("", "The archive was written by %s %s (archiveVersion %d, instance %q)", d.Product, d.Version, d.ArchiveVersion, d.InstanceName)
	return nil
}

// project creates the archive's project, renamed if its key or name is
// taken; a personal project that exists already receives the repositories.
func (im *importRun) project(p *model.Project) error {
	im.run.setProgress("Importing project "+p.Key, 0)
	if p.Personal() {
		var id int64
		row, err := im.w.queryRow(`SELECT id FROM projects WHERE key = ?`, p.Key)
		if err != nil {
			return err
		}
		switch err := row.Scan(&id); {
		case err == nil:
			im.projects[p.ID] = &importedProject{id: id, key: p.Key}
			im.info(p.Key, "Personal project %s exists already; its repositories from the archive are added to it", p.Key)
			return im.mapID("project", p.ID, id)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look up project %s: %w", p.Key, err)
		}
		return im.createProject(p, p.Key, p.Name, "PERSONAL")
	}
	base := projectKey(p.Key)
	key, err := firstFree(func(n int) string {
		if n == 0 {
			return base
		}
		return numberedKey(base, n)
	}, im.taken(`SELECT 1 FROM projects WHERE key = ?`))
	if err != nil {
		return err
	}
	name, err := firstFree(func(n int) string {
		if n == 0 {
			return p.Name
		}
		return numberedName(p.Name, n)
	}, im.taken(`SELECT 1 FROM projects WHERE type = 'NORMAL' AND name = ? COLLATE NOCASE`))
	if err != nil {
		return err
	}
	switch {
	case base != p.Key && key == base:
		im.warn(key, "Project key %s is not a valid Bitbucket key; the project was imported as %s", p.Key, key)
	case key != base:
		im.warn(key, "A project with key %s exists already; the project was imported with key %s", p.Key, key)
	}
	if name != p.Name {
		im.warn(key, "A project named %q exists already; the project %s was imported as %q", p.Name, key, name)
	}
	return im.createProject(p, key, name, "NORMAL")
}

func (im *importRun) createProject(p *model.Project, key, name, typ string) error {
	id, err := im.w.insert(`INSERT INTO projects(key, name, description, public, type, job_id) VALUES (?, ?, ?, ?, ?, ?)`,
		key, name, p.Description, p.Public, typ, im.run.id)
	if err != nil {
		return fmt.Errorf("create project %s: %w", key, err)
	}
	im.projects[p.ID] = &importedProject{id: id, key: key}
	im.projectsDone++
	return im.mapID("project", p.ID, id)
}

// taken returns a check of whether a value is used, read in the write
// transaction.
func (im *importRun) taken(query string, args ...any) func(string) (bool, error) {
	return func(v string) (bool, error) {
		row, err := im.w.queryRow(query, append([]any{v}, args...)...)
		if err != nil {
			return false, err
		}
		var one int
		switch err := row.Scan(&one); {
		case err == nil:
			return true, nil
		case errors.Is(err, sql.ErrNoRows):
			return false, nil
		default:
			return false, fmt.Errorf("look up %q: %w", v, err)
		}
	}
}

func (im *importRun) mapID(kind, archiveID string, id int64) error {
	_, err := im.w.exec(`INSERT OR REPLACE INTO id_map(job_id, kind, archive_id, new_id) VALUES (?, ?, ?, ?)`,
		im.run.id, kind, archiveID, id)
	return err
}

func (im *importRun) permissions(perms []model.Permission, column string, id int64, subject string) error {
	for _, p := range perms {
		for _, g := range p.Groups {
			if _, err := im.w.exec(`INSERT INTO permissions(`+column+`, permission, group_name) VALUES (?, ?, ?)`, id, p.Permission, g); err != nil {
				return err
			}
		}
		for _, u := range p.UserIDs {
			uid, err := im.user(u, subject)
			if err != nil {
				return err
			}
			if !uid.Valid {
				continue
			}
			if _, err := im.w.exec(`INSERT INTO permissions(`+column+`, permission, user_id) VALUES (?, ?, ?)`, id, p.Permission, uid); err != nil {
				return err
			}
		}
	}
	return nil
}

// user returns the id of the user an archive user id string names,
// creating an inactive stub without e-mail unless the slug exists.
func (im *importRun) user(idString, subject string) (sql.NullInt64, error) {
	if id, ok := im.users[idString]; ok {
		return id, nil
	}
	u, err := model.ParseUserID(idString)
	if err != nil {
		im.warn(subject, "User %q is not of the form slug|displayName||TYPE and was left out", idString)
		im.users[idString] = sql.NullInt64{}
		return sql.NullInt64{}, nil
	}
	var id int64
	row, err := im.w.queryRow(`SELECT id FROM users WHERE slug = ?`, u.Slug)
	if err != nil {
		return sql.NullInt64{}, err
	}
	switch err := row.Scan(&id); {
	case errors.Is(err, sql.ErrNoRows):
		typ := u.Type
		if typ != model.UserTypeService {
			typ = model.UserTypeNormal
		}
		if id, err = im.w.insert(`INSERT INTO users(slug, name, display_name, email, active, type) VALUES (?, ?, ?, NULL, 0, ?)`,
			u.Slug, u.Slug, u.DisplayName, typ); err != nil {
			return sql.NullInt64{}, fmt.Errorf("create user %s: %w", u.Slug, err)
		}
	case err != nil:
		return sql.NullInt64{}, fmt.Errorf("look up user %s: %w", u.Slug, err)
	}
	v := sql.NullInt64{Int64: id, Valid: true}
	im.users[idString] = v
	return v, nil
}

// repository records a repository as INITIALISING and starts building it
// aside. A repository whose project or origin did not make it is not
// imported, and says why.
func (im *importRun) repository(r *model.Repository) error {
	repo := &importedRepo{archiveID: r.ID, subject: "?/" + r.Slug}
	im.repos[r.ID] = repo
	proj := im.projects[r.ProjectID]
	if proj == nil {
		repo.failed, repo.skipReason = true, "its project was not imported"
		im.error(repo.subject, "Repository %s was not imported: the archive has no project with id %s for it", r.Slug, r.ProjectID)
		return nil
	}
	slug := repositorySlug(r.Slug)
	repo.subject = proj.key + "/" + slug
	var origin *importedRepo
	if r.IsFork() {
		// origin == repo: a repository that names itself as its origin.
		if origin = im.repos[r.OriginID]; origin == nil || origin.failed || origin == repo {
			repo.failed, repo.skipReason = true, "its origin was not imported"
			im.error(repo.subject, "Fork %s was not imported: its origin (archive id %s) was not imported, and a fork shares its origin's objects", repo.subject, r.OriginID)
			return nil
		}
	}
	im.run.setProgress("Importing "+repo.subject+": git data", 0)

	newSlug, err := firstFree(func(n int) string {
		if n == 0 {
			return slug
		}
		return numberedSlug(slug, n)
	}, im.taken(`SELECT 1 FROM repositories WHERE slug = ? COLLATE NOCASE AND project_id = ?`, proj.id))
	if err != nil {
		return err
	}
	name := r.Name
	if name == "" {
		name = r.Slug
	}
	newName, err := firstFree(func(n int) string {
		if n == 0 {
			return name
		}
		return numberedName(name, n)
	}, im.taken(`SELECT 1 FROM repositories WHERE name = ? COLLATE NOCASE AND project_id = ?`, proj.id))
	if err != nil {
		return err
	}
	repo.subject = proj.key + "/" + newSlug
	switch {
	case newSlug != slug:
		im.warn(repo.subject, "A repository with slug %s exists already in %s; the repository was imported as %s", slug, proj.key, newSlug)
	case slug != r.Slug:
		im.warn(repo.subject, "Repository slug %q is not a valid Bitbucket slug; the repository was imported as %s", r.Slug, newSlug)
	}
	if newName != name {
		im.warn(repo.subject, "A repository named %q exists already in %s; the repository was imported as %q", name, proj.key, newName)
	}
	var originID sql.NullInt64
	if origin != nil {
		originID = sql.NullInt64{Int64: origin.id, Valid: true}
	}
	repo.id, err = im.w.insert(`INSERT INTO repositories(project_id, slug, name, hierarchy_id, origin_id, scm_id, state, forkable, public, job_id)
		VALUES (?, ?, ?, ?, ?, ?, 'INITIALISING', ?, ?, ?)`,
		proj.id, newSlug, newName, r.HierarchyID, originID, r.ScmID, r.Forkable, r.Public, im.run.id)
	if err != nil {
		return fmt.Errorf("create repository %s: %w", repo.subject, err)
	}
	if err := im.mapID("repository", r.ID, repo.id); err != nil {
		return err
	}
	b, err := newRepositoryBuild(im.in.buildDir(repo.id), im.in.repositoryDir(repo.id))
	if err != nil {
		im.dropRepository(repo)
		return err
	}
	if origin != nil {
		b.alternates = filepath.Join("..", "..", "..", "repositories", strconv.FormatInt(origin.id, 10), "objects")
	}
	if im.hierarchy != nil && im.hierarchy.origin == "" {
		im.hierarchy.origin = repo.subject
	}
	im.build, im.buildRepo = b, repo
	return nil
}

// gitData feeds the files of a git member into the repository being built.
func (im *importRun) gitData(m *archive.Member) error {
	if im.build == nil || m.IDs.Repository != im.buildRepo.archiveID {
		return nil // a repository that is not being imported
	}
	b := im.build
	var store func(archive.File) error
	switch m.Kind {
	case archive.KindGitMetadata:
		store = b.readMetadata
	case archive.KindGitHooks:
		store = b.writeHook
	case archive.KindGitObjects:
		if hook := im.in.beforeCheckpoint; hook != nil {
			hook(pointGitData)
		}
		store = b.writeObject
	}
	consumed := m.Offset
	err := m.Files(func(f archive.File) error {
		if im.run.ctx.Err() != nil {
			return errStoppedNow
		}
		f.Body = &countingReader{r: f.Body, n: &consumed}
		err := store(f)
		im.run.setProgress("", consumed)
		return err
	})
	if err != nil {
		return err
	}
	if m.Kind == archive.KindGitObjects {
		return im.finishRepository()
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// finishRepository verifies the repository being built and moves it into
// place; incomplete git data is an item error, the import goes on.
func (im *importRun) finishRepository() error {
	b, repo := im.build, im.buildRepo
	im.build, im.buildRepo = nil, nil
	err := b.finish(im.run.ctx)
	switch {
	case im.run.ctx.Err() != nil:
		im.dropRepository(repo)
		return errStoppedNow
	case errors.Is(err, errVerify):
		repo.failed, repo.skipReason = true, "the repository was not imported"
		im.error(repo.subject, "Repository %s was not imported: %v", repo.subject, err)
		return im.dropRepository(repo)
	case err != nil:
		im.dropRepository(repo)
		return fmt.Errorf("build repository %s: %w", repo.subject, err)
	}
	for _, lost := range b.lost {
		im.error(repo.subject, "A ref was not imported: %s", lost)
	}
	if b.lostMore > 0 {
		im.error(repo.subject, "%d more refs were not imported, for reasons like those above", b.lostMore)
	}
	for _, note := range b.notes {
		im.warn(repo.subject, "%s", note)
	}
	if b.hooks > 0 {
		im.warn(repo.subject, "%d hook file(s) from the archive were kept inert under imported-hooks/ and are not installed", b.hooks)
	}
	if _, err := im.w.exec(`UPDATE repositories SET state = 'AVAILABLE' WHERE id = ?`, repo.id); err != nil {
		return err
	}
	im.reposDone++
	if im.hierarchy != nil {
		im.hierarchy.repos++
	}
	im.lastRepo = repo
	// Outside hierarchy markers there is no hierarchy end to wait for: the
	// next checkpoint stops the import.
	if im.run.canceling() && im.hierarchy != nil {
		im.finishHierarchy = true
	}
	return im.commit()
}

// dropRepository removes a repository that will not be imported: its row
// (with its permissions) and whatever directory it had.
func (im *importRun) dropRepository(repo *importedRepo) error {
	_ = os.RemoveAll(im.in.buildDir(repo.id))
	_ = os.RemoveAll(im.in.repositoryDir(repo.id))
	_, err := im.w.exec(`DELETE FROM repositories WHERE id = ?`, repo.id)
	return err
}

func (im *importRun) pullRequest(m *archive.Member) error {
	im.pr = nil
	repo := im.repos[m.IDs.Repository]
	if repo == nil {
		im.error("", "Pull request %d belongs to repository id %s, which the archive did not define; it was not imported", m.IDs.PullRequest, m.IDs.Repository)
		return nil
	}
	im.lastRepo = repo
	subject := repo.subject + "#" + strconv.FormatInt(m.IDs.PullRequest, 10)
	if repo.failed {
		repo.skippedPRs++
		return nil
	}
	if im.finishHierarchy {
		if repo.skippedPRs == 0 {
			repo.skipReason = "the import was canceled during the git data of its fork hierarchy"
		}
		repo.skippedPRs++
		return nil
	}
	if err := im.checkpoint(checkpointPullRequest, "pull request "+subject); err != nil {
		return err
	}
	pr := m.PullRequest
	if pr == nil {
		im.error(subject, "Pull request %s was not imported: its metadata cannot be read: %v", subject, m.Malformed)
		return nil
	}
	im.run.setProgress(fmt.Sprintf("Importing %s: pull request %d", repo.subject, pr.ID), 0)
	id, err := im.w.insert(`INSERT INTO pull_requests(repository_id, scoped_id, version, title, description, state, draft,
		created_date, updated_date, closed_date, rescoped_date, from_ref, from_display_id, from_commit, to_ref, to_display_id, to_commit)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		repo.id, pr.ID, pr.Version, pr.Title, pr.Description, pr.State, pr.Draft,
		pr.CreatedTimestamp, pr.UpdatedTimestamp, nullIfZero(pr.ClosedTimestamp), nullIfZero(pr.RescopedTimestamp),
		pr.FromRef.ID, pr.FromRef.DisplayID, pr.FromRef.LatestCommit, pr.ToRef.ID, pr.ToRef.DisplayID, pr.ToRef.LatestCommit)
	if err != nil {
		return fmt.Errorf("store pull request %s: %w", subject, err)
	}
	for _, p := range pr.AllParticipants {
		uid, err := im.user(p.UserID, subject)
		if err != nil {
			return err
		}
		if !uid.Valid {
			continue
		}
		if _, err := im.w.exec(`INSERT INTO pr_participants(pull_request_id, user_id, role, status, last_reviewed_commit) VALUES (?, ?, ?, ?, ?)`,
			id, uid, p.Role, p.Status, nullIfEmpty(p.LastReviewedCommit)); err != nil {
			return err
		}
	}
	im.pr = &importedPullRequest{id: id, scoped: pr.ID, subject: subject}
	im.prsDone++
	if im.hierarchy != nil {
		im.hierarchy.prs++
	}
	return nil
}

func (im *importRun) activities(acts []model.Activity) error {
	unknown := map[string]bool{}
	for _, a := range acts {
		uid, err := im.user(a.UserID, im.pr.subject)
		if err != nil {
			return err
		}
		var commentID sql.NullInt64
		if a.Kind == model.KindCommentAdded && a.Comment != nil {
			id, err := im.comment(a.Comment, sql.NullInt64{})
			if err != nil {
				return err
			}
			commentID = sql.NullInt64{Int64: id, Valid: true}
		}
		if !knownKind(a.Kind) && !unknown[a.Kind] {
			unknown[a.Kind] = true
			im.warn(im.pr.subject, "Activity kind %q is not known to bbimport; it was kept with its common fields only", a.Kind)
		}
		detail := a
		detail.Comment = nil // stored in comments, linked by comment_id
		data, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		if _, err := im.w.exec(`INSERT INTO pr_activities(pull_request_id, kind, action, user_id, created_date, comment_id, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, im.pr.id, a.Kind, nullIfEmpty(a.Action), uid, a.CreatedTimestamp, commentID, string(data)); err != nil {
			return err
		}
	}
	return nil
}

func knownKind(kind string) bool {
	for _, k := range model.KnownActivityKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// comment stores a comment and, under it, its replies.
func (im *importRun) comment(c *model.Comment, parent sql.NullInt64) (int64, error) {
	author, err := im.user(c.AuthorID, im.pr.subject)
	if err != nil {
		return 0, err
	}
	var resolver sql.NullInt64
	if c.ResolverID != "" {
		if resolver, err = im.user(c.ResolverID, im.pr.subject); err != nil {
			return 0, err
		}
	}
	var anchor sql.NullString
	threadResolved := false
	if c.Thread != nil {
		threadResolved = c.Thread.Resolved
		if c.Thread.Anchor != nil {
			data, err := json.Marshal(c.Thread.Anchor)
			if err != nil {
				return 0, err
			}
			anchor = sql.NullString{String: string(data), Valid: true}
		}
	}
	id, err := im.w.insert(`INSERT INTO comments(pull_request_id, parent_id, archive_id, author_id, text, severity, state,
		created_date, updated_date, resolved_date, resolver_id, thread_resolved, anchor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		im.pr.id, parent, c.ID, author, c.Text, c.Severity, c.State, c.CreatedTimestamp, c.UpdatedTimestamp,
		nullIfZero(c.ResolvedTimestamp), resolver, threadResolved, anchor)
	if err != nil {
		return 0, fmt.Errorf("store comment %s of %s: %w", c.ID, im.pr.subject, err)
	}
	for i := range c.Comments {
		if _, err := im.comment(&c.Comments[i], sql.NullInt64{Int64: id, Valid: true}); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// closePullRequests reports, once per repository, the pull requests that
// were left out because the repository was not imported.
func (im *importRun) closePullRequests() {
	r := im.lastRepo
	im.lastRepo, im.pr = nil, nil
	if r == nil || r.skippedPRs == 0 {
		return
	}
	sev := model.SeverityError
	if !r.failed {
		sev = model.SeverityWarn // left out on purpose, by a cancel
	}
	im.message(sev, r.subject, "%d pull request(s) of %s were not imported: %s", r.skippedPRs, r.subject, r.skipReason)
	r.skippedPRs = 0
}

func (im *importRun) hierarchyEnd() error {
	im.closePullRequests()
	if h := im.hierarchy; h != nil {
		im.info(h.origin, "Fork hierarchy of %s imported and verified: %d repositories, %d pull requests in %s",
			h.origin, h.repos, h.prs, time.Since(h.started).Round(time.Millisecond))
		im.hierarchy = nil
	}
	if err := im.commit(); err != nil {
		return err
	}
	if im.finishHierarchy {
		return &canceledAt{checkpoint: checkpointHierarchy, notDone: "the next fork hierarchy"}
	}
	return nil
}

// commit makes what was written durable, with the job's live state.
func (im *importRun) commit() error {
	if im.dbErr != nil {
		return im.dbErr
	}
	j := im.run.snapshot()
	if _, err := im.w.exec(`UPDATE jobs SET state = ?, progress_message = ?, percentage = ?, updated_date = ?, end_date = ? WHERE id = ?`,
		j.State, j.Progress.Message, j.Progress.Percentage, j.UpdatedDate, nullIfZero(j.EndDate), j.ID); err != nil {
		return err
	}
	return im.w.commit()
}

// subjectOf names what a member is about, for its notes.
func (im *importRun) subjectOf(m *archive.Member) string {
	switch m.Kind {
	case archive.KindProject, archive.KindProjectPermissions, archive.KindProjectAllPermissions:
		if p := im.projects[m.IDs.Project]; p != nil {
			return p.key
		}
	case archive.KindPullRequestMetadata, archive.KindPullRequestActivities, archive.KindPullRequestCaches:
		if r := im.repos[m.IDs.Repository]; r != nil {
			return r.subject + "#" + strconv.FormatInt(m.IDs.PullRequest, 10)
		}
	default:
		if r := im.repos[m.IDs.Repository]; r != nil {
			return r.subject
		}
	}
	return ""
}

func (im *importRun) info(subject, format string, args ...any) {
	im.message(model.SeverityInfo, subject, format, args...)
}
func (im *importRun) warn(subject, format string, args ...any) {
	im.message(model.SeverityWarn, subject, format, args...)
}
func (im *importRun) error(subject, format string, args ...any) {
	im.message(model.SeverityError, subject, format, args...)
}

// message logs into the write transaction; a failed write is kept and
// ends the import, since the log is what the admin acts on.
func (im *importRun) message(sev model.Severity, subject, format string, args ...any) {
	if sev == model.SeverityError {
		im.errorCount++
	}
	if im.dbErr != nil {
		return
	}
	_, err := im.w.exec(`INSERT INTO messages(job_id, severity, subject, text, created_date) VALUES (?, ?, ?, ?, ?)`,
		im.run.id, string(sev), subject, fmt.Sprintf(format, args...), nowMillis())
	if err != nil {
		im.dbErr = fmt.Errorf("log a message: %w", err)
	}
}

func nullIfZero(n int64) sql.NullInt64    { return sql.NullInt64{Int64: n, Valid: n != 0} }
func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// conclude cleans up after the reader stopped, for whatever reason, and
// records the job's final state: no repository stays INITIALISING and no
// build directory stays behind.
func (im *importRun) conclude(err error) model.Job {
	if im.w == nil {
		return im.finishWithoutWriter(err)
	}
	defer im.w.close()
	if im.build != nil && err == nil {
		// The archive ended right after a repository's git data.
		err = im.finishRepository()
	}
	if im.build != nil {
		im.build.discard()
		im.dropRepository(im.buildRepo)
		im.build, im.buildRepo = nil, nil
	}
	im.closePullRequests()
	im.dbErr = nil
	summary := fmt.Sprintf("%d project(s), %d repositories and %d pull request(s) imported", im.projectsDone, im.reposDone, im.prsDone)
	var state model.State
	var c *canceledAt
	switch {
	case errors.As(err, &c):
		state = model.StateCanceled
		im.warn("", "Import canceled at the checkpoint %s: %s. Not imported: %s and everything after it in the archive", c.checkpoint, summary, c.notDone)
	case errors.Is(err, errStoppedNow) || im.run.ctx.Err() != nil:
		state = model.StateCanceled
		im.warn("", "Import stopped at once, not at a checkpoint: %s; the repository being built was discarded and the rest of the archive was not imported", summary)
	case err != nil:
		state = model.StateAborted
		im.error("", "Import aborted: %v. %s before this point; nothing after it was imported", err, summary)
	default:
		im.run.setState(model.StateFinalising)
		state = model.StateCompleted
		if im.errorCount > 0 {
			state = model.StateFailed
		}
		im.info("", "Import finished in %s: %s, %d error(s)", time.Since(im.started).Round(time.Millisecond), summary, im.errorCount)
	}
	im.run.mu.Lock()
	im.run.job.State = state
	im.run.job.EndDate = nowMillis()
	im.run.job.UpdatedDate = im.run.job.EndDate
	if state == model.StateCompleted || state == model.StateFailed {
		im.run.job.Progress.Percentage = 100
	}
	im.run.job.Progress.Message = "Import " + strings.ToLower(string(state))
	im.run.mu.Unlock()
	if cerr := im.commit(); cerr != nil {
		// The database refuses writes (a full disk): record at least the state.
		im.w.close()
		im.w = nil
		return im.finishWithoutWriter(cerr)
	}
	return im.run.snapshot()
}

// finishWithoutWriter records an ABORTED end when the write connection is
// gone or never came up.
func (im *importRun) finishWithoutWriter(err error) model.Job {
	_ = im.in.removeUnfinishedRepositories(context.Background())
	now := nowMillis()
	im.run.mu.Lock()
	im.run.job.State, im.run.job.EndDate, im.run.job.UpdatedDate = model.StateAborted, now, now
	im.run.job.Progress.Message = "Import aborted"
	j := im.run.job
	im.run.mu.Unlock()
	_, _ = im.in.db.Exec(`UPDATE jobs SET state = ?, progress_message = ?, updated_date = ?, end_date = ? WHERE id = ?`,
		j.State, j.Progress.Message, now, now, j.ID)
	_, _ = im.in.db.Exec(`INSERT INTO messages(job_id, severity, subject, text, created_date) VALUES (?, 'ERROR', '', ?, ?)`,
		j.ID, fmt.Sprintf("Import aborted: %v", err), now)
	return j
}
