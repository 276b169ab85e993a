package release

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// sampleNotes is a release with one commit of every kind.
func sampleNotes() Notes {
	return BuildNotes(history(
		"MERGE Merge pull request #9 from o/feature",
		"feat(api)!: remove the v1 endpoints",
		"fix: handle empty tags\n\nBREAKING CHANGE: an empty tag is now an error",
		"feat(cli): add --explain",
		"feat: support monorepos",
		"fix(registry): retry on 429",
		"perf: cache peeled tags",
		"Revert \"feat: shiny\"\n\nThis reverts commit "+hash("old")+".",
		"refactor(db): split the store",
		"Update the README",
		"docs: explain tags",
		"chore: bump deps",
		"Revert \"feat: short-lived\"\n\nThis reverts commit {c14}.",
		"feat: short-lived",
		"fixup! feat(cli): add --explain",
		"fixup! fix: an older fix",
	), DefaultRules())
}

func TestBuildNotes(t *testing.T) {
	got := sampleNotes()
	e := func(label, scope, subject string) Entry {
		return Entry{Commit: hash(label), Scope: scope, Subject: subject}
	}
	want := Notes{Sections: []Section{
		{SectionBreaking, []Entry{e("c2", "api", "remove the v1 endpoints"), e("c3", "", "handle empty tags")}},
		{SectionFeatures, []Entry{e("c4", "cli", "add --explain"), e("c5", "", "support monorepos")}},
		{SectionFixes, []Entry{e("c6", "registry", "retry on 429"), e("c16", "", "an older fix")}},
		{SectionPerformance, []Entry{e("c7", "", "cache peeled tags")}},
		{SectionReverts, []Entry{e("c8", "", `Revert "feat: shiny"`)}},
		{SectionOther, []Entry{e("c9", "db", "split the store"), e("c10", "", "Update the README")}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BuildNotes (-want +got):\n%s", diff)
	}
}

func TestNotesMarkdown(t *testing.T) {
	golden(t, "changelog/notes.golden.md", []byte(sampleNotes().Markdown()))
	if got := (Notes{}).Markdown(); got != "No notable changes.\n" {
		t.Errorf("empty notes = %q", got)
	}
	if got := BuildNotes(history("docs: x", "chore: y"), DefaultRules()); !got.Empty() {
		t.Errorf("notes of docs and chore = %+v, want empty", got)
	}
}

func TestPrepend(t *testing.T) {
	notes := BuildNotes(history("feat(api): add x", "fix: y"), DefaultRules())
	for _, name := range []string{"unreleased", "versions", "title-only", "empty", "crlf", "fenced", "no-newline", "brackets", "no-title"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "changelog", name+".md"))
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(in)
			got, err := Prepend(in, "1.2.0", "2024-02-03", notes)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in, orig) {
				t.Errorf("Prepend modified its input")
			}
			golden(t, "changelog/"+name+".golden.md", got)

			// The rest of the file is kept byte for byte: removing the new
			// section gives the input back (up to the blank line added
			// to separate it).
			section := got[bytes.Index(got, []byte("## 1.2.0")):]
			if next := bytes.Index(section[1:], []byte("\n## ")); next >= 0 {
				section = section[:next+2]
			}
			rest := bytes.Replace(got, section, nil, 1)
			if norm := func(b []byte) string { return strings.TrimRight(string(b), "\r\n") }; norm(rest) != norm(in) {
				t.Errorf("outside the new section the file changed:\n%q\nwant\n%q", rest, in)
			}
			if crlf := bytes.Contains(in, []byte("\r\n")); crlf && bytes.Count(got, []byte("\n")) != bytes.Count(got, []byte("\r\n")) {
				t.Errorf("mixed line endings in a CRLF file: %q", got)
			}

			again, err := Prepend(got, "1.2.0", "2024-02-04", notes)
			if !errors.Is(err, ErrConflict) || !bytes.Equal(again, got) {
				t.Errorf("second Prepend of 1.2.0 = %v (changed: %v), want ErrConflict and no change", err, !bytes.Equal(again, got))
			}
		})
	}
}

func TestPrependBracketedVersionConflicts(t *testing.T) {
	_, err := Prepend([]byte("# C\n\n## [1.2.0] - 2024-01-01\n"), "1.2.0", "2024-02-03", Notes{})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("Prepend over [1.2.0] = %v, want ErrConflict", err)
	}
	if _, err := Prepend([]byte("# C\n\n```\n## 1.2.0\n```\n"), "1.2.0", "d", Notes{}); err != nil {
		t.Errorf("a heading in a code block is not a section: %v", err)
	}
}
