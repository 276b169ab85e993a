package release

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// maxDescription caps the description label: label-schema's limit, and far
// below the Dockerfile parser's silent truncation of long labels.
const maxDescription = 300

// Project is what the image labels take from a pyproject.toml: the PEP 621
// [project] table, with Poetry's [tool.poetry] as a fallback for fields
// [project] does not set. Empty fields give no label.
type Project struct {
	// Name is the distribution name as written, for the title label and
	// the SETUPTOOLS_SCM_PRETEND_VERSION_FOR_<DIST> build argument.
	Name string
	// Description is the summary: its first line, whitespace collapsed,
	// capped at 300 characters.
	Description string
	// License is an SPDX license expression (PEP 639 string, or the text
	// of a legacy {text = "..."} table when that text is an expression).
	License string
	// Authors is "Name <email>, Name <email>".
	Authors string
	// Homepage, Documentation and Source come from [project.urls], whose
	// labels are matched as PEP 753 normalises them (case, punctuation and
	// whitespace ignored; well-known aliases such as "Repository").
	Homepage, Documentation, Source string
}

// ParsePyproject reads the label fields of a pyproject.toml. A file that is
// not valid TOML is an error: the Python build would fail on it anyway, and
// silently dropping every label would hide the cause.
func ParsePyproject(data []byte) (Project, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return Project{}, fmt.Errorf("parsing pyproject.toml: %w", err)
	}
	project, _ := lookup(doc, "project").(map[string]any)
	tool, _ := lookup(doc, "tool").(map[string]any)
	poetry, _ := lookup(tool, "poetry").(map[string]any)

	var p Project
	p.Name = firstString(lookup(project, "name"), lookup(poetry, "name"))
	p.Description = oneLine(firstString(lookup(project, "description"), lookup(poetry, "description")), maxDescription)
	p.License = license(lookup(project, "license"))
	if p.License == "" {
		p.License = license(lookup(poetry, "license"))
	}
	p.Authors = authors(lookup(project, "authors"))
	if p.Authors == "" {
		p.Authors = authors(lookup(poetry, "authors"))
	}
	urls, _ := lookup(project, "urls").(map[string]any)
	p.Homepage = projectURL(urls, "homepage")
	p.Documentation = projectURL(urls, "documentation")
	p.Source = projectURL(urls, "source")
	if p.Homepage == "" {
		p.Homepage = webURL(firstString(lookup(poetry, "homepage")))
	}
	if p.Documentation == "" {
		p.Documentation = webURL(firstString(lookup(poetry, "documentation")))
	}
	if p.Source == "" {
		p.Source = webURL(firstString(lookup(poetry, "repository")))
	}
	return p, nil
}

// PretendVersionArg is the build argument setuptools-scm (and hatch-vcs
// through it) reads the version of distribution dist from:
// SETUPTOOLS_SCM_PRETEND_VERSION_FOR_<DIST>, the name normalised as
// setuptools-scm does it (runs of "-", "_", "." become "_", upper case).
// It is "" when dist is not a valid distribution name (PEP 508: ASCII
// letters, digits, "-", "_", "."), which could not name a variable either.
func PretendVersionArg(dist string) string {
	if dist == "" {
		return ""
	}
	var b strings.Builder
	sep := false
	for _, r := range dist {
		switch {
		case r == '-' || r == '_' || r == '.':
			if !sep {
				b.WriteByte('_')
			}
			sep = true
			continue
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return ""
		}
		sep = false
	}
	return "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_" + b.String()
}

// lookup reads a table key, exactly or else case-insensitively (the first
// match in sorted order, so the result does not depend on map order).
func lookup(m map[string]any, key string) any {
	if m == nil {
		return nil
	}
	if v, ok := m[key]; ok {
		return v
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.EqualFold(k, key) {
			return m[k]
		}
	}
	return nil
}

