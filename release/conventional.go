package release

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Bump is how far a change moves a version.
type Bump int

// The bumps, in increasing order, so the bump of a release is the maximum
// of its commits' bumps.
const (
	BumpNone Bump = iota
	BumpPatch
	BumpMinor
	BumpMajor
)

var bumpNames = [...]string{BumpNone: "none", BumpPatch: "patch", BumpMinor: "minor", BumpMajor: "major"}

// String returns none, patch, minor or major.
func (b Bump) String() string {
	if b < BumpNone || b > BumpMajor {
		return fmt.Sprintf("Bump(%d)", int(b))
	}
	return bumpNames[b]
}

// MarshalText renders the bump as in String, for JSON.
func (b Bump) MarshalText() ([]byte, error) {
	if b < BumpNone || b > BumpMajor {
		return nil, fmt.Errorf("bump %d: %w", int(b), ErrInvalid)
	}
	return []byte(b.String()), nil
}

// UnmarshalText parses none, patch, minor or major.
func (b *Bump) UnmarshalText(text []byte) error {
	v, err := ParseBump(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseBump parses none, patch, minor or major (any case).
func ParseBump(s string) (Bump, error) {
	for i, name := range bumpNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Bump(i), nil
		}
	}
	return BumpNone, fmt.Errorf("bump %q is not none, patch, minor or major: %w", s, ErrInvalid)
}

// Message is a commit message read as a Conventional Commit.
type Message struct {
	// Header is the first non-blank line, without a trailing CR.
	Header string
	// Conventional is true when the header is `type(scope)!: subject`
	// (after any fixup!/squash!/amend! prefix), or a git revert of one
	// (`Revert "..."`), whose type is then "revert".
	Conventional bool
	// Type is the lower-cased type; "" when not conventional.
	Type string
	// Scope is the text between the parentheses, if any.
	Scope string
	// Subject is the description after ": ", or the whole header when the
	// message is not conventional or is a `Revert "..."`.
	Subject string
	// Bang is true for a `!` right before the colon of the header.
	Bang bool
	// BreakingFooter is true when a footer paragraph (one that opens with a
	// `Token: value` line) has a line starting with `BREAKING CHANGE:` or
	// `BREAKING-CHANGE:`. Never set from the header or from a prose
	// paragraph.
	BreakingFooter bool
	// BreakingNote is the description of the first breaking footer.
	BreakingNote string
	// Merge is true when the header reads like a merge commit's
	// ("Merge pull request #1 from ...", "Merge branch 'x'", ...). Whether
	// a commit is a merge is decided by its parents; this only names it.
	Merge bool
	// Fixup is "fixup", "squash" or "amend" for an autosquash commit
	// (`fixup! feat: x`); the rest of the header is parsed as usual.
	Fixup string
	// Revert is set when the commit reverts others.
	Revert *Revert
}

// Breaking reports whether the commit declares a breaking change.
func (m Message) Breaking() bool { return m.Bang || m.BreakingFooter }

// Revert is what a revert commit says it reverts.
type Revert struct {
	// Header is the reverted commit's header (the text inside
	// `Revert "..."`, or the subject of `revert: ...`).
	Header string
	// Commits are the hashes (7 to 40 hex digits, lower case) the message
	// names in `This reverts commit <hash>` lines or a `Refs:` footer.
	Commits []string
}

