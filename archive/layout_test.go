package archive

import "testing"

func TestMemberNamesParseBack(t *testing.T) {
	id := IDs{Project: "1", Repository: "15", Hierarchy: "a1f92f6e4287f433820f", PullRequest: 12}
	for k := KindInstanceDetails; k <= KindHierarchyEnd; k++ {
		name := MemberName(k, id)
		got, gotID := ParseMemberName(name)
		if got != k {
			t.Errorf("%s: parsed as %v, want %v", name, got, k)
		}
		want := IDs{}
		switch k {
		case KindProject, KindProjectAllPermissions, KindProjectPermissions:
			want.Project = id.Project
		case KindRepository:
			want.Project, want.Repository = id.Project, id.Repository
		case KindHierarchyBegin, KindHierarchyEnd:
			want.Hierarchy = id.Hierarchy
		case KindPullRequestMetadata, KindPullRequestActivities, KindPullRequestCaches:
			want.Repository, want.PullRequest = id.Repository, id.PullRequest
		case KindInstanceDetails:
		default:
			want.Repository = id.Repository
		}
		if gotID != want {
			t.Errorf("%s: ids %+v, want %+v", name, gotID, want)
		}
	}
}

func TestRenamedPluginStillMatches(t *testing.T) {
	k, id := ParseMemberName("com.atlassian.bitbucket.server.some-new-plugin_metadata/project_7/repository_9.json.atl.gz")
	if k != KindRepository || id.Repository != "9" || id.Project != "7" {
		t.Fatalf("got %v %+v", k, id)
	}
	if k, _ := ParseMemberName("com.x_metadata/project_/project.json.atl.gz"); k != KindUnknown {
		t.Fatalf("empty project id parsed as %v", k)
	}
}
