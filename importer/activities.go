package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"bbimport/model"
	"bbimport/wire"
)

// Activities returns a page of a pull request's activities, newest first,
// in the REST API's shape: comment records carry their comment with its
// replies nested, and inline comments their anchor.
func (in *Instance) Activities(ctx context.Context, projectKey, slug string, id int64, start, limit int) (model.Page[model.RestActivity], error) {
	var prRow int64
	err := in.db.QueryRowContext(ctx, `SELECT pr.id FROM pull_requests pr JOIN repositories r ON r.id = pr.repository_id
		JOIN projects p ON p.id = r.project_id WHERE p.key = ? AND r.slug = ? AND pr.scoped_id = ?`, projectKey, slug, id).Scan(&prRow)
	if err != nil {
		return model.Page[model.RestActivity]{}, notFound(err, model.ErrNoSuchPullRequest, fmt.Sprintf("pull request %s/%s#%d", projectKey, slug, id))
	}
	comments, err := in.commentTrees(ctx, prRow)
	if err != nil {
		return model.Page[model.RestActivity]{}, err
	}
	rows, err := in.db.QueryContext(ctx, `SELECT a.id, a.kind, COALESCE(a.action, ''), a.created_date, a.comment_id, COALESCE(a.detail, '{}'),
		`+nullUserColumns("u")+` FROM pr_activities a LEFT JOIN users u ON u.id = a.user_id
		WHERE a.pull_request_id = ? ORDER BY a.created_date DESC, a.id DESC`, prRow)
	if err != nil {
		return model.Page[model.RestActivity]{}, fmt.Errorf("read activities: %w", err)
	}
	defer rows.Close()
	users := userLookup{ctx: ctx, db: in.db, bySlug: map[string]model.User{}}
	var all []model.RestActivity
	for rows.Next() {
		var a model.RestActivity
		var kind, detail string
		var comment sql.NullInt64
		var u nullUser
		if err := rows.Scan(append([]any{&a.ID, &kind, &a.Action, &a.CreatedDate, &comment, &detail}, u.dest()...)...); err != nil {
			return model.Page[model.RestActivity]{}, fmt.Errorf("read activities: %w", err)
		}
		a.User = u.user()
		var d model.Activity
		if err := json.Unmarshal([]byte(detail), &d); err != nil {
			return model.Page[model.RestActivity]{}, fmt.Errorf("read activity %d: %w", a.ID, err)
		}
		switch kind {
		case model.KindActivity:
		case model.KindCommentAdded, model.KindCommentOther:
			a.Action, a.CommentAction = model.ActionCommented, "ADDED"
			c := comments.byRow[comment.Int64]
			if kind == model.KindCommentOther {
				a.CommentAction, c = d.CommentAction, comments.byArchiveID[d.CommentID]
			}
			if c != nil {
				a.Comment, a.CommentAnchor = c, c.Anchor
			}
		case model.KindReviewersUpdated:
			a.Action = model.ActionUpdated
			if a.AddedReviewers, err = users.all(d.AddedIDs); err == nil {
				a.RemovedReviewers, err = users.all(d.RemovedIDs)
			}
			if err != nil {
				return model.Page[model.RestActivity]{}, err
			}
		case model.KindRescoped:
			a.Action = model.ActionRescoped
			a.FromHash, a.PreviousFromHash, a.ToHash, a.PreviousToHash = d.FromHash, d.PreviousFromHash, d.ToHash, d.PreviousToHash
			a.Added = &model.RestRescopeCount{Commits: []model.RestCommitID{}, Total: d.TotalAdded}
			a.Removed = &model.RestRescopeCount{Commits: []model.RestCommitID{}, Total: d.TotalRemoved}
			for _, c := range d.Commits {
				to := a.Added
				if c.Action == "REMOVED" {
					to = a.Removed
				}
				to.Commits = append(to.Commits, model.RestCommitID{ID: c.CommitID})
			}
		case model.KindMerged:
			a.Action, a.AutoMerge = model.ActionMerged, &d.AutoMerge
			// A stacked pull request, merged by the one built on it, has no
			// merge commit: Bitbucket answers it without "commit".
			if d.Hash != "" {
				a.Commit = &model.RestCommitID{ID: d.Hash}
			}
		default:
			continue // kept in the database for later tools; the API has no shape for it
		}
		all = append(all, a)
	}
	if err := rows.Err(); err != nil {
		return model.Page[model.RestActivity]{}, fmt.Errorf("read activities: %w", err)
	}
	start, limit = wire.Bounds(start, limit)
	return wire.PageOf(all, start, limit), nil
}

// comments are a pull request's comments as trees, by row id and by the
// archive's comment id.
type comments struct {
	byRow       map[int64]*model.RestComment
	byArchiveID map[string]*model.RestComment
}

