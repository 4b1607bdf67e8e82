package importer

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"bbimport/model"
)

// queryPlan returns the steps of query's plan, one per line, with NULL for
// each parameter.
func queryPlan(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	args := make([]any, strings.Count(query, "?"))
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}

// searches fails the test unless every table query reads is searched
// through an index: a SCAN costs as much as the table is large, and the
// import runs such a query once per item.
func searches(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	steps := queryPlan(t, db, query)
	for _, s := range steps {
		if strings.HasPrefix(s, "SCAN") {
			t.Errorf("%s\nreads a whole table: %s", query, strings.Join(steps, "; "))
			return
		}
	}
	if len(steps) == 0 {
		t.Errorf("%s: no plan", query)
	}
}

// scaleDB is a migrated database with the scale indexes.
func scaleDB(t *testing.T) *sql.DB {
	t.Helper()
	db := migratedDB(t)
	if _, err := db.Exec(scaleIndexes); err != nil {
		t.Fatalf("create the scale indexes: %v", err)
	}
	return db
}

// Every lookup the import makes per project, repository, user and pull
// request finds its row through an index.
func TestScaleImportLookupsSearchAnIndex(t *testing.T) {
	db := scaleDB(t)
	w, err := newWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	st := &store{w: w, job: 1}
	// Each lookup once, so that the writer holds its query.
	for _, lookup := range []func() error{
		func() error { _, _, err := st.projectID("PRJ"); return err },
		func() error { _, err := st.projectKeyTaken("PRJ"); return err },
		func() error { _, err := st.projectNameTaken("Project"); return err },
		func() error { _, _, err := st.userID("alice"); return err },
		func() error { _, err := st.repositorySlugTaken(1, "golden"); return err },
		func() error { _, err := st.repositoryNameTaken(1, "Golden"); return err },
		func() error { _, err := st.pullRequestExists(1, 2); return err },
	} {
		if err := lookup(); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	for query := range w.stmts {
		if strings.HasPrefix(strings.TrimSpace(query), "SELECT") {
			n++
			searches(t, db, query)
		}
	}
	if n != 7 {
		t.Errorf("%d lookups explained, want 7", n)
	}
}

// The import deletes repositories, pull requests and what cascades from
// them (and a pull request's comments and activities); SQLite then looks,
// for each row deleted, for the rows whose foreign keys point at it. Each
// such lookup must search an index, whatever foreign keys the schema has.
func TestScaleForeignKeysOfDeletedRowsAreIndexed(t *testing.T) {
	db := scaleDB(t)
	deleted := map[string]bool{"repositories": true, "pull_requests": true, "comments": true,
		"pr_activities": true, "pr_participants": true, "permissions": true}
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	checked := 0
	for _, child := range tables {
		fks, err := db.Query(`SELECT "table", "from" FROM pragma_foreign_key_list(?)`, child)
		if err != nil {
			t.Fatal(err)
		}
		var lookups []string
		for fks.Next() {
			var parent, column string
			if err := fks.Scan(&parent, &column); err != nil {
				t.Fatal(err)
			}
			if deleted[parent] {
				lookups = append(lookups, fmt.Sprintf(`SELECT 1 FROM %s WHERE %s = ?`, child, column))
			}
		}
		fks.Close()
		for _, q := range lookups {
			checked++
			searches(t, db, q)
		}
	}
	// comments(pull_request_id, parent_id), pr_activities(pull_request_id,
	// comment_id), pr_participants, permissions(repository_id),
	// pull_requests, repositories(origin_id).
	if checked < 8 {
		t.Errorf("%d foreign keys checked, want at least 8", checked)
	}
}

// BenchmarkScaleDropPullRequest drops a pull request with 10 comments (and
// an activity each) from a home that holds 10,000 pull requests with as
// many: what a pull request failing part-way costs.
func BenchmarkScaleDropPullRequest(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(fmt.Sprintf("indexed=%t", indexed), func(b *testing.B) {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "t.db")+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := migrate(context.Background(), db); err != nil {
				b.Fatal(err)
			}
			if indexed {
				if _, err := db.Exec(scaleIndexes); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := db.Exec(`
INSERT INTO projects(key, name, public, type) VALUES ('PRJ', 'Project', 0, 'NORMAL');
INSERT INTO repositories(project_id, slug, name, hierarchy_id, scm_id, state, forkable, public) VALUES (1, 'r', 'r', 'h', 'git', 'AVAILABLE', 1, 0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO pull_requests(repository_id, scoped_id, version, title, description, state, draft, created_date, updated_date,
	from_ref, from_display_id, from_commit, to_ref, to_display_id, to_commit)
	SELECT 1, i, 0, 't', '', 'OPEN', 0, 0, 0, 'a', 'a', 'c', 'b', 'b', 'c' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO comments(id, pull_request_id, archive_id, text, severity, state, created_date, updated_date)
	SELECT i, 1 + (i - 1) / 10, i, 'text', 'NORMAL', 'OPEN', 0, 0 FROM n;
INSERT INTO pr_activities(pull_request_id, kind, created_date, comment_id) SELECT pull_request_id, 'COMMENT', 0, id FROM comments;
`); err != nil {
				b.Fatal(err)
			}
			w, err := newWriter(db)
			if err != nil {
				b.Fatal(err)
			}
			defer w.close()
			st := &store{w: w, job: 1}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				pr, err := st.insertPullRequest(1, &model.PullRequest{ID: int64(20000 + i), State: "OPEN"})
				if err != nil {
					b.Fatal(err)
				}
				for range 10 {
					c, err := st.insertComment(&model.Comment{ID: "c", Severity: "NORMAL", State: "OPEN"}, commentRow{pullRequest: pr})
					if err != nil {
						b.Fatal(err)
					}
					if err := st.insertActivity(pr, model.Activity{Kind: model.KindCommentAdded}, sql.NullInt64{}, sql.NullInt64{Int64: c, Valid: true}, "{}"); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := st.deletePullRequest(pr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
