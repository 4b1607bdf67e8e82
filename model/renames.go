package model

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// TakenNames answers which names are taken on a target: the importer asks
// its database, the pre-flight the target's read API, through the same
// placement rules (PlaceProject, PlaceRepository), so that the pre-flight
// foresees exactly the renames the import makes.
type TakenNames interface {
	// ProjectKey reports whether a project with this key exists.
	ProjectKey(key string) (bool, error)
	// ProjectName reports whether a normal project has this name, in any
	// case (personal projects are named after their user).
	ProjectName(name string) (bool, error)
	// RepositorySlug and RepositoryName report whether the project with
	// key project has a repository of this slug or name, in any case.
	RepositorySlug(project, slug string) (bool, error)
	RepositoryName(project, name string) (bool, error)
}

// RenameKind says what an import renames.
type RenameKind string

// What an import renames, and why.
const (
	RenameInvalidKey     RenameKind = "invalid-project-key"
	RenameProjectKey     RenameKind = "project-key"
	RenameProjectName    RenameKind = "project-name"
	RenameInvalidSlug    RenameKind = "invalid-repository-slug"
	RenameRepositorySlug RenameKind = "repository-slug"
	RenameRepositoryName RenameKind = "repository-name"
)

// Rename is one name the import gives differently from the archive.
type Rename struct {
	Kind RenameKind `json:"kind"`
	// Subject is what the import's message is about: the project's key on
	// the target, or KEY/slug of the repository there.
	Subject string `json:"subject"`
	Project string `json:"project"` // the project's key on the target
	From    string `json:"from"`    // as the archive has it
	To      string `json:"to"`      // as the target gets it
}

// String is the rename as a sentence: the import's WARN message and the
// pre-flight's line say it in these words.
func (r Rename) String() string {
	switch r.Kind {
	case RenameInvalidKey:
		return fmt.Sprintf("Project key %s is not a valid Bitbucket key; the project was imported as %s", r.From, r.To)
	case RenameProjectKey:
		return fmt.Sprintf("A project with key %s exists already; the project was imported with key %s", r.From, r.To)
	case RenameProjectName:
		return fmt.Sprintf("A project named %q exists already; the project %s was imported as %q", r.From, r.Project, r.To)
	case RenameRepositorySlug:
		return fmt.Sprintf("A repository with slug %s exists already in %s; the repository was imported as %s", r.From, r.Project, r.To)
	case RenameInvalidSlug:
		return fmt.Sprintf("Repository slug %q is not a valid Bitbucket slug; the repository was imported as %s", r.From, r.To)
	}
	return fmt.Sprintf("A repository named %q exists already in %s; the repository was imported as %q", r.From, r.Project, r.To)
}

// ProjectPlace is where an archive's project goes on the target.
type ProjectPlace struct {
	Key, Name string
	// Reused is set for a personal project that exists: its repositories
	// from the archive are added to it, and it is not created.
	Reused bool
}

// PlaceProject decides the key and name a project of the archive is
// imported with, by Bitbucket's rules: a personal project that exists is
// reused, one that does not is created as it is; a normal project gets the
// first free key (KEY, KEY1, …) and name ("Name", "Name (1)", …).
func PlaceProject(key, name string, taken TakenNames) (ProjectPlace, []Rename, error) {
	if strings.HasPrefix(key, "~") {
		found, err := taken.ProjectKey(key)
		if err != nil {
			return ProjectPlace{}, nil, fmt.Errorf("look up project %s: %w", key, err)
		}
		return ProjectPlace{Key: key, Name: name, Reused: found}, nil, nil
	}
	base := ProjectKeys.Valid(key)
	newKey, err := ProjectKeys.Free(key, taken.ProjectKey)
	if err != nil {
		return ProjectPlace{}, nil, fmt.Errorf("look up project key %s: %w", key, err)
	}
	newName, err := Names.Free(name, taken.ProjectName)
	if err != nil {
		return ProjectPlace{}, nil, fmt.Errorf("look up project name %q: %w", name, err)
	}
	var renames []Rename
	switch {
	case base != key && newKey == base:
		renames = append(renames, Rename{Kind: RenameInvalidKey, Subject: newKey, Project: newKey, From: key, To: newKey})
	case newKey != base:
		renames = append(renames, Rename{Kind: RenameProjectKey, Subject: newKey, Project: newKey, From: key, To: newKey})
	}
	if newName != name {
		renames = append(renames, Rename{Kind: RenameProjectName, Subject: newKey, Project: newKey, From: name, To: newName})
	}
	return ProjectPlace{Key: newKey, Name: newName}, renames, nil
}

