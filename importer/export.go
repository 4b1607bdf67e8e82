package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"bbimport/model"
)

var _ model.Exporter = (*Instance)(nil)

// maxExports is how many exports a node runs at once, as Bitbucket does.
const maxExports = 2

// exportDir is where archives are written, as in Bitbucket's home.
func (in *Instance) exportDir() string { return filepath.Join(in.dataDir(), "migration", "export") }

// exportSlotPath is the lock an export's runner holds while it runs.
func (in *Instance) exportSlotPath(slot int) string {
	return filepath.Join(in.home, "export-"+strconv.Itoa(slot)+".lock")
}

// planRepo is one repository an export writes.
type planRepo struct {
	id, projectID int64
	projectKey    string
	slug, name    string
	hierarchyID   string
	originID      int64 // 0 for an origin
	pullRequests  int
}

// planHierarchy is one fork hierarchy an export writes whole: its origin
// first, each fork after its own origin. projects are those whose
// metadata is written just before it (the first hierarchy that needs
// them).
type planHierarchy struct {
	id       string
	repos    []*planRepo
	projects []int64
}

// exportPlan is what a request selects, in the order the archive holds it.
type exportPlan struct {
	hierarchies []*planHierarchy
	projectKeys map[int64]string
	repos       int
	forks       int
	prs         int
}

// repositoryRows reads every available repository, with its project and
// its count of pull requests, in id order (an origin before its forks).
func (in *Instance) repositoryRows(ctx context.Context) ([]*planRepo, map[int64]model.ExportableProject, []int64, error) {
	rows, err := in.db.QueryContext(ctx, `SELECT r.id, r.project_id, p.key, r.slug, r.name, r.hierarchy_id, COALESCE(r.origin_id, 0),
		(SELECT COUNT(*) FROM pull_requests WHERE repository_id = r.id)
		FROM repositories r JOIN projects p ON p.id = r.project_id WHERE r.state = 'AVAILABLE' ORDER BY r.id`)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read repositories: %w", err)
	}
	defer rows.Close()
	var repos []*planRepo
	for rows.Next() {
		r := &planRepo{}
		if err := rows.Scan(&r.id, &r.projectID, &r.projectKey, &r.slug, &r.name, &r.hierarchyID, &r.originID, &r.pullRequests); err != nil {
			return nil, nil, nil, fmt.Errorf("read repositories: %w", err)
		}
		repos = append(repos, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("read repositories: %w", err)
	}
	prows, err := in.db.QueryContext(ctx, `SELECT id, key, name, type FROM projects ORDER BY id`)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read projects: %w", err)
	}
	defer prows.Close()
	projects := map[int64]model.ExportableProject{}
	var order []int64
	for prows.Next() {
		var id int64
		var p model.ExportableProject
		var typ string
		if err := prows.Scan(&id, &p.Key, &p.Name, &typ); err != nil {
			return nil, nil, nil, fmt.Errorf("read projects: %w", err)
		}
		p.Personal = typ == "PERSONAL"
		p.Repositories = []model.ExportableRepository{}
		projects[id] = p
		order = append(order, id)
	}
	return repos, projects, order, prows.Err()
}

