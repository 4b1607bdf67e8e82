// Package archive reads, inspects and checksums Bitbucket Data Center
// migration archives, safely: every name and size in an archive is
// untrusted. The member layout lives here so that the reader and the
// generator agree on it.
package archive

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says what an archive member is.
type Kind int

// The members of an archive, in the order they appear for one repository.
const (
	KindUnknown Kind = iota
	KindInstanceDetails
	KindProject
	KindProjectAllPermissions
	KindProjectPermissions
	KindHierarchyBegin
	KindRepository
	KindRepositoryPermissions
	KindGitMetadata
	KindGitHooks
	KindGitObjects
	KindLFSSettings
	KindPullRequestMetadata
	KindPullRequestActivities
	KindPullRequestCaches
	KindHierarchyEnd
)

var kindNames = [...]string{"unknown", "instance details", "project", "project all-permissions",
	"project permissions", "hierarchy begin", "repository", "repository permissions",
	"git metadata", "git hooks", "git objects", "git-lfs settings", "pull request metadata",
	"pull request activities", "pull request caches", "hierarchy end"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind " + strconv.Itoa(int(k))
}

// Plugin prefixes as Data Center 9.4 writes them. The reader matches by
// section and the rest of the path only, since plugins get renamed.
const (
	prefix          = "com.atlassian.bitbucket.server."
	pluginMigration = prefix + "bitbucket-instance-migration_"
	pluginGit       = prefix + "bitbucket-git_"
	pluginLFS       = prefix + "bitbucket-git-lfs_"
	// The pull requests section was never seen whole; the spec says to
	// write it under the migration plugin.
	pluginPullRequests = pluginMigration
	// Hierarchy markers: the spec shows their first element as "_".
	markerPrefix = "_"
)

// IDs are the archive ids a member name carries. Ids are strings in the
// metadata; pull request ids are numbers.
type IDs struct {
	Project     string
	Repository  string
	Hierarchy   string
	PullRequest int64
}

// MemberName builds the outer tar name of a member of the given kind.
func MemberName(k Kind, id IDs) string {
	pr := strconv.FormatInt(id.PullRequest, 10)
	switch k {
	case KindInstanceDetails:
		return pluginMigration + "instanceDetails/instance-details.json.atl.gz"
	case KindProject:
		return pluginMigration + "metadata/project_" + id.Project + "/project.json.atl.gz"
	case KindProjectAllPermissions:
		return pluginMigration + "permissions/project/" + id.Project + "/all-permissions.json.atl.gz"
	case KindProjectPermissions:
		return pluginMigration + "permissions/project/" + id.Project + "/permissions.json.atl.gz"
	case KindHierarchyBegin:
		return markerPrefix + "/repository/hierarchy_begin/" + id.Hierarchy
	case KindHierarchyEnd:
		return markerPrefix + "/repository/hierarchy_end/" + id.Hierarchy
	case KindRepository:
		return pluginMigration + "metadata/project_" + id.Project + "/repository_" + id.Repository + ".json.atl.gz"
	case KindRepositoryPermissions:
		return pluginMigration + "permissions/repository/" + id.Repository + "/permissions.json.atl.gz"
	case KindGitMetadata:
		return pluginGit + "git/repositories/" + id.Repository + "/metadata/metadata.atl.tar.atl.gz"
	case KindGitHooks:
		return pluginGit + "git/repositories/" + id.Repository + "/hooks/hooks.atl.tar.atl.gz"
	case KindGitObjects:
		return pluginGit + "git/repositories/" + id.Repository + "/contents/objects.atl.tar"
	case KindLFSSettings:
		return pluginLFS + "gitLfsSettings/" + id.Repository + "/git-lfs-settings.json.atl.gz"
	case KindPullRequestMetadata:
		return pluginPullRequests + "pullRequests/repository/" + id.Repository + "/pullrequest/" + pr + "/metadata.json.atl.gz"
	case KindPullRequestActivities:
		return pluginPullRequests + "pullRequests/repository/" + id.Repository + "/pullrequest/" + pr + "/activities.json.atl.gz"
	case KindPullRequestCaches:
		return pluginGit + "gitPullRequests/repositories/" + id.Repository + "/pullrequests/" + pr + "/caches.atl.tar.atl.gz"
	}
	panic(fmt.Sprintf("archive: no member name for %v", k))
}