// RepositoryPlace is where an archive's repository goes in its project.
type RepositoryPlace struct{ Slug, Name string }

// PlaceRepository decides the slug and name a repository of the archive
// is imported with in the project with key project: the first free slug
// (slug, slug-1, …) and name ("Name", "Name (1)", …); a repository with no
// name is named after its slug.
func PlaceRepository(project, slug, name string, taken TakenNames) (RepositoryPlace, []Rename, error) {
	valid := RepositorySlugs.Valid(slug)
	if name == "" {
		name = slug
	}
	newSlug, err := RepositorySlugs.Free(slug, func(v string) (bool, error) { return taken.RepositorySlug(project, v) })
	if err != nil {
		return RepositoryPlace{}, nil, fmt.Errorf("look up repository slug %s in %s: %w", valid, project, err)
	}
	newName, err := Names.Free(name, func(v string) (bool, error) { return taken.RepositoryName(project, v) })
	if err != nil {
		return RepositoryPlace{}, nil, fmt.Errorf("look up repository name %q in %s: %w", name, project, err)
	}
	subject := project + "/" + newSlug
	var renames []Rename
	switch {
	case newSlug != valid:
		renames = append(renames, Rename{Kind: RenameRepositorySlug, Subject: subject, Project: project, From: valid, To: newSlug})
	case valid != slug:
		renames = append(renames, Rename{Kind: RenameInvalidSlug, Subject: subject, Project: project, From: slug, To: newSlug})
	}
	if newName != name {
		renames = append(renames, Rename{Kind: RenameRepositoryName, Subject: subject, Project: project, From: name, To: newName})
	}
	return RepositoryPlace{Slug: newSlug, Name: newName}, renames, nil
}

// ArchiveRepository is one repository of an archive as the placement
// rules need it, in archive order.
type ArchiveRepository struct {
	Project string // the project's key in the archive
	Slug    string
	Name    string
}

// PlanRenames foresees every rename an import of an archive makes into the
// target taken describes: its projects, then its repositories, placed in
// archive order by the importer's own rules, each seeing what the import
// will have created before it.
func PlanRenames(projects []ProjectSummary, repos []ArchiveRepository, taken TakenNames) ([]Rename, error) {
	plan := &plannedNames{TakenNames: taken, keys: map[string]bool{}, names: map[string]bool{},
		slugs: map[string]bool{}, repoNames: map[string]bool{}}
	var renames []Rename
	keys := map[string]string{} // archive key → key on the target
	for _, p := range projects {
		place, r, err := PlaceProject(p.Key, p.Name, plan)
		if err != nil {
			return nil, err
		}
		renames = append(renames, r...)
		keys[p.Key] = place.Key
		if !place.Reused {
			plan.keys[place.Key] = true
			if !strings.HasPrefix(p.Key, "~") {
				plan.names[strings.ToLower(place.Name)] = true
			}
		}
	}
	for _, repo := range repos {
		project, ok := keys[repo.Project]
		if !ok {
			continue // the importer leaves it out, with an ERROR
		}
		place, r, err := PlaceRepository(project, repo.Slug, repo.Name, plan)
		if err != nil {
			return nil, err
		}
		renames = append(renames, r...)
		plan.slugs[project+"/"+strings.ToLower(place.Slug)] = true
		plan.repoNames[project+"/"+strings.ToLower(place.Name)] = true
	}
	return renames, nil
}