// Exportable lists the projects of the home and their available
// repositories, in id order.
func (in *Instance) Exportable(ctx context.Context) ([]model.ExportableProject, error) {
	repos, projects, order, err := in.repositoryRows(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*planRepo{}
	for _, r := range repos {
		byID[r.id] = r
	}
	for _, r := range repos {
		p := projects[r.projectID]
		e := model.ExportableRepository{Slug: r.slug, Name: r.name, PullRequests: r.pullRequests}
		if o := byID[r.originID]; o != nil {
			e.Origin = o.projectKey + "/" + o.slug
		}
		p.Repositories = append(p.Repositories, e)
		projects[r.projectID] = p
	}
	out := make([]model.ExportableProject, 0, len(order))
	for _, id := range order {
		out = append(out, projects[id])
	}
	return out, nil
}

// planExport resolves Bitbucket's selectors into whole fork hierarchies,
// each once. A selector that matches nothing is an error naming it.
func (in *Instance) planExport(ctx context.Context, selectors []model.RepositorySelector) (*exportPlan, error) {
	if len(selectors) == 0 {
		return nil, fmt.Errorf("%w: name at least one repository (PRJ/slug), project (PRJ/*) or everything (*/*)", model.ErrBadSelector)
	}
	repos, projects, projectOrder, err := in.repositoryRows(ctx)
	if err != nil {
		return nil, err
	}
	selected := map[int64]bool{}
	for _, s := range selectors {
		if s.ProjectKey == "" || s.Slug == "" || (s.ProjectKey == "*" && s.Slug != "*") {
			return nil, fmt.Errorf("%w: %q is not PRJ/slug, PRJ/* or */*", model.ErrBadSelector, s.String())
		}
		matched := false
		for _, r := range repos {
			if s.All() || (strings.EqualFold(s.ProjectKey, r.projectKey) && (s.Slug == "*" || strings.EqualFold(s.Slug, r.slug))) {
				selected[r.id] = true
				matched = true
			}
		}
		if !matched {
			return nil, fmt.Errorf("%w: %s", model.ErrNoSuchSelection, describeSelector(s))
		}
	}
	byID := map[int64]*planRepo{}
	forks := map[int64][]*planRepo{}
	for _, r := range repos {
		byID[r.id] = r
		if r.originID != 0 {
			forks[r.originID] = append(forks[r.originID], r)
		}
	}
	root := func(r *planRepo) *planRepo {
		for seen := 0; r.originID != 0 && byID[r.originID] != nil && seen < len(repos); seen++ {
			r = byID[r.originID]
		}
		return r
	}
	roots := map[int64]bool{}
	for id := range selected {
		roots[root(byID[id]).id] = true
	}
	plan := &exportPlan{projectKeys: map[int64]string{}}
	// Hierarchies by the project of their origin, then by origin: the
	// order an archive of those projects has.
	byProject := map[int64][]*planRepo{}
	for _, r := range repos {
		if roots[r.id] {
			byProject[r.projectID] = append(byProject[r.projectID], r)
		}
	}
	written := map[int64]bool{}
	usedIDs := map[string]bool{}
	for _, pid := range projectOrder {
		for _, origin := range byProject[pid] {
			h := &planHierarchy{}
			queue := []*planRepo{origin}
			for len(queue) > 0 {
				r := queue[0]
				queue = queue[1:]
				h.repos = append(h.repos, r)
				queue = append(queue, forks[r.id]...)
			}
			for _, r := range h.repos {
				if !written[r.projectID] {
					written[r.projectID] = true
					h.projects = append(h.projects, r.projectID)
					plan.projectKeys[r.projectID] = projects[r.projectID].Key
				}
				plan.repos++
				if r.originID != 0 {
					plan.forks++
				}
				plan.prs += r.pullRequests
			}
			// Two imports of one archive hold the same hierarchy id twice:
			// an archive names each hierarchy once.
			h.id = origin.hierarchyID
			if usedIDs[h.id] {
				h.id = fmt.Sprintf("%s-%d", origin.hierarchyID, origin.id)
			}
			usedIDs[h.id] = true
			plan.hierarchies = append(plan.hierarchies, h)
		}
	}
	return plan, nil
}

func describeSelector(s model.RepositorySelector) string {
	switch {
	case s.All():
		return "*/* selects no repository: this instance has none"
	case s.Slug == "*":
		return fmt.Sprintf("%s selects no repository: there is no project %s, or it has no repositories", s, s.ProjectKey)
	}
	return fmt.Sprintf("%s selects no repository: there is no repository %s in project %s", s, s.Slug, s.ProjectKey)
}

// exportLocation checks a request's exportLocation (relative, inside the
// export directory) and returns the directory the archive goes to,
// creating it.
func (in *Instance) exportLocation(loc string) (string, error) {
	base := in.exportDir()
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("create the export directory %s: %w", base, err)
	}
	if loc == "" {
		return base, nil
	}
	clean := filepath.Clean(filepath.FromSlash(loc))
	if filepath.IsAbs(loc) || !filepath.IsLocal(clean) {
		return "", fmt.Errorf("%w: %q must be a relative path inside %s", model.ErrBadExportLocation, loc, base)
	}
	dir := filepath.Join(base, clean)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create the export location %s: %w", dir, err)
	}
	realBase, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", base, err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	if rel, err := filepath.Rel(realBase, realDir); err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", fmt.Errorf("%w: %q leads outside %s through a symbolic link", model.ErrBadExportLocation, loc, base)
	}
	return dir, nil
}

