package importer

// scaleIndexes is the next migration (for the lead to append to
// migrations): the indexes a delete needs to find the rows that point at
// what it deletes. SQLite checks every foreign key pointing at a deleted
// row, and without an index on the pointing column that check reads the
// whole table: dropping a pull request that failed part-way read every
// comment and every activity of the home once per comment it had, and
// dropping a repository every permission and every repository. Those
// costs grew with the home, not with the item. (Projects and users are
// never deleted: what points at them needs no index.)
var scaleIndexes = `
CREATE INDEX IF NOT EXISTS comments_parent ON comments(parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS pr_activities_comment ON pr_activities(comment_id) WHERE comment_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS permissions_repository ON permissions(repository_id) WHERE repository_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS repositories_origin ON repositories(origin_id) WHERE origin_id IS NOT NULL;
`
