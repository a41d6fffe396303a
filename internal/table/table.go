// Package table writes the plain-text tables of dspex's reports
// (evaluation results, trial logs): left-aligned columns two spaces
// apart, with no trailing spaces, so equal data prints equal text.
package table

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write writes rows as left-aligned columns two spaces apart, the width
// of each column that of its widest cell in runes, each line ending in
// '\n' without trailing spaces. A cell must not contain a tab, a line
// break or the byte 0xff (text/tabwriter's escape); Write returns an
// error.
func Write(w io.Writer, rows [][]string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for i, row := range rows {
		for _, c := range row {
			if strings.ContainsAny(c, "\t\n\r\v\f") || strings.Contains(c, "\xff") {
				return fmt.Errorf("table: row %d: cell %q has a tab, a line break or 0xff", i, c)
			}
		}
		if _, err := io.WriteString(tw, strings.Join(row, "\t")+"\n"); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// String is Write into a string; tabs, line breaks and 0xff bytes in a
// cell are replaced by spaces first.
func String(rows [][]string) string {
	clean := make([][]string, len(rows))
	for i, row := range rows {
		clean[i] = make([]string, len(row))
		for j, c := range row {
			c = strings.ReplaceAll(c, "\xff", " ")
			clean[i][j] = strings.Map(func(r rune) rune {
				if strings.ContainsRune("\t\n\r\v\f", r) {
					return ' '
				}
				return r
			}, c)
		}
	}
	var b strings.Builder
	_ = Write(&b, clean) // a strings.Builder never fails, and the cells are clean
	return b.String()
}
