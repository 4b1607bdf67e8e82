package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"bbimport/model"
	"bbimport/wire"
)

// Exports through REST, as Bitbucket answers them: POST
// /migration/exports/preview and /migration/exports with the request body
// alone, then the job at /migration/exports/{id} (its state, progress
// message and percentage, as GitHub's migration CLI reads it), its
// messages and its cancel. Bitbucket's preview names the repositories
// only: against bbimport serve the counts, the estimate and the free disk
// come from its own namespace; against a Bitbucket the read API's lists
// tell the projects, repositories and forks, and the rest is
// model.Unknown.

var _ model.Exporter = (*Client)(nil)

// Exportable lists the server's projects and their repositories through
// the read API: GET /projects, then GET /repos, which also holds the
// personal projects' repositories. Counting pull requests would read every
// one of every repository, so each repository's count is model.Unknown.
func (c *Client) Exportable(ctx context.Context) ([]model.ExportableProject, error) {
	projects, _, err := c.exportable(ctx)
	return projects, err
}

// exportable is Exportable and "PRJ/slug" by repository id, which a
// preview's scopes may name repositories by.
func (c *Client) exportable(ctx context.Context) ([]model.ExportableProject, map[int64]string, error) {
	var projects []model.ExportableProject
	index := map[string]int{}
	project := func(p model.RestProject) int {
		if i, ok := index[p.Key]; ok {
			return i
		}
		index[p.Key] = len(projects)
		projects = append(projects, model.ExportableProject{Key: p.Key, Name: p.Name, Personal: p.Type == "PERSONAL",
			Repositories: []model.ExportableRepository{}})
		return len(projects) - 1
	}
	_, err := wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestProject], error) {
		return c.ListProjects(ctx, model.ProjectQuery{}, start, wire.MaxLimit)
	}, func(p model.RestProject) error {
		project(p)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	ids := map[int64]string{}
	_, err = wire.Each(ctx, 0, func(ctx context.Context, start int) (model.Page[model.RestRepository], error) {
		return c.ListRepositories(ctx, model.RepositoryQuery{}, start, wire.MaxLimit)
	}, func(r model.RestRepository) error {
		i := project(r.Project)
		e := model.ExportableRepository{Slug: r.Slug, Name: r.Name, PullRequests: model.Unknown}
		if r.Origin != nil {
			e.Origin = r.Origin.Project.Key + "/" + r.Origin.Slug
		}
		projects[i].Repositories = append(projects[i].Repositories, e)
		ids[r.ID] = r.Project.Key + "/" + r.Slug
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return projects, ids, nil
}

// PreviewExport asks the server what req selects. bbimport serve answers
// everything under its own namespace; a Bitbucket's preview is read
// against its lists, with the pull requests, the size and the free disk
// unknown.
func (c *Client) PreviewExport(ctx context.Context, req model.ExportRequest) (model.ExportPreview, error) {
	op := operation{what: "preview the export of " + selectorList(req), kind: wire.CallExport}
	if c.probeExtension(ctx) {
		var p model.ExportPreview
		err := c.callURL(ctx, op, http.MethodPost, c.base+wire.ExtensionPrefix+wire.PathExportPreview, req, &p)
		return p, err
	}
	var answer struct {
		Scopes []scope `json:"scopes"`
	}
	if err := c.call(ctx, op, http.MethodPost, wire.PathExportPreview, req, &answer); err != nil {
		return model.ExportPreview{}, err
	}
	projects, ids, err := c.exportable(ctx)
	if err != nil {
		return model.ExportPreview{}, err
	}
	selected := map[string]bool{}
	for _, s := range answer.Scopes {
		if r := s.repository(ids); r != "" {
			selected[r] = true
		}
	}
	if len(selected) == 0 {
		// Bitbucket does not publish the shape of a scope: one that names
		// no repository in a way read here is no reason to show nothing.
		selected = expand(projects, req.RepositoriesRequest.Includes)
	}
	return previewOf(projects, selected), nil
}

// scope is one item of Bitbucket's preview. Atlassian publishes no shape
// for it beyond "projects and repositories with fewer details": a
// repository is read from each shape seen or likely, {projectKey, slug}
// (serve's, the selectors' own), a slim repository {slug, project{key}},
// {repository{slug, project{key}}}, or {type: REPOSITORY, resourceId}.
// Projects are listed too, but do not mean all their repositories.
type scope struct {
	ProjectKey string     `json:"projectKey"`
	Slug       string     `json:"slug"`
	Project    *scopeKey  `json:"project"`
	Repository *scopeRepo `json:"repository"`
	Type       string     `json:"type"`
	ResourceID *int64     `json:"resourceId"`
	ID         *int64     `json:"id"`
}

type scopeKey struct {
	Key string `json:"key"`
}

type scopeRepo struct {
	Slug    string   `json:"slug"`
	Project scopeKey `json:"project"`
}

// repository is the scope's "PRJ/slug", or "" for a project or a shape
// that names no repository.
func (s scope) repository(ids map[int64]string) string {
	switch {
	case s.Repository != nil && s.Repository.Slug != "" && s.Repository.Project.Key != "":
		return s.Repository.Project.Key + "/" + s.Repository.Slug
	case s.Slug != "" && s.Slug != "*" && s.ProjectKey != "" && s.ProjectKey != "*":
		return s.ProjectKey + "/" + s.Slug
	case s.Slug != "" && s.Project != nil && s.Project.Key != "":
		return s.Project.Key + "/" + s.Slug
	case strings.EqualFold(s.Type, "REPOSITORY") && s.ResourceID != nil:
		return ids[*s.ResourceID]
	case strings.EqualFold(s.Type, "REPOSITORY") && s.ID != nil:
		return ids[*s.ID]
	}
	return ""
}

// hierarchyRoot is the origin of the fork hierarchy path belongs to, as
// far as the listing shows origins.
func hierarchyRoot(origins map[string]string, path string) string {
	for seen := 0; origins[path] != "" && seen <= len(origins); seen++ {
		path = origins[path]
	}
	return path
}

func originsOf(projects []model.ExportableProject) map[string]string {
	origins := map[string]string{}
	for _, p := range projects {
		for _, r := range p.Repositories {
			origins[p.Key+"/"+r.Slug] = r.Origin
		}
	}
	return origins
}

// expand is what Bitbucket's selectors select in the listing, whole fork
// hierarchies included.
func expand(projects []model.ExportableProject, includes []model.RepositorySelector) map[string]bool {
	origins := originsOf(projects)
	roots := map[string]bool{}
	for _, s := range includes {
		for _, p := range projects {
			for _, r := range p.Repositories {
				if s.All() || strings.EqualFold(s.ProjectKey, p.Key) && (s.Slug == "*" || strings.EqualFold(s.Slug, r.Slug)) {
					roots[hierarchyRoot(origins, p.Key+"/"+r.Slug)] = true
				}
			}
		}
	}
	selected := map[string]bool{}
	for repo := range origins {
		if roots[hierarchyRoot(origins, repo)] {
			selected[repo] = true
		}
	}
	return selected
}

// previewOf counts the selected repositories by the listing, in its
// order; what the listing does not show is listed after, by its key.
func previewOf(projects []model.ExportableProject, selected map[string]bool) model.ExportPreview {
	p := model.ExportPreview{Projects: []model.ExportPreviewProject{}, PullRequests: model.Unknown,
		EstimatedBytes: model.Unknown, FreeBytes: model.Unknown}
	origins := originsOf(projects)
	index := map[string]int{}
	roots := map[string]bool{}
	add := func(key, name, slug string, fork bool) {
		i, ok := index[key]
		if !ok {
			i = len(p.Projects)
			index[key] = i
			p.Projects = append(p.Projects, model.ExportPreviewProject{Key: key, Name: name, Repositories: []string{}})
		}
		p.Projects[i].Repositories = append(p.Projects[i].Repositories, slug)
		p.Repositories++
		if fork {
			p.Forks++
		}
		roots[hierarchyRoot(origins, key+"/"+slug)] = true
	}
	for _, pr := range projects {
		for _, r := range pr.Repositories {
			if selected[pr.Key+"/"+r.Slug] {
				add(pr.Key, pr.Name, r.Slug, r.Origin != "")
			}
		}
	}
	var unlisted []string
	for repo := range selected {
		if _, ok := origins[repo]; !ok {
			unlisted = append(unlisted, repo)
		}
	}
	slices.Sort(unlisted)
	for _, repo := range unlisted {
		key, slug, _ := strings.Cut(repo, "/")
		add(key, "", slug, false)
	}
	p.Hierarchies = len(roots)
	return p
}

// StartExport starts an export job. The POST is never retried: a second
// one could start a second export. The job is recorded as an export, with
// the archive Bitbucket writes for it, so that jobs, status and messages
// follow it at its own paths. req.Force goes to bbimport serve's own start
// (force=true); Bitbucket's request has no field for it, and a Bitbucket
// checks no disk that it could override.
func (c *Client) StartExport(ctx context.Context, req model.ExportRequest) (model.Job, error) {
	var job model.Job
	op := operation{what: "start the export of " + selectorList(req), kind: wire.CallExport}
	var err error
	if req.Force && c.probeExtension(ctx) {
		err = c.callURL(ctx, op, http.MethodPost, c.base+wire.ExtensionPrefix+wire.PathExports+"?"+wire.ForceValues().Encode(), req, &job)
	} else {
		err = c.call(ctx, op, http.MethodPost, wire.PathExports, req, &job)
	}
	if err != nil {
		return model.Job{}, err
	}
	if job.Type == "" {
		job.Type = model.JobTypeExport
	}
	job.Archive = exportArchive(req.ExportLocation, job.ID)
	c.learnType(job.ID, job.Type)
	if err := c.jobs.add(jobRecord{ID: job.ID, Archive: job.Archive, Type: job.Type, Started: time.Now().UTC()}); err != nil {
		fmt.Fprintf(warnings, "bbimport: warning: job %d started, but it will not be listed by `bbimport jobs`: %v\n", job.ID, err)
	}
	return job, nil
}

// exportArchive is where Bitbucket writes an export's archive, relative
// to its export directory.
func exportArchive(location string, id int64) string {
	return path.Join(location, fmt.Sprintf("Bitbucket_export_%d.tar", id))
}

// selectorList names a request's selectors as the command line writes them.
func selectorList(req model.ExportRequest) string {
	names := make([]string, len(req.RepositoriesRequest.Includes))
	for i, s := range req.RepositoriesRequest.Includes {
		names[i] = s.String()
	}
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, " ")
}

// learnType remembers a job's type: an export's calls live under
// /migration/exports on Bitbucket.
func (c *Client) learnType(id int64, typ string) {
	if typ == "" {
		return
	}
	c.typesMu.Lock()
	defer c.typesMu.Unlock()
	if c.types == nil {
		c.types = map[int64]string{}
	}
	c.types[id] = typ
}

// knownType is a job's type as this client learnt it or recorded it.
func (c *Client) knownType(id int64) (string, bool) {
	c.typesMu.Lock()
	t, ok := c.types[id]
	c.typesMu.Unlock()
	if ok {
		return t, true
	}
	if rec, ok := c.jobs.find(id); ok && rec.Type != "" {
		c.learnType(id, rec.Type)
		return rec.Type, true
	}
	return "", false
}

// onJob makes one call on job id at the path of its kind (pathOf(true) is
// the export's): Bitbucket answers an export's calls under
// /migration/exports. A job whose type this client has not learnt is asked
// for as an import first and, when there is no such import, as an export;
// a refused call has no effect, so a cancel may be asked twice. what is
// the call's sentence, with the kind and id to fill in. It reports whether
// the call went to the export's path.
func (c *Client) onJob(ctx context.Context, id int64, kind wire.Call, method, what string, pathOf func(export bool) string, out any) (bool, error) {
	typ, known := c.knownType(id)
	export := typ == model.JobTypeExport
	call := func(export bool) error {
		op := operation{what: fmt.Sprintf(what, jobWord(export), id), kind: kind}
		return c.call(ctx, op, method, pathOf(export), nil, out)
	}
	err := call(export)
	if known || !errors.Is(err, model.ErrJobNotFound) {
		return export, err
	}
	if call(true) != nil {
		return false, err
	}
	c.learnType(id, model.JobTypeExport)
	return true, nil
}

// jobWord names a job by its kind in a failed call's sentence.
func jobWord(export bool) string {
	if export {
		return "export job"
	}
	return "import job"
}
