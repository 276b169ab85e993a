package release

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommit(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want Message
	}{
		{"feat", "feat: add x", Message{Header: "feat: add x", Conventional: true, Type: "feat", Subject: "add x"}},
		{"scope", "fix(api): handle nil\n", Message{Header: "fix(api): handle nil", Conventional: true, Type: "fix", Scope: "api", Subject: "handle nil"}},
		{"scope with slash", "feat(api/v2): x", Message{Header: "feat(api/v2): x", Conventional: true, Type: "feat", Scope: "api/v2", Subject: "x"}},
		{"case-insensitive type", "FEAT: Shout", Message{Header: "FEAT: Shout", Conventional: true, Type: "feat", Subject: "Shout"}},
		{"bang", "feat!: drop v1", Message{Header: "feat!: drop v1", Conventional: true, Type: "feat", Subject: "drop v1", Bang: true}},
		{"scope bang", "refactor(db)!: new schema", Message{Header: "refactor(db)!: new schema", Conventional: true, Type: "refactor", Scope: "db", Subject: "new schema", Bang: true}},
		{"no space after colon", "feat:x", Message{Header: "feat:x", Subject: "feat:x"}},
		{"empty subject", "feat: ", Message{Header: "feat:", Subject: "feat:"}},
		{"empty scope", "feat(): x", Message{Header: "feat(): x", Subject: "feat(): x"}},
		{"unknown type", "Update: feat: x", Message{Header: "Update: feat: x", Conventional: true, Type: "update", Subject: "feat: x"}},
		{"leading space", " feat: x", Message{Header: " feat: x", Subject: " feat: x"}},
		{"prose", "Add the thing", Message{Header: "Add the thing", Subject: "Add the thing"}},
		{"empty", "", Message{}},
		{"blank lines first", "\n\nfix: x", Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x"}},
		{
			"footer breaking", "feat: x\n\nBody text.\n\nBREAKING CHANGE: the config moved\nRefs: #12\n",
			Message{Header: "feat: x", Conventional: true, Type: "feat", Subject: "x", BreakingFooter: true, BreakingNote: "the config moved"},
		},
		{
			"footer breaking hyphen", "fix: x\n\nBREAKING-CHANGE: y",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x", BreakingFooter: true, BreakingNote: "y"},
		},
		{
			"footer breaking after another token", "fix: x\n\nReviewed-by: Z\nBREAKING CHANGE: y",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x", BreakingFooter: true, BreakingNote: "y"},
		},
		{
			"footer breaking then prose paragraph", "feat: x\n\nBREAKING CHANGE: y\n\nSee the migration guide.",
			Message{Header: "feat: x", Conventional: true, Type: "feat", Subject: "x", BreakingFooter: true, BreakingNote: "y"},
		},
		{
			"breaking in header", "fix: BREAKING CHANGE: y",
			Message{Header: "fix: BREAKING CHANGE: y", Conventional: true, Type: "fix", Subject: "BREAKING CHANGE: y"},
		},
		{
			"header is breaking token", "BREAKING CHANGE: y",
			Message{Header: "BREAKING CHANGE: y", Subject: "BREAKING CHANGE: y"},
		},
		{
			"breaking mid-paragraph", "fix: x\n\nThis is not a\nBREAKING CHANGE: really",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x"},
		},
		{
			"breaking inside a line", "fix: x\n\nThis is not a BREAKING CHANGE: really",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x"},
		},
		{
			"breaking lower case", "fix: x\n\nbreaking change: y",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x"},
		},
		{
			"breaking indented", "fix: x\n\n  BREAKING CHANGE: y",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x"},
		},
		{
			"breaking plural", "fix: x\n\nBREAKING CHANGES: y",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x"},
		},
		{
			"breaking without blank line after header", "fix: x\nBREAKING CHANGE: y",
			Message{Header: "fix: x", Conventional: true, Type: "fix", Subject: "x"},
		},
		{
			"CRLF", "feat(api): x\r\n\r\nBody.\r\n\r\nBREAKING CHANGE: y\r\n",
			Message{Header: "feat(api): x", Conventional: true, Type: "feat", Scope: "api", Subject: "x", BreakingFooter: true, BreakingNote: "y"},
		},
		{
			"git revert", "Revert \"feat: add x\"\n\nThis reverts commit 1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d.\n",
			Message{Header: `Revert "feat: add x"`, Conventional: true, Type: "revert", Subject: `Revert "feat: add x"`,
				Revert: &Revert{Header: "feat: add x", Commits: []string{"1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"}}},
		},
		{
			"git revert of a breaking change is not breaking", "Revert \"feat!: drop v1\"\n\nThis reverts commit 1A2B3C4.",
			Message{Header: `Revert "feat!: drop v1"`, Conventional: true, Type: "revert", Subject: `Revert "feat!: drop v1"`,
				Revert: &Revert{Header: "feat!: drop v1", Commits: []string{"1a2b3c4"}}},
		},
		{
			"git revert of a merge", "Revert \"Merge pull request #3 from o/x\"\n\nThis reverts commit abcdef0123, reversing\nchanges made to 0123456789.",
			Message{Header: `Revert "Merge pull request #3 from o/x"`, Conventional: true, Type: "revert", Subject: `Revert "Merge pull request #3 from o/x"`,
				Revert: &Revert{Header: "Merge pull request #3 from o/x", Commits: []string{"abcdef0123"}}},
		},
		{
			"conventional revert with refs", "revert: let us never again speak of the noodle incident\n\nRefs: 676104e, a215868",
			Message{Header: "revert: let us never again speak of the noodle incident", Conventional: true, Type: "revert", Subject: "let us never again speak of the noodle incident",
				Revert: &Revert{Header: "let us never again speak of the noodle incident", Commits: []string{"676104e", "a215868"}}},
		},
		{
			"revert naming nothing", "revert: x",
			Message{Header: "revert: x", Conventional: true, Type: "revert", Subject: "x", Revert: &Revert{Header: "x"}},
		},
		{
			"revert with a short hash too short", "Revert \"fix: y\"\n\nThis reverts commit abc.",
			Message{Header: `Revert "fix: y"`, Conventional: true, Type: "revert", Subject: `Revert "fix: y"`, Revert: &Revert{Header: "fix: y"}},
		},
		{
			"merge pull request", "Merge pull request #12 from org/feat-x\n\nfeat: x",
			Message{Header: "Merge pull request #12 from org/feat-x", Subject: "Merge pull request #12 from org/feat-x", Merge: true},
		},
		{
			"merge branch", "Merge branch 'main' into feature",
			Message{Header: "Merge branch 'main' into feature", Subject: "Merge branch 'main' into feature", Merge: true},
		},
		{
			"fixup", "fixup! feat(ui): add button",
			Message{Header: "fixup! feat(ui): add button", Conventional: true, Type: "feat", Scope: "ui", Subject: "add button", Fixup: "fixup"},
		},
		{
			"squash of fixup", "squash! fixup! fix: y",
			Message{Header: "squash! fixup! fix: y", Conventional: true, Type: "fix", Subject: "y", Fixup: "squash"},
		},
		{
			"fixup of prose", "fixup! Add the thing",
			Message{Header: "fixup! Add the thing", Subject: "Add the thing", Fixup: "fixup"},
		},
		{
			"squash title with PR number", "feat: x (#123)",
			Message{Header: "feat: x (#123)", Conventional: true, Type: "feat", Subject: "x (#123)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseCommit(tt.msg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCommit(%q) (-want +got):\n%s", tt.msg, diff)
			}
		})
	}
}