// ParseCommit reads a commit message (LF or CRLF line endings) as a
// Conventional Commit. It never fails: a message that does not follow the
// convention has Conventional false and counts by the rules for others.
func ParseCommit(message string) Message {
	lines := strings.Split(message, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	for len(lines) > 0 && isBlank(lines[0]) {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return Message{}
	}
	header := strings.TrimRight(lines[0], " \t\r")
	m := Message{Header: header, Subject: header}
	body := lines[1:]

	h := header
	for {
		kind, rest, ok := cutFixup(h)
		if !ok {
			break
		}
		if m.Fixup == "" {
			m.Fixup = kind
		}
		h = rest
	}
	m.Merge = isMergeHeader(h)
	if typ, scope, bang, subject, ok := parseHeader(h); ok {
		m.Conventional, m.Type, m.Scope, m.Bang, m.Subject = true, strings.ToLower(typ), scope, bang, subject
	} else if inner, ok := cutGitRevert(h); ok {
		m.Conventional, m.Type, m.Subject = true, "revert", h
		m.Revert = &Revert{Header: inner}
	} else {
		m.Subject = h
	}
	if m.Type == "revert" && m.Revert == nil {
		m.Revert = &Revert{Header: m.Subject}
	}

	footers := footerLines(body)
	for _, l := range footers {
		if note, ok := cutBreaking(l); ok {
			if !m.BreakingFooter {
				m.BreakingNote = note
			}
			m.BreakingFooter = true
		}
	}
	if m.Revert != nil {
		// A revert naming no commit still bumps by the revert rule; it
		// just cancels nothing.
		m.Revert.Commits = revertedCommits(body, footers)
	}
	return m
}

// parseHeader splits `type(scope)!: subject`. The type is a letter
// followed by letters, digits, '-' or '_'; the scope is any non-empty text
// without parentheses; the colon must be followed by a space and a
// non-empty subject.
func parseHeader(h string) (typ, scope string, bang bool, subject string, ok bool) {
	i := 0
	for i < len(h) && (isLetter(h[i]) || i > 0 && (isDigit(h[i]) || h[i] == '-' || h[i] == '_')) {
		i++
	}
	if i == 0 {
		return "", "", false, "", false
	}
	typ, rest := h[:i], h[i:]
	if strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 2 || strings.ContainsAny(rest[1:end], "(\n") {
			return "", "", false, "", false
		}
		scope, rest = rest[1:end], rest[end+1:]
	}
	if strings.HasPrefix(rest, "!") {
		bang, rest = true, rest[1:]
	}
	rest, ok = strings.CutPrefix(rest, ": ")
	if !ok {
		return "", "", false, "", false
	}
	subject = strings.TrimSpace(rest)
	if subject == "" {
		return "", "", false, "", false
	}
	return typ, scope, bang, subject, true
}

// cutFixup strips one `fixup! `, `squash! ` or `amend! ` prefix, as
// git's autosquash writes them.
func cutFixup(h string) (kind, rest string, ok bool) {
	for _, k := range []string{"fixup", "squash", "amend"} {
		if rest, ok := strings.CutPrefix(h, k+"! "); ok {
			return k, strings.TrimLeft(rest, " "), true
		}
	}
	return "", "", false
}

// cutGitRevert reads git's default revert header, `Revert "<header>"`.
func cutGitRevert(h string) (inner string, ok bool) {
	rest, ok := strings.CutPrefix(h, `Revert "`)
	if !ok || !strings.HasSuffix(rest, `"`) || len(rest) < 2 {
		return "", false
	}
	return rest[:len(rest)-1], true
}

// mergePrefixes are the headers git, GitHub, GitLab, Bitbucket and Azure
// DevOps write for merge commits.
var mergePrefixes = []string{
	"Merge pull request ", "Merge branch ", "Merge branches ", "Merge remote-tracking branch ",
	"Merge tag ", "Merge commit ", "Merge remote branch ", "Merged in ", "Merged PR ",
}

