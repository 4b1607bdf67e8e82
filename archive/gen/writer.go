package gen

import (
	"io"

	"bbimport/archive"
)

// The generator writes with the archive package's one Writer; these names
// keep its callers and tests short.
type (
	// Writer is archive.Writer.
	Writer = archive.Writer
	// File is one file of an inner tar: archive.TarFile.
	File = archive.TarFile
)

// NewWriter starts an archive on w, every entry dated archive.FixedTime.
func NewWriter(w io.Writer) *Writer { return archive.NewWriter(w) }

var archiveTime = archive.FixedTime

func jsonMember(name string, v any, pretty bool) ([]byte, error) {
	return archive.JSONMember(name, v, pretty)
}

func tarMember(name string, files []File) ([]byte, error) {
	return archive.TarMember(name, files, archiveTime)
}

func compressMember(name string, data []byte) ([]byte, error) {
	return archive.CompressMember(name, data)
}
