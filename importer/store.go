package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"bbimport/model"
)

// A store is the SQL behind one import: each method is one statement on the
// import's write transaction. It decides nothing; what to write, rename or
// skip is the importer's.
type store struct {
	w   *writer
	job int64
}

// exists reports whether query finds a row.
func (s *store) exists(query string, args ...any) (bool, error) {
	row, err := s.w.queryRow(query, args...)
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
		return false, fmt.Errorf("database read: %w", err)
	}
}

// lookupID returns the id query finds, if it finds one.
func (s *store) lookupID(query string, args ...any) (int64, bool, error) {
	row, err := s.w.queryRow(query, args...)
	if err != nil {
		return 0, false, err
	}
	var id int64
	switch err := row.Scan(&id); {
	case err == nil:
		return id, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	default:
		return 0, false, fmt.Errorf("database read: %w", err)
	}
}

func (s *store) projectID(key string) (int64, bool, error) {
	return s.lookupID(`SELECT id FROM projects WHERE key = ?`, key)
}

func (s *store) projectKeyTaken(key string) (bool, error) {
	return s.exists(`SELECT 1 FROM projects WHERE key = ?`, key)
}

// projectNameTaken looks among normal projects only: personal projects are
// named after their user.
func (s *store) projectNameTaken(name string) (bool, error) {
	return s.exists(`SELECT 1 FROM projects WHERE type = 'NORMAL' AND name = ? COLLATE NOCASE`, name)
}

func (s *store) insertProject(p *model.Project, key, name, typ string) (int64, error) {
	return s.w.insert(`INSERT INTO projects(key, name, description, public, type, job_id) VALUES (?, ?, ?, ?, ?, ?)`,
		key, name, p.Description, p.Public, typ, s.job)
}

// mapID records where an archive id went.
func (s *store) mapID(kind, archiveID string, id int64) error {
	_, err := s.w.exec(`INSERT OR REPLACE INTO id_map(job_id, kind, archive_id, new_id) VALUES (?, ?, ?, ?)`,
		s.job, kind, archiveID, id)
	return err
}

// A permissionOwner is what a permission is granted on.
type permissionOwner int

const (
	onProject permissionOwner = iota
	onRepository
)

func (s *store) grantGroup(on permissionOwner, id int64, permission, group string) error {
	query := `INSERT INTO permissions(project_id, permission, group_name) VALUES (?, ?, ?)`
	if on == onRepository {
		query = `INSERT INTO permissions(repository_id, permission, group_name) VALUES (?, ?, ?)`
	}
	_, err := s.w.exec(query, id, permission, group)
	return err
}

func (s *store) grantUser(on permissionOwner, id int64, permission string, user sql.NullInt64) error {
	query := `INSERT INTO permissions(project_id, permission, user_id) VALUES (?, ?, ?)`
	if on == onRepository {
		query = `INSERT INTO permissions(repository_id, permission, user_id) VALUES (?, ?, ?)`
	}
	_, err := s.w.exec(query, id, permission, user)
	return err
}

func (s *store) userID(slug string) (int64, bool, error) {
	return s.lookupID(`SELECT id FROM users WHERE slug = ?`, slug)
}

// insertStubUser creates an inactive user without e-mail.
func (s *store) insertStubUser(slug, displayName, typ string) (int64, error) {
	return s.w.insert(`INSERT INTO users(slug, name, display_name, email, active, type) VALUES (?, ?, ?, NULL, 0, ?)`,
		slug, slug, displayName, typ)
}

func (s *store) repositorySlugTaken(projectID int64, slug string) (bool, error) {
	return s.exists(`SELECT 1 FROM repositories WHERE slug = ? COLLATE NOCASE AND project_id = ?`, slug, projectID)
}

func (s *store) repositoryNameTaken(projectID int64, name string) (bool, error) {
	return s.exists(`SELECT 1 FROM repositories WHERE name = ? COLLATE NOCASE AND project_id = ?`, name, projectID)
}

// insertRepository records a repository as INITIALISING: it becomes
// AVAILABLE once its git data is verified.
func (s *store) insertRepository(projectID int64, slug, name string, r *model.Repository, origin sql.NullInt64) (int64, error) {
	return s.w.insert(`INSERT INTO repositories(project_id, slug, name, hierarchy_id, origin_id, scm_id, state, forkable, public, job_id)
		VALUES (?, ?, ?, ?, ?, ?, 'INITIALISING', ?, ?, ?)`,
		projectID, slug, name, r.HierarchyID, origin, r.ScmID, r.Forkable, r.Public, s.job)
}

