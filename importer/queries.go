package importer

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"bbimport/model"
	"bbimport/wire"
)

// ProjectExists reports whether a project key is taken (keys compare
// without case, as in Bitbucket).
func (in *Instance) ProjectExists(ctx context.Context, key string) (bool, error) {
	var one int
	err := in.db.QueryRowContext(ctx, `SELECT 1 FROM projects WHERE key = ?`, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up project %s: %w", key, err)
	}
	return true, nil
}

const projectColumns = `p.id, p.key, p.name, p.description, p.public, p.type`

func scanProject(row interface{ Scan(...any) error }) (model.RestProject, error) {
	var p model.RestProject
	err := row.Scan(&p.ID, &p.Key, &p.Name, &p.Description, &p.Public, &p.Type)
	return p, err
}

// Projects returns a page of all projects by key.
func (in *Instance) Projects(ctx context.Context, start, limit int) (model.Page[model.RestProject], error) {
	return in.ListProjects(ctx, model.ProjectQuery{}, start, limit)
}

// ListProjects returns a page of the projects q matches, by key.
func (in *Instance) ListProjects(ctx context.Context, q model.ProjectQuery, start, limit int) (model.Page[model.RestProject], error) {
	start, limit = wire.Bounds(start, limit)
	return queryPage(ctx, in.db, start, limit, scanProject,
		`SELECT `+projectColumns+` FROM projects p WHERE `+containsSQL("p.name")+` ORDER BY p.key LIMIT ? OFFSET ?`, q.Name, q.Name)
}

// containsSQL is a condition that holds when its argument, given twice,
// is empty or a part of column in any case.
func containsSQL(column string) string {
	return `(? = '' OR instr(lower(` + column + `), lower(?)) > 0)`
}

