package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/dustin/go-humanize"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"bbimport/archive"
	"bbimport/model"
)

// The checkpoints at which a cancel takes effect, named as messages name them.
const (
	checkpointHierarchy   = "after the git data of the current fork hierarchy"
	checkpointRepository  = "before the next repository"
	checkpointPullRequest = "before the next pull request"
	// pointGitData is no checkpoint: a cancel arriving here waits for the
	// end of the fork hierarchy. Tests use it to cancel inside git data.
	pointGitData = "in git data"
	// pointEnd is no checkpoint either: the import's last messages are
	// written and its end is about to be committed with them. Tests read
	// the job there.
	pointEnd = "at the end"
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
	st      *store // nil until the write connection is open
	started time.Time
	dbErr   error // first failed write of a message; fatal
	endNote *endNote
	// unrecorded is why the end could not be written to the database.
	unrecorded error

	projects map[string]*importedProject // by archive id
	repos    map[string]*importedRepo    // by archive id
	users    map[string]sql.NullInt64    // by user id string

	hierarchy *hierarchyProgress
	build     *repositoryBuild
	buildRepo *importedRepo
	pr        *importedPullRequest
	lastRepo  *importedRepo // whose pull requests are being read
	commits   *commitCheck  // of the repository whose pull requests are being read

	// finishHierarchy is set when a cancel came in during git data: the
	// rest of the hierarchy's git data is imported and verified, its pull
	// requests are not, and the import stops at the hierarchy's end.
	finishHierarchy bool

	counts     model.ImportCounts // imported so far, committed or not
	committed  model.ImportCounts // as of the last commit
	errorCount int

	// digest hashes the archive as the import reads it; its SHA-256 is
	// recorded with the job, so that verify knows the archive it is given
	// is the one imported.
	digest *archive.Digest
}

type importedProject struct {
	id         int64
	key        string
	archiveKey string // the key in the archive, for placements
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
	repo    *importedRepo
	// missing counts the commits of its history that are not in the
	// repository, firstMissing names the first.
	missing      int
	firstMissing namedCommit
}

type hierarchyProgress struct {
	id      string
	origin  string
	repos   int
	prs     int
	started time.Time
	// leftOut names what of the hierarchy was not imported ("50 pull
	// requests of ~HEDY6/exporter-2"), and errors counts the ERROR
	// messages logged from its start: a hierarchy is "imported and
	// verified" only when both stay empty.
	leftOut []string
	errors  int
}

func (im *importRun) execute() error {
	w, err := newWriter(im.in.db)
	if err != nil {
		return err
	}
	im.st = &store{w: w, job: im.run.id}
	im.info("", "Importing %s (%s)", filepath.Base(im.run.archive), humanize.IBytes(uint64(im.run.size)))
	if im.digest, err = archive.NewDigest(im.run.file); err != nil {
		return err
	}
	// An earlier import of an archive of this size may have been of this
	// one: its SHA-256 first, then, so that the log says so before
	// anything is imported again.
	earlier, err := im.in.importsOfSize(im.run.ctx, im.run.size, im.run.id)
	if err != nil {
		return err
	}
	if len(earlier) == 0 {
		return archive.ReadDigest(im.digest, im.in.limits, im.handle)
	}
	im.run.setProgress("Computing the archive's SHA-256: an earlier import read an archive of this size", 0)
	sha, _, err := im.digest.Finish(im.run.ctx)
	im.digest = nil
	if err != nil {
		return err
	}
	if err := im.st.setArchiveSHA256(sha); err != nil {
		return err
	}
	if same := sameArchive(earlier, sha); len(same) > 0 {
		im.info("", "This archive was imported into this home before (same SHA-256 %s): %s; its projects are imported again under new keys", sha, describeImports(same))
	}
	return archive.ReadOpened(im.run.file, im.in.limits, im.handle)
}

