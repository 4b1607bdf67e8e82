package importer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"bbimport/model"
)

// ImportedArchives lists what every job of this home recorded of the
// archive it read, newest first.
func (in *Instance) ImportedArchives(ctx context.Context) ([]model.ImportedArchive, error) {
	return in.importedArchives(ctx, ``)
}

var _ model.ArchiveRecorder = (*Instance)(nil)

func (in *Instance) importedArchives(ctx context.Context, where string, args ...any) ([]model.ImportedArchive, error) {
	rows, err := in.db.QueryContext(ctx, `SELECT id, archive_path, archive_size, archive_sha256, start_date FROM jobs`+where+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("read the jobs' archives: %w", err)
	}
	defer rows.Close()
	var list []model.ImportedArchive
	for rows.Next() {
		var a model.ImportedArchive
		var size sql.NullInt64
		var sha sql.NullString
		if err := rows.Scan(&a.Job, &a.Archive, &size, &sha, &a.StartDate); err != nil {
			return nil, fmt.Errorf("read the jobs' archives: %w", err)
		}
		a.Size, a.SHA256 = size.Int64, sha.String
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the jobs' archives: %w", err)
	}
	return list, nil
}

// importsOfSize are the jobs before job that read an archive of this size
// and recorded its SHA-256: the only ones the archive can be the same as.
func (in *Instance) importsOfSize(ctx context.Context, size, job int64) ([]model.ImportedArchive, error) {
	return in.importedArchives(ctx, ` WHERE archive_size = ? AND archive_sha256 IS NOT NULL AND id <> ?`, size, job)
}

// sameArchive keeps the imports of the archive with this SHA-256.
func sameArchive(list []model.ImportedArchive, sha string) []model.ImportedArchive {
	var same []model.ImportedArchive
	for _, a := range list {
		if a.SHA256 == sha {
			same = append(same, a)
		}
	}
	return same
}

// describeImports names earlier imports: "job 3 on 2026-12-07 14:02".
func describeImports(list []model.ImportedArchive) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = fmt.Sprintf("job %d on %s", a.Job, time.UnixMilli(a.StartDate).Local().Format("2006-01-02 15:04"))
	}
	return strings.Join(s, ", ")
}