func TestRulesBump(t *testing.T) {
	custom, err := NewRules(map[string]string{"docs": "patch", "Chore": "MINOR", "*": "none", "deps": "patch"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rules    Rules
		msg      string
		want     Bump
		wantRule string
	}{
		{DefaultRules(), "feat: x", BumpMinor, "feat → minor"},
		{DefaultRules(), "fix: x", BumpPatch, "fix → patch"},
		{DefaultRules(), "perf: x", BumpPatch, "perf → patch"},
		{DefaultRules(), "revert: x", BumpPatch, "revert → patch"},
		{DefaultRules(), "Revert \"feat: x\"", BumpPatch, "revert → patch"},
		{DefaultRules(), "refactor: x", BumpPatch, "refactor → patch"},
		{DefaultRules(), "build: x", BumpPatch, "build → patch"},
		{DefaultRules(), "docs: x", BumpNone, "docs → none"},
		{DefaultRules(), "chore: x", BumpNone, "chore → none"},
		{DefaultRules(), "style: x", BumpNone, "style → none"},
		{DefaultRules(), "test: x", BumpNone, "test → none"},
		{DefaultRules(), "ci: x", BumpNone, "ci → none"},
		{DefaultRules(), "Add a thing", BumpPatch, "not conventional → patch"},
		{DefaultRules(), "wip: x", BumpPatch, "type wip not in the rules → patch"},
		{DefaultRules(), "docs!: x", BumpMajor, "breaking change (docs!) → major"},
		{DefaultRules(), "chore: x\n\nBREAKING CHANGE: y", BumpMajor, "breaking change (BREAKING CHANGE footer) → major"},
		{DefaultRules(), "fixup! feat: x", BumpMinor, "fixup! of feat → minor"},
		{Rules{}, "feat: x", BumpMinor, "feat → minor"},
		{custom, "docs: x", BumpPatch, "docs → patch"},
		{custom, "chore: x", BumpMinor, "chore → minor"},
		{custom, "deps: x", BumpPatch, "deps → patch"},
		{custom, "Add a thing", BumpNone, "not conventional → none"},
		{custom, "feat: x", BumpMinor, "feat → minor"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			got, rule := tt.rules.Bump(ParseCommit(tt.msg))
			if got != tt.want || rule != tt.wantRule {
				t.Errorf("Bump(%q) = %v, %q; want %v, %q", tt.msg, got, rule, tt.want, tt.wantRule)
			}
		})
	}
}