// handle receives each member of the archive in order.
func (im *importRun) handle(m *archive.Member) error {
	if im.run.ctx.Err() != nil {
		return errStoppedNow
	}
	im.run.setProgress("", m.Offset)
	// Git objects and the verification after them can take minutes without
	// a write: commit first, so that no transaction stays open meanwhile
	// and another process's cancel or heartbeat is never kept waiting.
	if m.Kind == archive.KindGitObjects {
		if err := im.commit(); err != nil {
			return err
		}
	}
	if err := im.member(m); err != nil {
		return err
	}
	if err := im.keep(m); err != nil {
		return err
	}
	for _, note := range m.Notes {
		im.warn(im.subjectOf(m), "%s", note)
	}
	// The reader names each unknown field once per member kind and import:
	// newer Bitbucket versions add fields, and ignoring one loses no data
	// that bbimport imports, so it is INFO, never a WARN per item.
	for _, f := range m.UnknownFields {
		im.info("", "Field %q of %s members is not known to bbimport and was ignored", f, m.Kind)
	}
	if im.dbErr != nil {
		return im.dbErr
	}
	if im.st.due() {
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
	case archive.KindHierarchyBegin, archive.KindProject, archive.KindRepository, archive.KindHierarchyEnd:
		return im.hierarchyMember(m)
	case archive.KindProjectPermissions, archive.KindRepositoryPermissions, archive.KindLFSSettings:
		return im.settingsMember(m)
	case archive.KindGitMetadata, archive.KindGitHooks, archive.KindGitObjects:
		return im.gitData(m)
	case archive.KindPullRequestMetadata, archive.KindPullRequestActivities, archive.KindPullRequestCaches:
		return im.pullRequestMember(m)
	}
	return nil
}

// hierarchyMember applies a member of a fork hierarchy's frame: its begin
// and end markers, and the projects and repositories between them, each
// a checkpoint where a cancel stops the import.
func (im *importRun) hierarchyMember(m *archive.Member) error {
	switch m.Kind {
	case archive.KindHierarchyBegin:
		if im.finishHierarchy {
			return &canceledAt{checkpoint: checkpointHierarchy, notDone: "fork hierarchy " + m.IDs.Hierarchy}
		}
		if err := im.checkpoint(checkpointRepository, "fork hierarchy "+m.IDs.Hierarchy); err != nil {
			return err
		}
		im.hierarchy = &hierarchyProgress{id: m.IDs.Hierarchy, started: time.Now(), errors: im.errorCount}
	case archive.KindProject:
		// A fork in a personal project brings that project in mid-hierarchy.
		if !im.finishHierarchy {
			if err := im.checkpoint(checkpointRepository, "project "+m.Project.Key); err != nil {
				return err
			}
		}
		return im.project(m.Project)
	case archive.KindRepository:
		im.closePullRequests()
		if !im.finishHierarchy {
			if err := im.checkpoint(checkpointRepository, "repository "+m.Repository.Slug); err != nil {
				return err
			}
		}
		return im.repository(m.Repository)
	case archive.KindHierarchyEnd:
		return im.hierarchyEnd()
	}
	return nil
}

// settingsMember applies the permissions of a project or repository, or a
// repository's LFS setting, to the one imported; a repository that failed
// takes none.
func (im *importRun) settingsMember(m *archive.Member) error {
	switch m.Kind {
	case archive.KindProjectPermissions:
		if p := im.projects[m.IDs.Project]; p != nil {
			return im.permissions(m.Permissions, onProject, p.id, p.key)
		}
	case archive.KindRepositoryPermissions:
		if r := im.repos[m.IDs.Repository]; r != nil && !r.failed {
			return im.permissions(m.Permissions, onRepository, r.id, r.subject)
		}
	case archive.KindLFSSettings:
		if r := im.repos[m.IDs.Repository]; r != nil && !r.failed && m.LFS != nil {
			return im.st.setLFS(r.id, m.LFS.Enabled)
		}
	}
	return nil
}