// Project returns one project by key, or model.ErrNotFound.
func (in *Instance) Project(ctx context.Context, key string) (model.RestProject, error) {
	p, err := scanProject(in.db.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects p WHERE p.key = ?`, key))
	return p, notFound(err, model.ErrNoSuchProject, "project "+key)
}

const repositoryQuery = `SELECT r.id, r.slug, r.name, r.hierarchy_id, r.scm_id, r.state, r.status_message, r.forkable, r.public,
	` + projectColumns + `,
	o.id, o.slug, o.name, o.hierarchy_id, o.scm_id, o.state, o.status_message, o.forkable, o.public,
	op.id, op.key, op.name, op.description, op.public, op.type
	FROM repositories r JOIN projects p ON p.id = r.project_id
	LEFT JOIN repositories o ON o.id = r.origin_id LEFT JOIN projects op ON op.id = o.project_id`

func scanRepository(row interface{ Scan(...any) error }) (model.RestRepository, error) {
	var r model.RestRepository
	var o struct {
		id, pid                                               sql.NullInt64
		slug, name, hier, scm, state, status, key, pn, pd, pt sql.NullString
		forkable, public, ppublic                             sql.NullBool
	}
	err := row.Scan(&r.ID, &r.Slug, &r.Name, &r.HierarchyID, &r.ScmID, &r.State, &r.StatusMessage, &r.Forkable, &r.Public,
		&r.Project.ID, &r.Project.Key, &r.Project.Name, &r.Project.Description, &r.Project.Public, &r.Project.Type,
		&o.id, &o.slug, &o.name, &o.hier, &o.scm, &o.state, &o.status, &o.forkable, &o.public,
		&o.pid, &o.key, &o.pn, &o.pd, &o.ppublic, &o.pt)
	if err != nil || !o.id.Valid {
		return r, err
	}
	r.Origin = &model.RestRepository{ID: o.id.Int64, Slug: o.slug.String, Name: o.name.String, HierarchyID: o.hier.String,
		ScmID: o.scm.String, State: o.state.String, StatusMessage: o.status.String, Forkable: o.forkable.Bool, Public: o.public.Bool,
		Project: model.RestProject{ID: o.pid.Int64, Key: o.key.String, Name: o.pn.String, Description: o.pd.String,
			Public: o.ppublic.Bool, Type: o.pt.String}}
	return r, nil
}

// Repositories returns a page of a project's repositories by slug.
func (in *Instance) Repositories(ctx context.Context, projectKey string, start, limit int) (model.Page[model.RestRepository], error) {
	return in.ListRepositories(ctx, model.RepositoryQuery{ProjectKey: projectKey}, start, limit)
}

// ListRepositories returns a page of the repositories q matches, by
// project key and slug.
func (in *Instance) ListRepositories(ctx context.Context, q model.RepositoryQuery, start, limit int) (model.Page[model.RestRepository], error) {
	where, args := `1`, []any{}
	if q.ProjectKey != "" {
		if _, err := in.Project(ctx, q.ProjectKey); err != nil {
			return model.Page[model.RestRepository]{}, err
		}
		where, args = `p.key = ?`, []any{q.ProjectKey}
	}
	start, limit = wire.Bounds(start, limit)
	return queryPage(ctx, in.db, start, limit, scanRepository,
		repositoryQuery+` WHERE `+where+` AND `+containsSQL("r.name")+` AND `+containsSQL("p.name")+`
		ORDER BY p.key, r.slug LIMIT ? OFFSET ?`, append(args, q.Name, q.Name, q.ProjectName, q.ProjectName)...)
}

// Repository returns one repository, or model.ErrNotFound.
func (in *Instance) Repository(ctx context.Context, projectKey, slug string) (model.RestRepository, error) {
	r, err := scanRepository(in.db.QueryRowContext(ctx, repositoryQuery+` WHERE p.key = ? AND r.slug = ?`, projectKey, slug))
	return r, notFound(err, model.ErrNoSuchRepository, "repository "+projectKey+"/"+slug)
}

// PullRequests returns a page of a repository's pull requests of every
// state, newest first.
func (in *Instance) PullRequests(ctx context.Context, projectKey, slug string, start, limit int) (model.Page[model.RestPullRequest], error) {
	return in.ListPullRequests(ctx, projectKey, slug, model.PullRequestQuery{State: model.PRStateAll}, start, limit)
}

// ListPullRequests returns a page of the pull requests of a repository that
// q matches, with their participants. The filters are SQL, so that paging
// counts matches only.
func (in *Instance) ListPullRequests(ctx context.Context, projectKey, slug string, q model.PullRequestQuery, start, limit int) (model.Page[model.RestPullRequest], error) {
	repo, err := in.Repository(ctx, projectKey, slug)
	if err != nil {
		return model.Page[model.RestPullRequest]{}, err
	}
	where, args := pullRequestFilter(q)
	order := `DESC`
	if q.Order == model.OrderOldest {
		order = `ASC`
	}
	start, limit = wire.Bounds(start, limit)
	return in.pullRequests(ctx, repo, where+` ORDER BY pr.scoped_id `+order+` LIMIT ? OFFSET ?`, args, start, limit)
}

// PullRequest returns one pull request of a repository, or model.ErrNotFound.
func (in *Instance) PullRequest(ctx context.Context, projectKey, slug string, id int64) (model.RestPullRequest, error) {
	repo, err := in.Repository(ctx, projectKey, slug)
	if err != nil {
		return model.RestPullRequest{}, err
	}
	page, err := in.pullRequests(ctx, repo, `pr.scoped_id = ? LIMIT ? OFFSET ?`, []any{id}, 0, 1)
	if err != nil {
		return model.RestPullRequest{}, err
	}
	if len(page.Values) == 0 {
		return model.RestPullRequest{}, fmt.Errorf("pull request %s/%s#%d %w", projectKey, slug, id, model.ErrNoSuchPullRequest)
	}
	return page.Values[0], nil
}

// pullRequestFilter is q as a condition on pull_requests pr, and its
// arguments.
func pullRequestFilter(q model.PullRequestQuery) (string, []any) {
	conds := []string{`1`}
	var args []any
	// An unset state is Bitbucket's default, OPEN, as through REST.
	if state := cmp.Or(q.State, model.PROpen); state != model.PRStateAll {
		conds, args = append(conds, `pr.state = ?`), append(args, state)
	}
	if q.At != "" {
		column := `pr.to_ref`
		if q.Direction == model.DirectionOutgoing {
			column = `pr.from_ref`
		}
		conds, args = append(conds, column+` = ?`), append(args, q.At)
	}
	if q.FilterText != "" {
		conds = append(conds, `(instr(lower(pr.title), lower(?)) > 0 OR instr(lower(pr.description), lower(?)) > 0)`)
		args = append(args, q.FilterText, q.FilterText)
	}
	for _, p := range q.Participants {
		conds = append(conds, `EXISTS (SELECT 1 FROM pr_participants pp JOIN users u ON u.id = pp.user_id
			WHERE pp.pull_request_id = pr.id AND u.name = ? COLLATE NOCASE AND (? = '' OR pp.role = ?))`)
		args = append(args, p.Username, p.Role, p.Role)
	}
	return strings.Join(conds, ` AND `), args
}

// pullRequests reads a page of repo's pull requests with their
// participants; tail is the query's WHERE condition with ORDER BY, LIMIT
// and OFFSET, args its arguments before LIMIT.
func (in *Instance) pullRequests(ctx context.Context, repo model.RestRepository, tail string, args []any, start, limit int) (model.Page[model.RestPullRequest], error) {
	var rowIDs []int64
	page, err := queryPage(ctx, in.db, start, limit, func(row interface{ Scan(...any) error }) (model.RestPullRequest, error) {
		var pr model.RestPullRequest
		var rowID int64
		var closed sql.NullInt64
		props := &model.RestPullRequestProperties{}
		err := row.Scan(&rowID, &pr.ID, &pr.Version, &pr.Title, &pr.Description, &pr.State, &pr.Draft, &pr.CreatedDate, &pr.UpdatedDate, &closed,
			&pr.FromRef.ID, &pr.FromRef.DisplayID, &pr.FromRef.LatestCommit, &pr.ToRef.ID, &pr.ToRef.DisplayID, &pr.ToRef.LatestCommit,
			&props.CommentCount, &props.OpenTaskCount, &props.ResolvedTaskCount)
		pr.Properties = props
		pr.ClosedDate = closed.Int64
		pr.Open = pr.State == model.PROpen
		pr.Closed = !pr.Open
		pr.FromRef.Type, pr.ToRef.Type = refType(pr.FromRef.ID), refType(pr.ToRef.ID)
		pr.FromRef.Repository, pr.ToRef.Repository = &repo, &repo
		pr.Reviewers, pr.Participants = []model.RestParticipant{}, []model.RestParticipant{}
		rowIDs = append(rowIDs, rowID)
		return pr, err
	}, `SELECT pr.id, pr.scoped_id, pr.version, pr.title, pr.description, pr.state, pr.draft, pr.created_date, pr.updated_date, pr.closed_date,
		pr.from_ref, pr.from_display_id, pr.from_commit, pr.to_ref, pr.to_display_id, pr.to_commit,
		`+pullRequestPropertyColumns+`
		FROM pull_requests pr WHERE pr.repository_id = ? AND `+tail, append([]any{repo.ID}, args...)...)
	if err != nil || len(page.Values) == 0 {
		return page, err
	}
	byRow := map[int64]*model.RestPullRequest{}
	for i := range page.Values {
		byRow[rowIDs[i]] = &page.Values[i]
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(page.Values)), ",")
	ids := make([]any, len(page.Values))
	for i := range page.Values {
		ids[i] = rowIDs[i]
	}
	rows, err := in.db.QueryContext(ctx, `SELECT pp.pull_request_id, pp.role, pp.status, COALESCE(pp.last_reviewed_commit, ''),
		`+userColumns+`
		FROM pr_participants pp JOIN users u ON u.id = pp.user_id WHERE pp.pull_request_id IN (`+marks+`) ORDER BY pp.id`, ids...)
	if err != nil {
		return page, fmt.Errorf("read participants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var prID int64
		var p model.RestParticipant
		u := &p.User
		if err := rows.Scan(&prID, &p.Role, &p.Status, &p.LastReviewedCommit, &u.ID, &u.Name, &u.Slug, &u.DisplayName, &u.EmailAddress, &u.Active, &u.Type); err != nil {
			return page, fmt.Errorf("read participants: %w", err)
		}
		p.Approved = p.Status == model.StatusApproved
		pr := byRow[prID]
		switch p.Role {
		case model.RoleAuthor:
			pr.Author = p
		case model.RoleReviewer:
			pr.Reviewers = append(pr.Reviewers, p)
		default:
			pr.Participants = append(pr.Participants, p)
		}
	}
	return page, rows.Err()
}

// pullRequestPropertyColumns are a pull request's properties, from
// pull_requests pr: every comment and reply (tasks included), and its
// tasks by state.
const pullRequestPropertyColumns = `(SELECT count(*) FROM comments c WHERE c.pull_request_id = pr.id),
		(SELECT count(*) FROM comments c WHERE c.pull_request_id = pr.id AND c.severity = '` + model.SeverityBlocker + `' AND c.state = '` + model.CommentOpen + `'),
		(SELECT count(*) FROM comments c WHERE c.pull_request_id = pr.id AND c.severity = '` + model.SeverityBlocker + `' AND c.state = '` + model.CommentResolved + `')`

// userColumns are a user's columns in model.User's order, from users u.
const userColumns = `u.id, u.name, u.slug, u.display_name, COALESCE(u.email, ''), u.active, u.type`

// refType is a ref id's type: tags are TAG, everything else BRANCH.
func refType(id string) string {
	if strings.HasPrefix(id, "refs/tags/") {
		return model.RefTag
	}
	return model.RefBranch
}

// queryPage runs a query whose last two arguments are LIMIT and OFFSET,
// asking for one row more than the page to know whether another follows.
func queryPage[T any](ctx context.Context, db *sql.DB, start, limit int, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) (model.Page[T], error) {
	rows, err := db.QueryContext(ctx, query, append(args, limit+1, start)...)
	if err != nil {
		return model.Page[T]{}, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var values []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return model.Page[T]{}, fmt.Errorf("read row: %w", err)
		}
		values = append(values, v)
	}
	if err := rows.Err(); err != nil {
		return model.Page[T]{}, fmt.Errorf("read rows: %w", err)
	}
	return wire.PageLookahead(values, start, limit), nil
}

// notFound words a missing row as the model's error of its kind (one of
// model.ErrNoSuchProject …): "project PRJ does not exist".
func notFound(err, kind error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %w", what, kind)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}