func (s *store) setLFS(repoID int64, enabled bool) error {
	_, err := s.w.exec(`UPDATE repositories SET lfs_enabled = ? WHERE id = ?`, enabled, repoID)
	return err
}

func (s *store) setRepositoryAvailable(repoID int64) error {
	_, err := s.w.exec(`UPDATE repositories SET state = 'AVAILABLE' WHERE id = ?`, repoID)
	return err
}

// deleteRepository removes a repository's row; its permissions and pull
// requests go with it (ON DELETE CASCADE).
func (s *store) deleteRepository(repoID int64) error {
	_, err := s.w.exec(`DELETE FROM repositories WHERE id = ?`, repoID)
	return err
}

func (s *store) insertPullRequest(repoID int64, pr *model.PullRequest) (int64, error) {
	return s.w.insert(`INSERT INTO pull_requests(repository_id, scoped_id, version, title, description, state, draft,
		created_date, updated_date, closed_date, rescoped_date, from_ref, from_display_id, from_commit, to_ref, to_display_id, to_commit)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		repoID, pr.ID, pr.Version, pr.Title, pr.Description, pr.State, pr.Draft,
		pr.CreatedTimestamp, pr.UpdatedTimestamp, nullIfZero(pr.ClosedTimestamp), nullIfZero(pr.RescopedTimestamp),
		pr.FromRef.ID, pr.FromRef.DisplayID, pr.FromRef.LatestCommit, pr.ToRef.ID, pr.ToRef.DisplayID, pr.ToRef.LatestCommit)
}

func (s *store) pullRequestExists(repoID, scopedID int64) (bool, error) {
	return s.exists(`SELECT 1 FROM pull_requests WHERE repository_id = ? AND scoped_id = ?`, repoID, scopedID)
}

// deletePullRequest removes a pull request; its participants, comments
// and activities go with it (ON DELETE CASCADE).
func (s *store) deletePullRequest(prID int64) error {
	_, err := s.w.exec(`DELETE FROM pull_requests WHERE id = ?`, prID)
	return err
}

// deletePullRequestHistory removes a pull request's activities and
// comments, activities first since they link to comments.
func (s *store) deletePullRequestHistory(prID int64) error {
	if _, err := s.w.exec(`DELETE FROM pr_activities WHERE pull_request_id = ?`, prID); err != nil {
		return err
	}
	_, err := s.w.exec(`DELETE FROM comments WHERE pull_request_id = ?`, prID)
	return err
}

func (s *store) insertParticipant(prID int64, user sql.NullInt64, p model.Participant) error {
	_, err := s.w.exec(`INSERT INTO pr_participants(pull_request_id, user_id, role, status, last_reviewed_commit) VALUES (?, ?, ?, ?, ?)`,
		prID, user, p.Role, p.Status, nullIfEmpty(p.LastReviewedCommit))
	return err
}

func (s *store) setPullRequestCaches(prID int64, a *model.AncestorCache) error {
	_, err := s.w.exec(`UPDATE pull_requests SET ancestor_from = ?, ancestor_to = ?, merge_base = ? WHERE id = ?`,
		a.FromTip, a.ToTip, a.MergeBase, prID)
	return err
}

// insertActivity stores an activity; detail is its JSON without the
// comment, which comment links to.
func (s *store) insertActivity(prID int64, a model.Activity, user, comment sql.NullInt64, detail string) error {
	_, err := s.w.exec(`INSERT INTO pr_activities(pull_request_id, kind, action, user_id, created_date, comment_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, prID, a.Kind, nullIfEmpty(a.Action), user, a.CreatedTimestamp, comment, detail)
	return err
}

// commentRow is what a comment's row holds beyond the archive's comment.
type commentRow struct {
	pullRequest      int64
	parent           sql.NullInt64
	author, resolver sql.NullInt64
	threadResolved   bool
	anchor           sql.NullString // JSON of the thread's anchor
}

func (s *store) insertComment(c *model.Comment, r commentRow) (int64, error) {
	return s.w.insert(`INSERT INTO comments(pull_request_id, parent_id, archive_id, author_id, text, severity, state,
		created_date, updated_date, resolved_date, resolver_id, thread_resolved, anchor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.pullRequest, r.parent, c.ID, r.author, c.Text, c.Severity, c.State, c.CreatedTimestamp, c.UpdatedTimestamp,
		nullIfZero(c.ResolvedTimestamp), r.resolver, r.threadResolved, r.anchor)
}

// insertMessageSQL appends a message to its job's log, numbering it: seq
// is its place in the job's messages (0 for the first), dense and in id
// order, so that the page at any start is read directly (Messages). The
// arguments are the job id twice, severity, subject, text and date. SQLite
// runs one writer at a time, so that the MAX read here and the insert are
// one step whichever connection or process logs.
const insertMessageSQL = `INSERT INTO messages(job_id, seq, severity, subject, text, created_date)
	VALUES (?, (SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE job_id = ?), ?, ?, ?, ?)`

func (s *store) insertMessage(sev model.Severity, subject, text string) error {
	_, err := s.w.exec(insertMessageSQL, s.job, s.job, string(sev), subject, text, nowMillis())
	return err
}

// saveJob writes the job's live state, counts included, into its row.
func (s *store) saveJob(j model.Job) error {
	var c model.ImportCounts
	if j.Counts != nil {
		c = *j.Counts
	}
	// A cancel another process recorded (CANCELING) stays until the job
	// ends, even before the runner has read it.
	_, err := s.w.exec(`UPDATE jobs SET state = CASE WHEN cancel_requested > 0 AND ? = 0 THEN ? ELSE ? END,
		progress_message = ?, percentage = ?, updated_date = ?, end_date = ?,
		imported_projects = ?, imported_repositories = ?, imported_pull_requests = ?, personal_projects_reused = ? WHERE id = ?`,
		j.State.Finished(), model.StateCanceling, j.State, j.Progress.Message, j.Progress.Percentage, j.UpdatedDate, nullIfZero(j.EndDate),
		c.Projects, c.Repositories, c.PullRequests, c.PersonalReused, j.ID)
	return err
}

func (s *store) setArchiveSHA256(sha string) error {
	_, err := s.w.exec(`UPDATE jobs SET archive_sha256 = ? WHERE id = ?`, sha, s.job)
	return err
}

func (s *store) due() bool     { return s.w.due() }
func (s *store) commit() error { return s.w.commit() }
func (s *store) close()        { s.w.close() }

// recordNotes logs the admin's overrides of a job as its first messages,
// job-level WARNs, before any runner writes to it.
func recordNotes(ctx context.Context, db *sql.DB, id int64, notes []string) error {
	for _, note := range notes {
		if _, err := db.ExecContext(ctx, insertMessageSQL, id, id, model.SeverityWarn, "", note, nowMillis()); err != nil {
			return fmt.Errorf("record a note of job %d: %w", id, err)
		}
	}
	return nil
}

// recordAbort marks a job ABORTED with an ERROR message saying why, outside
// any import's transaction: for a job whose process is gone, or whose write
// connection failed.
func recordAbort(ctx context.Context, db *sql.DB, id int64, why string) error {
	return recordEnd(ctx, db, id, model.StateAborted, "Import aborted", why)
}

// recordEnd records a job's end in state with its progress message, and
// an ERROR message saying why (none when why is empty), in one
// transaction: whoever reads the job ended finds its messages final.
func recordEnd(ctx context.Context, db *sql.DB, id int64, state model.State, progress, why string) error {
	now := nowMillis()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mark job %d %s: %w", id, state, err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit it does nothing
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, progress_message = ?, updated_date = ?, end_date = ? WHERE id = ?`,
		state, progress, now, now, id); err != nil {
		return fmt.Errorf("mark job %d %s: %w", id, state, err)
	}
	if why != "" {
		if _, err := tx.ExecContext(ctx, insertMessageSQL, id, id, model.SeverityError, "", model.Sentence(why), now); err != nil {
			return fmt.Errorf("log the end of job %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mark job %d %s: %w", id, state, err)
	}
	return nil
}

func nullIfZero(n int64) sql.NullInt64    { return sql.NullInt64{Int64: n, Valid: n != 0} }
func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// setGitBytes records the size of a repository's objects tar, from which
// an export estimates its archive without walking the object store.
func (s *store) setGitBytes(repoID, n int64) error {
	_, err := s.w.exec(`UPDATE repositories SET git_bytes = ? WHERE id = ?`, n, repoID)
	return err
}

// documentOwner names the column of archive_documents that owns a document.
type documentOwner string

const (
	ownedByProject     documentOwner = "project_id"
	ownedByRepository  documentOwner = "repository_id"
	ownedByPullRequest documentOwner = "pull_request_id"
)

// keepDocument stores a gzipped document the archive brought, replacing
// the owner's earlier one of the same kind.
func (s *store) keepDocument(owner documentOwner, id int64, kind string, gz []byte) error {
	_, err := s.w.exec(`INSERT OR REPLACE INTO archive_documents(`+string(owner)+`, kind, body) VALUES (?, ?, ?)`, id, kind, gz)
	return err
}