// memberOverhead is an estimate of what a member adds beyond its body: a
// tar header and, on average, half a block of padding.
const memberOverhead = 512 + 256

// PreviewExport says what req selects, the archive's estimated size and
// the free disk where it would go.
func (in *Instance) PreviewExport(ctx context.Context, req model.ExportRequest) (model.ExportPreview, error) {
	plan, err := in.planExport(ctx, req.RepositoriesRequest.Includes)
	if err != nil {
		return model.ExportPreview{}, err
	}
	dir, err := in.exportLocation(req.ExportLocation)
	if err != nil {
		return model.ExportPreview{}, err
	}
	return in.preview(ctx, plan, dir)
}

func (in *Instance) preview(ctx context.Context, plan *exportPlan, dir string) (model.ExportPreview, error) {
	p := model.ExportPreview{Projects: []model.ExportPreviewProject{}, Hierarchies: len(plan.hierarchies),
		Repositories: plan.repos, Forks: plan.forks, PullRequests: plan.prs, Directory: dir}
	index := map[string]int{}
	_, projects, _, err := in.repositoryRows(ctx)
	if err != nil {
		return p, err
	}
	var size int64 = 10 << 10 // the tar's end and instance details
	for _, h := range plan.hierarchies {
		for _, pid := range h.projects {
			index[projects[pid].Key] = len(p.Projects)
			p.Projects = append(p.Projects, model.ExportPreviewProject{Key: projects[pid].Key, Name: projects[pid].Name, Repositories: []string{}})
		}
		for _, r := range h.repos {
			i := index[r.projectKey]
			p.Projects[i].Repositories = append(p.Projects[i].Repositories, r.slug)
			var git sql.NullInt64
			var docs int64
			if err := in.db.QueryRowContext(ctx, `SELECT git_bytes, (SELECT COALESCE(SUM(length(body)), 0) FROM archive_documents
				WHERE repository_id = ?1 OR pull_request_id IN (SELECT id FROM pull_requests WHERE repository_id = ?1))
				FROM repositories WHERE id = ?1`, r.id).Scan(&git, &docs); err != nil {
				return p, fmt.Errorf("estimate the export: %w", err)
			}
			if !git.Valid {
				// Imported before bbimport recorded it: walk the objects.
				bytes, files := dirSize(filepath.Join(in.repositoryDir(r.id), "objects"))
				git.Int64 = bytes + files*memberOverhead
			}
			size += git.Int64 + docs + int64(8+3*r.pullRequests)*memberOverhead
		}
		size += int64(2+3*len(h.projects)) * memberOverhead
	}
	p.EstimatedBytes = size
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return p, fmt.Errorf("check free disk space of %s: %w", dir, err)
	}
	p.FreeBytes = int64(st.Bavail) * int64(st.Bsize)
	return p, nil
}

// dirSize is the bytes and the number of the regular files under dir.
func dirSize(dir string) (bytes, files int64) {
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				bytes += fi.Size()
				files++
			}
		}
		return nil
	})
	return bytes, files
}

