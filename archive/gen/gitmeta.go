package gen

import (
	"fmt"
	"slices"
	"strings"

	"bbimport/model"
)

// gitMetadata is the skeleton of the bare repository, as
// metadata.atl.tar.atl.gz holds it. Branches and pull request refs are loose
// ref files; tags are in packed-refs (with peeled lines for annotated tags),
// as in a repository whose tags were packed by gc, so an importer meets both
// forms in every archive. As in a real one: refs/pull-requests/<id>/from
// for OPEN pull requests only, stash-refs/pull-requests/<id>/from for all,
// a reflog of each of those refs written by Bitbucket Mesh, and in every
// other repository app-info/gc.pid.
func (g *generator) gitMetadata(repo *repoPlan, b *builtRepo) []File {
	files := map[string]string{
		"HEAD":   "ref: refs/heads/" + defaultBranch + "\n",
		"config": g.gitConfig(),
	}
	ref := func(name, id string) {
		files[name] = id + "\n"
		files["logs/"+name] = fmt.Sprintf("%s %s Bitbucket Mesh <bitbucket.mesh@atlassian.com> %d +0000\tpush\n", zeroID, id, b.end)
	}
	for name, id := range b.heads {
		ref(name, id)
	}
	for _, p := range b.pulls {
		if p.state == model.PROpen {
			ref(fmt.Sprintf("refs/pull-requests/%d/from", p.id), p.tip())
		}
		ref(fmt.Sprintf("stash-refs/pull-requests/%d/from", p.id), p.tip())
	}
	if repo.ordinal%2 == 0 {
		files["app-info/gc.pid"] = fmt.Sprintf("%d bitbucket-node-1", 4000+repo.ordinal)
	}
	var packed strings.Builder
	packed.WriteString("# pack-refs with: peeled fully-peeled sorted \n")
	tags := slices.Clone(b.tags)
	slices.SortFunc(tags, func(a, b tagRef) int { return strings.Compare(a.name, b.name) })
	for _, t := range tags {
		fmt.Fprintf(&packed, "%s %s\n", t.id, t.name)
		if t.peeled != "" {
			fmt.Fprintf(&packed, "^%s\n", t.peeled)
		}
	}
	files["packed-refs"] = packed.String()
	if g.opts.Hostile {
		for _, h := range g.hostileHooks() {
			files["hooks/"+h.Name] = string(h.Data)
		}
	}
	return sortedFiles(files, func(name string) int64 {
		if strings.HasPrefix(name, "hooks/") {
			return 0o755
		}
		return 0o644
	})
}

func sortedFiles(files map[string]string, mode func(name string) int64) []File {
	out := make([]File, 0, len(files))
	for name, data := range files {
		out = append(out, File{Name: name, Mode: mode(name), Data: []byte(data)})
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// gitConfig is the repository's config. Like Bitbucket's, it includes a
// file outside the archive. A hostile one names commands that git runs in
// some operations: an importer must never use this file.
func (g *generator) gitConfig() string {
	var sb strings.Builder
	sb.WriteString("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n\tlogallrefupdates = true\n")
	if g.opts.Hostile {
		cmd := configQuote(g.hostileCommand())
		fmt.Fprintf(&sb, "\tfsmonitor = %s\n\thooksPath = hooks\n\talternateRefsCommand = %s\n", cmd, cmd)
		fmt.Fprintf(&sb, "[filter \"x\"]\n\tsmudge = %s\n\tclean = %s\n\trequired = true\n", cmd, cmd)
	}
	sb.WriteString("[include]\n\tpath = ../../../config/git/system-config\n")
	return sb.String()
}

// hostileCommand creates the marker; it is what every hostile setting runs.
func (g *generator) hostileCommand() string {
	return "touch " + shellQuote(g.opts.HostileMarker)
}

func (g *generator) hostileHooks() []File {
	script := []byte("#!/bin/sh\n" + g.hostileCommand() + "\n")
	var out []File
	for _, name := range []string{"fsmonitor-watchman", "post-checkout", "post-receive", "post-update",
		"pre-auto-gc", "pre-receive", "reference-transaction", "update"} {
		out = append(out, File{Name: name, Mode: 0o755, Data: script})
	}
	return out
}

// hooks is the hooks tar: usually empty, a harmless pre-receive script in
// every third repository, the hostile hooks when asked for.
func (g *generator) hooks(repo *repoPlan) []File {
	switch {
	case g.opts.Hostile:
		return g.hostileHooks()
	case repo.ordinal%3 == 2:
		return []File{{Name: "pre-receive", Mode: 0o755,
			Data: []byte("#!/bin/sh\n# Bitbucket runs its own hooks; this one only accepts the push.\nexit 0\n")}}
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func configQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