// plannedNames is the target as it will be during the import: what it has,
// and what the import will have created so far.
type plannedNames struct {
	TakenNames
	keys, names, slugs, repoNames map[string]bool
}

func (p *plannedNames) ProjectKey(key string) (bool, error) {
	if p.keys[key] {
		return true, nil
	}
	return p.TakenNames.ProjectKey(key)
}

func (p *plannedNames) ProjectName(name string) (bool, error) {
	if p.names[strings.ToLower(name)] {
		return true, nil
	}
	return p.TakenNames.ProjectName(name)
}

func (p *plannedNames) RepositorySlug(project, slug string) (bool, error) {
	if p.slugs[project+"/"+strings.ToLower(slug)] {
		return true, nil
	}
	if p.keys[project] {
		return false, nil // a project the import creates holds only what it brings
	}
	return p.TakenNames.RepositorySlug(project, slug)
}

func (p *plannedNames) RepositoryName(project, name string) (bool, error) {
	if p.repoNames[project+"/"+strings.ToLower(name)] {
		return true, nil
	}
	if p.keys[project] {
		return false, nil
	}
	return p.TakenNames.RepositoryName(project, name)
}

// ReaderNames is TakenNames read from a target's read API: what the
// pre-flight asks, of the in-process importer, serve or a real Bitbucket
// alike. Names are compared whole and in any case, as the importer does,
// so lists are read unfiltered, each once: the projects, and the
// repositories of each project asked about.
func ReaderNames(ctx context.Context, r Reader) TakenNames {
	return &readerNames{ctx: ctx, r: r, repos: map[string]*repoNames{}}
}

type readerNames struct {
	ctx      context.Context
	r        Reader
	projects map[string]bool // lower-case names of normal projects; nil until read
	repos    map[string]*repoNames
}

type repoNames struct{ slugs, names map[string]bool } // lower case

func (n *readerNames) ProjectKey(key string) (bool, error) {
	_, err := n.r.Project(n.ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("look up project %s on the target: %w", key, err)
}

func (n *readerNames) ProjectName(name string) (bool, error) {
	if n.projects == nil {
		names := map[string]bool{}
		err := eachPage(func(start int) (Page[RestProject], error) {
			return n.r.ListProjects(n.ctx, ProjectQuery{}, start, 1000)
		}, func(p RestProject) {
			if p.Type != "PERSONAL" {
				names[strings.ToLower(p.Name)] = true
			}
		})
		if err != nil {
			return false, fmt.Errorf("list the projects of the target: %w", err)
		}
		n.projects = names
	}
	return n.projects[strings.ToLower(name)], nil
}

func (n *readerNames) repositories(project string) (*repoNames, error) {
	if rn := n.repos[project]; rn != nil {
		return rn, nil
	}
	rn := &repoNames{slugs: map[string]bool{}, names: map[string]bool{}}
	err := eachPage(func(start int) (Page[RestRepository], error) {
		return n.r.ListRepositories(n.ctx, RepositoryQuery{ProjectKey: project}, start, 1000)
	}, func(r RestRepository) {
		rn.slugs[strings.ToLower(r.Slug)] = true
		rn.names[strings.ToLower(r.Name)] = true
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("list the repositories of %s on the target: %w", project, err)
	}
	n.repos[project] = rn
	return rn, nil
}

func (n *readerNames) RepositorySlug(project, slug string) (bool, error) {
	rn, err := n.repositories(project)
	return err == nil && rn.slugs[strings.ToLower(slug)], err
}

func (n *readerNames) RepositoryName(project, name string) (bool, error) {
	rn, err := n.repositories(project)
	return err == nil && rn.names[strings.ToLower(name)], err
}

// eachPage calls each for every value of every page, from the first.
func eachPage[T any](page func(start int) (Page[T], error), each func(T)) error {
	for start := 0; ; {
		p, err := page(start)
		if err != nil {
			return err
		}
		for _, v := range p.Values {
			each(v)
		}
		if p.IsLastPage || p.NextPageStart == nil || *p.NextPageStart <= start {
			return nil
		}
		start = *p.NextPageStart
	}
}