// pullRequestMember applies a pull request's metadata, then its
// activities and caches, which belong to the pull request just read.
func (im *importRun) pullRequestMember(m *archive.Member) error {
	switch m.Kind {
	case archive.KindPullRequestMetadata:
		return im.pullRequest(m)
	case archive.KindPullRequestActivities:
		if im.pr != nil && im.pr.scoped == m.IDs.PullRequest {
			return im.activities(m)
		}
	case archive.KindPullRequestCaches:
		if im.pr != nil && im.pr.scoped == m.IDs.PullRequest && m.Ancestor != nil {
			return im.pullRequestCaches(m.Ancestor)
		}
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
	im.in.readRequests(im.run.ctx, im.run)
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
	if !model.ArchiveVersionSupported(d.ArchiveVersion) {
		return fmt.Errorf("%w: the archive has archiveVersion %d and bbimport reads versions 1 and 2; export it again from a Bitbucket that writes one of them",
			archive.ErrUnsupportedVersion, d.ArchiveVersion)
	}
	im.run.setState(model.StateRunning)
	im.info("", "The archive was written by %s %s (archiveVersion %d, instance %q)", d.Product, d.Version, d.ArchiveVersion, d.InstanceName)
	return nil
}

func (im *importRun) hierarchyEnd() error {
	im.closePullRequests()
	if h := im.hierarchy; h != nil {
		took := time.Since(h.started).Round(time.Millisecond)
		imported := model.Plural(h.repos, "repository", "repositories") + ", " + model.Plural(h.prs, "pull request", "pull requests")
		switch errs := im.errorCount - h.errors; {
		case len(h.leftOut) > 0:
			im.warn(h.origin, "Fork hierarchy of %s imported in part in %s: %s; not imported: %s", h.origin, took, imported, strings.Join(h.leftOut, "; "))
		case errs > 0:
			im.warn(h.origin, "Fork hierarchy of %s imported in part in %s: %s; %s above say what was not imported", h.origin, took, imported, model.Plural(errs, "error", "errors"))
		default:
			im.info(h.origin, "Fork hierarchy of %s imported and verified: %s in %s", h.origin, imported, took)
		}
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

// commit makes what was written durable, with the job's live state and
// the counts of what it holds; the live job shows the counts once they
// are committed, so that they always match the database.
func (im *importRun) commit() error {
	j := im.run.snapshot()
	if err := im.commitAs(&j); err != nil {
		return err
	}
	im.run.mu.Lock()
	im.run.job.Counts = j.Counts
	im.run.mu.Unlock()
	return nil
}

// commitAs makes what was written durable with j, given the counts of what
// it holds, as the job's row.
func (im *importRun) commitAs(j *model.Job) error {
	if im.dbErr != nil {
		return im.dbErr
	}
	counts := im.counts
	j.Counts = &counts
	if err := im.st.saveJob(*j); err != nil {
		return err
	}
	if err := im.st.commit(); err != nil {
		return err
	}
	im.committed = counts
	return nil
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
	if err := im.st.insertMessage(sev, subject, model.Sentence(fmt.Sprintf(format, args...))); err != nil {
		im.dbErr = fmt.Errorf("log a message: %w", err)
	}
}

// conclude cleans up after the reader stopped, for whatever reason, and
// records the job's final state: no repository stays INITIALISING and no
// build directory stays behind.
func (im *importRun) conclude(err error) model.Job {
	if im.st == nil {
		return im.finishWithoutWriter(err)
	}
	defer func() {
		if im.st != nil {
			im.st.close()
		}
	}()
	if im.build != nil && err == nil {
		// The archive ended right after a repository's git data.
		err = im.finishRepository()
	}
	if im.build != nil {
		im.build.discard()
		im.dropOnTheWayOut(im.buildRepo)
		im.build, im.buildRepo = nil, nil
	}
	im.closePullRequests()
	im.dbErr = nil
	summary := im.summary(im.counts)
	rest := remainderHint(im.run.id)
	var state model.State
	var c *canceledAt
	switch {
	case errors.As(err, &c):
		state = model.StateCanceled
		im.warn("", "Import canceled at the checkpoint %s: %s. Not imported: %s and everything after it in the archive. %s", c.checkpoint, summary, c.notDone, rest)
	case errors.Is(err, errStoppedNow) || im.run.ctx.Err() != nil:
		state = model.StateCanceled
		im.warn("", "Import stopped at once, not at a checkpoint: %s; the repository being built was discarded and the rest of the archive was not imported. %s", summary, rest)
	case err != nil:
		state = model.StateAborted
		im.error("", "%s %s", model.Sentence(im.abortMessage(err, summary)), rest)
	default:
		im.run.setState(model.StateFinalising)
		state = model.StateCompleted
		if im.errorCount > 0 {
			state = model.StateFailed
		}
		im.info("", "Import finished in %s: %s, %s", time.Since(im.started).Round(time.Millisecond), summary, model.Plural(im.errorCount, "error", "errors"))
	}
	im.recordDigest(state)
	// The end is committed with the messages above before runJob shows it.
	ended := im.run.ending(state, "Import")
	if hook := im.in.beforeCheckpoint; hook != nil {
		hook(pointEnd)
	}
	if cerr := im.commitAs(&ended); cerr != nil {
		// The database refuses writes (a full disk): record at least the
		// state, and why, on a connection of its own.
		im.st.close()
		im.st = nil
		if err == nil || !diskFull(err) {
			err = cerr
		}
		return im.finishWithoutWriter(err)
	}
	im.endNote.remove()
	return ended
}

// summary says what an import has imported.
func (im *importRun) summary(c model.ImportCounts) string {
	return countsPhrase(c) + " imported"
}

// countsPhrase is "2 projects, 1 repository and 5 pull requests", as the
// import's and the export's messages say what they moved.
func countsPhrase(c model.ImportCounts) string {
	return fmt.Sprintf("%s, %s and %s", model.Plural(c.Projects, "project", "projects"),
		model.Plural(c.Repositories, "repository", "repositories"), model.Plural(c.PullRequests, "pull request", "pull requests"))
}

// abortMessage is the ERROR of an import that err aborted, done saying
// what it had imported.
func (im *importRun) abortMessage(err error, done string) string {
	if diskFull(err) {
		return im.in.diskFullMessage(err, im.run.size, done)
	}
	return fmt.Sprintf("Import aborted: %v. %s before this point; nothing after it was imported", err, done)
}

// finishWithoutWriter records an ABORTED end when the write connection is
// gone or never came up, with what the last commit holds. Where even that
// cannot be written, the message goes to the end note, for whoever
// recovers the home.
func (im *importRun) finishWithoutWriter(err error) model.Job {
	_ = im.in.removeUnfinishedRepositories(context.Background())
	why := im.abortMessage(err, im.summary(im.committed))
	j := im.run.ending(model.StateAborted, "Import")
	if err := recordAbort(context.Background(), im.in.db, j.ID, why); err != nil {
		im.unrecorded = fmt.Errorf("record the end of job %d: %w; %s", j.ID, err, why)
		if nerr := im.endNote.write(why); nerr != nil {
			im.unrecorded = fmt.Errorf("%w (and its end note: %w)", im.unrecorded, nerr)
		}
		return j
	}
	im.endNote.remove()
	return j
}

// remainderHint says how to import what a job that ended early left out:
// verify writes an archive of it.
func remainderHint(job int64) string {
	return fmt.Sprintf("To import the rest: bbimport verify %d --remainder FILE writes it to a remainder archive FILE; import that", job)
}

// recordDigest reads what the import left of the archive (the tar's end,
// or the rest after a cancel) and records the archive's SHA-256 with the
// job, unless execute did at the start. A job stopped at once stops now,
// and records none; nor does one whose archive cannot be read to its end.
func (im *importRun) recordDigest(state model.State) {
	if im.digest == nil || im.run.ctx.Err() != nil {
		return
	}
	if state == model.StateCanceled {
		im.run.setProgress("Computing the archive's SHA-256 for verify", 0)
	}
	sha, _, err := im.digest.Finish(im.run.ctx)
	if err != nil {
		return
	}
	if err := im.st.setArchiveSHA256(sha); err != nil {
		im.dbErr = err
	}
}
