package gen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"bbimport/model"
)

// Random streams: every part of an archive draws from its own stream, keyed
// by the seed and the ids it belongs to, so that repositories can be built
// in parallel and adding one option does not reshuffle everything else.
const (
	streamPlan uint64 = iota + 1
	streamGit
	streamSocial
	streamBlob
)

func newRand(seed int64, stream uint64, ids ...uint64) *rand.Rand {
	key := stream
	for _, id := range ids {
		key = key*1_000_003 + id
	}
	return rand.New(rand.NewPCG(uint64(seed), key))
}

// blobBytes fills p with the seeded random content of one blob.
func blobBytes(p []byte, seed int64, repo, commit uint64) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], uint64(seed))
	binary.LittleEndian.PutUint64(key[8:], streamBlob)
	binary.LittleEndian.PutUint64(key[16:], repo)
	binary.LittleEndian.PutUint64(key[24:], commit)
	rand.NewChaCha8(key).Read(p) //nolint:errcheck // ChaCha8.Read always fills p and returns nil
}

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
	"Margaret", "Dennis", "Radia", "Linus", "Hedy", "Niklaus", "Karen", "Tony"}

var lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen",
	"Thompson", "Hamilton", "Ritchie", "Perlman", "Torvalds", "Lamarr", "Wirth", "Spärck Jones", "Hoare"}

// person is a user as commits and the archive name them.
type person struct {
	id    model.UserID
	email string
}

func (p person) String() string { return p.id.String() }

// people is the archive's user pool: normal users, then service users,
// which act only as reviewers and commenters (bots), never as authors.
type people struct {
	users    []person
	services []person
}

func newPeople(seed int64) people {
	r := newRand(seed, streamPlan, 1)
	var ps people
	for i, fi := range r.Perm(len(firstNames))[:12] {
		first, last := firstNames[fi], lastNames[r.IntN(len(lastNames))]
		slug := fmt.Sprintf("%s%d", strings.ToLower(first), i+1)
		ps.users = append(ps.users, person{
			id:    model.UserID{Slug: slug, DisplayName: first + " " + last, Type: model.UserTypeNormal},
			email: slug + "@example.com",
		})
	}
	for _, bot := range [][2]string{{"ci-bot", "CI Bot"}, {"renovate", "Renovate Bot"}} {
		ps.services = append(ps.services, person{
			id:    model.UserID{Slug: bot[0], DisplayName: bot[1], Type: model.UserTypeService},
			email: bot[0] + "@example.com",
		})
	}
	return ps
}

// pick returns n distinct users (normal and service) other than the excluded.
func (ps people) pick(r *rand.Rand, n int, exclude ...person) []person {
	all := append(append([]person{}, ps.users...), ps.services...)
	var out []person
	for _, i := range r.Perm(len(all)) {
		if len(out) == n {
			break
		}
		if !containsPerson(exclude, all[i]) {
			out = append(out, all[i])
		}
	}
	return out
}

func containsPerson(list []person, p person) bool {
	for _, q := range list {
		if q.id == p.id {
			return true
		}
	}
	return false
}

var projectWords = []string{"Platform", "Payments", "Mobile", "Search", "Billing", "Identity",
	"Analytics", "Infra", "Gateway", "Ledger", "Catalog", "Checkout", "Atlas", "Beacon", "Comet",
	"Delta", "Ember", "Falcon", "Harbor", "Nimbus", "Orbit", "Pulse", "Quartz", "Summit"}

var repoWords = []string{"api", "web", "core", "worker", "cli", "docs", "infra", "sdk", "ui",
	"scheduler", "notifier", "importer", "exporter", "auth", "cache", "proxy", "metrics",
	"search", "storage", "events"}

// projectKey is the key of the project named word: its first letters, made
// unique with a number when the words run out.
func projectKey(word string, round int) string {
	key := strings.ToUpper(word)
	if len(key) > 4 {
		key = key[:4]
	}
	if round > 0 {
		key += fmt.Sprint(round + 1)
	}
	return key
}
