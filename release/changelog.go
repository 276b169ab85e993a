package release

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/releasetool/release/gitinfo"
)

// Section titles of the release notes, in the order they are rendered.
const (
	SectionBreaking    = "Breaking changes"
	SectionFeatures    = "Features"
	SectionFixes       = "Fixes"
	SectionPerformance = "Performance"
	SectionReverts     = "Reverts"
	SectionOther       = "Other"
)

var sectionOrder = []string{SectionBreaking, SectionFeatures, SectionFixes, SectionPerformance, SectionReverts, SectionOther}

// noChanges is the body of notes without entries, so a tag message or a
// changelog section is never empty.
const noChanges = "No notable changes."

// Notes are the release notes of a range of commits.
type Notes struct {
	// Sections in rendering order; empty sections are left out.
	Sections []Section
}

// Section is one heading of the notes.
type Section struct {
	Title   string
	Entries []Entry
}

// Entry is one commit in the notes.
type Entry struct {
	// Commit is the full hash.
	Commit string
	Scope  string
	// Subject is the description (the header for commits that are not
	// conventional, and for git's `Revert "..."`).
	Subject string
}

// BuildNotes sorts the commits of a release into sections. A commit is
// listed when it counts for the version (its bump is not none): merge
// commits, reverts cancelled with what they revert, and types the rules
// map to none (docs, chore, ...) are left out. A breaking change is listed
// under Breaking changes only; feat, fix, perf and revert have their
// sections; everything else that bumps goes under Other. A fixup!/squash!
// commit whose target is in the same release is not listed twice. Within a
// section, entries keep the order of commits (children first, as
// gitinfo.Log returns them: newest first).
func BuildNotes(commits []gitinfo.Commit, rules Rules) Notes {
	msgs := parseCommits(commits)
	_, explained := bumpCommits(commits, msgs, rules, false)
	targets := map[string]bool{}
	for _, m := range msgs {
		if m.Fixup == "" {
			targets[noteKey(m)] = true
		}
	}
	bySection := map[string][]Entry{}
	for i, c := range commits {
		m := msgs[i]
		if explained[i].Bump == BumpNone || m.Fixup != "" && targets[noteKey(m)] {
			continue
		}
		title := SectionOther
		switch {
		case m.Breaking():
			title = SectionBreaking
		case m.Type == "feat":
			title = SectionFeatures
		case m.Type == "fix":
			title = SectionFixes
		case m.Type == "perf":
			title = SectionPerformance
		case m.Type == "revert":
			title = SectionReverts
		}
		bySection[title] = append(bySection[title], Entry{Commit: c.Hash, Scope: m.Scope, Subject: m.Subject})
	}
	var n Notes
	for _, title := range sectionOrder {
		if e := bySection[title]; len(e) > 0 {
			n.Sections = append(n.Sections, Section{Title: title, Entries: e})
		}
	}
	return n
}

func noteKey(m Message) string { return m.Type + "\x00" + m.Scope + "\x00" + m.Subject }

// Empty reports whether the notes list no commit.
func (n Notes) Empty() bool { return len(n.Sections) == 0 }

// Markdown renders the notes: a `### <section>` heading per section and
// one line per commit, `- **scope:** subject (short sha)` or
// `- subject (short sha)`. Notes without entries render as a single line
// saying so. The result ends with a newline.
func (n Notes) Markdown() string {
	return n.render("\n")
}

func (n Notes) render(eol string) string {
	if n.Empty() {
		return noChanges + eol
	}
	var b strings.Builder
	for i, s := range n.Sections {
		if i > 0 {
			b.WriteString(eol)
		}
		b.WriteString("### " + s.Title + eol + eol)
		for _, e := range s.Entries {
			b.WriteString("- ")
			if e.Scope != "" {
				b.WriteString("**" + e.Scope + ":** ")
			}
			b.WriteString(e.Subject + " (" + short(e.Commit) + ")" + eol)
		}
	}
	return b.String()
}

// Prepend adds a `## <version> - <date>` section with the notes to a
// CHANGELOG.md: below the title and any introduction, above the first
// `## ` section, or below an `## Unreleased` section when the file starts
// with one (that section is left as it is: it belongs to whoever writes
// it). Everything else stays byte for byte; the file's line endings (LF or
// CRLF) are used for the new lines. Headings inside fenced code blocks do
// not count. When the version already has a section, Prepend returns an
// error wrapping ErrConflict and the input unchanged: running it twice
// does not duplicate a release.
func Prepend(existing []byte, version, date string, notes Notes) ([]byte, error) {
	eol := "\n"
	if bytes.Contains(existing, []byte("\r\n")) {
		eol = "\r\n"
	}
	heads := headings(existing)
	for _, h := range heads {
		if sectionVersion(h.text) == version {
			return existing, fmt.Errorf("changelog already has a section for %s: %w", version, ErrConflict)
		}
	}
	at := len(existing)
	for i, h := range heads {
		if i == 0 && isUnreleased(h.text) {
			continue
		}
		at = h.offset
		break
	}
	section := "## " + version + " - " + date + eol + eol + notes.render(eol)

	var out bytes.Buffer
	out.Grow(len(existing) + len(section) + 2*len(eol))
	before := existing[:at]
	out.Write(before)
	// Keep one blank line between what comes before and the new heading.
	switch {
	case len(before) == 0:
	case !bytes.HasSuffix(before, []byte("\n")):
		out.WriteString(eol + eol)
	case !bytes.HasSuffix(before, []byte("\n\n")) && !bytes.HasSuffix(before, []byte("\n\r\n")):
		out.WriteString(eol)
	}
	out.WriteString(section)
	if at < len(existing) {
		out.WriteString(eol)
		out.Write(existing[at:])
	}
	return out.Bytes(), nil
}

// heading is a level-2 ATX heading of a Markdown file.
type heading struct {
	offset int    // where its line starts
	text   string // after "## ", without the line ending
}

// headings lists the `## ` headings outside fenced code blocks.
func headings(doc []byte) []heading {
	var out []heading
	fence := ""
	for off := 0; off < len(doc); {
		end := bytes.IndexByte(doc[off:], '\n')
		next := len(doc)
		if end >= 0 {
			next = off + end + 1
		}
		line := strings.TrimRight(string(doc[off:next]), "\r\n")
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				fence = ""
			}
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			c := trimmed[:1]
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, c))]
		case strings.HasPrefix(line, "## "):
			out = append(out, heading{offset: off, text: strings.TrimSpace(line[3:])})
		}
		off = next
	}
	return out
}

// isUnreleased matches `## Unreleased` and `## [Unreleased]` (any case).
func isUnreleased(text string) bool {
	return strings.EqualFold(sectionVersion(text), "unreleased")
}

// sectionVersion is the version a heading names: its first word, without
// the brackets of `## [1.2.0] - date`.
func sectionVersion(text string) string {
	f := strings.Fields(text)
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[0], "[]")
}