func isMergeHeader(h string) bool {
	for _, p := range mergePrefixes {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	return false
}

// footerLines returns the lines of the footer paragraphs of a body: the
// paragraphs (runs of non-blank lines) that open with a footer token line.
// The first paragraph of the message is the header's and is never one;
// body is everything after the header line, so a paragraph continuing the
// header (no blank line after it) is skipped too.
func footerLines(body []string) []string {
	var out []string
	inHeaderParagraph := true
	start := -1
	flush := func(end int) {
		if start >= 0 && isFooterToken(body[start]) {
			out = append(out, body[start:end]...)
		}
		start = -1
	}
	for i, l := range body {
		if isBlank(l) {
			inHeaderParagraph = false
			flush(i)
			continue
		}
		if inHeaderParagraph {
			continue
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(body))
	return out
}

// isFooterToken reports whether a line opens a footer: `Token: value`,
// `Token #value` (git trailer style) or `BREAKING CHANGE: value`.
func isFooterToken(l string) bool {
	if _, ok := cutBreaking(l); ok {
		return true
	}
	i := 0
	for i < len(l) && (isLetter(l[i]) || i > 0 && (isDigit(l[i]) || l[i] == '-')) {
		i++
	}
	if i == 0 {
		return false
	}
	rest := l[i:]
	return strings.HasPrefix(rest, ": ") || strings.HasPrefix(rest, ":\t") || rest == ":" || strings.HasPrefix(rest, " #")
}

// cutBreaking reads a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer line
// (upper case, at line start, as the Conventional Commits spec requires).
func cutBreaking(l string) (note string, ok bool) {
	for _, tok := range []string{"BREAKING CHANGE:", "BREAKING-CHANGE:"} {
		if rest, found := strings.CutPrefix(l, tok); found && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// revertedCommits collects the hashes a revert names: git's `This reverts
// commit <hash>.` body line (at line start) and `Refs: <hash>, <hash>`
// footers (the Conventional Commits spec's example).
func revertedCommits(body, footers []string) []string {
	var out []string
	add := func(s string) {
		s = strings.ToLower(strings.Trim(s, ".,;:()[] \t"))
		if len(s) >= 7 && len(s) <= 40 && isHex(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, l := range body {
		if rest, ok := strings.CutPrefix(strings.TrimLeft(l, " \t"), "This reverts commit "); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				add(f[0])
			}
		}
	}
	for _, l := range footers {
		tok, val, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(tok, "Refs") {
			continue
		}
		for _, f := range strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			add(f)
		}
	}
	return out
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }
func isLetter(c byte) bool  { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !('a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// Rules map commit types to bumps (SPEC §2). Breaking changes are always
// major (minor while the base major is 0, decided by the version policy);
// merge commits never bump. The zero Rules is not useful: use DefaultRules
// or NewRules.
type Rules struct {
	types map[string]Bump
	other Bump
}

// OtherKey is the rules key for commits that are not conventional or have
// a type the rules do not list.
const OtherKey = "*"

// DefaultRules returns the table of SPEC §2: feat → minor; fix, perf,
// revert, refactor, build → patch; docs, chore, style, test, ci → none;
// anything else (not conventional, or an unlisted type) → patch.
func DefaultRules() Rules {
	return Rules{
		types: map[string]Bump{
			"feat": BumpMinor,
			"fix":  BumpPatch, "perf": BumpPatch, "revert": BumpPatch, "refactor": BumpPatch, "build": BumpPatch,
			"docs": BumpNone, "chore": BumpNone, "style": BumpNone, "test": BumpNone, "ci": BumpNone,
		},
		other: BumpPatch,
	}
}

// NewRules returns DefaultRules with the given entries overriding it, as
// read from `.release.yaml` (`rules: {docs: patch, "*": none}`): each key is
// a commit type (any case) or OtherKey, each value none, patch, minor or
// major. Errors wrap ErrInvalid and name the offending entry.
func NewRules(overrides map[string]string) (Rules, error) {
	r := DefaultRules()
	for _, key := range slices.Sorted(maps.Keys(overrides)) {
		b, err := ParseBump(overrides[key])
		if err != nil {
			return Rules{}, fmt.Errorf("rule %q: %w", key, err)
		}
		if key == OtherKey {
			r.other = b
			continue
		}
		if typ, _, _, _, ok := parseHeader(key + ": x"); !ok || typ != key {
			return Rules{}, fmt.Errorf("rule %q: not a commit type (a letter, then letters, digits, '-' or '_'): %w", key, ErrInvalid)
		}
		r.types[strings.ToLower(key)] = b
	}
	return r, nil
}

// Bump returns the bump of one commit message and the rule that decided
// it, in words for `--explain`. Merges, reverts cancelled by the range and
// 0.x are the version policy's business, not this function's.
func (r Rules) Bump(m Message) (Bump, string) {
	if r.types == nil {
		r = DefaultRules()
	}
	prefix := ""
	if m.Fixup != "" {
		prefix = m.Fixup + "! of "
	}
	switch {
	case m.Bang:
		return BumpMajor, prefix + "breaking change (" + m.Type + "!) → major"
	case m.BreakingFooter:
		return BumpMajor, prefix + "breaking change (BREAKING CHANGE footer) → major"
	case !m.Conventional:
		return r.other, prefix + "not conventional → " + r.other.String()
	}
	b, ok := r.types[m.Type]
	if !ok {
		return r.other, prefix + "type " + m.Type + " not in the rules → " + r.other.String()
	}
	return b, prefix + m.Type + " → " + b.String()
}
