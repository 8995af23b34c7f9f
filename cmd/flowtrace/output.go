package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// writeJSON writes a command's JSON output (what write produces) with, when
// the command has notes about its input, an "input" member first in the
// top-level object, or in each object of a top-level array. Without notes
// the output is exactly what write produces, so reports on complete input
// keep their shape.
func (in *inputFlags) writeJSON(w io.Writer, write func(io.Writer) error) error {
	if in.notes.empty() {
		return write(w)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	doc, err := withInput(buf.Bytes(), in.notes)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// withInput returns doc, compacted, with {"input": n} merged into it.
func withInput(doc []byte, n notes) ([]byte, error) {
	var c bytes.Buffer
	if err := json.Compact(&c, doc); err != nil {
		return nil, err
	}
	b := c.Bytes()
	member, err := json.Marshal(map[string]notes{"input": n})
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.Equal(b, []byte("{}")):
		return member, nil
	case len(b) > 0 && b[0] == '{':
		return append(append(member[:len(member)-1:len(member)-1], ','), b[1:]...), nil
	case len(b) > 0 && b[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, err
		}
		for i, it := range items {
			if items[i], err = withInput(it, n); err != nil {
				return nil, err
			}
		}
		return json.Marshal(items)
	}
	return nil, fmt.Errorf("JSON output is neither an object nor an array: %.20s", b)
}