func firstString(vs ...any) string {
	for _, v := range vs {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// oneLine keeps the first non-blank line with its whitespace collapsed, cut
// to max characters (the last one an ellipsis when cut).
func oneLine(s string, max int) string {
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.FieldsFunc(line, unicode.IsSpace), " ")
		line = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, line)
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) <= max {
			return line
		}
		runes := []rune(line)
		return strings.TrimSpace(string(runes[:max-1])) + "…"
	}
	return ""
}

func license(v any) string {
	switch l := v.(type) {
	case string:
		if validSPDX(l) {
			return strings.TrimSpace(l)
		}
	case map[string]any:
		// Legacy PEP 621 {text = "..."}; {file = "..."} names a file whose
		// content is no expression.
		if t, ok := lookup(l, "text").(string); ok && validSPDX(t) {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

var spdxIDRE = regexp.MustCompile(`^(?:[A-Za-z0-9][A-Za-z0-9.\-]*\+?|(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+)$`)

// validSPDX reports whether s is an SPDX license expression:
// ids joined by AND / OR, an id WITH an exception, parentheses.
func validSPDX(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 512 || strings.ContainsAny(s, "\n\r") {
		return false
	}
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	toks := strings.Fields(s)
	p := spdxParser{toks: toks}
	return p.expr() && p.pos == len(toks)
}

type spdxParser struct {
	toks []string
	pos  int
}

func (p *spdxParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *spdxParser) expr() bool {
	if !p.term() {
		return false
	}
	for op := strings.ToUpper(p.peek()); op == "AND" || op == "OR"; op = strings.ToUpper(p.peek()) {
		p.pos++
		if !p.term() {
			return false
		}
	}
	return true
}

func (p *spdxParser) term() bool {
	switch t := p.peek(); {
	case t == "(":
		p.pos++
		if !p.expr() || p.peek() != ")" {
			return false
		}
		p.pos++
	case t == "" || isSPDXOperator(t) || t == ")" || !spdxIDRE.MatchString(t):
		return false
	default:
		p.pos++
	}
	if strings.ToUpper(p.peek()) == "WITH" {
		p.pos++
		t := p.peek()
		if t == "" || isSPDXOperator(t) || !spdxIDRE.MatchString(t) {
			return false
		}
		p.pos++
	}
	return true
}

func isSPDXOperator(t string) bool {
	switch strings.ToUpper(t) {
	case "AND", "OR", "WITH":
		return true
	}
	return false
}

// authors renders PEP 621 author tables ({name, email}) or Poetry's
// "Name <email>" strings as one comma-separated line.
func authors(v any) string {
	list, _ := v.([]any)
	var out []string
	for _, a := range list {
		var s string
		switch a := a.(type) {
		case map[string]any:
			name, _ := lookup(a, "name").(string)
			email, _ := lookup(a, "email").(string)
			name, email = oneLine(name, 200), oneLine(email, 200)
			switch {
			case name != "" && email != "":
				s = name + " <" + email + ">"
			default:
				s = name + email
			}
		case string:
			s = oneLine(a, 200)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// urlLabels are the [project.urls] labels, normalised as PEP 753 does, that
// feed each label, best first.
var urlLabels = map[string][]string{
	"homepage":      {"homepage"},
	"documentation": {"documentation", "docs"},
	"source":        {"source", "repository", "sourcecode", "github"},
}

func projectURL(urls map[string]any, kind string) string {
	normalised := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(urls)) {
		s, ok := urls[k].(string)
		if !ok {
			continue
		}
		n := strings.Map(func(r rune) rune {
			if unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) {
				return -1
			}
			return unicode.ToLower(r)
		}, k)
		if _, seen := normalised[n]; !seen {
			normalised[n] = s
		}
	}
	for _, label := range urlLabels[kind] {
		if u := webURL(normalised[label]); u != "" {
			return u
		}
	}
	return ""
}

// webURL accepts an absolute http(s) URL and drops any userinfo from it.
func webURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsFunc(s, isControlOrSpace) {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	u.User = nil
	return u.String()
}