// takeExportSlot takes a free export slot's lock, or says who runs the
// exports.
func (in *Instance) takeExportSlot() (int, *os.File, error) {
	for slot := 1; slot <= maxExports; slot++ {
		f, err := os.OpenFile(in.exportSlotPath(slot), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return 0, nil, fmt.Errorf("open the export lock: %w", err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
			return slot, f, nil
		}
		f.Close()
	}
	return 0, nil, fmt.Errorf("%w: %d exports run on this home already; start this one when one of them has finished (bbimport jobs)", model.ErrExportsRunning, maxExports)
}

// slotHeld reports whether a runner holds an export slot's lock.
func (in *Instance) slotHeld(slot int) bool {
	f, err := os.Open(in.exportSlotPath(slot))
	if err != nil {
		return false
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return true
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}

// StartExport starts an export of what req selects, after checking the
// selection, the location and the disk, in a runner process when
// Options.Runner is set, else in a goroutine. The archive appears as
// Bitbucket_export_<job>.tar in the export directory (or its
// exportLocation) only once whole.
func (in *Instance) StartExport(ctx context.Context, req model.ExportRequest) (model.Job, error) {
	if in.readOnly {
		return model.Job{}, fmt.Errorf("instance home %s is read-only for this user: start exports as a user who can write it", in.home)
	}
	plan, err := in.planExport(ctx, req.RepositoriesRequest.Includes)
	if err != nil {
		return model.Job{}, err
	}
	dir, err := in.exportLocation(req.ExportLocation)
	if err != nil {
		return model.Job{}, err
	}
	preview, err := in.preview(ctx, plan, dir)
	if err != nil {
		return model.Job{}, err
	}
	if !preview.Fits() && !req.Force {
		return model.Job{}, &model.NotEnoughDiskError{Need: preview.EstimatedBytes, Free: preview.FreeBytes, Directory: dir}
	}
	in.mu.Lock()
	shutdown := in.shutdown
	in.mu.Unlock()
	if shutdown {
		return model.Job{}, fmt.Errorf("%w: bbimport is shutting down and starts no new export", model.ErrExportsRunning)
	}
	slot, lock, err := in.takeExportSlot()
	if err != nil {
		return model.Job{}, err
	}
	handedOver := false
	defer func() {
		if !handedOver {
			lock.Close() // a runner holds it with its own descriptor
		}
	}()
	job, err := in.beginExport(ctx, req, slot)
	if err != nil {
		return model.Job{}, err
	}
	if in.runner != nil {
		spawnCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spawnDeadline)
		defer cancel()
		if err := in.spawn(spawnCtx, job.ID, []*os.File{lock}, "--export"); err != nil {
			return model.Job{}, err
		}
		return in.Job(ctx, job.ID)
	}
	handedOver = true
	run := newRun(job, nil, 0, lock)
	in.mu.Lock()
	if in.exports == nil {
		in.exports = map[int64]*jobRun{}
	}
	in.exports[job.ID] = run
	in.mu.Unlock()
	go in.runExport(run, req)
	return job, nil
}

// exportName is the archive's name relative to the export directory.
func exportName(loc string, id int64) string {
	name := "Bitbucket_export_" + strconv.FormatInt(id, 10) + ".tar"
	if loc == "" {
		return name
	}
	return filepath.ToSlash(filepath.Join(filepath.Clean(loc), name))
}

// beginExport records the new export job.
func (in *Instance) beginExport(ctx context.Context, req model.ExportRequest, slot int) (model.Job, error) {
	now := nowMillis()
	initiator, initiatorJSON := initiatorOf(ctx)
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return model.Job{}, err
	}
	var pid sql.NullInt64
	if in.runner == nil {
		pid = sql.NullInt64{Int64: int64(os.Getpid()), Valid: true}
	}
	const msg = "Preparing the export"
	res, err := in.db.ExecContext(ctx, `INSERT INTO jobs(type, state, archive_path, progress_message, start_date, updated_date, initiator,
		imported_projects, imported_repositories, imported_pull_requests, runner_pid, runner_command, heartbeat, export_slot, export_request)
		VALUES (?, ?, '', ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?, ?)`,
		model.JobTypeExport, model.StateInitialising, msg, now, now, initiatorJSON, pid, commandLine(), now, slot, string(reqJSON))
	if err != nil {
		return model.Job{}, fmt.Errorf("record the new export: %w", err)
	}
	id, _ := res.LastInsertId()
	name := exportName(req.ExportLocation, id)
	var logPath sql.NullString
	if in.runner != nil {
		logPath = sql.NullString{String: in.jobLog(id), Valid: true}
	}
	if _, err := in.db.ExecContext(ctx, `UPDATE jobs SET archive_path = ?, runner_log = ? WHERE id = ?`, name, logPath, id); err != nil {
		return model.Job{}, fmt.Errorf("record the new export: %w", err)
	}
	return model.Job{ID: id, State: model.StateInitialising, Type: model.JobTypeExport, Progress: model.Progress{Message: msg},
		StartDate: now, UpdatedDate: now, NodeID: in.nodeID, Initiator: initiator, Counts: &model.ImportCounts{}, Archive: name}, nil
}