// ParseMemberName says what a (clean, already checked) member name is.
// The first path element is matched by its section only, the text after its
// last "_". A name it does not know is KindUnknown, not an error.
func ParseMemberName(name string) (Kind, IDs) {
	first, rest, ok := strings.Cut(name, "/")
	if !ok {
		return KindUnknown, IDs{}
	}
	section := first
	if i := strings.LastIndex(first, "_"); i >= 0 {
		section = first[i+1:]
	}
	p := memberPath(strings.Split(rest, "/"))
	if parse, ok := sectionParsers[section]; ok {
		if k, id := parse(p); k != KindUnknown {
			return k, id
		}
	}
	// Hierarchy markers carry no section worth trusting: match the rest.
	if p.match("repository", "hierarchy_begin", "*") {
		return KindHierarchyBegin, IDs{Hierarchy: p[2]}
	}
	if p.match("repository", "hierarchy_end", "*") {
		return KindHierarchyEnd, IDs{Hierarchy: p[2]}
	}
	return KindUnknown, IDs{}
}

// memberPath is a member name's elements after its section directory.
type memberPath []string

// match reports whether p has pattern's elements, "*" standing for any
// one non-empty element.
func (p memberPath) match(pattern ...string) bool {
	if len(p) != len(pattern) {
		return false
	}
	for i, s := range pattern {
		if s != "*" && s != p[i] {
			return false
		}
		if s == "*" && p[i] == "" {
			return false
		}
	}
	return true
}

// sectionParsers reads the rest of a member name by its section; each
// answers KindUnknown for a path its section does not hold.
var sectionParsers = map[string]func(memberPath) (Kind, IDs){
	"instanceDetails": parseInstanceDetails,
	"metadata":        parseMetadata,
	"permissions":     parsePermissions,
	"git":             parseGit,
	"gitLfsSettings":  parseLFSSettings,
	"pullRequests":    parsePullRequests,
	"gitPullRequests": parseGitPullRequests,
}

func parseInstanceDetails(p memberPath) (Kind, IDs) {
	if p.match("instance-details.json.atl.gz") {
		return KindInstanceDetails, IDs{}
	}
	return KindUnknown, IDs{}
}

func parseMetadata(p memberPath) (Kind, IDs) {
	if len(p) != 2 || !strings.HasPrefix(p[0], "project_") || len(p[0]) == len("project_") {
		return KindUnknown, IDs{}
	}
	pid := strings.TrimPrefix(p[0], "project_")
	if p[1] == "project.json.atl.gz" {
		return KindProject, IDs{Project: pid}
	}
	if rid, ok := strings.CutPrefix(p[1], "repository_"); ok {
		if rid, ok := strings.CutSuffix(rid, ".json.atl.gz"); ok && rid != "" {
			return KindRepository, IDs{Project: pid, Repository: rid}
		}
	}
	return KindUnknown, IDs{}
}

func parsePermissions(p memberPath) (Kind, IDs) {
	switch {
	case p.match("project", "*", "all-permissions.json.atl.gz"):
		return KindProjectAllPermissions, IDs{Project: p[1]}
	case p.match("project", "*", "permissions.json.atl.gz"):
		return KindProjectPermissions, IDs{Project: p[1]}
	case p.match("repository", "*", "permissions.json.atl.gz"):
		return KindRepositoryPermissions, IDs{Repository: p[1]}
	}
	return KindUnknown, IDs{}
}

func parseGit(p memberPath) (Kind, IDs) {
	switch {
	case p.match("repositories", "*", "metadata", "metadata.atl.tar.atl.gz"):
		return KindGitMetadata, IDs{Repository: p[1]}
	case p.match("repositories", "*", "hooks", "hooks.atl.tar.atl.gz"):
		return KindGitHooks, IDs{Repository: p[1]}
	case p.match("repositories", "*", "contents", "objects.atl.tar"):
		return KindGitObjects, IDs{Repository: p[1]}
	}
	return KindUnknown, IDs{}
}

func parseLFSSettings(p memberPath) (Kind, IDs) {
	if p.match("*", "git-lfs-settings.json.atl.gz") {
		return KindLFSSettings, IDs{Repository: p[0]}
	}
	return KindUnknown, IDs{}
}

func parsePullRequests(p memberPath) (Kind, IDs) {
	if !p.match("repository", "*", "pullrequest", "*", "*") {
		return KindUnknown, IDs{}
	}
	n, ok := pullRequestID(p[3])
	if !ok {
		return KindUnknown, IDs{}
	}
	id := IDs{Repository: p[1], PullRequest: n}
	switch p[4] {
	case "metadata.json.atl.gz":
		return KindPullRequestMetadata, id
	case "activities.json.atl.gz":
		return KindPullRequestActivities, id
	}
	return KindUnknown, IDs{}
}

func parseGitPullRequests(p memberPath) (Kind, IDs) {
	if p.match("repositories", "*", "pullrequests", "*", "caches.atl.tar.atl.gz") {
		if n, ok := pullRequestID(p[3]); ok {
			return KindPullRequestCaches, IDs{Repository: p[1], PullRequest: n}
		}
	}
	return KindUnknown, IDs{}
}

func pullRequestID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}
