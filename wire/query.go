package wire

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"bbimport/model"
)

// The filters of the read API's lists, parsed from a request's query with
// Bitbucket's defaults filled in. A value Bitbucket would refuse is a
// *FieldError naming the parameter: a filter is never silently dropped,
// since a client would then take every item for a match.

// ParseProjectQuery reads GET /projects' filters. permission is accepted
// and ignored: the only user of the server is its admin, who holds every
// permission on every project.
func ParseProjectQuery(q url.Values) model.ProjectQuery {
	return model.ProjectQuery{Name: q.Get("name")}
}

// ParseRepositoryQuery reads GET /repos' filters.
func ParseRepositoryQuery(q url.Values) model.RepositoryQuery {
	return model.RepositoryQuery{Name: q.Get("name"), ProjectName: q.Get("projectname")}
}

// ParseRefQuery reads the filters of GET …/branches and …/tags.
func ParseRefQuery(q url.Values) (model.RefQuery, error) {
	rq := model.RefQuery{FilterText: q.Get("filterText"), OrderBy: model.OrderAlphabetical}
	if v := q.Get("orderBy"); v != "" {
		var err error
		if rq.OrderBy, err = oneOf("orderBy", v, model.OrderAlphabetical, model.OrderModification); err != nil {
			return rq, err
		}
	}
	return rq, nil
}

// ParsePullRequestQuery reads the filters of GET …/pull-requests.
func ParsePullRequestQuery(q url.Values) (model.PullRequestQuery, error) {
	pq := model.PullRequestQuery{State: model.PROpen, Direction: model.DirectionIncoming, Order: model.OrderNewest,
		FilterText: q.Get("filterText")}
	for _, f := range []struct {
		name, value string
		to          *string
		allowed     []string
	}{
		{"state", q.Get("state"), &pq.State, []string{model.PRStateAll, model.PROpen, model.PRMerged, model.PRDeclined}},
		{"direction", q.Get("direction"), &pq.Direction, []string{model.DirectionIncoming, model.DirectionOutgoing}},
		{"order", q.Get("order"), &pq.Order, []string{model.OrderNewest, model.OrderOldest}},
	} {
		if f.value == "" {
			continue
		}
		v, err := oneOf(f.name, f.value, f.allowed...)
		if err != nil {
			return pq, err
		}
		*f.to = v
	}
	if at := q.Get("at"); at != "" {
		pq.At = at
		if !strings.HasPrefix(at, "refs/") {
			pq.At = "refs/heads/" + at
		}
	}
	// role.N and username.N pair up by N; a role without a user name
	// cannot be matched and is refused.
	// In sorted order, so that of two bad parameters the same one is named
	// every time.
	var ns []int
	for _, name := range slices.Sorted(maps.Keys(q)) {
		prefix, n, ok := strings.Cut(name, ".")
		if !ok || (prefix != "role" && prefix != "username") {
			continue
		}
		i, err := strconv.Atoi(n)
		if err != nil {
			return pq, &FieldError{Field: name, Message: fmt.Sprintf("%s is not %s.N with a number N", name, prefix)}
		}
		if q.Get("username."+n) == "" {
			return pq, &FieldError{Field: name, Message: fmt.Sprintf("%s needs username.%s, the user it filters by", name, n)}
		}
		if !slices.Contains(ns, i) {
			ns = append(ns, i)
		}
	}
	slices.Sort(ns)
	for _, i := range ns {
		n := strconv.Itoa(i)
		f := model.ParticipantFilter{Username: q.Get("username." + n)}
		if role := q.Get("role." + n); role != "" {
			var err error
			if f.Role, err = oneOf("role."+n, role, model.RoleAuthor, model.RoleReviewer, model.RoleParticipant); err != nil {
				return pq, err
			}
		}
		pq.Participants = append(pq.Participants, f)
	}
	return pq, nil
}

// oneOf returns value in upper case if it is one of allowed, else a
// *FieldError naming the parameter.
func oneOf(name, value string, allowed ...string) (string, error) {
	v := strings.ToUpper(value)
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", &FieldError{Field: name, Message: fmt.Sprintf("%s %q is not one of %s", name, value, strings.Join(allowed, ", "))}
}