// commentTrees reads every comment of a pull request and nests replies
// under their parents, in the order they were written.
func (in *Instance) commentTrees(ctx context.Context, prRow int64) (comments, error) {
	rows, err := in.db.QueryContext(ctx, `SELECT c.id, c.parent_id, c.archive_id, c.text, c.severity, c.state, c.created_date,
		c.updated_date, COALESCE(c.resolved_date, 0), c.thread_resolved, c.anchor, `+nullUserColumns("a")+`, `+nullUserColumns("r")+`
		FROM comments c LEFT JOIN users a ON a.id = c.author_id LEFT JOIN users r ON r.id = c.resolver_id
		WHERE c.pull_request_id = ? ORDER BY c.id`, prRow)
	if err != nil {
		return comments{}, fmt.Errorf("read comments: %w", err)
	}
	defer rows.Close()
	cs := comments{byRow: map[int64]*model.RestComment{}, byArchiveID: map[string]*model.RestComment{}}
	parents := map[int64]int64{}
	var order []int64
	for rows.Next() {
		c := &model.RestComment{Comments: []model.RestComment{}}
		var parent sql.NullInt64
		var archiveID string
		var anchor sql.NullString
		var author, resolver nullUser
		dest := []any{&c.ID, &parent, &archiveID, &c.Text, &c.Severity, &c.State, &c.CreatedDate, &c.UpdatedDate, &c.ResolvedDate, &c.ThreadResolved, &anchor}
		if err := rows.Scan(append(append(dest, author.dest()...), resolver.dest()...)...); err != nil {
			return comments{}, fmt.Errorf("read comments: %w", err)
		}
		c.Author = author.user()
		if resolver.id.Valid {
			u := resolver.user()
			c.Resolver = &u
		}
		if anchor.Valid {
			var a model.Anchor
			if err := json.Unmarshal([]byte(anchor.String), &a); err != nil {
				return comments{}, fmt.Errorf("read the anchor of comment %s: %w", archiveID, err)
			}
			c.Anchor = &model.RestCommentAnchor{Path: a.Path, Line: a.Line, LineType: a.LineType, FileType: a.FileType,
				DiffType: a.DiffType, FromHash: a.FromHash, ToHash: a.ToHash, Orphaned: a.Orphaned}
		}
		cs.byRow[c.ID], cs.byArchiveID[archiveID] = c, c
		if parent.Valid {
			parents[c.ID] = parent.Int64
		}
		order = append(order, c.ID)
	}
	if err := rows.Err(); err != nil {
		return comments{}, fmt.Errorf("read comments: %w", err)
	}
	// Replies are stored after their parents, so walking the rows backwards
	// nests each reply, already whole, into its parent. A reply shares its
	// thread's resolution, which only the root records.
	for i := len(order) - 1; i >= 0; i-- {
		c := cs.byRow[order[i]]
		if p, ok := parents[c.ID]; ok {
			parent := cs.byRow[p]
			parent.Comments = append([]model.RestComment{*c}, parent.Comments...)
		}
	}
	for _, id := range order {
		if _, ok := parents[id]; !ok {
			setThreadResolved(cs.byRow[id], cs.byRow[id].ThreadResolved)
		}
	}
	return cs, nil
}

func setThreadResolved(c *model.RestComment, resolved bool) {
	c.ThreadResolved = resolved
	for i := range c.Comments {
		setThreadResolved(&c.Comments[i], resolved)
	}
}

// nullUserColumns are the columns of a user that a LEFT JOIN may leave
// NULL, read by nullUser.
func nullUserColumns(t string) string {
	return t + `.id, ` + t + `.name, ` + t + `.slug, ` + t + `.display_name, ` + t + `.email, ` + t + `.active, ` + t + `.type`
}

type nullUser struct {
	id                              sql.NullInt64
	name, slug, display, email, typ sql.NullString
	active                          sql.NullBool
}

func (u *nullUser) dest() []any {
	return []any{&u.id, &u.name, &u.slug, &u.display, &u.email, &u.active, &u.typ}
}

func (u *nullUser) user() model.User {
	return model.User{ID: u.id.Int64, Name: u.name.String, Slug: u.slug.String, DisplayName: u.display.String,
		EmailAddress: u.email.String, Active: u.active.Bool, Type: u.typ.String}
}

// userLookup finds the users that the archive names by id string.
type userLookup struct {
	ctx    context.Context
	db     *sql.DB
	bySlug map[string]model.User
}

// all returns the users of the archive's id strings; one the import left
// out (not of the form slug|displayName||TYPE) is left out here too.
func (l userLookup) all(ids []string) ([]model.User, error) {
	var users []model.User
	for _, s := range ids {
		id, err := model.ParseUserID(s)
		if err != nil {
			continue
		}
		u, ok := l.bySlug[id.Slug]
		if !ok {
			var n nullUser
			err := l.db.QueryRowContext(l.ctx, `SELECT `+nullUserColumns("u")+` FROM users u WHERE u.slug = ?`, id.Slug).Scan(n.dest()...)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read user %s: %w", id.Slug, err)
			}
			u = n.user()
			l.bySlug[id.Slug] = u
		}
		users = append(users, u)
	}
	return users, nil
}
