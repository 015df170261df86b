package scenarios

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a parse or set-up error: FILE:LINE:COLUMN: message. Columns count characters from 1.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// token is one word of a line: a bare word, a quoted string, or one of the punctuation tokens
// `|`, `->`, `{`, `}` (always tokens of their own, so `1|2` and `1 | 2` read the same).
type token struct {
	text     string
	col      int // 1-based character column
	off, end int // byte offsets in the line
	quoted   bool
}

// lexError is a lexing problem at a column.
type lexError struct {
	col int
	msg string
}

// lex splits a line into tokens. `#` outside a string starts a comment.
func lex(line string) ([]token, *lexError) {
	var toks []token
	col := 0 // column of the rune at i, minus one
	i := 0
	wordStart, wordCol := -1, 0
	endWord := func(at int) {
		if wordStart >= 0 {
			toks = append(toks, token{text: line[wordStart:at], col: wordCol, off: wordStart, end: at})
			wordStart = -1
		}
	}
	for i < len(line) {
		r, size := utf8.DecodeRuneInString(line[i:])
		col++
		switch {
		case r == ' ' || r == '\t' || r == '\v' || r == '\f' || r == '\r':
			endWord(i)
		case r == '#':
			endWord(i)
			return toks, nil
		case r == '"':
			endWord(i)
			start, startCol := i, col
			var b strings.Builder
			i += size
			closed := false
			for i < len(line) {
				r, size = utf8.DecodeRuneInString(line[i:])
				col++
				i += size
				if r == '\\' && i < len(line) && (line[i] == '"' || line[i] == '\\') {
					b.WriteByte(line[i])
					i++
					col++
					continue
				}
				if r == '"' {
					closed = true
					break
				}
				b.WriteRune(r)
			}
			if !closed {
				return nil, &lexError{startCol, "unterminated string (a closing \" is missing)"}
			}
			toks = append(toks, token{text: b.String(), col: startCol, off: start, end: i, quoted: true})
			continue
		case r == '|' || r == '{' || r == '}':
			endWord(i)
			toks = append(toks, token{text: string(r), col: col, off: i, end: i + 1})
		case r == '-' && i+1 < len(line) && line[i+1] == '>':
			endWord(i)
			toks = append(toks, token{text: "->", col: col, off: i, end: i + 2})
			i += 2
			col++
			continue
		default:
			if wordStart < 0 {
				wordStart, wordCol = i, col
			}
		}
		i += size
	}
	endWord(i)
	return toks, nil
}

// text is the source text from the first to the last token.
func text(line string, toks []token) string {
	if len(toks) == 0 {
		return ""
	}
	return line[toks[0].off:toks[len(toks)-1].end]
}
