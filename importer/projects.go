package importer

import (
	"fmt"

	"bbimport/model"
)

// project creates the archive's project, renamed if its key or name is
// taken; a personal project that exists already receives the repositories.
// The rules are model.PlaceProject's, which the pre-flight asks too.
func (im *importRun) project(p *model.Project) error {
	im.run.setProgress("Importing project "+p.Key, 0)
	place, renames, err := model.PlaceProject(p.Key, p.Name, storeNames{st: im.st})
	if err != nil {
		return err
	}
	if place.Reused {
		id, _, err := im.st.projectID(p.Key)
		if err != nil {
			return fmt.Errorf("look up project %s: %w", p.Key, err)
		}
		im.projects[p.ID] = &importedProject{id: id, key: p.Key, archiveKey: p.Key}
		im.counts.PersonalReused++
		im.info(p.Key, "Personal project %s exists already; its repositories from the archive are added to it", p.Key)
		return im.st.mapID("project", p.ID, id)
	}
	for _, r := range renames {
		im.warn(r.Subject, "%s", r)
	}
	typ := "NORMAL"
	if p.Personal() {
		typ = "PERSONAL"
	}
	return im.createProject(p, place.Key, place.Name, typ)
}

// storeNames is model.TakenNames from the import's own database: what the
// import sees, its own writes included. Repositories are looked up in the
// project of id projectID, whose key the rules pass.
type storeNames struct {
	st        *store
	projectID int64
}

func (n storeNames) ProjectKey(key string) (bool, error)   { return n.st.projectKeyTaken(key) }
func (n storeNames) ProjectName(name string) (bool, error) { return n.st.projectNameTaken(name) }
func (n storeNames) RepositorySlug(_, slug string) (bool, error) {
	return n.st.repositorySlugTaken(n.projectID, slug)
}
func (n storeNames) RepositoryName(_, name string) (bool, error) {
	return n.st.repositoryNameTaken(n.projectID, name)
}

func (im *importRun) createProject(p *model.Project, key, name, typ string) error {
	id, err := im.st.insertProject(p, key, name, typ)
	if err != nil {
		return fmt.Errorf("create project %s: %w", key, err)
	}
	im.projects[p.ID] = &importedProject{id: id, key: key, archiveKey: p.Key}
	im.counts.Projects++
	return im.st.mapID("project", p.ID, id)
}
