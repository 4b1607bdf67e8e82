package archive

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"bbimport/model"
)

// A member's body: gunzipped within the limits, decoded as JSON (noting
// unknown fields), and, for inner tars and activities, handed over as the
// handler asks for it.

// gunzip opens a gzip member of the outer tar, reusing one decompressor.
func (rd *reader) gunzip(m *Member) (io.Reader, error) {
	var err error
	if rd.gz == nil {
		rd.br = bufio.NewReader(rd.outer.tr)
		rd.gz, err = gzip.NewReader(rd.br)
	} else {
		rd.br.Reset(rd.outer.tr)
		err = rd.gz.Reset(rd.br)
	}
	if err != nil {
		return nil, classify(err, m.Name, "")
	}
	return &capReader{r: rd.gz, max: rd.lim.MaxMemberBytes, member: m.Name}, nil
}

// readJSON reads m's JSON document, gunzipped, within MaxJSONBytes, into
// the reader's one buffer: valid until the next member's.
func (rd *reader) readJSON(m *Member) ([]byte, error) {
	r, err := rd.gunzip(m)
	if err != nil {
		return nil, err
	}
	return readAll(&rd.buf, r, rd.lim.MaxJSONBytes, m.Name, "", "JSON document", "MaxJSONBytes")
}

func (rd *reader) decodeJSON(m *Member, v any) error {
	data, err := rd.readJSON(m)
	if err != nil {
		return err
	}
	m.Raw = data
	unknown, err := decodeJSON(data, rd.lim, v)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Member = m.Name
		}
		return err
	}
	rd.noteUnknown(m, unknown)
	return nil
}

// decodeBriefPullRequest sets m.PullRequest's id and state only. The
// document is checked against the JSON limits and parsed whole, so that
// broken JSON is still malformed, but its other fields are neither
// decoded nor checked for their types or for unknown fields.
func (rd *reader) decodeBriefPullRequest(m *Member) error {
	data, err := rd.readJSON(m)
	if err != nil {
		return err
	}
	var brief struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	b := jsonBudget{lim: rd.lim}
	if err = b.take(data); err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		if err = dec.Decode(&brief); err == nil {
			err = endOfJSON(dec)
		}
	}
	if err != nil {
		err = jsonError(err)
		var e *Error
		if errors.As(err, &e) {
			e.Member = m.Name
		}
		return err
	}
	m.PullRequest = &model.PullRequest{ID: brief.ID, State: brief.State}
	return nil
}

// noteUnknown gives m the unknown fields of its kind that no earlier
// member gave, up to maxUnknownFields in the pass.
func (rd *reader) noteUnknown(m *Member, paths []string) {
	for _, p := range paths {
		f := unknownField{m.Kind, p}
		if rd.unknown[f] {
			continue
		}
		if len(rd.unknown) == maxUnknownFields {
			if !rd.unknownCapped {
				rd.unknownCapped = true
				m.Notes = append(m.Notes, fmt.Sprintf("more than %d distinct unknown JSON fields: the others, from %s on, are ignored without being named", maxUnknownFields, m.Name))
			}
			return
		}
		rd.unknown[f] = true
		m.UnknownFields = append(m.UnknownFields, p)
	}
}

// ancestorFile is the only file of a pull request caches tar.
const ancestorFile = "cached-ancestor.txt"

// readAncestorCache reads a caches tar whole: it is a few bytes, and a
// damaged cache is only a note, since the importer can recompute it.
func (rd *reader) readAncestorCache(m *Member) error {
	gz, err := rd.gunzip(m)
	if err != nil {
		return err
	}
	inner := newTarWalk(gz, m.Name, rd.lim)
	for {
		hdr, err := inner.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if hdr.Name != ancestorFile {
			m.Notes = append(m.Notes, fmt.Sprintf("unknown file %s in %s, skipped", hdr.Name, m.Name))
			continue
		}
		data, err := readAll(&rd.buf, inner.tr, rd.lim.MaxJSONBytes, m.Name, hdr.Name, "cache file", "MaxJSONBytes")
		if err != nil {
			return err
		}
		a, perr := model.ParseAncestorCache(string(data))
		if perr != nil {
			m.Notes = append(m.Notes, fmt.Sprintf("%s in %s: %v; ignored", ancestorFile, m.Name, perr))
			continue
		}
		m.Ancestor = &a
	}
	if m.Ancestor == nil {
		m.Notes = append(m.Notes, fmt.Sprintf("no usable %s in %s", ancestorFile, m.Name))
	}
	return drain(gz, m.Name)
}

