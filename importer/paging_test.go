package importer

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"bbimport/model"
)

// addJob records a job, finished or running, and returns its id.
func addJob(tb testing.TB, db *sql.DB, finished bool) int64 {
	tb.Helper()
	end := sql.NullInt64{Int64: 1, Valid: finished}
	state := model.StateCompleted
	if !finished {
		state = model.StateRunning
	}
	res, err := db.Exec(`INSERT INTO jobs(state, archive_path, start_date, updated_date, end_date, heartbeat)
		VALUES (?, 'a.tar', 1, 1, ?, 9999999999999)`, state, end)
	if err != nil {
		tb.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

// fixtureSeverity and fixtureSubject are the severity and subject of a
// fixture's message i: mostly INFO, every 10th WARN, every 100th ERROR;
// subjects spread over two projects' repositories and pull requests.
func fixtureSeverity(i int) model.Severity {
	switch {
	case i%100 == 99:
		return model.SeverityError
	case i%10 == 9:
		return model.SeverityWarn
	}
	return model.SeverityInfo
}

func fixtureSubject(i int) string {
	switch i % 7 {
	case 0:
		return ""
	case 1:
		return "PRJ"
	case 2:
		return fmt.Sprintf("PRJ/r%d", i%5)
	case 3:
		return fmt.Sprintf("PRJ/r%d#%d", i%5, i%11)
	case 4:
		return "PRJX/r1"
	}
	return fmt.Sprintf("OTHER/r%d", i%3)
}

// addMessages logs messages of the jobs, one after another in the order
// jobs lists them, through the importer's own insert, in one transaction.
func addMessages(tb testing.TB, db *sql.DB, jobs ...int64) {
	tb.Helper()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	stmt, err := tx.Prepare(insertMessageSQL)
	if err != nil {
		tb.Fatal(err)
	}
	for i, job := range jobs {
		if _, err := stmt.Exec(job, job, fixtureSeverity(i), fixtureSubject(i), fmt.Sprint("message ", i), 1497657601000); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// offsetIDs is what a page was before keyset paging: a LIMIT/OFFSET query
// of the first column, asked one row more than the page.
func offsetIDs(t *testing.T, db *sql.DB, query string, args []any, start, limit int) (ids []string, last bool) {
	t.Helper()
	rows, err := db.Query(query+` LIMIT ? OFFSET ?`, append(slices.Clone(args), limit+1, start)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ids) > limit {
		return ids[:limit], false
	}
	return ids, true
}

// checkPage compares a page, by its values' ids, with the OFFSET query's.
func checkPage[T any](t *testing.T, what string, page model.Page[T], id func(T) string, want []string, wantLast bool, start int) {
	t.Helper()
	got := make([]string, len(page.Values))
	for i, v := range page.Values {
		got[i] = id(v)
	}
	next := -1
	if page.NextPageStart != nil {
		next = *page.NextPageStart
	}
	wantNext := -1
	if !wantLast {
		wantNext = start + len(want)
	}
	if !slices.Equal(got, want) || page.IsLastPage != wantLast || next != wantNext || page.Start != start || page.Size != len(want) {
		t.Fatalf("%s at %d: values %v, isLastPage %t, nextPageStart %d, start %d, size %d; want %v, %t, %d, %d, %d",
			what, start, got, page.IsLastPage, next, page.Start, page.Size, want, wantLast, wantNext, start, len(want))
	}
}

// walk reads a list as clients do: from 0 following nextPageStart, then
// jumping to random starts and following on from there; fetch checks each
// page and returns its nextPageStart (-1 after the last).
func walk(rnd *rand.Rand, total int, fetch func(start, limit int) int) {
	limit := 1 + rnd.IntN(60)
	for start := 0; start >= 0; start = fetch(start, limit) {
	}
	for range 8 {
		start := rnd.IntN(total + 10)
		for range 3 {
			if start = fetch(start, limit); start < 0 {
				break
			}
		}
	}
}

func pick[T any](rnd *rand.Rand, options ...T) T { return options[rnd.IntN(len(options))] }

func TestMessagePagesAreTheOffsetPages(t *testing.T) {
	in := openHome(t)
	a, b := addJob(t, in.db, true), addJob(t, in.db, false)
	rnd := rand.New(rand.NewPCG(1, 2))
	jobs := make([]int64, 3000)
	for i := range jobs {
		jobs[i] = pick(rnd, a, a, b)
	}
	addMessages(t, in.db, jobs...)
	ctx := context.Background()
	for round := range 40 {
		job := pick(rnd, a, b)
		q := model.MessageQuery{}
		var sevs []model.Severity
		switch rnd.IntN(4) {
		case 1:
			sevs = []model.Severity{pick(rnd, model.Severities...)}
		case 2:
			sevs = []model.Severity{model.SeverityWarn, model.SeverityError}
		}
		q.Severities = sevs
		if rnd.IntN(3) == 0 {
			q.Subject = pick(rnd, "PRJ", "PRJ/r1", "PRJ/r2#3", "OTHER", "NONE")
		}
		where, args := "job_id = ?", []any{job}
		if len(sevs) > 0 {
			where += " AND severity IN (" + strings.TrimSuffix(strings.Repeat("?,", len(sevs)), ",") + ")"
			for _, s := range sevs {
				args = append(args, s)
			}
		}
		if q.Subject != "" {
			where += " AND (subject = ? OR subject LIKE ? OR subject LIKE ?)"
			args = append(args, q.Subject, q.Subject+"/%", q.Subject+"#%")
		}
		var total int
		if err := in.db.QueryRow(`SELECT COUNT(*) FROM messages WHERE `+where, args...).Scan(&total); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("round %d: messages of job %d %+v", round, job, q)
		walk(rnd, total, func(start, limit int) int {
			q.Start, q.Limit = start, limit
			page, err := in.Messages(ctx, job, q)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			want, last := offsetIDs(t, in.db, `SELECT id FROM messages WHERE `+where+` ORDER BY id`, args, start, limit)
			checkPage(t, what, page, func(m model.Message) string { return m.ID }, want, last, start)
			if last {
				return -1
			}
			return *page.NextPageStart
		})
	}
}

// A job's messages logged while a client follows its pages come after the
// pages it has read: following nextPageStart to the end reads each
// message once, filtered or not.
func TestMessagePagesWhileMessagesAreLogged(t *testing.T) {
	in := openHome(t)
	job := addJob(t, in.db, false)
	ctx := context.Background()
	queries := []model.MessageQuery{{Limit: 7}, {Limit: 3, Severities: []model.Severity{model.SeverityInfo}}}
	seen := make([][]string, len(queries))
	next := make([]int, len(queries))
	for round, done := 0, false; !done; round++ {
		if round < 30 {
			addMessages(t, in.db, slices.Repeat([]int64{job}, 5)...)
		}
		done = round >= 30
		for i, q := range queries {
			q.Start = next[i]
			page, err := in.Messages(ctx, job, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page.Values {
				seen[i] = append(seen[i], m.ID)
			}
			next[i] = page.Start + page.Size
			done = done && page.IsLastPage
		}
	}
	for i, where := range []string{"", " AND severity = 'INFO'"} {
		want, _ := offsetIDs(t, in.db, `SELECT id FROM messages WHERE job_id = ?`+where+` ORDER BY id`, []any{job}, 0, 1000)
		if !slices.Equal(seen[i], want) {
			t.Errorf("%+v followed while logged: %v; want %v", queries[i], seen[i], want)
		}
	}
}

// A home whose messages were logged before they were numbered is migrated
// on Open: each job's messages are numbered in their order, and every page
// is the one the OFFSET query gives.
func TestMigrationNumbersOldMessages(t *testing.T) {
	home := t.TempDir()
	dbPath := filepath.Join(home, "shared", "data", "bbimport.db")
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	const unnumbered = 3 // the schema version before messages had seq
	for range unnumbered {
		if _, err := migrateOnce(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
	a, b := addJob(t, db, true), addJob(t, db, true)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		if _, err := db.Exec(`INSERT INTO messages(job_id, severity, subject, text, created_date) VALUES (?, ?, ?, ?, 1)`,
			pick(rnd, a, b), fixtureSeverity(i), fixtureSubject(i), fmt.Sprint("old ", i)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	in, err := Open(Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	for _, job := range []int64{a, b} {
		what := "old messages of job " + strconv.FormatInt(job, 10)
		walk(rnd, 300, func(start, limit int) int {
			page, err := in.Messages(ctx, job, model.MessageQuery{Start: start, Limit: limit})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			want, last := offsetIDs(t, in.db, `SELECT id FROM messages WHERE job_id = ? ORDER BY id`, []any{job}, start, limit)
			checkPage(t, what, page, func(m model.Message) string { return m.ID }, want, last, start)
			if last {
				return -1
			}
			return *page.NextPageStart
		})
	}
	// New messages of an old job follow its old ones.
	addMessages(t, in.db, a)
	page, err := in.Messages(ctx, a, model.MessageQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(page.Values); n == 0 || page.Values[n-1].Text != "message 0" {
		t.Errorf("job %d's messages after the migration end with %+v; want the new one last", a, page.Values[n-1])
	}
}

// addEntities adds projects numbered from first (keys of mixed case, which
// order without case) and their repositories, and returns the first
// repository's id.
func addEntities(t *testing.T, db *sql.DB, rnd *rand.Rand, first, projects int) (repoID int64) {
	t.Helper()
	for p := first; p < first+projects; p++ {
		key := fmt.Sprintf("%c%c%d", pick(rnd, 'a', 'B', 'c', 'D'), pick(rnd, 'X', 'y'), p)
		res, err := db.Exec(`INSERT INTO projects(key, name, public, type) VALUES (?, ?, 0, 'NORMAL')`,
			key, fmt.Sprintf("%s Project %d", pick(rnd, "Blue", "green", "Red"), p))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := res.LastInsertId()
		for r := range rnd.IntN(8) {
			slug := fmt.Sprintf("%s-%d", pick(rnd, "api", "Web", "core"), r)
			res, err := db.Exec(`INSERT INTO repositories(project_id, slug, name, hierarchy_id, scm_id, state, forkable, public)
				VALUES (?, ?, ?, 'h', 'git', 'AVAILABLE', 1, 0)`, pid, slug, slug+" "+pick(rnd, "Service", "tool"))
			if err != nil {
				t.Fatal(err)
			}
			if repoID == 0 {
				repoID, _ = res.LastInsertId()
			}
		}
	}
	return repoID
}

// addPullRequests adds pull requests numbered from first to a repository.
func addPullRequests(t *testing.T, db *sql.DB, rnd *rand.Rand, repoID int64, first, n int) {
	t.Helper()
	for id := first; id < first+n; id++ {
		if _, err := db.Exec(`INSERT INTO pull_requests(repository_id, scoped_id, version, title, description, state, draft,
			created_date, updated_date, from_ref, from_display_id, from_commit, to_ref, to_display_id, to_commit)
			VALUES (?, ?, 0, ?, '', ?, 0, 1, 1, 'refs/heads/f', 'f', 'c1', ?, 'x', 'c2')`, repoID, id,
			pick(rnd, "Fix", "feature", "Docs"), pick(rnd, model.PROpen, model.PRMerged, model.PRDeclined),
			pick(rnd, "refs/heads/main", "refs/heads/dev")); err != nil {
			t.Fatal(err)
		}
	}
}

// The lists of projects, repositories and pull requests, followed page by
// page and jumped into, are their OFFSET pages, also when an import
// changes them between two pages.
func TestListPagesAreTheOffsetPages(t *testing.T) {
	in := openHome(t)
	addJob(t, in.db, true)
	rnd := rand.New(rand.NewPCG(5, 6))
	repoID := addEntities(t, in.db, rnd, 0, 120)
	addPullRequests(t, in.db, rnd, repoID, 1, 400)
	var repoProject, repoSlug string
	if err := in.db.QueryRow(`SELECT p.key, r.slug FROM repositories r JOIN projects p ON p.id = r.project_id WHERE r.id = ?`,
		repoID).Scan(&repoProject, &repoSlug); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(what string, total int, fetch func(start, limit int) (int, error)) {
		walk(rnd, total, func(start, limit int) int {
			next, err := fetch(start, limit)
			if err != nil {
				t.Fatalf("%s at %d: %v", what, start, err)
			}
			return next
		})
	}
	nextOf := func(last bool, start, size int) int {
		if last {
			return -1
		}
		return start + size
	}
	for round := range 30 {
		if round == 20 {
			// An import runs and adds rows before those already listed:
			// the page after one read before is read after them.
			all := model.PullRequestQuery{State: model.PRStateAll}
			if _, err := in.ListPullRequests(ctx, repoProject, repoSlug, all, 0, 10); err != nil {
				t.Fatal(err)
			}
			addJob(t, in.db, false)
			addEntities(t, in.db, rnd, 1000, 5)
			for _, added := range []int{401, 421} {
				addPullRequests(t, in.db, rnd, repoID, added, 20)
				page, err := in.ListPullRequests(ctx, repoProject, repoSlug, all, 10, 10)
				if err != nil {
					t.Fatal(err)
				}
				want, last := offsetIDs(t, in.db, `SELECT scoped_id FROM pull_requests WHERE repository_id = ? ORDER BY scoped_id DESC`, []any{repoID}, 10, 10)
				checkPage(t, fmt.Sprintf("pull requests after an import added from #%d", added), page, func(pr model.RestPullRequest) string { return strconv.FormatInt(pr.ID, 10) }, want, last, 10)
				if _, err := in.ListPullRequests(ctx, repoProject, repoSlug, all, 0, 10); err != nil {
					t.Fatal(err)
				}
			}
		}
		name := pick(rnd, "", "blue", "PROJECT 1")
		check(fmt.Sprintf("round %d: projects named %q", round, name), 130, func(start, limit int) (int, error) {
			page, err := in.ListProjects(ctx, model.ProjectQuery{Name: name}, start, limit)
			want, last := offsetIDs(t, in.db, `SELECT key FROM projects WHERE instr(lower(name), lower(?)) > 0 ORDER BY key`,
				[]any{name}, start, limit)
			checkPage(t, "projects", page, func(p model.RestProject) string { return p.Key }, want, last, start)
			return nextOf(last, start, page.Size), err
		})
		rq := model.RepositoryQuery{Name: pick(rnd, "", "service", "API"), ProjectName: pick(rnd, "", "red")}
		check(fmt.Sprintf("round %d: repositories %+v", round, rq), 500, func(start, limit int) (int, error) {
			page, err := in.ListRepositories(ctx, rq, start, limit)
			want, last := offsetIDs(t, in.db, `SELECT p.key || '/' || r.slug FROM repositories r JOIN projects p ON p.id = r.project_id
				WHERE instr(lower(r.name), lower(?)) > 0 AND instr(lower(p.name), lower(?)) > 0 ORDER BY p.key, r.slug`,
				[]any{rq.Name, rq.ProjectName}, start, limit)
			checkPage(t, "repositories", page, func(r model.RestRepository) string { return r.Project.Key + "/" + r.Slug }, want, last, start)
			return nextOf(last, start, page.Size), err
		})
		pq := model.PullRequestQuery{State: pick(rnd, model.PRStateAll, model.PROpen, model.PRMerged), Order: pick(rnd, model.OrderNewest, model.OrderOldest),
			FilterText: pick(rnd, "", "fix"), At: pick(rnd, "", "refs/heads/dev")}
		order := "DESC"
		if pq.Order == model.OrderOldest {
			order = "ASC"
		}
		check(fmt.Sprintf("round %d: pull requests %+v", round, pq), 400, func(start, limit int) (int, error) {
			page, err := in.ListPullRequests(ctx, repoProject, repoSlug, pq, start, limit)
			want, last := offsetIDs(t, in.db, `SELECT scoped_id FROM pull_requests WHERE repository_id = ? AND (? = 'ALL' OR state = ?)
				AND (? = '' OR to_ref = ?) AND instr(lower(title), lower(?)) > 0 ORDER BY scoped_id `+order,
				[]any{repoID, pq.State, pq.State, pq.At, pq.At, pq.FilterText}, start, limit)
			checkPage(t, "pull requests", page, func(pr model.RestPullRequest) string { return strconv.FormatInt(pr.ID, 10) }, want, last, start)
			return nextOf(last, start, page.Size), err
		})
	}
}
