package importer

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

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
	p := paging[model.RestProject]{start: start, limit: limit, order: []string{"p.key"},
		key: func(p model.RestProject) []any { return []any{p.Key} }}
	return queryPage(ctx, in, p, scanProject,
		`SELECT `+projectColumns+` FROM projects p WHERE `+containsSQL("p.name"), q.Name, q.Name)
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
	p := paging[model.RestRepository]{start: start, limit: limit, order: []string{"p.key", "r.slug"},
		key: func(r model.RestRepository) []any { return []any{r.Project.Key, r.Slug} }}
	return queryPage(ctx, in, p, scanRepository,
		repositoryQuery+` WHERE `+where+` AND `+containsSQL("r.name")+` AND `+containsSQL("p.name"),
		append(args, q.Name, q.Name, q.ProjectName, q.ProjectName)...)
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
	start, limit = wire.Bounds(start, limit)
	return in.pullRequests(ctx, repo, where, args, pullRequestPaging(start, limit, q.Order != model.OrderOldest))
}

// PullRequest returns one pull request of a repository, or model.ErrNotFound.
func (in *Instance) PullRequest(ctx context.Context, projectKey, slug string, id int64) (model.RestPullRequest, error) {
	repo, err := in.Repository(ctx, projectKey, slug)
	if err != nil {
		return model.RestPullRequest{}, err
	}
	page, err := in.pullRequests(ctx, repo, `pr.scoped_id = ?`, []any{id}, pullRequestPaging(0, 1, false))
	if err != nil {
		return model.RestPullRequest{}, err
	}
	if len(page.Values) == 0 {
		return model.RestPullRequest{}, fmt.Errorf("pull request %s/%s#%d %w", projectKey, slug, id, model.ErrNoSuchPullRequest)
	}
	// Bitbucket sends a pull request's properties in its lists only.
	pr := page.Values[0]
	pr.Properties = nil
	return pr, nil
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

// pullRequestPaging pages pull requests by id, newest first when desc.
func pullRequestPaging(start, limit int, desc bool) paging[model.RestPullRequest] {
	return paging[model.RestPullRequest]{start: start, limit: limit, order: []string{"pr.scoped_id"}, desc: desc,
		key: func(pr model.RestPullRequest) []any { return []any{pr.ID} }}
}

// pullRequests reads a page of repo's pull requests with their
// participants; tail is the query's WHERE condition, args its arguments.
func (in *Instance) pullRequests(ctx context.Context, repo model.RestRepository, tail string, args []any, p paging[model.RestPullRequest]) (model.Page[model.RestPullRequest], error) {
	var rowIDs []int64
	page, err := queryPage(ctx, in, p, func(row interface{ Scan(...any) error }) (model.RestPullRequest, error) {
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

// paging is how one list query is paged: the page asked for, and the
// order of its rows, whose columns are together unique, so that the last
// row's key says where the next page begins.
type paging[T any] struct {
	start, limit int
	order        []string // the ORDER BY columns, all one direction
	desc         bool
	key          func(T) []any // a row's values of the order columns
	// appendOnly: rows only ever come after the last one (a job's
	// messages), so that a key seen once keeps its place for good. Other
	// lists change only while an import runs, and are not continued then.
	appendOnly bool
	// seeked: the query's condition already begins at start (a dense
	// sequence number), so that no row is skipped here.
	seeked bool
}

// queryPage reads the page p asks for of query, a SELECT whose WHERE
// condition is a conjunction that p's order and bounds are appended to. The
// page at a start that the previous page's nextPageStart named is read as
// the rows after that page's last key, an index seek; a start reached
// otherwise, or while the list may change, skips rows with OFFSET (correct,
// and as costly as the rows skipped). Either way the page is the one
// OFFSET gives; one row more than the page is read to know whether another
// follows.
func queryPage[T any](ctx context.Context, in *Instance, p paging[T], scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) (model.Page[T], error) {
	list := fmt.Sprintf("%s\x00%#v\x00%t", query, args, p.desc)
	stamp, cacheable := "", !p.seeked
	if cacheable && !p.appendOnly {
		var err error
		if stamp, cacheable, err = in.listStamp(ctx); err != nil {
			return model.Page[T]{}, err
		}
	}
	cmp, dir := ">", ""
	if p.desc {
		cmp, dir = "<", " DESC"
	}
	order := " ORDER BY " + strings.Join(p.order, dir+", ") + dir
	args = append([]any(nil), args...)
	var after []any
	if cacheable {
		after = in.pages.get(list, stamp, p.start)
	}
	switch {
	case after != nil:
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(after)), ", ")
		query += " AND (" + strings.Join(p.order, ", ") + ") " + cmp + " (" + marks + ")" + order + " LIMIT ?"
		args = append(append(args, after...), p.limit+1)
	case p.seeked:
		query += order + " LIMIT ?"
		args = append(args, p.limit+1)
	default:
		query += order + " LIMIT ? OFFSET ?"
		args = append(args, p.limit+1, p.start)
	}
	rows, err := in.db.QueryContext(ctx, query, args...)
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
	page := wire.PageLookahead(values, p.start, p.limit)
	if cacheable && !page.IsLastPage {
		in.pages.put(list, stamp, *page.NextPageStart, p.key(page.Values[len(page.Values)-1]))
	}
	return page, nil
}

// listStamp names the state of the home's lists (projects, repositories,
// pull requests): they change only while an import runs, or as a job's
// end is recorded, so the newest job and its end name it. ok is false
// while a job runs: pages are then not continued by key.
func (in *Instance) listStamp(ctx context.Context) (stamp string, ok bool, err error) {
	var id int64
	var end sql.NullInt64
	err = in.db.QueryRowContext(ctx, `SELECT id, end_date FROM jobs ORDER BY id DESC LIMIT 1`).Scan(&id, &end)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", true, nil
	case err != nil:
		return "", false, fmt.Errorf("read jobs: %w", err)
	}
	return fmt.Sprint(id, "/", end.Int64), end.Valid, nil
}

// pageCacheSize bounds the continuations remembered: one per list a
// client is reading page by page, a few hundred bytes each.
const pageCacheSize = 4096

// pageCache remembers, for a list and the start its last page answered as
// nextPageStart, the key of that page's last row, so that the next page is
// an index seek past it. Oldest entries go first when it is full.
type pageCache struct {
	mu      sync.Mutex
	entries map[pageCacheKey]pageCacheEntry
	order   []pageCacheKey // ring of the keys in entries, oldest at next
	next    int
}

type pageCacheKey struct {
	list  string
	start int
}

type pageCacheEntry struct {
	stamp string
	after []any
}

func (c *pageCache) get(list, stamp string, start int) []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[pageCacheKey{list, start}]
	if !ok || e.stamp != stamp {
		return nil
	}
	return e.after
}

func (c *pageCache) put(list, stamp string, start int, after []any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[pageCacheKey]pageCacheEntry{}
		c.order = make([]pageCacheKey, pageCacheSize)
	}
	k := pageCacheKey{list, start}
	if _, ok := c.entries[k]; !ok {
		if old := c.order[c.next]; old != (pageCacheKey{}) {
			delete(c.entries, old)
		}
		c.order[c.next] = k
		c.next = (c.next + 1) % pageCacheSize
	}
	c.entries[k] = pageCacheEntry{stamp, after}
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