func TestNewRulesInvalid(t *testing.T) {
	for _, m := range []map[string]string{
		{"feat": "big"},
		{"feat": ""},
		{"fe at": "minor"},
		{"": "minor"},
		{"feat(api)": "minor"},
		{"1x": "patch"},
		{"feat!": "major"},
	} {
		if _, err := NewRules(m); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewRules(%v) = %v, want ErrInvalid", m, err)
		}
	}
}

func TestNewRulesDoesNotShareDefaults(t *testing.T) {
	if _, err := NewRules(map[string]string{"feat": "major"}); err != nil {
		t.Fatal(err)
	}
	if got := DefaultRules().types["feat"]; got != BumpMinor {
		t.Errorf("DefaultRules feat = %v after NewRules, want minor", got)
	}
}

func TestBumpText(t *testing.T) {
	for _, b := range []Bump{BumpNone, BumpPatch, BumpMinor, BumpMajor} {
		text, err := b.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Bump
		if err := back.UnmarshalText(text); err != nil || back != b {
			t.Errorf("round trip of %v: %v, %v", b, back, err)
		}
	}
	if _, err := Bump(7).MarshalText(); !errors.Is(err, ErrInvalid) {
		t.Errorf("MarshalText(7) error = %v, want ErrInvalid", err)
	}
}

// FuzzParseCommit: ParseCommit never panics, and what it reports is
// consistent with the message: breaking only from a `!` in the header or a
// footer line, a conventional type only from an anchored header, CRLF and
// LF read alike.
func FuzzParseCommit(f *testing.F) {
	for _, s := range []string{
		"feat: x", "feat(api)!: x", "fix: x\n\nBREAKING CHANGE: y", "fix: x\r\n\r\nBREAKING-CHANGE: y\r\n",
		"Revert \"feat: x\"\n\nThis reverts commit 1a2b3c4.", "fixup! feat: x", "Merge pull request #1 from a/b",
		"fix: BREAKING CHANGE: y", "chore: x\n\nprose\nBREAKING CHANGE: y", "revert: x\n\nRefs: 676104e, a215868",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		m := ParseCommit(msg)
		crlf := ParseCommit(strings.ReplaceAll(msg, "\n", "\r\n"))
		if m.Breaking() != crlf.Breaking() || m.Type != crlf.Type || m.Bang != crlf.Bang {
			t.Errorf("LF and CRLF differ: %+v vs %+v", m, crlf)
		}
		trimmed := strings.TrimRight(strings.TrimLeft(msg, "\r\n\t "), "\r\n\t ")
		headerOnly := !strings.ContainsAny(trimmed, "\n")
		if headerOnly && m.BreakingFooter {
			t.Errorf("header-only message %q has a breaking footer", msg)
		}
		if m.Bang && !strings.Contains(m.Header, "!: ") {
			t.Errorf("Bang without `!: ` in header %q", m.Header)
		}
		if m.Bang && m.Fixup == "" && !strings.HasPrefix(strings.ToLower(m.Header), m.Type) {
			t.Errorf("Bang in header %q whose type %q is not at its start", m.Header, m.Type)
		}
		if m.Breaking() && !m.Bang && !strings.Contains(msg, "BREAKING") {
			t.Errorf("breaking without ! or a BREAKING footer: %q", msg)
		}
		if strings.Contains(m.Header, "\n") || strings.HasSuffix(m.Header, "\r") {
			t.Errorf("header %q spans lines", m.Header)
		}
		if m.Conventional && m.Type == "" {
			t.Errorf("conventional without a type: %q", msg)
		}
		if m.Type != strings.ToLower(m.Type) {
			t.Errorf("type %q not lower case", m.Type)
		}
		if m.Revert != nil {
			for _, c := range m.Revert.Commits {
				if len(c) < 7 || len(c) > 40 || !isHex(c) {
					t.Errorf("reverted commit %q is not a 7-40 hex hash", c)
				}
			}
		}
		if b, _ := DefaultRules().Bump(m); b < BumpNone || b > BumpMajor {
			t.Errorf("bump %v out of range", b)
		}
	})
}