// innerFiles arms Member.Files for an inner tar read from body, the
// member's bytes in the outer tar.
func (rd *reader) innerFiles(m *Member, body io.Reader, gzipped bool) func(func(File) error) error {
	used := false
	return func(fn func(File) error) error {
		if rd.current != m {
			return fmt.Errorf("files of %s: Files called after the handler returned", m.Name)
		}
		if used {
			return fmt.Errorf("files of %s: Files called twice", m.Name)
		}
		used = true
		src, lim := body, rd.lim
		if gzipped {
			gz, err := rd.gunzip(m)
			if err != nil {
				return err
			}
			src = gz
		} else {
			lim.MaxMemberBytes = lim.MaxObjectFileBytes
		}
		inner := newTarWalk(src, m.Name, lim)
		for {
			hdr, err := inner.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			f := File{Name: hdr.Name, Size: hdr.Size, Mode: hdr.Mode,
				Body: &checkedBody{r: inner.tr, member: m.Name, inner: hdr.Name}}
			if err := fn(f); err != nil {
				return err
			}
		}
		if gzipped {
			return drain(src, m.Name)
		}
		return nil
	}
}

// activityStream arms Member.Activities for a pull request activities
// member: a JSON array, decoded record by record.
func (rd *reader) activityStream(m *Member) func(func(*model.Activity) error) error {
	used := false
	return func(fn func(*model.Activity) error) error {
		if rd.current != m {
			return fmt.Errorf("activities of %s: Activities called after the handler returned", m.Name)
		}
		if used {
			return fmt.Errorf("activities of %s: Activities called twice", m.Name)
		}
		used = true
		err := rd.streamActivities(m, fn)
		var ce callerError
		if errors.As(err, &ce) {
			return ce.err
		}
		var e *Error
		if errors.As(err, &e) {
			e.Member = m.Name
			if errors.Is(e.Err, ErrMalformed) {
				m.Malformed = e
			}
		}
		return err
	}
}

func (rd *reader) streamActivities(m *Member, fn func(*model.Activity) error) error {
	gz, err := rd.gunzip(m)
	if err != nil {
		return err
	}
	rd.rawActs.Reset()
	dec := json.NewDecoder(newJSONSource(io.TeeReader(gz, &rd.rawActs), rd.lim.MaxJSONBytes, m.Name))
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if tok != json.Delim('[') {
		if tok != nil { // null: no activities
			return &Error{Err: ErrMalformed, Rule: "it is not the JSON expected here: the activities are not an array"}
		}
		return endOfJSON(dec)
	}
	// The array is a level and an object of its own.
	budget := jsonBudget{lim: rd.lim, depth: 1, objects: 1}
	var raw json.RawMessage
	for dec.More() {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return jsonError(err)
		}
		if err := budget.take(raw); err != nil {
			return err
		}
		a := new(model.Activity)
		unknown, err := decodeValue(raw, a)
		if err != nil {
			return err
		}
		rd.noteUnknown(m, unknown)
		if err := fn(a); err != nil {
			return callerError{err}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return jsonError(err)
	}
	if err := endOfJSON(dec); err != nil {
		return err
	}
	m.Raw = rd.rawActs.Bytes()
	return nil
}

// endOfJSON checks that the document ends after its value, reading the
// gzip stream to its end, where gzip checks the CRC.
func endOfJSON(dec *json.Decoder) error {
	switch _, err := dec.Token(); {
	case err == nil:
		return &Error{Err: ErrMalformed, Rule: "it holds data after its JSON document"}
	case errors.Is(err, io.EOF):
		return nil
	default:
		return jsonError(err)
	}
}

// jsonError passes on the reader's own errors, which jsonSource made
// *Error, and makes any other (the JSON's) ErrMalformed.
func jsonError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return malformedJSON(err)
}

// jsonSource is a JSON document streamed from a member: its read errors
// are *Error values, and it holds at most MaxJSONBytes (the cap is
// capReader's, naming that limit).
type jsonSource struct{ capReader }

func newJSONSource(r io.Reader, max int64, member string) *jsonSource {
	return &jsonSource{capReader{r: r, max: max, member: member,
		rule: fmt.Sprintf("the JSON document is over %d bytes (MaxJSONBytes)", max)}}
}

func (s *jsonSource) Read(p []byte) (int, error) {
	n, err := s.capReader.Read(p)
	var archiveErr *Error
	if err != nil && !errors.Is(err, io.EOF) && !errors.As(err, &archiveErr) {
		err = classify(err, s.member, "")
	}
	return n, err
}
