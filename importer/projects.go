package importer

import (
	"fmt"

	"bbimport/model"
)

// project creates the archive's project, renamed if its key or name is
// taken; a personal project that exists already receives the repositories.
func (im *importRun) project(p *model.Project) error {
	im.run.setProgress("Importing project "+p.Key, 0)
	if p.Personal() {
		id, found, err := im.st.projectID(p.Key)
		if err != nil {
			return fmt.Errorf("look up project %s: %w", p.Key, err)
		}
		if found {
			im.projects[p.ID] = &importedProject{id: id, key: p.Key, archiveKey: p.Key}
			im.counts.PersonalReused++
			im.info(p.Key, "Personal project %s exists already; its repositories from the archive are added to it", p.Key)
			return im.st.mapID("project", p.ID, id)
		}
		return im.createProject(p, p.Key, p.Name, "PERSONAL")
	}
	base := model.ProjectKeys.Valid(p.Key)
	key, err := model.ProjectKeys.Free(p.Key, im.st.projectKeyTaken)
	if err != nil {
		return fmt.Errorf("look up project key %s: %w", p.Key, err)
	}
	name, err := model.Names.Free(p.Name, im.st.projectNameTaken)
	if err != nil {
		return fmt.Errorf("look up project name %q: %w", p.Name, err)
	}
	switch {
	case base != p.Key && key == base:
		im.warn(key, "Project key %s is not a valid Bitbucket key; the project was imported as %s", p.Key, key)
	case key != base:
		im.warn(key, "A project with key %s exists already; the project was imported with key %s", p.Key, key)
	}
	if name != p.Name {
		im.warn(key, "A project named %q exists already; the project %s was imported as %q", p.Name, key, name)
	}
	return im.createProject(p, key, name, "NORMAL")
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
