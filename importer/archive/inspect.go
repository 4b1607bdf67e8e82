package archive

import (
	"fmt"
	"os"

	"bbimport/model"
)

// maxWarnings bounds the warnings of a summary: an archive newer than this
// reader may add a field to every one of 50,000 pull requests.
const maxWarnings = 100

// Inspect tells what the archive at path holds without importing it. It
// reads every member except git objects, which it skips by seeking, so
// its time grows with the number of members, not with the archive's size.
// It checks the names of the small inner tars (git metadata, hooks) too,
// so that an unsafe archive shows up before an import starts. It leaves
// pull request activities and caches undecoded: it counts neither.
func Inspect(path string, lim Limits) (model.ArchiveSummary, error) {
	s := &summary{
		ArchiveSummary: model.ArchiveSummary{Projects: []model.ProjectSummary{}, Hierarchies: []model.HierarchySummary{}},
		projects:       map[string]int{},
		hierarchies:    map[string]int{},
	}
	fi, err := os.Stat(path)
	if err != nil {
		return s.ArchiveSummary, fmt.Errorf("inspect archive: %w", err)
	}
	s.ArchiveBytes = fi.Size()
	skip := map[Kind]bool{KindPullRequestActivities: true, KindPullRequestCaches: true}
	err = readFile(path, lim, skip, func(m *Member) error {
		s.Members++
		for _, n := range m.Notes {
			s.warn(n)
		}
		if m.Malformed != nil {
			s.warn(m.Malformed.Error())
			return nil
		}
		switch m.Kind {
		case KindInstanceDetails:
			s.Instance = *m.Instance
		case KindProject:
			s.projects[m.Project.ID] = len(s.Projects)
			s.Projects = append(s.Projects, model.ProjectSummary{Key: m.Project.Key, Name: m.Project.Name})
		case KindRepository:
			s.repository(m.Repository)
		case KindPullRequestMetadata:
			s.pullRequest(m.PullRequest.State)
		case KindGitMetadata, KindGitHooks:
			s.GitBytes += m.Size
			return m.Files(func(File) error { return nil })
		case KindGitObjects:
			s.GitBytes += m.Size
		}
		return nil
	})
	if s.dropped > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d more warnings not shown", s.dropped))
	}
	return s.ArchiveSummary, err
}

// summary is an ArchiveSummary being built.
type summary struct {
	model.ArchiveSummary
	projects    map[string]int // project id -> index in Projects
	hierarchies map[string]int // hierarchy id -> index in Hierarchies
	dropped     int            // warnings over maxWarnings
}

func (s *summary) warn(w string) {
	if len(s.Warnings) < maxWarnings {
		s.Warnings = append(s.Warnings, w)
	} else {
		s.dropped++
	}
}

func (s *summary) repository(r *model.Repository) {
	s.Repositories++
	key := "project " + r.ProjectID
	if i, ok := s.projects[r.ProjectID]; ok {
		s.Projects[i].Repositories++
		key = s.Projects[i].Key
	} else {
		s.warn(fmt.Sprintf("repository %s comes before its project (id %s)", r.Slug, r.ProjectID))
	}
	i, ok := s.hierarchies[r.HierarchyID]
	if !ok {
		i = len(s.Hierarchies)
		s.hierarchies[r.HierarchyID] = i
		s.Hierarchies = append(s.Hierarchies, model.HierarchySummary{ID: r.HierarchyID, Forks: []string{}})
	}
	name := key + "/" + r.Slug
	if r.IsFork() {
		s.Forks++
		s.Hierarchies[i].Forks = append(s.Hierarchies[i].Forks, name)
	} else {
		s.Hierarchies[i].Origin = name
	}
}

func (s *summary) pullRequest(state string) {
	c := &s.PullRequests
	c.Total++
	switch state {
	case model.PROpen:
		c.Open++
	case model.PRMerged:
		c.Merged++
	case model.PRDeclined:
		c.Declined++
	default:
		s.warn(fmt.Sprintf("pull request state %q is unknown", state))
	}
}