// localExport returns the export job id if it runs in this process.
func (in *Instance) localExport(id int64) *jobRun {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.exports[id]
}

// recoverExport records an export whose runner is gone (its slot's lock
// is free while the job has not ended) as ABORTED, and removes what it
// had written. It reports whether the job was recovered.
func (in *Instance) recoverExport(ctx context.Context, id int64, slot int) (bool, error) {
	if slot == 0 || in.slotHeld(slot) || in.localExport(id) != nil {
		return false, nil
	}
	if in.readOnly {
		return true, nil
	}
	var name string
	if err := in.db.QueryRowContext(ctx, `SELECT archive_path FROM jobs WHERE id = ?`, id).Scan(&name); err != nil {
		return false, fmt.Errorf("read export %d: %w", id, err)
	}
	_ = os.Remove(partialPath(filepath.Join(in.exportDir(), filepath.FromSlash(name))))
	why := fmt.Sprintf("The process running this export stopped without finishing (killed or power loss); see %s. No archive was written; start the export again.", in.jobLog(id))
	if err := recordEnd(ctx, in.db, id, model.StateAborted, "Export aborted", why); err != nil {
		return false, err
	}
	return true, nil
}

// recoverExports recovers every export whose runner is gone.
func (in *Instance) recoverExports(ctx context.Context) error {
	rows, err := in.db.QueryContext(ctx, `SELECT id, COALESCE(export_slot, 0) FROM jobs WHERE type = ? AND end_date IS NULL`, model.JobTypeExport)
	if err != nil {
		return fmt.Errorf("look for interrupted exports: %w", err)
	}
	type pending struct {
		id   int64
		slot int
	}
	// The rows close when Next reads past the last, before recoverExport
	// needs the connection; the defer covers an early return.
	defer rows.Close()
	var jobs []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.slot); err != nil {
			return fmt.Errorf("look for interrupted exports: %w", err)
		}
		jobs = append(jobs, p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look for interrupted exports: %w", err)
	}
	for _, j := range jobs {
		if _, err := in.recoverExport(ctx, j.id, j.slot); err != nil {
			return err
		}
	}
	return nil
}

// partialPath is where an archive is written until it is whole.
func partialPath(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".partial")
}

var errExportStopped = errors.New("export canceled")

// stopExport stops an export running in this process at once.
func stopExport(run *jobRun) error {
	already := run.requestCancel()
	run.stopNow()
	if already {
		return fmt.Errorf("job %d is already canceling: %w", run.id, model.ErrJobFinished)
	}
	return nil
}

// ExportDir is the directory archives are written into, for a console to
// list.
func (in *Instance) ExportDir() string { return in.exportDir() }
