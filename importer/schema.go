package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// migrations bring the schema forward; migration i takes user_version i to
// i+1. Append only: a home written by an older bbimport is migrated on Open.
var migrations = []string{
	`
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE jobs (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	state            TEXT NOT NULL,
	archive_path     TEXT NOT NULL,
	progress_message TEXT NOT NULL DEFAULT '',
	percentage       INTEGER NOT NULL DEFAULT 0,
	start_date       INTEGER NOT NULL,
	updated_date     INTEGER NOT NULL,
	end_date         INTEGER,
	initiator        TEXT -- JSON of model.User, when the REST server names one
);

CREATE TABLE messages (
	id           INTEGER PRIMARY KEY,
	job_id       INTEGER NOT NULL REFERENCES jobs(id),
	severity     TEXT NOT NULL,
	subject      TEXT NOT NULL DEFAULT '',
	text         TEXT NOT NULL,
	created_date INTEGER NOT NULL
);
CREATE INDEX messages_job ON messages(job_id, id);
CREATE INDEX messages_severity ON messages(job_id, severity, id);
CREATE INDEX messages_subject ON messages(job_id, subject, id);

CREATE TABLE users (
	id           INTEGER PRIMARY KEY,
	slug         TEXT NOT NULL UNIQUE,
	name         TEXT NOT NULL,
	display_name TEXT NOT NULL,
	email        TEXT,
	active       INTEGER NOT NULL,
	type         TEXT NOT NULL
);

CREATE TABLE projects (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	key         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	public      INTEGER NOT NULL,
	type        TEXT NOT NULL,
	job_id      INTEGER
);
-- Personal projects are named after their user; only normal projects need
-- unique names.
CREATE UNIQUE INDEX projects_name ON projects(name COLLATE NOCASE) WHERE type = 'NORMAL';

-- AUTOINCREMENT: a repository id, and so its directory, is never reused.
CREATE TABLE repositories (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	project_id     INTEGER NOT NULL REFERENCES projects(id),
	slug           TEXT NOT NULL,
	name           TEXT NOT NULL,
	hierarchy_id   TEXT NOT NULL,
	origin_id      INTEGER REFERENCES repositories(id),
	scm_id         TEXT NOT NULL,
	state          TEXT NOT NULL,
	status_message TEXT NOT NULL DEFAULT '',
	forkable       INTEGER NOT NULL,
	public         INTEGER NOT NULL,
	lfs_enabled    INTEGER NOT NULL DEFAULT 0,
	job_id         INTEGER,
	UNIQUE (project_id, slug COLLATE NOCASE),
	UNIQUE (project_id, name COLLATE NOCASE)
);

CREATE TABLE permissions (
	id            INTEGER PRIMARY KEY,
	project_id    INTEGER REFERENCES projects(id) ON DELETE CASCADE,
	repository_id INTEGER REFERENCES repositories(id) ON DELETE CASCADE,
	permission    TEXT NOT NULL,
	user_id       INTEGER REFERENCES users(id),
	group_name    TEXT
);

CREATE TABLE pull_requests (
	id                  INTEGER PRIMARY KEY,
	repository_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
	scoped_id           INTEGER NOT NULL,
	version             INTEGER NOT NULL,
	title               TEXT NOT NULL,
	description         TEXT NOT NULL,
	state               TEXT NOT NULL,
	draft               INTEGER NOT NULL,
	created_date        INTEGER NOT NULL,
	updated_date        INTEGER NOT NULL,
	closed_date         INTEGER,
	rescoped_date       INTEGER,
	from_ref            TEXT NOT NULL,
	from_display_id     TEXT NOT NULL,
	from_commit         TEXT NOT NULL,
	to_ref              TEXT NOT NULL,
	to_display_id       TEXT NOT NULL,
	to_commit           TEXT NOT NULL,
	ancestor_from       TEXT,
	ancestor_to         TEXT,
	merge_base          TEXT,
	UNIQUE (repository_id, scoped_id)
);

CREATE TABLE pr_participants (
	id                   INTEGER PRIMARY KEY,
	pull_request_id      INTEGER NOT NULL REFERENCES pull_requests(id) ON DELETE CASCADE,
	user_id              INTEGER NOT NULL REFERENCES users(id),
	role                 TEXT NOT NULL,
	status               TEXT NOT NULL,
	last_reviewed_commit TEXT
);
CREATE INDEX pr_participants_pr ON pr_participants(pull_request_id);

CREATE TABLE comments (
	id                 INTEGER PRIMARY KEY,
	pull_request_id    INTEGER NOT NULL REFERENCES pull_requests(id) ON DELETE CASCADE,
	parent_id          INTEGER REFERENCES comments(id),
	archive_id         TEXT NOT NULL,
	author_id          INTEGER REFERENCES users(id),
	text               TEXT NOT NULL,
	severity           TEXT NOT NULL,
	state              TEXT NOT NULL,
	created_date       INTEGER NOT NULL,
	updated_date       INTEGER NOT NULL,
	resolved_date      INTEGER,
	resolver_id        INTEGER REFERENCES users(id),
	thread_resolved    INTEGER NOT NULL DEFAULT 0,
	anchor             TEXT
);
CREATE INDEX comments_pr ON comments(pull_request_id);

-- A task is a BLOCKER comment, as in Bitbucket.
CREATE VIEW tasks AS SELECT * FROM comments WHERE severity = 'BLOCKER';

CREATE TABLE pr_activities (
	id              INTEGER PRIMARY KEY,
	pull_request_id INTEGER NOT NULL REFERENCES pull_requests(id) ON DELETE CASCADE,
	kind            TEXT NOT NULL,
	action          TEXT,
	user_id         INTEGER REFERENCES users(id),
	created_date    INTEGER NOT NULL,
	comment_id      INTEGER REFERENCES comments(id),
	detail          TEXT
);
CREATE INDEX pr_activities_pr ON pr_activities(pull_request_id);

-- Where each archive id went, per job, so that messages and later tools can
-- follow an item from the source instance to this one.
CREATE TABLE id_map (
	job_id     INTEGER NOT NULL,
	kind       TEXT NOT NULL,
	archive_id TEXT NOT NULL,
	new_id     INTEGER NOT NULL,
	PRIMARY KEY (job_id, kind, archive_id)
);
`,
	// What each job imported, as structured counts (model.ImportCounts);
	// NULL for jobs of a bbimport that did not count.
	`
ALTER TABLE jobs ADD COLUMN imported_projects INTEGER;
ALTER TABLE jobs ADD COLUMN imported_repositories INTEGER;
ALTER TABLE jobs ADD COLUMN imported_pull_requests INTEGER;
`,
	// Who runs a job, so that any process opening the home can tell a
	// runner that died from one that works (heartbeat, in epoch millis),
	// and the requests other processes leave for it (cancel_requested:
	// 1 cancel at the next checkpoint, 2 stop at once).
	`
ALTER TABLE jobs ADD COLUMN runner_pid INTEGER;
ALTER TABLE jobs ADD COLUMN runner_command TEXT;
ALTER TABLE jobs ADD COLUMN runner_log TEXT;
ALTER TABLE jobs ADD COLUMN heartbeat INTEGER;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
`,
	// Placements: the project key, slug and fork hierarchy each archive
	// repository had in the archive, per job. id_map says where its archive
	// id went; this says what the archive called it, so that verify follows
	// renames (KEY → KEY1, slug → slug-1) as data (importer/placements.go).
	`
CREATE TABLE archive_repositories (
	job_id       INTEGER NOT NULL,
	archive_id   TEXT NOT NULL,
	project_key  TEXT NOT NULL,
	slug         TEXT NOT NULL,
	hierarchy_id TEXT NOT NULL,
	PRIMARY KEY (job_id, archive_id)
);
`,
	// Each message's place in its job's log (0 for the first, dense, in id
	// order), so that a page of a job's messages at any start is an index
	// seek rather than a scan of all before it; messages logged before it
	// existed are numbered here. The unique index replaces (job_id, id).
	`
ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET seq = n.seq FROM
	(SELECT id, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY id) - 1 AS seq FROM messages) AS n
	WHERE n.id = messages.id;
CREATE UNIQUE INDEX messages_seq ON messages(job_id, seq);
DROP INDEX messages_job;
`,
	// Indexes for the foreign keys of rows a failed item deletes (see
	// scaleIndexes).
	scaleIndexes,
	// The personal projects each job found existing and reused
	// (model.ImportCounts.PersonalReused), as data beside the counts.
	`
ALTER TABLE jobs ADD COLUMN personal_projects_reused INTEGER NOT NULL DEFAULT 0;
`,
	// Exports. A job's type (imports and exports share the id sequence);
	// the export slot (1 or 2) whose lock an export's runner holds, so
	// that a reader can tell a dead runner from a live one. And the JSON
	// documents and inner tars an import read, gzipped, kept so that an
	// export writes back every field and file the archive brought in
	// (importer/documents.go); each goes with its owner.
	`
ALTER TABLE jobs ADD COLUMN type TEXT NOT NULL DEFAULT 'com.atlassian.bitbucket.migration.import';
ALTER TABLE jobs ADD COLUMN export_slot INTEGER;
ALTER TABLE jobs ADD COLUMN export_request TEXT; -- JSON of model.ExportRequest
ALTER TABLE repositories ADD COLUMN git_bytes INTEGER; -- the archive's objects tar: an export's estimate
CREATE TABLE archive_documents (
	id              INTEGER PRIMARY KEY,
	project_id      INTEGER REFERENCES projects(id) ON DELETE CASCADE,
	repository_id   INTEGER REFERENCES repositories(id) ON DELETE CASCADE,
	pull_request_id INTEGER REFERENCES pull_requests(id) ON DELETE CASCADE,
	kind            TEXT NOT NULL,
	body            BLOB NOT NULL
);
CREATE UNIQUE INDEX archive_documents_project ON archive_documents(project_id, kind) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX archive_documents_repository ON archive_documents(repository_id, kind) WHERE repository_id IS NOT NULL;
CREATE UNIQUE INDEX archive_documents_pull_request ON archive_documents(pull_request_id, kind) WHERE pull_request_id IS NOT NULL;
`,
	// The process that started a job (runner_command is its command
	// line; runner_pid the runner's, which may be another process), and
	// the archive a job read: its size at the start and its SHA-256,
	// computed while the import read it, so that verify knows the archive
	// it is given is the one imported.
	`
ALTER TABLE jobs ADD COLUMN starter_pid INTEGER;
ALTER TABLE jobs ADD COLUMN archive_size INTEGER;
ALTER TABLE jobs ADD COLUMN archive_sha256 TEXT;
`,
	// The home's queue (importer/queue.go): archives waiting for their
	// import, first id first; an entry leaves it as its job is recorded.
	// One whose start was refused when its turn came stays, dropped, with
	// the refusal, until the admin takes it off.
	`
CREATE TABLE queue (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	archive_path   TEXT NOT NULL, -- relative to the import directory
	queued_date    INTEGER NOT NULL,
	dropped_reason TEXT,
	dropped_date   INTEGER
);
`,
}

