package importer

import (
	"database/sql"
	"fmt"

	"bbimport/model"
)

// permissions grants a project's or repository's permissions to groups
// and users; a user the archive names badly is left out (with a WARN).
func (im *importRun) permissions(perms []model.Permission, on permissionOwner, id int64, subject string) error {
	for _, p := range perms {
		for _, g := range p.Groups {
			if err := im.st.grantGroup(on, id, p.Permission, g); err != nil {
				return err
			}
		}
		for _, u := range p.UserIDs {
			uid, err := im.user(u, subject)
			if err != nil {
				return err
			}
			if !uid.Valid {
				continue
			}
			if err := im.st.grantUser(on, id, p.Permission, uid); err != nil {
				return err
			}
		}
	}
	return nil
}

// user returns the id of the user an archive user id string names,
// creating an inactive stub without e-mail unless the slug exists.
func (im *importRun) user(idString, subject string) (sql.NullInt64, error) {
	if id, ok := im.users[idString]; ok {
		return id, nil
	}
	u, err := model.ParseUserID(idString)
	if err != nil {
		im.warn(subject, "User %q is not of the form slug|displayName||TYPE and was left out", idString)
		im.users[idString] = sql.NullInt64{}
		return sql.NullInt64{}, nil
	}
	id, found, err := im.st.userID(u.Slug)
	if err != nil {
		return sql.NullInt64{}, fmt.Errorf("look up user %s: %w", u.Slug, err)
	}
	if !found {
		typ := u.Type
		if typ != model.UserTypeService {
			typ = model.UserTypeNormal
		}
		if id, err = im.st.insertStubUser(u.Slug, u.DisplayName, typ); err != nil {
			return sql.NullInt64{}, fmt.Errorf("create user %s: %w", u.Slug, err)
		}
	}
	v := sql.NullInt64{Int64: id, Valid: true}
	im.users[idString] = v
	return v, nil
}
