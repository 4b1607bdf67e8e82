package archive

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"bbimport/model"
)

// maxWarnings bounds the warnings of a summary: an archive newer than this
// reader may add a field to every one of 50,000 pull requests.
const maxWarnings = 100

// Inspect tells what the archive at path, opened with Open, holds without
// importing it: see InspectFile.
func Inspect(path string, lim Limits) (model.ArchiveSummary, error) {
	f, err := Open(path, "")
	if errors.Is(err, fs.ErrPermission) {
		return model.ArchiveSummary{}, fmt.Errorf("%s: %s", path, deniedOnTheWay(path, false))
	}
	if err != nil {
		return model.ArchiveSummary{}, fmt.Errorf("inspect archive: %w", err)
	}
	defer f.Close()
	return InspectFile(f, lim)
}

// InspectFile tells what the archive f holds without importing it. It
// reads every member except git objects, whose headers it reads while
// skipping their bytes by seeking, so its time grows with the number of
// members, not with the archive's size. It applies every rule an import
// applies to names and entry types, in every inner tar, so that an unsafe
// archive shows up before an import starts. It leaves pull request
// activities undecoded and does not count them, and decodes a pull
// request's id and state only. It does not close f.
func InspectFile(f *os.File, lim Limits) (model.ArchiveSummary, error) {
	lim = lim.withDefaults()
	s := newSummary(f, lim)
	fi, err := f.Stat()
	if err != nil {
		return s.ArchiveSummary, fmt.Errorf("inspect archive: %w", err)
	}
	s.ArchiveBytes = fi.Size()
	err = runOpened(f, lim, inspectPass, s.member)
	if s.dropped > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d more warnings not shown", s.dropped))
	}
	if errors.Is(err, ErrTruncated) || errors.Is(err, ErrMalformed) {
		err = fmt.Errorf("%w; %s", err, copyAgain)
	}
	return s.ArchiveSummary, err
}

// inspectPass sets up InspectFile's reader: it leaves activities
// undecoded and decodes pull requests only as far as it counts them.
func inspectPass(rd *reader) {
	rd.skip = map[Kind]bool{KindPullRequestActivities: true}
	rd.briefPullRequests = true
}

func newSummary(f *os.File, lim Limits) *summary {
	return &summary{
		ArchiveSummary: model.ArchiveSummary{Projects: []model.ProjectSummary{}, Hierarchies: []model.HierarchySummary{}},
		f:              f,
		lim:            lim,
		projects:       map[string]int{},
		hierarchies:    map[string]int{},
		repoNames:      map[string]string{},
		pullRequests:   map[pullRequestKey]bool{},
	}
}

// member is the Handler that adds each member to the summary.
func (s *summary) member(m *Member) error {
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
		s.pullRequest(m.IDs.Repository, m.PullRequest)
	case KindHierarchyBegin:
		s.open++
	case KindHierarchyEnd:
		s.endHierarchy()
	case KindGitMetadata, KindGitHooks:
		s.GitBytes += m.Size
		return m.Files(func(File) error { return nil })
	case KindGitObjects:
		s.GitBytes += m.Size
		// Member.Files would read the objects through the outer tar;
		// the same bytes, read from the file, can be skipped by seeking.
		return checkObjectsTar(io.NewSectionReader(s.f, m.Offset, m.Size), m.Name, s.lim)
	}
	return nil
}

// summary is an ArchiveSummary being built.
type summary struct {
	model.ArchiveSummary
	f           *os.File // the archive, to skip git objects by seeking
	lim         Limits
	projects    map[string]int // project id -> index in Projects
	hierarchies map[string]int // hierarchy id -> index in Hierarchies
	dropped     int            // warnings over maxWarnings
	open        int            // fork hierarchies begun and not ended
	// The repositories and pull requests of the open hierarchies: a
	// repository's pull requests lie inside its hierarchy (the reader
	// refuses one named after it ends), so these are forgotten at its end
	// and stay as small as one hierarchy whatever the archive's size.
	repoNames    map[string]string // repository id -> KEY/slug
	pullRequests map[pullRequestKey]bool
}

func (s *summary) endHierarchy() {
	s.open = max(s.open-1, 0)
	if s.open == 0 {
		s.repoNames, s.pullRequests = map[string]string{}, map[pullRequestKey]bool{}
	}
}

// pullRequestKey identifies a pull request: its JSON id is unique only
// within its repository.
type pullRequestKey struct {
	repository string
	id         int64
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
	s.repoNames[r.ID] = name
	s.RepositoryList = append(s.RepositoryList, model.ArchiveRepository{Project: key, Slug: r.Slug, Name: r.Name})
	if r.IsFork() {
		s.Forks++
		s.Hierarchies[i].Forks = append(s.Hierarchies[i].Forks, name)
	} else {
		s.Hierarchies[i].Origin = name
	}
}

func (s *summary) pullRequest(repository string, pr *model.PullRequest) {
	c := &s.PullRequests
	c.Total++
	switch pr.State {
	case model.PROpen:
		c.Open++
	case model.PRMerged:
		c.Merged++
	case model.PRDeclined:
		c.Declined++
	default:
		s.warn(fmt.Sprintf("pull request state %q is unknown", pr.State))
	}
	k := pullRequestKey{repository, pr.ID}
	if s.pullRequests[k] {
		name, ok := s.repoNames[repository]
		if !ok {
			name = "with id " + repository
		}
		s.warn(fmt.Sprintf("repository %s has more than one pull request with id %d", name, pr.ID))
	}
	s.pullRequests[k] = true
}