// maxOpenConns bounds the database connections: the import's writer and
// the readers.
const maxOpenConns = 16

// busyTimeout is how long a connection waits for another's lock.
const busyTimeout = 10 * time.Second

// openDB opens the database in WAL mode (readers never wait for the import's
// write transaction) and migrates it forward.
func (in *Instance) openDB() error {
	q := url.Values{}
	for _, p := range []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	if in.readOnly {
		// Setting the journal mode writes; a home that was written is in
		// WAL mode already.
		q.Del("_pragma")
		for _, p := range []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		q.Add("mode", "ro")
		// With no -wal file no process has the database open, and a
		// reader that cannot create the -shm must take it as unchanging.
		if _, err := os.Stat(in.dbPath() + "-wal"); errors.Is(err, os.ErrNotExist) {
			q.Add("immutable", "1")
		}
	}
	db, err := sql.Open("sqlite", "file:"+in.dbPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("open database %s: %w", in.dbPath(), err)
	}
	// Every connection is a file descriptor and SQLite's page cache: an
	// unbounded pool opened one per concurrent request and ran out of
	// descriptors under load. The import's writer holds one connection
	// for its whole run (writer.go); the rest serve readers, who queue for
	// a free one.
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	in.db = db
	if in.readOnly {
		return in.checkReadOnlySchema(context.Background())
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return fmt.Errorf("database %s: %w", in.dbPath(), err)
	}
	if in.nodeID, err = nodeID(context.Background(), db); err != nil {
		db.Close()
		return fmt.Errorf("database %s: %w", in.dbPath(), err)
	}
	return nil
}

