// Package gen writes synthetic Bitbucket Data Center migration
// archives in exactly the layout of real ones (docs/bitbucket.md), for
// tests, demos and benchmarks. Generate and GenerateFile write a whole
// archive from Options; Writer writes one member at a time, for tests that
// craft odd or broken archives.
//
// What an archive holds:
//   - Projects with permissions; personal projects (~USER, type 1) for the
//     users who own forks, written just before the hierarchy that first
//     needs them.
//   - Fork hierarchies: an origin, then its forks, alternately in a personal
//     project and in the origin's own project. A fork's history is its
//     origin's default branch plus two commits of its own.
//   - Real git data, its objects hashed and stored in Go exactly as git
//     writes them (no git process runs; gitobj.go). Branches master,
//     develop and release/1.0, a lightweight tag v0.1 and an annotated tag
//     v1.0, one branch per pull request (merged ones are deleted half the
//     time), refs/pull-requests/<id>/from for open pull requests and
//     stash-refs/pull-requests/<id>/from for all. Branches and pull request
//     refs are loose ref files; tags are in packed-refs, so an importer
//     meets both forms. Reflogs under logs/.
//   - Objects: a fork's objects tar holds ONLY the objects its origin lacks,
//     as Bitbucket forks share their origin's store through alternates: an
//     importer must set objects/info/alternates. Small repositories (under
//     600 objects and 1 MiB of blobs) have loose objects, larger ones a
//     pack (pack/pack-*.pack and .idx, undeltified). Object contents are
//     zlib streams of stored blocks: valid, and much cheaper to make.
//   - Pull requests in every state (the first three of each repository are
//     OPEN, MERGED and DECLINED, the fourth a draft), with every activity
//     kind and action, comments with nested replies, tasks, inline
//     comments, and an ancestor cache. Pull request 1 of each repository
//     has all of them.
//
// The same Options give the same bytes: every random choice comes from the
// seed, every time is fixed, gzip headers carry no time, and members and
// objects are written in a fixed order whatever Parallel is (members are
// encoded and compressed on Parallel goroutines, written by one).
//
// Options for other packages' tests:
//   - Hostile with HostileMarker: each repository's config sets
//     core.fsmonitor, core.hooksPath, core.alternateRefsCommand and a
//     filter.x smudge/clean driver (and the first commit adds a
//     .gitattributes applying it), and the hooks and metadata tars hold
//     executable hooks; all of them run `touch HostileMarker`. An importer
//     passes if the marker never appears.
//   - CorruptPullRequest: the activities of that pull request id in the
//     first repository are invalid JSON (inside valid gzip).
//   - DropObjects: the first repository's objects tar lacks its default
//     branch's tip commit and its README blob (Stats.DroppedObjects), so
//     its refs are broken and so are its forks'.
//   - Packed: every repository's objects are a pack and its index.
//   - DamagePack: the first repository's pack has one byte flipped in its
//     middle, under the index written for the good pack; DamageObject:
//     the first repository's README blob is a loose object whose content
//     does not hash to its name. Stats.Damaged names the spoiled file;
//     `git fsck --full` fails on the repository, --connectivity-only does
//     not notice.
//   - ProjectKeys: fixed project keys, to make two archives collide.
//   - ArchiveVersion 1: the shapes of Data Center 5.13 to 7.x (instance
//     details of 6.1.1, no "description" key on a project without one).
//   - UnknownFields: fields bbimport does not read, on activity records,
//     comments at every depth and pull request metadata.
//
// testdata/samples holds archives made by this package; TestSamplesAreCurrent
// fails when they differ from what it writes now, and
// `go generate ./archive/gen/` rewrites them.
package gen

//go:generate go test -run TestSamplesAreCurrent -update .