// checkReadOnlySchema makes sure a home opened read-only, which cannot be
// migrated, has the schema this bbimport reads.
func (in *Instance) checkReadOnlySchema(ctx context.Context) error {
	var version int
	err := in.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version)
	if err == nil && version != len(migrations) {
		err = fmt.Errorf("its schema is version %d and this bbimport reads version %d; open it once as a user who can write it", version, len(migrations))
	}
	if err == nil {
		err = in.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'node_id'`).Scan(&in.nodeID)
	}
	if err != nil {
		in.db.Close()
		return fmt.Errorf("database %s (read-only): %w", in.dbPath(), err)
	}
	return nil
}

// nodeID returns the home's node id, made and stored on first use.
func nodeID(ctx context.Context, db *sql.DB) (string, error) {
	var id string
	err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'node_id'`).Scan(&id)
	switch {
	case err == nil:
		return id, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("read node id: %w", err)
	}
	// Another process opening the home may store its own first: the
	// stored one is the home's.
	if _, err := db.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('node_id', ?) ON CONFLICT(key) DO NOTHING`, newNodeID()); err != nil {
		return "", fmt.Errorf("store node id: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'node_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("read node id: %w", err)
	}
	return id, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	version, err := schemaVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for version < len(migrations) {
		var err error
		if version, err = migrateOnce(ctx, db); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", version+1, err)
		}
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this bbimport knows (%d): use a newer bbimport", version, len(migrations))
	}
	return nil
}

// schemaVersion reads the schema version on a new connection. Processes
// opening a new home at once all turn it to WAL mode as they connect, and
// SQLite answers one of them busy at once rather than after its busy
// timeout (TestOpenersOfANewHomeAtOnceAllSucceed saw it in 3 of 100
// runs): that is retried for as long as the busy timeout.
func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	deadline := time.Now().Add(busyTimeout)
	for {
		var version int
		err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version)
		var serr *sqlite.Error
		if err == nil || !errors.As(err, &serr) || serr.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return version, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// migrateOnce runs the next migration and records it in one transaction,
// so that a home is never left half migrated, and returns the version the
// schema is at after it. Processes opening a new home at once all get
// here: the transaction takes the write lock before it reads the version
// again, so each migration runs once and the others find it done.
func migrateOnce(ctx context.Context, db *sql.DB) (version int, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return 0, err
	}
	defer func() {
		if err == nil {
			_, err = conn.ExecContext(ctx, `COMMIT`)
		}
		if err == nil {
			return
		}
		// A failed COMMIT may have ended the transaction already.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`); rerr != nil && !strings.Contains(rerr.Error(), "no transaction is active") {
			err = fmt.Errorf("%w (and roll back: %w)", err, rerr)
		}
	}()
	if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if version >= len(migrations) {
		return version, nil
	}
	if _, err := conn.ExecContext(ctx, migrations[version]); err != nil {
		return version, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, version+1)); err != nil {
		return version, err
	}
	return version + 1, nil
}
